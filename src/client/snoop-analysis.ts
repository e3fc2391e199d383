// TTL snooping inference (seed 001, "TTL Snooping with the DNS", after Trufflehunter): from TTLs a
// resolver returned over time, when each of its caches loaded the name and whether that was before we asked.

/** One observation of the resolver's answer. Times are milliseconds on the snooper's clock. */
export interface SnoopObservation {
  /** Midpoint of the exchange: the resolver read its clock somewhere between send and reply. */
  at: number;
  /** Remaining TTL the resolver returned; undefined when it had nothing (RD=0 miss, error). */
  ttl?: number;
}

/** A countdown line: samples whose TTL falls on one straight line of slope -1 s/s, i.e. one cache. */
export interface TtlLine {
  /** Estimated load time (ms, snooper's clock): the middle of what every sample on the line allows. */
  loadedAt: number;
  /** The interval the load time must lie in: (earliest, latest). */
  earliest: number;
  latest: number;
  /** True when the name was certainly loaded before `start`: someone else asked for it earlier. */
  before: boolean;
  /** Indexes of the observations on this line. */
  samples: number[];
}

export interface SnoopInference {
  lines: TtlLine[];
  /** true: some cache loaded the name before we asked; false: none did; null: no TTL was observed. */
  cachedBefore: boolean | null;
  /** Seconds between the earliest earlier load and `start`, when cachedBefore. */
  sinceCached?: number;
  /** Distinct caches seen behind the resolver (one per line), and how many had the name before us. */
  caches: number;
  cachesBefore: number;
}

/**
 * TTLs are whole seconds: a resolver that loaded at L (its clock) and is asked at t returns
 * T - (t - L) rounded to a second, so t - (T - ttl) lies within 1 s of L. Two samples on one line
 * are therefore less than 2 s apart in this estimate; further apart means another cache (seed 001:
 * "a number of less ordered TTL values ... match ... a collection of independent caches").
 */
const SECOND = 1000;

export function inferFromTtls(observations: readonly SnoopObservation[], authTtl: number, start: number): SnoopInference {
  const points = observations
    .map((o, i) => ({ i, est: o.ttl === undefined ? undefined : o.at - (authTtl - o.ttl) * SECOND }))
    .filter((p): p is { i: number; est: number } => p.est !== undefined)
    .sort((a, b) => a.est - b.est);
  const lines: TtlLine[] = [];
  let current: { first: number; pts: { i: number; est: number }[] } | undefined;
  const close = (): void => {
    if (!current) return;
    const ests = current.pts.map((p) => p.est);
    // Each sample says L ∈ (est - 1 s, est + 1 s); the line's load time is in the intersection.
    const earliest = Math.max(...ests) - SECOND;
    const latest = Math.min(...ests) + SECOND;
    lines.push({
      loadedAt: (earliest + latest) / 2,
      earliest,
      latest,
      // Certain only when even the latest possible load time is before we asked.
      before: latest <= start,
      samples: current.pts.map((p) => p.i).sort((a, b) => a - b),
    });
  };
  for (const p of points) {
    if (!current || p.est - current.first >= 2 * SECOND) {
      close();
      current = { first: p.est, pts: [] };
    }
    current.pts.push(p);
  }
  close();
  const earlier = lines.filter((l) => l.before);
  const result: SnoopInference = {
    lines,
    cachedBefore: points.length === 0 ? (observations.length > 0 ? false : null) : earlier.length > 0,
    caches: lines.length,
    cachesBefore: earlier.length,
  };
  if (earlier.length > 0) result.sinceCached = Math.round((start - Math.min(...earlier.map((l) => l.loadedAt))) / 100) / 10;
  return result;
}
