// The zone store and lookup as they were before the compiled zone (git 61274df: src/zone/tree.ts + lookup.ts),
// kept only as the reference the compiled lookup is checked against (src/zone/compiled-vs-reference.test.ts).
import { isSubdomain, nameKey, parentName, parseLabels, splitLabels, NameError } from '../../src/wire/name.js';
import { readNameAt } from '../../src/wire/reader.js';
import { Rcode, RRType, WireError, type MXRdata, type OpaqueRdata, type ResourceRecord, type SOARdata, type SRVRdata, type TargetRdata } from '../../src/wire/types.js';

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

/** What the lookup found for the (last) name it looked at. */
export type LookupKind = 'answer' | 'nodata' | 'nxdomain' | 'referral' | 'refused' | 'yxdomain';

export interface LookupResult {
  kind: LookupKind;
  rcode: number;
  /** Authoritative answer: clear on referrals and refusals (RFC 1034 §4.3.2 step 3b). */
  aa: boolean;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** The zone that answered, when one did. */
  zone?: Zone;
  /** True when a wildcard produced the final answer (for policies and logs). */
  wildcard: boolean;
  /** Leading additional records that must fit or the answer is truncated: a referral's in-domain glue (RFC 9471). */
  requiredAdditional: number;
}

export interface LookupOptions {
  /** RFC 8482: answer ANY with a single RRset (BIND's minimal-any does this over UDP only). */
  minimalAny: boolean;
}

/** Bound on CNAME/DNAME steps, as resolvers bound chains (BIND follows 16). */
const MAX_CHAIN = 16;

type Step =
  | { kind: 'answer'; sets: RRset[]; owner: string; wildcard: boolean }
  | { kind: 'cname'; set: RRset; owner: string; target: string; wildcard: boolean }
  | { kind: 'dname'; set: RRset; cname: ResourceRecord<TargetRdata>; target: string }
  | { kind: 'nodata'; wildcard: boolean }
  | { kind: 'nxdomain' }
  | { kind: 'referral'; ns: RRset }
  | { kind: 'yxdomain'; set: RRset };

export function lookup(zones: ZoneSet, qname: string, qtype: number, opts: LookupOptions): LookupResult {
  const zone = zones.findAuthority(qname, qtype);
  if (!zone) return { kind: 'refused', rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], additional: [], wildcard: false, requiredAdditional: 0 };

  const answer: ResourceRecord[] = [];
  const authority: ResourceRecord[] = [];
  const additional: ResourceRecord[] = [];
  const seen = new Set<string>();
  const dnamesSeen = new Set<RRset>();
  let name = qname;
  let wildcard = false;
  let requiredAdditional = 0;

  for (let i = 0; ; i++) {
    const step = zoneStep(zone, name, qtype, opts);
    switch (step.kind) {
      case 'answer':
        for (const set of step.sets) pushSet(answer, set, step.owner);
        addAdditional(zone, step.sets, additional, step.owner);
        return done('answer', Rcode.NOERROR, true, step.wildcard);
      case 'nodata':
        authority.push(zone.negativeSoa());
        return done('nodata', Rcode.NOERROR, true, step.wildcard);
      case 'nxdomain':
        authority.push(zone.negativeSoa());
        // RFC 6604 §3: after a chain, the rcode describes the last name looked up.
        return done('nxdomain', Rcode.NXDOMAIN, true, false);
      case 'referral':
        for (const r of step.ns.records) authority.push(r);
        requiredAdditional = addGlue(zone, step.ns, additional);
        // A referral reached through a CNAME keeps AA: the CNAME itself is authoritative data.
        return done('referral', Rcode.NOERROR, answer.length > 0, false);
      case 'yxdomain':
        pushSet(answer, step.set, step.set.name);
        return done('yxdomain', Rcode.YXDOMAIN, true, false);
      case 'cname':
      case 'dname': {
        if (step.kind === 'cname') {
          pushSet(answer, step.set, step.owner);
          wildcard ||= step.wildcard;
        } else {
          // A DNAME that points below itself meets itself again: the same record never goes twice
          // into one section, so the chain ends here with what it has (NSD stops the same way).
          if (dnamesSeen.has(step.set)) return done('answer', Rcode.NOERROR, true, wildcard);
          dnamesSeen.add(step.set);
          pushSet(answer, step.set, step.set.name);
          answer.push(step.cname);
        }
        // The synthesized CNAME answers a CNAME query itself (RFC 6672 §3.1): nothing to follow.
        if (qtype === RRType.CNAME) return done('answer', Rcode.NOERROR, true, wildcard);
        seen.add(nameKey(name));
        const target = step.target;
        // Chains are followed only inside the zone that answered, as NSD and Knot do: data from another
        // zone may have a different authority, and a loop or long chain ends the answer where it is.
        if (!zone.contains(target) || seen.has(nameKey(target)) || i >= MAX_CHAIN) {
          return done('answer', Rcode.NOERROR, true, wildcard);
        }
        name = target;
        continue;
      }
    }
  }

  function done(kind: LookupKind, rcode: number, aa: boolean, wc: boolean): LookupResult {
    return { kind, rcode, aa, answer, authority, additional, zone, wildcard: wildcard || wc, requiredAdditional };
  }
}

