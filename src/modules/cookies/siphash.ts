// SipHash-2-4 (Aumasson & Bernstein) with a 128-bit key and 64-bit output, the MAC RFC 9018 §4.4
// prescribes for interoperable server cookies. 32-bit halves keep it in plain numbers (no BigInt).

/** A 16-byte key prepared as the four 32-bit halves of k0 and k1 (little-endian, as the paper reads them). */
export interface SipKey {
  readonly k0lo: number;
  readonly k0hi: number;
  readonly k1lo: number;
  readonly k1hi: number;
}

export function sipKey(key: Uint8Array): SipKey {
  if (key.length !== 16) throw new Error(`SipHash key of ${key.length} bytes (must be 16)`);
  return { k0lo: le32(key, 0), k0hi: le32(key, 4), k1lo: le32(key, 8), k1hi: le32(key, 12) };
}

function le32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

// State: v0..v3 as (hi, lo) pairs in one array so the rounds allocate nothing.
const v = new Uint32Array(8);
const V0H = 0, V0L = 1, V1H = 2, V1L = 3, V2H = 4, V2L = 5, V3H = 6, V3L = 7;

/** a += b (64-bit) */
function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = v[al]! + v[bl]!;
  v[ah] = v[ah]! + v[bh]! + (lo > 0xffffffff ? 1 : 0);
  v[al] = lo;
}

/** x = rotl(x, n) for 0 < n < 64 */
function rotl(h: number, l: number, n: number): void {
  let hi = v[h]!;
  let lo = v[l]!;
  if (n >= 32) {
    const t = hi;
    hi = lo;
    lo = t;
    n -= 32;
  }
  if (n === 0) {
    v[h] = hi;
    v[l] = lo;
    return;
  }
  v[h] = (hi << n) | (lo >>> (32 - n));
  v[l] = (lo << n) | (hi >>> (32 - n));
}

function xor(ah: number, al: number, bh: number, bl: number): void {
  v[ah] = v[ah]! ^ v[bh]!;
  v[al] = v[al]! ^ v[bl]!;
}

function round(): void {
  add(V0H, V0L, V1H, V1L); rotl(V1H, V1L, 13); xor(V1H, V1L, V0H, V0L); rotl(V0H, V0L, 32);
  add(V2H, V2L, V3H, V3L); rotl(V3H, V3L, 16); xor(V3H, V3L, V2H, V2L);
  add(V0H, V0L, V3H, V3L); rotl(V3H, V3L, 21); xor(V3H, V3L, V0H, V0L);
  add(V2H, V2L, V1H, V1L); rotl(V1H, V1L, 17); xor(V1H, V1L, V2H, V2L); rotl(V2H, V2L, 32);
}

function absorb(mh: number, ml: number): void {
  v[V3H] = v[V3H]! ^ mh;
  v[V3L] = v[V3L]! ^ ml;
  round();
  round();
  v[V0H] = v[V0H]! ^ mh;
  v[V0L] = v[V0L]! ^ ml;
}

/** SipHash-2-4 of `msg`; the 8 output bytes are written little-endian, as the reference code does. */
export function siphash24(key: SipKey, msg: Uint8Array, out: Uint8Array = new Uint8Array(8), at = 0): Uint8Array {
  // "somepseudorandomlygeneratedbytes" initialisation constants.
  v[V0H] = key.k0hi ^ 0x736f6d65; v[V0L] = key.k0lo ^ 0x70736575;
  v[V1H] = key.k1hi ^ 0x646f7261; v[V1L] = key.k1lo ^ 0x6e646f6d;
  v[V2H] = key.k0hi ^ 0x6c796765; v[V2L] = key.k0lo ^ 0x6e657261;
  v[V3H] = key.k1hi ^ 0x74656462; v[V3L] = key.k1lo ^ 0x79746573;
  const n = msg.length;
  const full = n - (n % 8);
  for (let i = 0; i < full; i += 8) absorb(le32(msg, i + 4), le32(msg, i));
  // Last block: the remaining bytes, zero padded, with the length's low byte on top.
  const last = new Uint8Array(8);
  last.set(msg.subarray(full));
  last[7] = n & 0xff;
  absorb(le32(last, 4), le32(last, 0));
  v[V2L] = v[V2L]! ^ 0xff;
  round(); round(); round(); round();
  const hi = (v[V0H]! ^ v[V1H]! ^ v[V2H]! ^ v[V3H]!) >>> 0;
  const lo = (v[V0L]! ^ v[V1L]! ^ v[V2L]! ^ v[V3L]!) >>> 0;
  for (let i = 0; i < 4; i++) {
    out[at + i] = (lo >>> (8 * i)) & 0xff;
    out[at + 4 + i] = (hi >>> (8 * i)) & 0xff;
  }
  return out;
}
