// NSEC3 hashed owner names (RFC 5155 §5) with any salt and iteration count, base32hex (RFC 4648 §7),
// and RFC 9276's advice on the parameters.
import { canonicalNameWire } from './canonical.js';
import { sha1Into } from './sha1.js';

/** RFC 5155 §11: the only hash algorithm defined, SHA-1. */
export const NSEC3_SHA1 = 1;
/** RFC 9276 §3.1: iterations SHOULD be 0 and the salt SHOULD be empty. */
export const RFC9276_ITERATIONS = 0;
/** RFC 9276 §3.2: validators may treat a zone with more iterations than this as insecure (bogus above 500). */
export const RFC9276_VALIDATOR_LIMIT = 100;

const B32HEX = '0123456789abcdefghijklmnopqrstuv';

/** RFC 4648 §7 base32hex without padding, lower case (as owner labels are written). */
export function base32hex(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32HEX[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32HEX[(acc << (5 - bits)) & 31];
  return out;
}

/** Decodes base32hex (either case, no padding); undefined when a character is not base32hex. */
export function fromBase32hex(text: string): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of text.toLowerCase()) {
    const v = B32HEX.indexOf(ch);
    if (v < 0) return undefined;
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

/** RFC 5155 §5: IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(salt, x, k-1) || salt), x the canonical owner. */
export function nsec3Hash(name: string, salt: Uint8Array, iterations: number, algorithm = NSEC3_SHA1): Uint8Array {
  const owner = canonicalNameWire(name);
  const out = new Uint8Array(20);
  nsec3HashWire(owner, 0, owner.length, salt, iterations, out, algorithm);
  return out;
}

/**
 * nsec3Hash of a name already in canonical wire form (lower case, uncompressed) at wire[start, end), the
 * digest written into out[0, 20): what a query's lower-cased question bytes are hashed with, nothing allocated.
 * SHA-1 in JS (sha1.ts): a third of a crypto.hash call for inputs this short.
 */
export function nsec3HashWire(wire: Uint8Array, start: number, end: number, salt: Uint8Array, iterations: number, out: Uint8Array, algorithm = NSEC3_SHA1): void {
  if (algorithm !== NSEC3_SHA1) throw new Error(`NSEC3 hash algorithm ${algorithm} is not defined (RFC 5155 §11 defines 1, SHA-1)`);
  sha1Into(wire, start, end, salt, out);
  for (let k = 0; k < iterations; k++) sha1Into(out, 0, 20, salt, out);
}

/** The hashed owner label of `name` (lower-case base32hex), the first label of its NSEC3 owner name. */
export function nsec3Label(name: string, salt: Uint8Array, iterations: number, algorithm = NSEC3_SHA1): string {
  return base32hex(nsec3Hash(name, salt, iterations, algorithm));
}

/** RFC 9276's recommendation as a warning, or undefined when the parameters follow it. */
export function nsec3ParamWarning(iterations: number, salt: Uint8Array): string | undefined {
  const problems: string[] = [];
  if (iterations > RFC9276_ITERATIONS) {
    problems.push(
      `${iterations} additional iterations (RFC 9276 §3.1 recommends 0${iterations > RFC9276_VALIDATOR_LIMIT ? `; above ${RFC9276_VALIDATOR_LIMIT} validators may treat the zone as insecure or bogus, §3.2` : ''})`,
    );
  }
  if (salt.length > 0) problems.push(`a ${salt.length}-byte salt (RFC 9276 §3.1 recommends none)`);
  return problems.length ? `NSEC3 parameters use ${problems.join(' and ')}` : undefined;
}
