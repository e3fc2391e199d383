// An authoritative zone held in memory: a compiled zone (compiled.ts: flat arrays, wire names and
// RDATA) behind the interface the responders, tools and tests use.
import { isSubdomain, nameKey, parentName } from '../wire/name.js';
import { RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { withNegativeTemplate } from '../wire/negative.js';
import { CompiledStore, F_CUT, F_DNAME, wireName, ZoneCompiler, type CompiledZoneBuffers } from './compiled.js';

export interface RRset {
  /** Owner as written in the zone (case kept). */
  readonly name: string;
  readonly type: number;
  /** One TTL for the whole set (RFC 2181 §5.2): the smallest of its records. */
  readonly ttl: number;
  readonly records: readonly ResourceRecord[];
}

/** A node as objects, built on demand (tools and tests; the lookup reads the arrays). */
export class ZoneNode {
  readonly rrsets = new Map<number, RRset>();
  constructor(readonly name: string) {}

  /** An empty non-terminal: exists only because names below it do (RFC 4592 §2.2.2). */
  get isEmpty(): boolean {
    return this.rrsets.size === 0;
  }
}

export class Zone {
  readonly originKey: string;
  readonly store: CompiledStore;
  readonly soa: ResourceRecord<SOARdata>;
  /** Labels in the origin (0 for the root). */
  readonly apexLabels: number;
  /**
   * SHA-256 (hex) of the master file's bytes, when the zone-loader thread read it (loader.ts): the
   * primary role compares it on reload instead of hashing a large file on the serving thread.
   */
  fileHash: string | undefined;
  private readonly negative: ResourceRecord<SOARdata>;
  /** [negative], made once: every NXDOMAIN and NODATA of the zone shares it (frozen: nothing may add to it). */
  private readonly negativeSection: ResourceRecord[];

  private constructor(b: CompiledZoneBuffers) {
    this.store = new CompiledStore(b);
    this.originKey = nameKey(b.origin);
    this.apexLabels = wireName(b.origin).offs.length;
    const set = this.store.setOf(0, RRType.SOA);
    if (set < 0) throw new Error(`zone ${b.origin} has no SOA at its apex`);
    // Pre-encoded (wire/pre-encoded.ts): every negative answer copies these bytes rather than encoding the fields.
    this.soa = this.store.answerRecords(set, this.store.nodeText(0))[0] as ResourceRecord<SOARdata>;
    // RFC 2308 §5: negative answers carry the SOA with TTL min(SOA TTL, SOA MINIMUM).
    const ttl = Math.min(this.soa.ttl, this.soa.data.minimum);
    // Its own object (the apex SOA answer is another): the encoder writes it from a byte template (wire/negative.ts).
    this.negative = withNegativeTemplate({ ...this.soa, ttl }) as ResourceRecord<SOARdata>;
    this.negativeSection = Object.freeze([this.negative]) as unknown as ResourceRecord[];
  }

  /** Builds a zone from records that passed `checkZone`; throws only when the apex SOA is missing. */
  static build(origin: string, records: Iterable<ResourceRecord>): Zone {
    const c = new ZoneCompiler(origin);
    for (const rr of records) c.addRecord(rr);
    return new Zone(c.finish());
  }

  /** A zone from compiled arrays (e.g. compiled in a worker thread and transferred). */
  static fromBuffers(b: CompiledZoneBuffers): Zone {
    return new Zone(b);
  }

  /** The compiled arrays (transferable: see transfer-list.ts). */
  get buffers(): CompiledZoneBuffers {
    return this.store.b;
  }

  get origin(): string {
    return this.store.b.origin;
  }

  /** The node of a name key as objects, or undefined (slow: for tools and tests). */
  get(key: string): ZoneNode | undefined {
    const n = this.store.findNode(key);
    return n < 0 ? undefined : this.nodeObject(n);
  }

  /** Nodes by name key, as objects built on demand (slow: for tools and tests; the lookup reads the arrays). */
  get nodes(): ReadonlyMap<string, ZoneNode> {
    return new NodesView(this);
  }

  /** Keys of the zone cuts (NS below the apex), as a set view over the node flags. */
  get cuts(): { has(key: string): boolean } {
    return { has: (key) => this.isCut(key) };
  }

  /** Keys of names holding a DNAME, as a set view over the node flags. */
  get dnames(): { has(key: string): boolean } {
    return { has: (key) => this.isDname(key) };
  }

  /** Node `n` as objects. */
  nodeAt(n: number): ZoneNode {
    return this.nodeObject(n);
  }

  private nodeObject(n: number): ZoneNode {
    const node = new ZoneNode(this.store.nodeText(n));
    const b = this.store.b;
    for (let s = b.nodeFirstSet[n]!, end = s + b.nodeSets[n]!; s < end; s++) {
      node.rrsets.set(b.setType[s]!, { name: node.name, type: b.setType[s]!, ttl: b.setTtl[s]!, records: this.store.records(n, s, node.name) });
    }
    return node;
  }

  /** Every record, node by node (the apex first), each RRset's records together: zone print, AXFR, signing. */
  *records(): IterableIterator<ResourceRecord> {
    const b = this.store.b;
    for (let n = 0; n < b.nodeCount; n++) {
      if (b.nodeSets[n] === 0) continue;
      const owner = this.store.nodeText(n);
      for (let s = b.nodeFirstSet[n]!, end = s + b.nodeSets[n]!; s < end; s++) yield* this.store.records(n, s, owner);
    }
  }

  /** True when `name` exists in the zone: it owns records or is an empty non-terminal (RFC 4592 §2.2.2). */
  has(name: string): boolean {
    return this.store.findNode(name) >= 0;
  }

  /** The RRset of `type` at `name` (owner as written in the zone), or undefined; builds only that RRset. */
  rrset(name: string, type: number): RRset | undefined {
    const n = this.store.findNode(name);
    const s = n < 0 ? -1 : this.store.setOf(n, type);
    if (s < 0) return undefined;
    const owner = this.store.nodeText(n);
    return { name: owner, type, ttl: this.store.b.setTtl[s]!, records: this.store.records(n, s, owner) };
  }

  /** True when the node of `key` is a zone cut (NS below the apex). */
  isCut(key: string): boolean {
    const n = this.store.findNode(key);
    return n >= 0 && (this.store.b.nodeFlags[n]! & F_CUT) !== 0;
  }

  /** True when the node of `key` holds a DNAME. */
  isDname(key: string): boolean {
    const n = this.store.findNode(key);
    return n >= 0 && (this.store.b.nodeFlags[n]! & F_DNAME) !== 0;
  }

  get serial(): number {
    return this.soa.data.serial;
  }

  /** The SOA for negative answers, with TTL min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). */
  negativeSoa(): ResourceRecord<SOARdata> {
    return this.negative;
  }

  /**
   * A negative answer's authority section, the negative SOA alone (RFC 2308 §3): one frozen array for every
   * such answer (an array per answer was 40 of its ~600 heap bytes, issue 11). A unit that adds to the
   * section (the DNSSEC step) makes an array of its own.
   */
  negativeAuthority(): ResourceRecord[] {
    return this.negativeSection;
  }

  contains(name: string): boolean {
    return isSubdomain(name, this.origin);
  }

  get recordCount(): number {
    return this.store.b.rrCount;
  }
}

/** A read-only Map view of a compiled zone's nodes (each built on demand). */
class NodesView implements ReadonlyMap<string, ZoneNode> {
  constructor(private readonly zone: Zone) {}
  get size(): number {
    return this.zone.store.b.nodeCount;
  }
  get(key: string): ZoneNode | undefined {
    return this.zone.get(key);
  }
  has(key: string): boolean {
    return this.zone.store.findNode(key) >= 0;
  }
  *entries(): MapIterator<[string, ZoneNode]> {
    for (let n = 0; n < this.size; n++) {
      const node = this.zone.nodeAt(n);
      yield [nameKey(node.name), node];
    }
  }
  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): MapIterator<ZoneNode> {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator](): MapIterator<[string, ZoneNode]> {
    return this.entries();
  }
  forEach(f: (value: ZoneNode, key: string, map: ReadonlyMap<string, ZoneNode>) => void): void {
    for (const [k, v] of this.entries()) f(v, k, this);
  }
}

