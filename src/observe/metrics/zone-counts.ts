// Queries per zone: by the slot of the zone that answered (ctx.zoneSlot) or else from the question's
// wire bytes — no name text, no string hashing per query.
import type { QueryContext } from '../../answer/context.js';
import type { Runtime } from '../../answer/runtime.js';
import { nameToWire } from '../../wire/name.js';

/** A bucket of more zones than this (of one origin length) is searched by hash instead of one by one. */
const LINEAR_MAX = 4;

/** The zones of one runtime whose origins (wire form, root label left out) have one length. */
interface Bucket {
  /** Origin length in bytes (0: the root zone). */
  length: number;
  zones: number[];
  /** Hash of the origin → zones, made when the bucket holds more than LINEAR_MAX. */
  byHash: Map<number, number[]> | undefined;
}

/**
 * The zones of one runtime by the length of their origin's wire form, longest first. The question
 * name's end is known from the parse (QueryView.questionEnd), so for each origin length only the
 * name's tail of that length is compared, byte for byte (the deepest zone wins, as ZoneSet.find), and
 * the labels are walked only to confirm a matching tail starts on a label: a one-zone server compares
 * one tail per query and hashes nothing.
 */
class ZoneIndex {
  readonly origins: string[];
  readonly counts: Float64Array;
  private readonly wires: Uint8Array[];
  private readonly buckets: Bucket[] = [];
  /**
   * The origin tried first without folding case: the only zone, or the longest of nested zones when
   * every zone is one of them (a name that fails it goes through the buckets).
   */
  private readonly first: Uint8Array | undefined;
  private readonly firstZone: number = -1;

  constructor(readonly runtime: Runtime) {
    const zones = runtime.zones.zones;
    this.origins = zones.map((z) => z.origin);
    this.wires = zones.map((z) => {
      const w = nameToWire(z.originKey);
      return w.subarray(0, w.length - 1);
    });
    // The last slot counts names in no zone.
    this.counts = new Float64Array(zones.length + 1);
    const byLength = new Map<number, Bucket>();
    this.wires.forEach((w, i) => {
      let b = byLength.get(w.length);
      if (b === undefined) byLength.set(w.length, (b = { length: w.length, zones: [], byHash: undefined }));
      b.zones.push(i);
    });
    for (const b of byLength.values()) {
      if (b.zones.length > LINEAR_MAX) {
        b.byHash = new Map();
        for (const z of b.zones) {
          const w = this.wires[z]!;
          const h = hash(w, 0, w.length);
          const list = b.byHash.get(h);
          if (list) list.push(z);
          else b.byHash.set(h, [z]);
        }
      }
      this.buckets.push(b);
    }
    this.buckets.sort((x, y) => y.length - x.length);
    // One zone in the longest bucket: a name under it belongs to no deeper zone, so a match is final.
    const top = this.buckets[0];
    if (top !== undefined && top.zones.length === 1) {
      this.firstZone = top.zones[0]!;
      this.first = this.wires[this.firstZone];
    }
  }

  /**
   * Counts one query whose name starts at `raw[12]` and whose root label is at `raw[end]`; false when
   * it must be counted by text (the name is not plain labels ending there, e.g. a compression pointer).
   */
  count(raw: Uint8Array, end: number): boolean {
    if (end < 12 || raw[end] !== 0) return false;
    // The common case, a name in the deepest zone written as the origin is: one plain compare.
    const first = this.first;
    if (first !== undefined) {
      const from = end - first.length;
      if (from >= 12 && plainTail(raw, from, first) && startsLabel(raw, from)) {
        this.counts[this.firstZone]!++;
        return true;
      }
    }
    const buckets = this.buckets;
    for (let k = 0; k < buckets.length; k++) {
      const b = buckets[k]!;
      const from = end - b.length;
      if (from < 12) continue;
      const list = b.byHash === undefined ? b.zones : b.byHash.get(hash(raw, from, end));
      if (list === undefined) continue;
      for (let j = 0; j < list.length; j++) {
        const z = list[j]!;
        if (this.matches(raw, from, z)) {
          if (!startsLabel(raw, from)) return false;
          this.counts[z]!++;
          return true;
        }
      }
    }
    this.counts[this.origins.length]!++;
    return true;
  }