/** One name's lookup inside one zone, without following CNAME or DNAME targets. */
function zoneStep(zone: Zone, qname: string, qtype: number, opts: LookupOptions): Step {
  const labels = splitLabels(qname);
  const zoneDepth = zone.origin === '.' ? 0 : splitLabels(zone.origin).length;
  // Walk down from the apex: a cut or a DNAME on the way decides before the name itself does.
  let closest: ZoneNode = zone.get(zone.originKey)!;
  let closestName = zone.origin;
  if (labels.length > zoneDepth && zone.dnames.has(zone.originKey)) {
    return dnameStep(closest.rrsets.get(RRType.DNAME)!, qname, qname.slice(qname.length - zone.origin.length));
  }
  for (let depth = zoneDepth + 1; depth <= labels.length; depth++) {
    const name = depth === labels.length ? qname : labels.slice(labels.length - depth).join('.') + '.';
    const key = nameKey(name);
    const node = zone.get(key);
    if (!node) return missingName(zone, qname, qtype, closest, closestName, opts);
    const atQname = depth === labels.length;
    if (zone.cuts.has(key)) {
      // DS lives in the parent (RFC 4035 §3.1.4.1): the parent side of the cut answers it with
      // authority, the DS RRset or NODATA, never a referral.
      if (atQname && qtype === RRType.DS) {
        const ds = node.rrsets.get(RRType.DS);
        return ds ? { kind: 'answer', sets: [ds], owner: qname, wildcard: false } : { kind: 'nodata', wildcard: false };
      }
      return { kind: 'referral', ns: node.rrsets.get(RRType.NS)! };
    }
    if (!atQname && zone.dnames.has(key)) return dnameStep(node.rrsets.get(RRType.DNAME)!, qname, name);
    closest = node;
    closestName = name;
  }
  return existingName(closest, qname, qtype, false, opts);
}

function existingName(node: ZoneNode, owner: string, qtype: number, wildcard: boolean, opts: LookupOptions): Step {
  const cname = node.rrsets.get(RRType.CNAME);
  if (cname && qtype !== RRType.CNAME && qtype !== RRType.ANY) {
    return { kind: 'cname', set: cname, owner, target: (cname.records[0]!.data as TargetRdata).target, wildcard };
  }
  if (qtype === RRType.ANY) {
    if (node.isEmpty) return { kind: 'nodata', wildcard };
    const sets = [...node.rrsets.values()];
    return { kind: 'answer', sets: opts.minimalAny ? [pickAny(sets)] : sets, owner, wildcard };
  }
  const set = node.rrsets.get(qtype);
  if (set) return { kind: 'answer', sets: [set], owner, wildcard };
  return { kind: 'nodata', wildcard };
}

/** RFC 8482 §4.1: any one RRset will do; prefer the smallest so the answer is least likely to truncate. */
function pickAny(sets: RRset[]): RRset {
  let best = sets[0]!;
  for (const s of sets) if (s.records.length < best.records.length) best = s;
  return best;
}

/** The name does not exist: RFC 4592 §4.1, the source of synthesis is "*." + the closest encloser. */
function missingName(zone: Zone, qname: string, qtype: number, closest: ZoneNode, closestName: string, opts: LookupOptions): Step {
  const star = zone.get('*.' + nameKey(closestName));
  if (!star) return { kind: 'nxdomain' };
  return existingName(star, qname, qtype, true, opts);
}

/** RFC 6672 §2.2: replace the DNAME owner suffix of qname with the DNAME target. */
function dnameStep(set: RRset, qname: string, owner: string): Step {
  const dname = set.records[0]! as ResourceRecord<TargetRdata>;
  const prefix = owner === '.' ? qname : qname.slice(0, qname.length - owner.length);
  const targetText = dname.data.target === '.' ? prefix : prefix + dname.data.target;
  try {
    parseLabels(targetText);
  } catch (e) {
    if (e instanceof NameError) return { kind: 'yxdomain', set };
    throw e;
  }
  const cname: ResourceRecord<TargetRdata> = { name: qname, type: RRType.CNAME, class: dname.class, ttl: set.ttl, data: { target: targetText } };
  return { kind: 'dname', set, cname, target: targetText };
}

