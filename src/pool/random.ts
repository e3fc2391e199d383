// Randomness for address selection: node:crypto, buffered so a query costs no system call (never Math.random).
import { randomFillSync } from 'node:crypto';

export interface RandomSource {
  /** Fills `out` with uniformly random bytes. */
  fill(out: Uint8Array): void;
}

/** crypto.randomFillSync in 4 KiB batches: one kernel call per few hundred answers. */
export class CryptoRandom implements RandomSource {
  private readonly buf = new Uint8Array(4096);
  private pos = this.buf.length;

  fill(out: Uint8Array): void {
    if (out.length > this.buf.length) {
      randomFillSync(out);
      return;
    }
    if (this.pos + out.length > this.buf.length) {
      randomFillSync(this.buf);
      this.pos = 0;
    }
    // Copied byte by byte: `subarray` would make a view object per call (the grant path draws 2–3 times).
    const buf = this.buf;
    const pos = this.pos;
    for (let i = 0; i < out.length; i++) out[i] = buf[pos + i]!;
    // Used bytes are never handed out twice.
    this.pos += out.length;
  }
}

const scratch = new Uint8Array(17);

/** A uniform integer in [0, n) by rejection sampling over the smallest covering bit width. */
export function randomBelow(n: bigint, rng: RandomSource): bigint {
  if (n <= 0n) throw new RangeError('randomBelow needs n > 0');
  if (n === 1n) return 0n;
  const bits = (n - 1n).toString(2).length;
  const bytes = Math.ceil(bits / 8);
  const topMask = (1 << (bits - (bytes - 1) * 8)) - 1;
  const buf = scratch.subarray(0, bytes);
  for (;;) {
    rng.fill(buf);
    buf[0] = buf[0]! & topMask;
    let v = 0n;
    for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(buf[i]!);
    // At least half of the draws are below n, so this ends quickly.
    if (v < n) return v;
  }
}

/** One scratch array per width in bytes (1–6), so a draw makes no view object. */
const scratchBy = Array.from({ length: 7 }, (_, i) => new Uint8Array(i));

/**
 * randomBelow for a safe integer n ≤ 2^48 as a number: the same bytes drawn, the same result, but no
 * BigInt or string per draw (the grant path: every IPv4 lease draws through here).
 */
export function randomBelowNumber(n: number, rng: RandomSource): number {
  if (!(n > 0) || !Number.isInteger(n) || n > 2 ** 48) throw new RangeError('randomBelowNumber needs an integer 0 < n <= 2^48');
  if (n === 1) return 0;
  let bits = 0;
  for (let m = n - 1; m >= 1; m = Math.floor(m / 2)) bits++;
  const bytes = Math.ceil(bits / 8);
  const topMask = (1 << (bits - (bytes - 1) * 8)) - 1;
  const buf = scratchBy[bytes]!;
  for (;;) {
    rng.fill(buf);
    buf[0] = buf[0]! & topMask;
    let v = 0;
    for (let i = 0; i < bytes; i++) v = v * 256 + buf[i]!;
    if (v < n) return v;
  }
}