  countText(ctx: QueryContext, name: string): void {
    const z = ctx.runtime.zones.find(name);
    const i = z === undefined ? -1 : this.origins.indexOf(z.origin);
    this.counts[i < 0 ? this.origins.length : i]!++;
  }

  private matches(raw: Uint8Array, from: number, z: number): boolean {
    const w = this.wires[z]!;
    // Names mostly come lower-case, as the origins are kept: the plain compare first, folding only on a difference.
    for (let i = 0; i < w.length; i++) if (raw[from + i] !== w[i]) return matchesFolded(raw, from, w, i);
    return true;
  }
}

/** Whether the bytes at `from` are exactly `w` (no case folding). */
function plainTail(raw: Uint8Array, from: number, w: Uint8Array): boolean {
  for (let i = 0; i < w.length; i++) if (raw[from + i] !== w[i]) return false;
  return true;
}

/** Compares from byte `i` on, upper-case ASCII letters folded (RFC 4343). */
function matchesFolded(raw: Uint8Array, from: number, w: Uint8Array, i: number): boolean {
  for (; i < w.length; i++) {
    const c = raw[from + i]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== w[i]) return false;
  }
  return true;
}

/**
 * Whether a label starts at `at` (the labels from 12 land on it). A tail can match an origin's bytes
 * without starting on a label (a label holding the byte 3 then "lab"); such a name goes to the text path.
 */
function startsLabel(raw: Uint8Array, at: number): boolean {
  let p = 12;
  while (p < at) {
    const len = raw[p]!;
    if (len === 0 || len >= 64) return false;
    p += 1 + len;
  }
  return p === at;
}

/** FNV-1a over bytes, lower-cased (RFC 4343), kept to 30 bits so Map keys stay small integers. */
function hash(bytes: Uint8Array, from: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < end; i++) {
    const c = bytes[i]!;
    h = Math.imul(h ^ (c >= 0x41 && c <= 0x5a ? c | 0x20 : c), 0x01000193);
  }
  return h & 0x3fffffff;
}

/** Queries for names in each zone (origin → count; '' for names in none), over reloads. */
export class ZoneCounts {
  private index: ZoneIndex | undefined;
  /** Counts of the runtimes before the current one, by origin. */
  private readonly earlier = new Map<string, number>();

  record(ctx: QueryContext): void {
    let ix = this.index;
    if (ix === undefined || ix.runtime !== ctx.runtime) ix = this.switchTo(ctx.runtime);
    // The zone that answered (the zone responder, or an answer-cache entry carrying it): no name match.
    const slot = ctx.zoneSlot;
    if (slot >= 0) ix.counts[slot]!++;
    else if (!ix.count(ctx.raw, ctx.query.questionEnd - 5)) ix.countText(ctx, ctx.query.question!.name);
  }

  /** Adds `n` queries for the zone `origin` (answer-cache hits counted by cell, QueryMetrics.fold). */
  add(origin: string, n: number): void {
    this.earlier.set(origin, (this.earlier.get(origin) ?? 0) + n);
  }

  /** Every zone with a count, by origin ('' = in no zone). */
  entries(): [string, number][] {
    const out = new Map(this.earlier);
    const ix = this.index;
    if (ix !== undefined) {
      for (let i = 0; i < ix.counts.length; i++) {
        const n = ix.counts[i]!;
        if (n === 0) continue;
        const origin = i < ix.origins.length ? ix.origins[i]! : '';
        out.set(origin, (out.get(origin) ?? 0) + n);
      }
    }
    return [...out];
  }

  private switchTo(runtime: Runtime): ZoneIndex {
    if (this.index !== undefined) {
      for (const [origin, n] of this.entries()) this.earlier.set(origin, n);
    }
    return (this.index = new ZoneIndex(runtime));
  }
}
