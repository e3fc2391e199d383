// RFC 9018 interoperable server cookies: Version 1 | Reserved (3) | Timestamp (4) | SipHash-2-4 (8),
// the hash over Client Cookie | Version | Reserved | Timestamp | Client-IP (§4.2, §4.4).
import { parseIPv4Into, parseIPv6Into } from '../../wire/rdata/ip.js';
import { siphash24, type SipKey } from './siphash.js';

/** RFC 9018 §4.3: a cookie more than 1 hour old or more than 5 minutes in the future is invalid. */
export const MAX_AGE = 3600;
export const MAX_FUTURE = 300;

/** The client address as the hash input: 4 bytes for IPv4 (also IPv4-mapped IPv6), 16 for IPv6. */
export function clientIpBytes(address: string): Uint8Array | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped ? mapped[1]! : address;
  const four = new Uint8Array(4);
  if (parseIPv4Into(v4, four, 0)) return four;
  const six = new Uint8Array(16);
  // A scope suffix (fe80::1%eth0) is not part of the address.
  if (parseIPv6Into(address.replace(/%.*$/, ''), six, 0)) return six;
  return undefined;
}

/** The 16-byte server cookie made with `key` for this client at `timestamp` (seconds, mod 2^32). */
export function makeServerCookie(key: SipKey, clientCookie: Uint8Array, clientIp: Uint8Array, timestamp: number): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 1;
  writeTimestamp(out, timestamp);
  mac(key, clientCookie, out, clientIp, out);
  return out;
}

function writeTimestamp(out: Uint8Array, t: number): void {
  const u = t >>> 0;
  out[4] = u >>> 24;
  out[5] = (u >>> 16) & 0xff;
  out[6] = (u >>> 8) & 0xff;
  out[7] = u & 0xff;
}

export function cookieTimestamp(server: Uint8Array): number {
  return ((server[4]! << 24) | (server[5]! << 16) | (server[6]! << 8) | server[7]!) >>> 0;
}

/** Hash of the first 8 bytes of `header` (version, reserved, timestamp as received) into out[8..16]. */
function mac(key: SipKey, clientCookie: Uint8Array, header: Uint8Array, clientIp: Uint8Array, out: Uint8Array): void {
  const input = new Uint8Array(16 + clientIp.length);
  input.set(clientCookie.subarray(0, 8), 0);
  input.set(header.subarray(0, 8), 8);
  input.set(clientIp, 16);
  siphash24(key, input, out, 8);
}

/**
 * Seconds since the cookie's timestamp, in serial-number arithmetic (RFC 9018 §4.3 → RFC 1982), so
 * the 2106 wrap of a 32-bit timestamp does not invalidate every cookie: negative means the future.
 */
export function cookieAge(server: Uint8Array, now: number): number {
  return ((now >>> 0) - cookieTimestamp(server)) | 0;
}

export type CheckResult = { valid: false } | { valid: true; /** index in the keys: 0 is the current secret */ keyIndex: number; age: number };

/** RFC 9018 §4.3: version 1, 16 bytes, timestamp within [now − 1 h, now + 5 min], hash by one of `keys`. */
export function checkServerCookie(keys: readonly SipKey[], clientCookie: Uint8Array, server: Uint8Array, clientIp: Uint8Array, now: number): CheckResult {
  if (server.length !== 16 || server[0] !== 1) return { valid: false };
  const age = cookieAge(server, now);
  if (age > MAX_AGE || age < -MAX_FUTURE) return { valid: false };
  const expect = new Uint8Array(16);
  for (let k = 0; k < keys.length; k++) {
    mac(keys[k]!, clientCookie, server, clientIp, expect);
    if (equal8(expect, server)) return { valid: true, keyIndex: k, age };
  }
  return { valid: false };
}

/** Compares bytes 8..16 without an early exit (the hash is a secret-derived value). */
function equal8(a: Uint8Array, b: Uint8Array): boolean {
  let d = 0;
  for (let i = 8; i < 16; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
