// The rate limiter behind rrl: one token bucket per (client prefix, response kind, name), with
// BIND's arithmetic and a slip counter; the time is an argument so tests are exact.

import type { ReplayColumns } from '../../answer/replay.js';
import { hashNameText, type NameHash } from './name-hash.js';

export type RrlVerdict = 'ok' | 'slip' | 'drop';

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

/**
 * The buckets, as BIND keeps them: a table of numbers, no object or string per bucket. A bucket's key
 * is two 32-bit hashes (prefix, kind, name: see name-hash.ts); open addressing with linear probing,
 * at most half full, grown by doubling up to twice `maxBuckets`. When the table holds `maxBuckets`,
 * the oldest bucket (a ring of slots in the order they were made) gives way to the new one.
 * Before: a Map from a template-string key to a bucket object — per query a string, and per new
 * bucket an object for the collector: a flood of random names spent 18 % of its CPU collecting them.
 */
export class RateLimiter {
  private mask = 0;
  private keyA = EMPTY_I32;
  private keyB = EMPTY_I32;
  /** Responses still allowed, in thousandths (integers keep the arithmetic exact); negative is debt. */
  private balance = EMPTY_F64;
  /** Milliseconds (the caller's clock) of the last update. */
  private at = EMPTY_F64;
  /** Limited responses so far, for the slip count. */
  private limited = EMPTY_I32;
  /** Each slot's place in `ring` plus one; 0: the slot is empty. */
  private place = EMPTY_I32;
  /** Slots in the order their buckets were made, as a ring: `oldest` is evicted first. */
  private readonly ring: Int32Array;
  private count = 0;
  private oldest = 0;
  private readonly maxSlots: number;
  /**
   * `ok` lives in shared memory: the UDP addon counts there the replayed answers it let through
   * (it checks replays against this table itself: modules/rrl/replay.ts).
   */
  private readonly okCell = new Float64Array(1);
  readonly counters: RrlCounters = countersOver(this.okCell);
  /** Told when the columns are replaced (the table grew): whoever shares them must take the new ones. */
  private readonly resized = new Set<() => void>();

  /** `maxBuckets` bounds memory against floods of random names or sources. */
  constructor(readonly maxBuckets = 100_000) {
    this.maxSlots = pow2AtLeast(2 * maxBuckets);
    this.ring = new Int32Array(maxBuckets);
    this.allocate(Math.min(this.maxSlots, 1024));
  }

  /** Empty columns of `slots` slots (a power of two). */
  private allocate(slots: number): void {
    this.mask = slots - 1;
    this.keyA = new Int32Array(slots);
    this.keyB = new Int32Array(slots);
    this.balance = new Float64Array(slots);
    this.at = new Float64Array(slots);
    this.limited = new Int32Array(slots);
    this.place = new Int32Array(slots);
  }

  /** The table's columns as they are now (shared with the UDP addon; replaced when the table grows). */
  columns(): LimiterColumns {
    return { keyA: this.keyA, keyB: this.keyB, balance: this.balance, at: this.at, limited: this.limited, place: this.place, ok: this.okCell };
  }

  /** Calls `l` after every resize (synchronously, inside the check that grew the table); returns the unsubscribe. */
  onResize(l: () => void): () => void {
    this.resized.add(l);
    return () => this.resized.delete(l);
  }

  /** checkHash() with a text key (tests, tools): the key hashed as a name is. */
  check(key: string, rate: number, window: number, slip: number, t: number): RrlVerdict {
    hashNameText(key, 0, scratch);
    return this.checkHash(scratch.a, scratch.b, rate, window, slip, t);
  }

