// Statistics over the per-second table sizes: peak, median, p99, mean, seconds above the pool.

export interface SizeStats {
  seconds: number;
  peak: number;
  /** Offset in seconds from the series start of the first second at the peak. */
  peakAt: number;
  median: number;
  p99: number;
  mean: number;
  /** Seconds whose size exceeds poolSize ("needed more than 2,000 addresses", seed §3.3); null without a pool size. */
  secondsAbove: number | null;
  poolSize: number | null;
}

/** Nearest-rank percentile (the smallest value with at least p % of the seconds at or below it). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function sizeStats(sizes: readonly number[], poolSize: number | null): SizeStats {
  const sorted = Float64Array.from(sizes).sort();
  let peak = 0;
  let peakAt = 0;
  let sum = 0;
  let above = 0;
  sizes.forEach((v, i) => {
    if (v > peak) {
      peak = v;
      peakAt = i;
    }
    sum += v;
    if (poolSize !== null && v > poolSize) above++;
  });
  return {
    seconds: sizes.length,
    peak,
    peakAt,
    median: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sizes.length === 0 ? 0 : sum / sizes.length,
    secondsAbove: poolSize === null ? null : above,
    poolSize,
  };
}