/** The zones one server answers for; the deepest zone containing a name is authoritative for it. */
export class ZoneSet {
  private readonly byKey = new Map<string, Zone>();

  constructor(zones: readonly Zone[]) {
    for (const z of zones) this.byKey.set(z.originKey, z);
  }

  get zones(): Zone[] {
    return [...this.byKey.values()];
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Zone → its index in `zones`, made on first use (slotOf). */
  private slots: Map<Zone, number> | undefined;

  /** `zone`'s index in `zones` (the order the per-zone counters use), or -1 when it is not in this set. */
  slotOf(zone: Zone): number {
    if (this.slots === undefined) {
      this.slots = new Map();
      for (const z of this.byKey.values()) this.slots.set(z, this.slots.size);
    }
    return this.slots.get(zone) ?? -1;
  }

  /**
   * A new set with `zone` in place of the zone of the same origin (or added): how one zone is swapped
   * into a running server after a reload, a transfer or an UPDATE (`engine.swap({ ...runtime, zones: zones.with(z) })`).
   */
  with(zone: Zone): ZoneSet {
    return new ZoneSet([...[...this.byKey.values()].filter((z) => z.originKey !== zone.originKey), zone]);
  }

  /** The zone that answers (name, qtype): the deepest one holding the name, with the DS rule of `dsAuthorityName`. */
  findAuthority(name: string, qtype: number): Zone | undefined {
    if (qtype !== RRType.DS) return this.find(name);
    return this.find(dsAuthorityName(name)) ?? this.find(name);
  }

  /** Longest-suffix match of `name` against the zone origins. */
  find(name: string): Zone | undefined {
    let key = nameKey(name);
    for (;;) {
      const z = this.byKey.get(key);
      if (z) return z;
      if (key === '.') return undefined;
      key = parentName(key);
    }
  }
}

/**
 * DS is the parent's record (RFC 4035 §3.1.4.1): a DS query is answered by the deepest zone holding
 * the parent of the name, so at a zone's apex the parent zone answers when it is served here; when it
 * is not, the caller falls back to the zone of the name itself (the child), as NSD and Knot do. Below
 * an apex the parent's zone is the name's zone anyway. The root has no parent: its own zone answers.
 */
export function dsAuthorityName(name: string): string {
  return parentName(name);
}
