// SOA serial arithmetic (RFC 1982) and the serial policies of a reload (`serial: increment | unixtime | auto`).

/** a > b in serial number arithmetic (RFC 1982 §3.2); undefined comparisons (distance 2^31) are false. */
export function serialGt(a: number, b: number): boolean {
  return (a < b && b - a > 0x80000000) || (a > b && a - b < 0x80000000);
}

/** a + n (RFC 1982 §3.1), n at most 2^31 - 1. */
export function serialAdd(a: number, n: number): number {
  return (a + n) % 0x100000000;
}

/** How fluxdns raises a serial itself: `auto` keeps the convention the zone's serial already follows. */
export type SerialPolicy = 'increment' | 'unixtime' | 'auto';

/**
 * The serial a zone whose data changed gets under a policy: `increment` adds one; `unixtime` takes the
 * clock in seconds, or one more than the old serial when the clock is not ahead of it in serial terms;
 * `auto` goes on as the old serial looks (autoPolicy): a unix time stays one, a date serial
 * (YYYYMMDDnn, RFC 1912 §2.2) becomes today's first (or the old one plus one), anything else increments.
 */
export function nextSerial(old: number, policy: SerialPolicy, nowSeconds: number): number {
  const p = policy === 'auto' ? autoPolicy(old, nowSeconds) : policy;
  if (p === 'unixtime') {
    const t = nowSeconds >>> 0;
    if (serialGt(t, old)) return t;
  } else if (p === 'date') {
    const today = dateSerial(nowSeconds);
    if (serialGt(today, old)) return today;
  }
  return serialAdd(old, 1);
}

/** The convention a serial follows: a unix time (from 2001 up to a day ahead), a YYYYMMDDnn date, or a counter. */
export function autoPolicy(old: number, nowSeconds: number): 'increment' | 'unixtime' | 'date' {
  if (old >= 1_000_000_000 && old <= nowSeconds + 86400) return 'unixtime';
  const day = Math.floor(old / 100);
  const y = Math.floor(day / 10000);
  const m = Math.floor(day / 100) % 100;
  const d = day % 100;
  if (y >= 1990 && y <= 2099 && m >= 1 && m <= 12 && d >= 1 && d <= 31) return 'date';
  return 'increment';
}

/** Today's first date serial, YYYYMMDD00 (UTC). */
function dateSerial(nowSeconds: number): number {
  const t = new Date(nowSeconds * 1000);
  return (t.getUTCFullYear() * 10000 + (t.getUTCMonth() + 1) * 100 + t.getUTCDate()) * 100;
}
