// Bounded heavy hitters (space-saving, Metwally et al. 2005): k slots, a new key replaces the smallest.
// On the hot path a key already held costs one Map lookup; when the table is full only every
// `admitEvery`th unknown key is let in (a stream of distinct names would otherwise scan and rehash on
// every query), so a key that keeps coming still gets in quickly, and noise mostly does not.
export class TopK {
  private misses = 0;

  private readonly keys: (string | undefined)[];
  private readonly counts: Float64Array;
  private readonly slotOf = new Map<string, number>();
  private used = 0;

  constructor(
    readonly k: number,
    readonly admitEvery = 8,
  ) {
    this.keys = new Array<string | undefined>(k);
    this.counts = new Float64Array(k);
  }

  add(key: string, n = 1): void {
    const s = this.slotOf.get(key);
    if (s !== undefined) {
      this.counts[s]! += n;
      return;
    }
    if (this.used < this.k) {
      this.keys[this.used] = key;
      this.counts[this.used] = n;
      this.slotOf.set(key, this.used++);
      return;
    }
    if (++this.misses < this.admitEvery) return;
    this.misses = 0;
    // The smallest slot goes; its count carries over (an overestimate by at most that count).
    let min = 0;
    const c = this.counts;
    for (let i = 1; i < c.length; i++) if (c[i]! < c[min]!) min = i;
    this.slotOf.delete(this.keys[min]!);
    this.keys[min] = key;
    c[min]! += n;
    this.slotOf.set(key, min);
  }

  /** The entries, largest first. */
  entries(limit = this.k): [string, number][] {
    const out: [string, number][] = [];
    for (let i = 0; i < this.used; i++) out.push([this.keys[i]!, this.counts[i]!]);
    return out.sort((a, b) => b[1] - a[1]).slice(0, limit);
  }
}

/** Merges several workers' top lists: counts of the same key add up. */
export function mergeTop(lists: readonly (readonly [string, number][])[], limit: number): [string, number][] {
  const sum = new Map<string, number>();
  for (const l of lists) for (const [k, n] of l) sum.set(k, (sum.get(k) ?? 0) + n);
  return [...sum].sort((a, b) => b[1] - a[1]).slice(0, limit);
}
