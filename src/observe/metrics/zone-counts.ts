// Queries per zone, counted from the question's wire bytes: no name text, no string hashing per query.
import type { QueryContext } from '../../answer/context.js';
import type { Runtime } from '../../answer/runtime.js';
import { nameToWire } from '../../wire/name.js';

/** A bucket of more zones than this (of one origin length) is searched by hash instead of one by one. */
const LINEAR_MAX = 4;

/** The zones of one runtime whose origins (wire form, root label left out) have one length. */
interface Bucket {
  zones: number[];
  /** Hash of the origin → zones, made when the bucket holds more than LINEAR_MAX. */
  byHash?: Map<number, number[]>;
}

/**
 * The zones of one runtime by the length of their origin's wire form. A question name's suffixes are
 * tried from the longest (the deepest zone wins, as ZoneSet.find); only a suffix as long as some origin
 * is compared, byte for byte, so a one-zone server compares one suffix per query and hashes nothing.
 */
class ZoneIndex {
  readonly origins: string[];
  readonly counts: Float64Array;
  private readonly wires: Uint8Array[];
  private readonly byLength: (Bucket | undefined)[] = new Array<Bucket | undefined>(256).fill(undefined);
  /** Index of the root zone, or -1; its suffix is empty. */
  private readonly root: number;

  constructor(readonly runtime: Runtime) {
    const zones = runtime.zones.zones;
    this.origins = zones.map((z) => z.origin);
    this.wires = zones.map((z) => {
      const w = nameToWire(z.originKey);
      return w.subarray(0, w.length - 1);
    });
    // The last slot counts names in no zone.
    this.counts = new Float64Array(zones.length + 1);
    let root = -1;
    this.wires.forEach((w, i) => {
      if (w.length === 0) root = i;
      const b = (this.byLength[w.length] ??= { zones: [] });
      b.zones.push(i);
    });
    for (const b of this.byLength) {
      if (b === undefined || b.zones.length <= LINEAR_MAX) continue;
      b.byHash = new Map();
      for (const z of b.zones) {
        const w = this.wires[z]!;
        const h = hash(w, 0, w.length);
        const list = b.byHash.get(h);
        if (list) list.push(z);
        else b.byHash.set(h, [z]);
      }
    }
    this.root = root;
  }

  /** Counts one query whose name is at `raw[12..]`; false when it must be counted by text (a compression pointer). */
  count(raw: Uint8Array): boolean {
    // First walk: where the name ends (parseQuery checked the lengths; a pointer sends us to the text path).
    let end = 12;
    for (let len = raw[end]!; len !== 0; len = raw[end]!) {
      if (len >= 64) return false;
      end += 1 + len;
    }
    // Second walk: each suffix, longest first, against the origins of its length.
    for (let p = 12; p < end; p += 1 + raw[p]!) {
      const b = this.byLength[end - p];
      if (b === undefined) continue;
      const list = b.byHash === undefined ? b.zones : b.byHash.get(hash(raw, p, end));
      if (list === undefined) continue;
      for (let j = 0; j < list.length; j++) {
        const z = list[j]!;
        if (this.matches(raw, p, z)) {
          this.counts[z]!++;
          return true;
        }
      }
    }
    this.counts[this.root >= 0 ? this.root : this.origins.length]!++;
    return true;
  }

  countText(ctx: QueryContext, name: string): void {
    const z = ctx.runtime.zones.find(name);
    const i = z === undefined ? -1 : this.origins.indexOf(z.origin);
    this.counts[i < 0 ? this.origins.length : i]!++;
  }

  private matches(raw: Uint8Array, from: number, z: number): boolean {
    const w = this.wires[z]!;
    for (let i = 0; i < w.length; i++) {
      const c = raw[from + i]!;
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== w[i]) return false;
    }
    return true;
  }
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
    if (!ix.count(ctx.raw)) ix.countText(ctx, ctx.query.question!.name);
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
