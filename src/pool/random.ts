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
    out.set(this.buf.subarray(this.pos, this.pos + out.length));
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
