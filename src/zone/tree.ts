// An authoritative zone held in memory: nodes by name key (empty non-terminals included), RRsets by type.
import { isSubdomain, nameKey, parentName } from '../wire/name.js';
import { RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';

export interface RRset {
  /** Owner as written in the zone (case kept). */
  readonly name: string;
  readonly type: number;
  /** One TTL for the whole set (RFC 2181 §5.2): the smallest of its records. */
  readonly ttl: number;
  readonly records: readonly ResourceRecord[];
}

/** An RRset while the zone is being built. */
interface MutableRRset {
  name: string;
  type: number;
  ttl: number;
  records: ResourceRecord[];
}

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
  readonly nodes = new Map<string, ZoneNode>();
  readonly soa: ResourceRecord<SOARdata>;
  /** Keys of names holding NS other than the apex: the zone cuts. */
  readonly cuts = new Set<string>();
  /** Keys of names holding a DNAME. */
  readonly dnames = new Set<string>();

  private constructor(readonly origin: string, records: readonly ResourceRecord[]) {
    this.originKey = nameKey(origin);
    // One pass: records go straight into their node's RRset; sets whose TTLs differ are fixed after.
    const mixed: MutableRRset[] = [];
    for (const rr of records) {
      const key = nameKey(rr.name);
      let node = this.nodes.get(key);
      if (!node) {
        node = new ZoneNode(rr.name);
        this.nodes.set(key, node);
        this.addAncestors(rr.name);
      }
      const set = node.rrsets.get(rr.type) as MutableRRset | undefined;
      if (!set) {
        node.rrsets.set(rr.type, { name: node.name, type: rr.type, ttl: rr.ttl, records: [rr] } satisfies MutableRRset);
        if (rr.type === RRType.NS && key !== this.originKey) this.cuts.add(key);
        else if (rr.type === RRType.DNAME) this.dnames.add(key);
        continue;
      }
      set.records.push(rr);
      if (rr.ttl !== set.ttl) {
        if (set.records.length === 2 || !mixed.includes(set)) mixed.push(set);
        if (rr.ttl < set.ttl) set.ttl = rr.ttl;
      }
    }
    // RFC 2181 §5.2: one TTL per RRset; the smallest wins.
    for (const set of mixed) set.records = set.records.map((r) => (r.ttl === set.ttl ? r : { ...r, ttl: set.ttl }));
    const apex = this.nodes.get(this.originKey);
    const soa = apex?.rrsets.get(RRType.SOA)?.records[0];
    if (!soa) throw new Error(`zone ${origin} has no SOA at its apex`);
    this.soa = soa as ResourceRecord<SOARdata>;
  }

  /** Builds a zone from records that passed `checkZone`; throws only when the apex SOA is missing. */
  static build(origin: string, records: readonly ResourceRecord[]): Zone {
    return new Zone(origin, records);
  }

  private addAncestors(name: string): void {
    let n = name;
    while (nameKey(n) !== this.originKey && n !== '.') {
      n = parentName(n);
      const key = nameKey(n);
      if (this.nodes.has(key)) return;
      this.nodes.set(key, new ZoneNode(n));
    }
  }

  get(key: string): ZoneNode | undefined {
    return this.nodes.get(key);
  }

  get serial(): number {
    return this.soa.data.serial;
  }

  /** The SOA for negative answers, with TTL min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). */
  negativeSoa(): ResourceRecord<SOARdata> {
    const ttl = Math.min(this.soa.ttl, this.soa.data.minimum);
    return ttl === this.soa.ttl ? this.soa : { ...this.soa, ttl };
  }

  contains(name: string): boolean {
    return isSubdomain(name, this.origin);
  }

  get recordCount(): number {
    let n = 0;
    for (const node of this.nodes.values()) for (const set of node.rrsets.values()) n += set.records.length;
    return n;
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
