// IPv4/IPv6 addresses and CIDR prefixes: parse, contain, cover, prefix of an address, host bits.
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../wire/rdata/ip.js';

export type Family = 4 | 6;

/** An address as network-order bytes (4 or 16). */
export interface Address {
  readonly family: Family;
  readonly bytes: Uint8Array;
}

/** A prefix: the network address (host bits zero) and its length in bits. */
export interface Cidr {
  readonly family: Family;
  readonly bytes: Uint8Array;
  readonly length: number;
}

/**
 * Parses a literal IPv4 or IPv6 address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, which is what a
 * dual-stack socket reports for IPv4 peers) is returned as IPv4 so one prefix table serves both.
 */
export function parseAddress(text: string): Address | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  // A zone index (fe80::1%eth0) is not part of the address for matching purposes.
  const pct = text.indexOf('%');
  const v6 = parseIPv6(pct >= 0 ? text.slice(0, pct) : text);
  if (!v6) return undefined;
  return unmapV4(v6) ?? { family: 6, bytes: v6 };
}

/** ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) as its IPv4 address, or undefined. */
function unmapV4(b: Uint8Array): Address | undefined {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
  if (b[10] !== 0xff || b[11] !== 0xff) return undefined;
  return { family: 4, bytes: b.slice(12, 16) };
}

export function formatAddress(a: Address): string {
  return a.family === 4 ? formatIPv4(a.bytes) : formatIPv6(a.bytes);
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; error: string };

/**
 * Parses "ADDR/LEN" or a bare address (a host prefix: /32 or /128). With `strict`, host bits set
 * below the prefix length are an error (198.18.0.1/16 is almost always a typo); otherwise they are
 * cleared.
 */
export function parseCidrResult(text: string, strict = true): CidrResult {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const v4 = parseIPv4(addrText);
  const v6 = v4 ? undefined : parseIPv6(addrText);
  const bytes = v4 ?? v6;
  if (!bytes) return { ok: false, error: `expected an IPv4 or IPv6 prefix like "198.18.0.0/15" or "2001:db8::/32", found ${JSON.stringify(text)}` };
  const family: Family = v4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(lenText) || Number(lenText) > max) {
      return { ok: false, error: `expected a prefix length from 0 to ${max} after "/", found ${JSON.stringify(lenText)}` };
    }
    length = Number(lenText);
  }
  const net = maskBytes(bytes, length);
  if (strict && !equalBytes(net, bytes)) {
    return { ok: false, error: `host bits set in ${JSON.stringify(text)}; expected ${formatCidr({ family, bytes: net, length })}` };
  }
  return { ok: true, cidr: { family, bytes: net, length } };
}

/** Parses a prefix (see parseCidrResult), or undefined. */
export function parseCidr(text: string, strict = true): Cidr | undefined {
  const r = parseCidrResult(text, strict);
  return r.ok ? r.cidr : undefined;
}

export function formatCidr(c: Cidr): string {
  return `${formatAddress(c)}/${c.length}`;
}

/** The prefix of the given length that holds `addr` (host bits cleared). */
export function prefixOf(addr: Address, length: number): Cidr {
  const max = addr.family === 4 ? 32 : 128;
  if (!Number.isInteger(length) || length < 0 || length > max) throw new RangeError(`prefix length ${length} outside 0..${max}`);
  return { family: addr.family, bytes: maskBytes(addr.bytes, length), length };
}

/** True when `addr` lies inside `cidr` (same family, first `length` bits equal). */
export function cidrContains(cidr: Cidr, addr: Address): boolean {
  if (cidr.family !== addr.family) return false;
  return prefixBitsEqual(cidr.bytes, addr.bytes, cidr.length);
}

/** True when every address of `inner` is inside `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.length <= inner.length && prefixBitsEqual(outer.bytes, inner.bytes, outer.length);
}

/** True when the two prefixes share at least one address (for prefixes, one then covers the other). */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrCovers(a, b) || cidrCovers(b, a);
}

/**
 * The address with `cidr`'s prefix bits and the remaining (host) bits taken from `random`, which
 * must hold at least as many bytes as the address (seed 002 §3.2 step 4: prefix + random bitstring).
 */
export function withHostBits(cidr: Cidr, random: Uint8Array): Address {
  const n = cidr.bytes.length;
  if (random.length < n) throw new RangeError(`need ${n} random bytes, got ${random.length}`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const keep = byteMask(cidr.length, i);
    out[i] = (cidr.bytes[i]! & keep) | (random[i]! & ~keep & 0xff);
  }
  return { family: cidr.family, bytes: out };
}

/** Number of addresses in the prefix, as a bigint (an IPv6 /0 has 2^128). */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt((c.family === 4 ? 32 : 128) - c.length);
}

/** The bits of byte `i` that belong to a prefix of `length` bits. */
function byteMask(length: number, i: number): number {
  const bits = length - i * 8;
  if (bits >= 8) return 0xff;
  if (bits <= 0) return 0;
  return (0xff << (8 - bits)) & 0xff;
}

function maskBytes(b: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[i]! & byteMask(length, i);
  return out;
}

function prefixBitsEqual(a: Uint8Array, b: Uint8Array, length: number): boolean {
  const full = length >>> 3;
  for (let i = 0; i < full; i++) if (a[i] !== b[i]) return false;
  const rest = length & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return (a[full]! & m) === (b[full]! & m);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