function pushSet(out: ResourceRecord[], set: RRset, owner: string): void {
  if (owner === set.name) {
    for (const r of set.records) out.push(r);
    return;
  }
  for (const r of set.records) out.push({ ...r, name: owner });
}

/**
 * A referral's glue (RFC 9471 §2): addresses of the cut's in-domain name servers (below the cut)
 * first, then of sibling ones (elsewhere in this zone). Returns how many records are in-domain glue:
 * those must all fit in the response, the sibling glue may be left out (§3).
 */
function addGlue(zone: Zone, ns: RRset, out: ResourceRecord[]): number {
  const inDomain: RRset = { ...ns, records: ns.records.filter((r) => isSubdomain((r.data as TargetRdata).target, ns.name)) };
  const sibling: RRset = { ...ns, records: ns.records.filter((r) => !isSubdomain((r.data as TargetRdata).target, ns.name)) };
  addAdditional(zone, [inDomain], out);
  const required = out.length;
  addAdditional(zone, [sibling], out);
  return required;
}

/**
 * Additional-section processing: the addresses (A, then AAAA) of the in-zone names that the answer's
 * records point at — NS (RFC 1035 §3.3.11), MX (§3.3.9), SRV (RFC 2782), SVCB and HTTPS (RFC 9460
 * §4.1, with the target's SVCB/HTTPS RRset) — glue below cuts included. Names in other zones are left
 * out, even zones served here, as NSD and Knot do. Each name is added once; the section is optional,
 * so the encoder drops what does not fit.
 */
function addAdditional(zone: Zone, sets: readonly RRset[], out: ResourceRecord[], owner?: string): void {
  const added = new Set<string>();
  for (const set of sets) {
    for (const r of set.records) {
      const target = additionalTarget(set.type, r, owner ?? set.name);
      if (target === undefined || !zone.contains(target)) continue;
      const key = nameKey(target);
      if (added.has(key)) continue;
      added.add(key);
      const node = zone.get(key);
      if (!node) continue;
      for (const t of [RRType.A, RRType.AAAA]) {
        const addr = node.rrsets.get(t);
        if (addr) for (const a of addr.records) out.push(a);
      }
      // RFC 9460 §4.1 names SVCB records too: the target's own RRset of the same type (one step of an
      // alias chain, as Knot adds it), unless the target is the owner, whose RRset is the answer.
      if ((set.type === RRType.SVCB || set.type === RRType.HTTPS) && key !== nameKey(owner ?? set.name)) {
        const next = node.rrsets.get(set.type);
        if (next) for (const a of next.records) out.push(a);
      }
    }
  }
}

/** The name a record at `owner` points at whose addresses belong in the additional section, if any. */
export function additionalTarget(type: number, r: ResourceRecord, owner: string): string | undefined {
  switch (type) {
    case RRType.NS:
      return (r.data as TargetRdata).target;
    case RRType.MX:
      return (r.data as MXRdata).exchange;
    case RRType.SRV: {
      // RFC 2782: a target of "." means the service is decidedly not available here.
      const target = (r.data as SRVRdata).target;
      return target === '.' ? undefined : target;
    }
    case RRType.SVCB:
    case RRType.HTTPS:
      return svcbTarget(owner, rdataBytes(r));
    default:
      return undefined;
  }
}

/**
 * RFC 9460 §2.5: SvcPriority (2 octets), then TargetName, uncompressed. In ServiceMode (priority > 0)
 * a TargetName of "." stands for the owner (§2.5.2); in AliasMode it means no service (§2.5.1).
 */
export function svcbTarget(owner: string, rdata: Uint8Array | undefined): string | undefined {
  if (!rdata || rdata.length < 3) return undefined;
  const priority = (rdata[0]! << 8) | rdata[1]!;
  let target: string;
  try {
    target = readNameAt(rdata, 2).name;
  } catch (e) {
    if (e instanceof WireError) return undefined;
    throw e;
  }
  if (target !== '.') return target;
  return priority === 0 ? undefined : owner;
}

/** RDATA in wire form, for the types the zone holds as opaque bytes (RFC 3597). */
function rdataBytes(r: ResourceRecord): Uint8Array | undefined {
  const d = r.data as Partial<OpaqueRdata>;
  return d.raw instanceof Uint8Array ? d.raw : undefined;
}
