// Two independent 32-bit hashes of a domain name, ASCII case folded, equal whether the name is read from
// wire bytes (compression pointers followed) or from presentation text (escapes decoded): rrl keys its
// buckets by them instead of by text, so a query builds no string. BIND keys its RRL table by a hash
// of the name the same way. The seeds are drawn per process so a flood cannot aim at one bucket.
import { randomInt } from 'node:crypto';

export interface NameHash {
  a: number;
  b: number;
}

const SEED_A = randomInt(0, 2 ** 32);
const SEED_B = randomInt(0, 2 ** 32);
const PRIME_A = 0x01000193; // FNV-1a's
const PRIME_B = 0x5bd1e995; // MurmurHash2's
/** Mixed in after each label (never a byte value), so "ab.c" and "a.bc" differ. */
const LABEL_END = 0x100;
/** Marks the end of the name before `extra` (bits 0–23) is mixed in. */
const EXTRA = 0x1000000;
const MAX_HOPS = 64;

/** MurmurHash3's finalizer: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function finish(a: number, b: number, extra: number, out: NameHash): NameHash {
  out.a = fmix(Math.imul(a ^ (extra | EXTRA), PRIME_A));
  out.b = fmix(Math.imul(b ^ (extra | EXTRA), PRIME_B));
  return out;
}

/**
 * The hash of the name at `at` in `m`, with `extra` (e.g. a type) mixed in. A malformed name (out of
 * bounds, a reserved label type, a pointer loop) hashes what was read before it: never throws.
 */
export function hashNameWire(m: Uint8Array, at: number, extra: number, out: NameHash): NameHash {
  let a = SEED_A;
  let b = SEED_B;
  let pos = at;
  let hops = 0;
  while (pos < m.length) {
    const len = m[pos]!;
    if (len === 0) break;
    if (len >= 0x40) {
      if (len < 0xc0 || pos + 1 >= m.length || ++hops > MAX_HOPS) break;
      pos = ((len & 0x3f) << 8) | m[pos + 1]!;
      continue;
    }
    const end = Math.min(pos + 1 + len, m.length);
    for (let i = pos + 1; i < end; i++) {
      let c = m[i]!;
      if (c >= 65 && c <= 90) c |= 0x20;
      a = Math.imul(a ^ c, PRIME_A);
      b = Math.imul(b ^ c, PRIME_B);
    }
    a = Math.imul(a ^ (LABEL_END | len), PRIME_A);
    b = Math.imul(b ^ (LABEL_END | len), PRIME_B);
    pos = end;
  }
  return finish(a, b, extra, out);
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** The hash of a name in presentation text (`\.` and `\DDD` escapes as RFC 1035 §5.1), as hashNameWire. */
export function hashNameText(text: string, extra: number, out: NameHash): NameHash {
  let a = SEED_A;
  let b = SEED_B;
  let len = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c === 46) {
      if (len > 0) {
        a = Math.imul(a ^ (LABEL_END | len), PRIME_A);
        b = Math.imul(b ^ (LABEL_END | len), PRIME_B);
      }
      len = 0;
      continue;
    }
    if (c === 92 && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (isDigit(d) && i + 3 < n && isDigit(text.charCodeAt(i + 2)) && isDigit(text.charCodeAt(i + 3))) {
        c = (d - 48) * 100 + (text.charCodeAt(i + 2) - 48) * 10 + (text.charCodeAt(i + 3) - 48);
        i += 3;
      } else {
        c = d;
        i += 1;
      }
    }
    c &= 0xff;
    if (c >= 65 && c <= 90) c |= 0x20;
    a = Math.imul(a ^ c, PRIME_A);
    b = Math.imul(b ^ c, PRIME_B);
    len++;
  }
  if (len > 0) {
    a = Math.imul(a ^ (LABEL_END | len), PRIME_A);
    b = Math.imul(b ^ (LABEL_END | len), PRIME_B);
  }
  return finish(a, b, extra, out);
}

/** The per-process seeds, for the UDP addon, which hashes client prefixes as hashPrefix does. */
export const HASH_SEEDS: { readonly a: number; readonly b: number } = { a: SEED_A, b: SEED_B };

/**
 * The hash of a client prefix: its network bytes (the first ⌈length/8⌉, host bits already zero), with
 * family and length mixed in. native/udp_batch.c (rrl_prefix_hash) computes the same from a peer's
 * address, so a replayed answer finds the bucket the rrl unit made; keep the two in step.
 */
export function hashPrefix(family: 4 | 6, bytes: Uint8Array, length: number, out: NameHash): NameHash {
  let a = SEED_A;
  let b = SEED_B;
  const n = (length + 7) >> 3;
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    a = Math.imul(a ^ c, PRIME_A);
    b = Math.imul(b ^ c, PRIME_B);
  }
  return finish(a, b, (family << 8) | length, out);
}
