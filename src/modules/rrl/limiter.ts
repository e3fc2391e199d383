// The rate limiter behind rrl: one token bucket per (client prefix, response kind, name), with
// BIND's arithmetic and a slip counter; the time is an argument so tests are exact.

export type RrlVerdict = 'ok' | 'slip' | 'drop';

interface Bucket {
  /** Responses still allowed, in thousandths (integers keep the arithmetic exact); negative is debt. */
  balance: number;
  /** Milliseconds (the caller's clock) of the last update. */
  at: number;
  /** Limited responses so far, for the slip count. */
  limited: number;
}

export interface RrlCounters {
  /** Responses that went out as they were. */
  ok: number;
  /** Limited responses sent truncated. */
  slipped: number;
  /** Limited responses not sent. */
  dropped: number;
  /** Buckets evicted because the table was full. */
  evicted: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /**
   * The keys in the order their buckets were made, as a ring: the oldest is evicted first. Not the
   * Map's own order: V8 leaves a deleted entry as a hole that `keys().next()` steps over until the
   * table is rebuilt, so taking the first key of a Map that keeps losing its first entry costs the
   * number of holes — under a flood of random names (RRL's very case) a full table made each new
   * bucket cost ~60 µs at 100,000 buckets, 4× the whole query.
   */
  private readonly order: string[] = [];
  private oldest = 0;
  readonly counters: RrlCounters = { ok: 0, slipped: 0, dropped: 0, evicted: 0 };

  /** `maxBuckets` bounds memory against floods of random names or sources. */
  constructor(readonly maxBuckets = 100_000) {}

  /**
   * One response for `key` at `rate` per second. As BIND's rrl.c: the balance earns `rate` per second
   * up to `rate` (a burst of one second's worth), each response costs 1, and the debt is bounded by
   * `window` seconds' worth, so a client that keeps flooding stays limited until it pauses that long.
   * Every `slip`th limited response slips (is sent truncated); slip 0 drops them all. `t` is the
   * time in milliseconds (the query's arrival), passed in so tests drive the clock.
   */
  check(key: string, rate: number, window: number, slip: number, t: number): RrlVerdict {
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.order.length < this.maxBuckets) this.order.push(key);
      else {
        this.buckets.delete(this.order[this.oldest]!);
        this.order[this.oldest] = key;
        this.oldest = (this.oldest + 1) % this.maxBuckets;
        this.counters.evicted++;
      }
      b = { balance: rate * 1000, at: t, limited: 0 };
      this.buckets.set(key, b);
    } else {
      // rate per second is `rate` thousandths per millisecond.
      const earned = Math.max(0, t - b.at) * rate;
      b.balance = Math.min(rate * 1000, b.balance + earned);
      b.at = t;
    }
    if (b.balance >= 1000) {
      b.balance -= 1000;
      // A client back under its rate starts a fresh slip sequence.
      b.limited = 0;
      this.counters.ok++;
      return 'ok';
    }
    b.balance = Math.max(-window * rate * 1000, b.balance - 1000);
    b.limited++;
    if (slip > 0 && b.limited % slip === 0) {
      this.counters.slipped++;
      return 'slip';
    }
    this.counters.dropped++;
    return 'drop';
  }

  get size(): number {
    return this.buckets.size;
  }
}
