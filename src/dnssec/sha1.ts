// SHA-1 (FIPS 180-4 §6.1) of short inputs in plain JS, for NSEC3 hashing (RFC 5155 §5) on the answering path.
// Why not node:crypto: a DO query for a name that does not exist hashes its next closer name, an input of
// ~20-60 bytes (one or two blocks); crypto.hash spends ~1 µs per call crossing into C++ and making the
// result Buffer, this loop ~0.35 µs with nothing allocated. Checked against node:crypto in sha1.test.ts.

const W = new Int32Array(80);
/**
 * The padded message (FIPS 180-4 §5.1.1), laid out once per call: an NSEC3 input is at most a 255-byte
 * name and a 255-byte salt, nine blocks. Copying it first keeps the word loop free of per-byte branches
 * (input, salt, padding or length), and lets `out` be `a`.
 */
const MSG = new Uint8Array(640);

/**
 * SHA-1 of a[aStart, aEnd) followed by all of `b` (the NSEC3 input "x || salt"), written as 20 bytes
 * into out[outAt, outAt + 20). `out` may be `a` itself (the next iteration hashes the digest again).
 */
export function sha1Into(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, out: Uint8Array, outAt = 0): void {
  const aLen = aEnd - aStart;
  const total = aLen + b.length;
  // Padding: 0x80, zeros, the bit length in the last 8 bytes of the last block.
  const blocks = ((total + 8) >>> 6) + 1;
  const m = blocks * 64 <= MSG.length ? MSG : new Uint8Array(blocks * 64);
  for (let i = 0; i < aLen; i++) m[i] = a[aStart + i]!;
  for (let i = 0, n = b.length; i < n; i++) m[aLen + i] = b[i]!;
  const last = blocks * 64;
  m[total] = 0x80;
  for (let i = total + 1; i < last - 5; i++) m[i] = 0;
  const bits = total * 8;
  m[last - 5] = (total / 0x20000000) | 0;
  m[last - 4] = bits >>> 24;
  m[last - 3] = bits >>> 16;
  m[last - 2] = bits >>> 8;
  m[last - 1] = bits;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  const w = W;
  for (let bi = 0; bi < blocks; bi++) {
    const base = bi << 6;
    for (let t = 0; t < 16; t++) {
      const o = base + 4 * t;
      w[t] = (m[o]! << 24) | (m[o + 1]! << 16) | (m[o + 2]! << 8) | m[o + 3]!;
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
      w[t] = (x << 1) | (x >>> 31);
    }
    let va = h0;
    let vb = h1;
    let vc = h2;
    let vd = h3;
    let ve = h4;
    let t = 0;
    let tmp = 0;
    // The four rounds of 20 as separate loops: no branch per step.
    for (; t < 20; t++) {
      tmp = (((va << 5) | (va >>> 27)) + ((vb & vc) | (~vb & vd)) + ve + 0x5a827999 + w[t]!) | 0;
      ve = vd;
      vd = vc;
      vc = (vb << 30) | (vb >>> 2);
      vb = va;
      va = tmp;
    }
    for (; t < 40; t++) {
      tmp = (((va << 5) | (va >>> 27)) + (vb ^ vc ^ vd) + ve + 0x6ed9eba1 + w[t]!) | 0;
      ve = vd;
      vd = vc;
      vc = (vb << 30) | (vb >>> 2);
      vb = va;
      va = tmp;
    }
    for (; t < 60; t++) {
      tmp = (((va << 5) | (va >>> 27)) + ((vb & vc) | (vb & vd) | (vc & vd)) + ve + (0x8f1bbcdc | 0) + w[t]!) | 0;
      ve = vd;
      vd = vc;
      vc = (vb << 30) | (vb >>> 2);
      vb = va;
      va = tmp;
    }
    for (; t < 80; t++) {
      tmp = (((va << 5) | (va >>> 27)) + (vb ^ vc ^ vd) + ve + (0xca62c1d6 | 0) + w[t]!) | 0;
      ve = vd;
      vd = vc;
      vc = (vb << 30) | (vb >>> 2);
      vb = va;
      va = tmp;
    }
    h0 = (h0 + va) | 0;
    h1 = (h1 + vb) | 0;
    h2 = (h2 + vc) | 0;
    h3 = (h3 + vd) | 0;
    h4 = (h4 + ve) | 0;
  }
  putU32(out, outAt, h0);
  putU32(out, outAt + 4, h1);
  putU32(out, outAt + 8, h2);
  putU32(out, outAt + 12, h3);
  putU32(out, outAt + 16, h4);
}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}