  /**
   * One response for the bucket keyed (a, b) at `rate` per second. As BIND's rrl.c: the balance earns
   * `rate` per second up to `rate` (a burst of one second's worth), each response costs 1, and the debt
   * is bounded by `window` seconds' worth, so a client that keeps flooding stays limited until it
   * pauses that long. Every `slip`th limited response slips (is sent truncated); slip 0 drops them
   * all. `t` is the time in milliseconds (the query's arrival), passed in so tests drive the clock.
   */
  checkHash(a: number, b: number, rate: number, window: number, slip: number, t: number): RrlVerdict {
    a |= 0;
    b |= 0;
    let s = this.find(a, b);
    if (s < 0) {
      s = this.insert(a, b);
      this.balance[s] = rate * 1000;
      this.at[s] = t;
      this.limited[s] = 0;
    } else {
      // rate per second is `rate` thousandths per millisecond.
      const earned = Math.max(0, t - this.at[s]!) * rate;
      this.balance[s] = Math.min(rate * 1000, this.balance[s]! + earned);
      this.at[s] = t;
    }
    if (this.balance[s]! >= 1000) {
      this.balance[s]! -= 1000;
      // A client back under its rate starts a fresh slip sequence.
      this.limited[s] = 0;
      this.counters.ok++;
      return 'ok';
    }
    this.balance[s] = Math.max(-window * rate * 1000, this.balance[s]! - 1000);
    const limited = ++this.limited[s]!;
    if (slip > 0 && limited % slip === 0) {
      this.counters.slipped++;
      return 'slip';
    }
    this.counters.dropped++;
    return 'drop';
  }

  get size(): number {
    return this.count;
  }

  /** The slot holding (a, b), or -1. */
  private find(a: number, b: number): number {
    const mask = this.mask;
    for (let s = a & mask; ; s = (s + 1) & mask) {
      if (this.place[s] === 0) return -1;
      if (this.keyA[s] === a && this.keyB[s] === b) return s;
    }
  }

  /** A slot for a new bucket (a, b): the table grown, or the oldest bucket evicted, first. */
  private insert(a: number, b: number): number {
    let place: number;
    if (this.count < this.maxBuckets) {
      if (2 * (this.count + 1) > this.mask + 1 && this.mask + 1 < this.maxSlots) this.grow();
      place = this.count++;
    } else {
      place = this.oldest;
      this.remove(this.ring[place]!);
      this.oldest = (this.oldest + 1) % this.maxBuckets;
      this.counters.evicted++;
    }
    const mask = this.mask;
    let s = a & mask;
    while (this.place[s] !== 0) s = (s + 1) & mask;
    this.keyA[s] = a;
    this.keyB[s] = b;
    this.place[s] = place + 1;
    this.ring[place] = s;
    return s;
  }

  /** Empties slot `i`, moving later entries of its probe run back (no tombstones). */
  private remove(i: number): void {
    const mask = this.mask;
    this.place[i] = 0;
    for (let j = (i + 1) & mask; this.place[j] !== 0; j = (j + 1) & mask) {
      const home = this.keyA[j]! & mask;
      // Entry j may move to i only if i lies on its probe path: home … i … j (cyclically).
      if (((j - home) & mask) < ((j - i) & mask)) continue;
      this.moveSlot(j, i);
      this.place[j] = 0;
      i = j;
    }
  }

  private moveSlot(from: number, to: number): void {
    this.keyA[to] = this.keyA[from]!;
    this.keyB[to] = this.keyB[from]!;
    this.balance[to] = this.balance[from]!;
    this.at[to] = this.at[from]!;
    this.limited[to] = this.limited[from]!;
    const place = this.place[from]!;
    this.place[to] = place;
    this.ring[place - 1] = to;
  }

  private grow(): void {
    const old = { keyA: this.keyA, keyB: this.keyB, balance: this.balance, at: this.at, limited: this.limited, place: this.place };
    this.allocate((this.mask + 1) * 2);
    for (let o = 0; o < old.place.length; o++) {
      const place = old.place[o]!;
      if (place === 0) continue;
      let s = old.keyA[o]! & this.mask;
      while (this.place[s] !== 0) s = (s + 1) & this.mask;
      this.keyA[s] = old.keyA[o]!;
      this.keyB[s] = old.keyB[o]!;
      this.balance[s] = old.balance[o]!;
      this.at[s] = old.at[o]!;
      this.limited[s] = old.limited[o]!;
      this.place[s] = place;
      this.ring[place - 1] = s;
    }
    for (const l of this.resized) l();
  }
}

/** The table's columns, shared with the UDP addon (answer/replay.ts ReplayColumns). */
export type LimiterColumns = ReplayColumns;

/** The counters with `ok` read from (and written to) a cell another writer (the addon) adds to as well. */
function countersOver(okCell: Float64Array): RrlCounters {
  return {
    get ok() {
      return okCell[0]!;
    },
    set ok(v: number) {
      okCell[0] = v;
    },
    slipped: 0,
    dropped: 0,
    evicted: 0,
  };
}

const scratch: NameHash = { a: 0, b: 0 };
const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
