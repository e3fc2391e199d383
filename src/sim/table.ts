// Replay of connections against a translation table (seed 000 §3.3): the table's size, second by second.
import type { Connection } from './csv.js';
import { scopeKey, type Scope } from './scope.js';
import { Timeline } from '../state/timeline.js';

export interface SimOptions {
  /** Seconds a translation lives after its last DNS lookup (the answer's TTL). */
  ttl: number;
  /** Seconds more a translation stays, for clients already seen using it (seed §3.2, third strategy). */
  grace: number;
  scope: Scope;
}

export interface SimResult {
  /** The first second of the series (floor of the first connection's time). */
  start: number;
  /** sizes[i]: the most translations alive at any instant of second start + i. */
  sizes: number[];
  connections: number;
  /** Connections that implied a DNS lookup (none alive for their pair, or grace but a new client). */
  lookups: number;
  /** Connections admitted only by grace (after the TTL, by a client already seen). */
  graceHits: number;
  servers: number;
}

/** Longest replay in seconds: the series holds one number per second. */
export const MAX_SPAN = 31 * 86400;

interface Entry {
  liveUntil: number;
  goneAt: number;
  seen: Set<string> | null;
}

/**
 * The model, exactly (README "Pool sizing"): a translation for the pair (scope key, server) is
 * created or refreshed by a DNS lookup, lives on [lookup, lookup + ttl) and then, with grace, stays
 * on [lookup + ttl, lookup + ttl + grace) for clients that used it before. A connection needs a lookup
 * when its pair has no translation, or only a grace one and its client was not seen: the resolver's
 * cache answers the others. A refreshed pair keeps its one address; the table counts pairs.
 */
export class TableSim {
  private readonly map = new Map<string, Entry>();
  /** When each pair's translation is gone (refreshed pairs leave stale items, skipped in expire). */
  private readonly gone = new Timeline();
  private readonly servers = new Set<string>();
  private readonly sizes: number[] = [];
  private start = NaN;
  private cur = NaN;
  private curMax = 0;
  private connections = 0;
  private lookups = 0;
  private graceHits = 0;

  constructor(private readonly opts: SimOptions) {}

  add(c: Connection): void {
    const t = c.time;
    if (Number.isNaN(this.cur)) this.start = this.cur = Math.floor(t);
    const s = Math.floor(t);
    if (s < this.cur) throw new RangeError(`time ${t} is before the previous connection's second ${this.cur}: sort the log by time`);
    if (s - this.start >= MAX_SPAN) throw new RangeError(`time ${t} is more than ${MAX_SPAN} s after the first connection (${this.start}); replay at most 31 days at once`);
    while (this.cur < s) {
      this.sizes.push(this.curMax);
      this.cur++;
      this.expire(this.cur);
      this.curMax = this.map.size;
    }
    this.expire(t);
    this.connections++;
    this.servers.add(c.server);
    const key = `${scopeKey(this.opts.scope, c)}|${c.server}`;
    let e = this.map.get(key);
    if (e && t < e.liveUntil) {
      e.seen?.add(c.client);
      return;
    }
    if (e && e.seen?.has(c.client)) {
      this.graceHits++;
      return;
    }
    this.lookups++;
    if (!e) {
      e = { liveUntil: 0, goneAt: 0, seen: this.opts.grace > 0 ? new Set() : null };
      this.map.set(key, e);
      if (this.map.size > this.curMax) this.curMax = this.map.size;
    }
    e.liveUntil = t + this.opts.ttl;
    e.goneAt = e.liveUntil + this.opts.grace;
    e.seen?.add(c.client);
    this.gone.push(e.goneAt, key);
  }

  /** The series up to and including the second of the last connection (empty without connections). */
  finish(): SimResult {
    const sizes = Number.isNaN(this.cur) ? [] : [...this.sizes, this.curMax];
    return {
      start: Number.isNaN(this.start) ? 0 : this.start,
      sizes,
      connections: this.connections,
      lookups: this.lookups,
      graceHits: this.graceHits,
      servers: this.servers.size,
    };
  }

  /** Drops translations gone at or before t. Refreshed pairs leave stale heap items, skipped here. */
  private expire(t: number): void {
    while (this.gone.peek() <= t) {
      this.gone.pop((_, key) => {
        const e = this.map.get(key);
        if (e && e.goneAt <= t) this.map.delete(key);
      });
    }
  }
}
