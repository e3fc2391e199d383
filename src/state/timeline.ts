// A min-heap of (time, id): the in-memory store's lease timeline, so a sweep visits only the leases whose
// next boundary has passed instead of every lease every second (issue 14: the grant-latency tail); also the
// pool-sizing simulator's expiry order (src/sim/table.ts).

export class Timeline {
  private times: number[] = [];
  private ids: string[] = [];

  get size(): number {
    return this.times.length;
  }

  /** The earliest time scheduled, or Infinity. */
  peek(): number {
    return this.times.length > 0 ? this.times[0]! : Infinity;
  }

  push(time: number, id: string): void {
    const t = this.times;
    const d = this.ids;
    let i = t.length;
    t.push(time);
    d.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= time) break;
      t[i] = t[p]!;
      d[i] = d[p]!;
      i = p;
    }
    t[i] = time;
    d[i] = id;
  }

  /** Removes the earliest entry; calls `f(time, id)` with it. False when empty. */
  pop(f: (time: number, id: string) => void): boolean {
    const t = this.times;
    const d = this.ids;
    if (t.length === 0) return false;
    const time = t[0]!;
    const id = d[0]!;
    const lastT = t.pop()!;
    const lastD = d.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && t[l + 1]! < t[l]! ? l + 1 : l;
        if (t[c]! >= lastT) break;
        t[i] = t[c]!;
        d[i] = d[c]!;
        i = c;
      }
      t[i] = lastT;
      d[i] = lastD;
    }
    f(time, id);
    return true;
  }
}
