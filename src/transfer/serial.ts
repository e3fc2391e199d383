// SOA serial arithmetic (RFC 1982) and the serial policies of a reload (`serial: increment | unixtime`).

/** a > b in serial number arithmetic (RFC 1982 §3.2); undefined comparisons (distance 2^31) are false. */
export function serialGt(a: number, b: number): boolean {
  return (a < b && b - a > 0x80000000) || (a > b && a - b < 0x80000000);
}

/** a + n (RFC 1982 §3.1), n at most 2^31 - 1. */
export function serialAdd(a: number, n: number): number {
  return (a + n) % 0x100000000;
}

/**
 * The serial a zone whose data changed gets under a policy: `increment` adds one; `unixtime` takes the
 * clock in seconds, or one more than the old serial when the clock is not ahead of it in serial terms.
 */
export function nextSerial(old: number, policy: 'increment' | 'unixtime', nowSeconds: number): number {
  if (policy === 'unixtime') {
    const t = nowSeconds >>> 0;
    if (serialGt(t, old)) return t;
  }
  return serialAdd(old, 1);
}
