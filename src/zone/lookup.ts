// The authoritative lookup of RFC 1034 §4.3.2 with RFC 2308 negative answers, RFC 4592 wildcards,
// RFC 6672 DNAME and RFC 8482 minimal ANY, over the compiled zones of a ZoneSet (compiled.ts): one
// descent from the apex through the hash index finds the name, a cut, a DNAME or the closest encloser.
import { isSubdomain, lowerAscii, nameKey, parseLabels, splitLabels, NameError } from '../wire/name.js';
import { readNameAt } from '../wire/reader.js';
import { Rcode, RRClass, RRType, WireError, type MXRdata, type OpaqueRdata, type ResourceRecord, type SRVRdata, type TargetRdata } from '../wire/types.js';
import { F_CNAME, F_CUT, F_DNAME, wireName, type CompiledStore, type WireName } from './compiled.js';
import type { Zone, ZoneSet } from './tree.js';

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
  /**
   * For denial proofs (RFC 4035 §3.1.3, RFC 5155 §7.2): the closest encloser of the last name looked
   * up (its deepest existing ancestor, as written in the zone), set on NXDOMAIN and on wildcard answers.
   */
  closestEncloser?: string;
  /** The wildcard that answered ("*." + closest encloser, as written in the zone), on wildcard answers and NODATA. */
  wildcardSource?: string;
  /**
   * The zone's node numbers (zone.store) behind closestEncloser and wildcardSource (-1: none): the DNSSEC
   * step finds its proofs from them without making or looking up name text. Absent on results built by hand.
   */
  readonly closestNode?: number;
  readonly wildcardNode?: number;
  /**
   * How many leading labels of the query name a wildcard stood for (RFC 4592: the labels below the
   * closest encloser), when the query name itself was answered by synthesis from a wildcard — an answer,
   * a CNAME whose chain goes on, or NODATA; 0 otherwise (also when only a later name of a chain was).
   * rrl counts such an answer by the closest encloser (modules/rrl/classify.ts). Absent: 0.
   */
  readonly wildcardLabels?: number;
  /**
   * The node of the query name's closest encloser E when the result depends on the name only through E
   * (and the type): the name itself does not exist — NXDOMAIN, a wildcard answer or NODATA — and a wildcard
   * CNAME's chain goes on through names that exist only (a target that does not exist could be another name
   * below E, whose answer would differ). -1 otherwise: the name exists, lies below a cut or a DNAME, or the
   * chain met a missing name or a loop. The UDP addon answers other names below E from such a reply
   * (answer/replay.ts, encloser replay). Absent on results built by hand.
   */
  readonly encloserNode?: number;
}

export interface LookupOptions {
  /** RFC 8482: answer ANY with a single RRset (BIND's minimal-any does this over UDP only). */
  minimalAny: boolean;
}

/**
 * The query name: its text, or something that makes the text when read (the query's question, whose
 * name text is built from its bytes on first read) — a lookup whose answer does not spell the name
 * (NXDOMAIN, NODATA, a referral) never reads it, given `qwire`.
 */
export type QName = string | { readonly name: string };

function text(q: QName): string {
  return typeof q === 'string' ? q : q.name;
}

/**
 * The empty section of a result that has no records there, shared by every lookup. Frozen: a unit
 * that adds records to a section gives it an array of its own (the DNSSEC step does), never pushes here.
 */
const NONE = Object.freeze([]) as unknown as ResourceRecord[];

/** Bound on CNAME/DNAME steps, as resolvers bound chains (BIND follows 16). */
const MAX_CHAIN = 16;

/** RRsets and nodes are indices into the zone's arrays (compiled.ts). */
type Step =
  | { kind: 'answer'; sets: number[]; owner: string; wildcard: number }
  | { kind: 'cname'; set: number; owner: string; target: string; wildcard: number }
  | { kind: 'dname'; set: number; node: number; cname: ResourceRecord<TargetRdata>; target: string }
  | { kind: 'nodata'; wildcard: number }
  | { kind: 'nxdomain'; closest: number }
  | { kind: 'referral'; ns: number; node: number }
  | { kind: 'yxdomain'; set: number; node: number };

/** `wildcard` in a step: the node of the wildcard that answered, or -1. */
const NO_WILDCARD = -1;

export function lookup(zones: ZoneSet, qname: string, qtype: number, opts: LookupOptions): LookupResult {
  const zone = zones.findAuthority(qname, qtype);
  if (!zone) return { kind: 'refused', rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], additional: [], wildcard: false, requiredAdditional: 0 };
  return lookupInZone(zone, qname, qtype, opts);
}

/**
 * The lookup in the zone already known to answer (qname, qtype) — what `zones.findAuthority` gives, e.g.
 * the query's authority (answer/authority.ts), so the zone is not searched for a second time. `qwire`:
 * qname in lower-cased wire form (compiled.ts questionWireName), when the caller has it from the query.
 */
export function lookupInZone(zone: Zone, qname: QName, qtype: number, opts: LookupOptions, qwire?: WireName): LookupResult {
  const st = zone.store;

  // The sections start as the shared empty NONE and get an array of their own where a record goes in:
  // most lookups fill one section or none (three new arrays a lookup were ~50 of a miss's ~600 heap bytes).
  let answer = NONE;
  let authority = NONE;
  let additional = NONE;
  // Made by the first CNAME or DNAME: most lookups follow no chain.
  let seen: Set<string> | undefined;
  let dnamesSeen: Set<number> | undefined;
  let name: QName = qname;
  let wildcard = false;
  let lastWildcard = NO_WILDCARD;
  const lastClosest = NO_WILDCARD;
  let below = 0;
  let encloser = NO_WILDCARD;

  for (let i = 0; ; i++) {
    const step = zoneStep(zone, name, qtype, opts, i === 0 ? qwire : undefined);
    encloser = encloserAfter(st, step, i, encloser);
    if (i === 0 && (step.kind === 'answer' || step.kind === 'cname' || step.kind === 'nodata') && step.wildcard >= 0) below = labelsBelow(st, step.wildcard, qname, qwire);
    switch (step.kind) {
      case 'answer': {
        // One RRset of a type without additional-section processing (A, AAAA, TXT …): straight into
        // the answer, no per-set arrays (what addAdditional would return at once for it).
        if (step.sets.length === 1 && !ADDITIONAL_TYPES.has(st.b.setType[step.sets[0]!]!)) {
          // With no chain before it, an array of exactly the set's records (a push into [] gave room for 17).
          const records = answer.length === 0 ? st.answerRecordsExact(step.sets[0]!, step.owner) : st.answerRecords(step.sets[0]!, step.owner, answer);
          return outcome(zone, 'answer', Rcode.NOERROR, true, records, authority, additional, wildcard || step.wildcard >= 0, 0, step.wildcard, lastClosest, below, encloser);
        }
        const sets: { type: number; records: ResourceRecord[] }[] = [];
        if (answer === NONE) answer = [];
        if (additional === NONE) additional = [];
        for (const set of step.sets) {
          const records = st.answerRecords(set, step.owner);
          for (const r of records) answer.push(r);
          sets.push({ type: st.b.setType[set]!, records });
        }
        addAdditional(zone, sets, additional, step.owner);
        return outcome(zone, 'answer', Rcode.NOERROR, true, answer, authority, additional, wildcard || step.wildcard >= 0, 0, step.wildcard, lastClosest, below, encloser);
      }
      // A negative answer's authority is the SOA alone (the zone's one shared array of it, Zone.negativeAuthority):
      // no chain before it has put anything there.
      case 'nodata':
        return outcome(zone, 'nodata', Rcode.NOERROR, true, answer, zone.negativeAuthority(), additional, wildcard || step.wildcard >= 0, 0, step.wildcard, lastClosest, below, encloser);
      case 'nxdomain':
        // RFC 6604 §3: after a chain, the rcode describes the last name looked up.
        return outcome(zone, 'nxdomain', Rcode.NXDOMAIN, true, answer, zone.negativeAuthority(), additional, wildcard, 0, lastWildcard, step.closest, below, encloser);
      case 'referral': {
        const ns = st.answerRecords(step.ns, st.nodeText(step.node));
        authority = [];
        additional = [];
        for (const r of ns) authority.push(r);
        const required = addGlue(zone, ns, additional);
        // A referral reached through a CNAME keeps AA: the CNAME itself is authoritative data.
        return outcome(zone, 'referral', Rcode.NOERROR, answer.length > 0, answer, authority, additional, wildcard, required, lastWildcard, lastClosest, below, encloser);
      }
      case 'yxdomain':
        if (answer === NONE) answer = [];
        st.answerRecords(step.set, st.nodeText(step.node), answer);
        return outcome(zone, 'yxdomain', Rcode.YXDOMAIN, true, answer, authority, additional, wildcard, 0, lastWildcard, lastClosest, below, encloser);
      case 'cname':
      case 'dname': {
        if (answer === NONE) answer = [];
        if (step.kind === 'cname') {
          st.answerRecords(step.set, step.owner, answer);
          wildcard ||= step.wildcard >= 0;
          if (step.wildcard >= 0) lastWildcard = step.wildcard;
        } else {
          // A DNAME that points below itself meets itself again: the same record never goes twice
          // into one section, so the chain ends here with what it has (NSD stops the same way).
          if (dnamesSeen?.has(step.set)) return outcome(zone, 'answer', Rcode.NOERROR, true, answer, authority, additional, wildcard, 0, lastWildcard, lastClosest, below, encloser);
          (dnamesSeen ??= new Set()).add(step.set);
          st.answerRecords(step.set, st.nodeText(step.node), answer);
          answer.push(step.cname);
        }
        // The synthesized CNAME answers a CNAME query itself (RFC 6672 §3.1): nothing to follow.
        if (qtype === RRType.CNAME) return outcome(zone, 'answer', Rcode.NOERROR, true, answer, authority, additional, wildcard, 0, lastWildcard, lastClosest, below, encloser);
        (seen ??= new Set()).add(nameKey(text(name)));
        const target = step.target;
        // Chains are followed only inside the zone that answered, as NSD and Knot do: data from another
        // zone may have a different authority, and a loop or long chain ends the answer where it is.
        if (!zone.contains(target) || seen.has(nameKey(target)) || i >= MAX_CHAIN) {
          // A loop may close on the query name itself: a reply that spells it twice.
          if (seen.has(nameKey(target))) encloser = NO_WILDCARD;
          return outcome(zone, 'answer', Rcode.NOERROR, true, answer, authority, additional, wildcard, 0, lastWildcard, lastClosest, below, encloser);
        }
        name = target;
        lastWildcard = NO_WILDCARD;
        continue;
      }
    }
  }
}

/**
 * The result of a lookup. A function of the module, not a closure in lookupInZone: a closure made the
 * lookup's variables live in a context object allocated per query, and every access to them go through it.
 */
function outcome(zone: Zone, kind: LookupKind, rcode: number, aa: boolean, answer: ResourceRecord[], authority: ResourceRecord[], additional: ResourceRecord[], wildcard: boolean, requiredAdditional: number, wildcardNode: number, closestNode: number, wildcardLabels: number, encloserNode: number): LookupResult {
  return new Outcome(kind, rcode, aa, answer, authority, additional, zone, wildcard, requiredAdditional, zone.store, wildcardNode, closestNode, wildcardLabels, encloserNode);
}

/**
 * LookupResult.encloserNode after step `i` of a lookup (`was`: after the steps before): the first step
 * decides whether the query name is missing (its closest encloser, else -1); any later step on a missing
 * name undoes it.
 */
function encloserAfter(st: CompiledStore, step: Step, i: number, was: number): number {
  let enc = NO_WILDCARD;
  if (step.kind === 'nxdomain') enc = step.closest;
  else if ((step.kind === 'answer' || step.kind === 'nodata' || step.kind === 'cname') && step.wildcard >= 0) enc = st.b.nodeParent[step.wildcard]!;
  if (i > 0) return enc >= 0 ? NO_WILDCARD : was;
  return enc;
}

/**
 * A LookupResult whose closest encloser and wildcard names are made as text only when read (denial
 * proofs, tests): a negative answer costs no name text. The node numbers are private (#), so the
 * result compares and prints like a plain one.
 */
class Outcome implements LookupResult {
  readonly #st: CompiledStore;
  readonly #wildcardNode: number;
  readonly #closestNode: number;
  readonly #wildcardLabels: number;
  readonly #encloserNode: number;

  constructor(
    public kind: LookupKind,
    public rcode: number,
    public aa: boolean,
    public answer: ResourceRecord[],
    public authority: ResourceRecord[],
    public additional: ResourceRecord[],
    public zone: Zone,
    public wildcard: boolean,
    public requiredAdditional: number,
    st: CompiledStore,
    wildcardNode: number,
    closestNode: number,
    wildcardLabels: number,
    encloserNode: number,
  ) {
    this.#st = st;
    this.#wildcardLabels = wildcardLabels;
    this.#encloserNode = encloserNode;
    this.#wildcardNode = wildcardNode;
    this.#closestNode = closestNode;
  }

  get closestEncloser(): string | undefined {
    const st = this.#st;
    if (this.#wildcardNode >= 0) return st.nodeText(st.b.nodeParent[this.#wildcardNode]!);
    return this.#closestNode >= 0 ? st.nodeText(this.#closestNode) : undefined;
  }

  get wildcardSource(): string | undefined {
    return this.#wildcardNode >= 0 ? this.#st.nodeText(this.#wildcardNode) : undefined;
  }

  get closestNode(): number {
    return this.#wildcardNode >= 0 ? this.#st.b.nodeParent[this.#wildcardNode]! : this.#closestNode;
  }

  get wildcardNode(): number {
    return this.#wildcardNode;
  }

  get wildcardLabels(): number {
    return this.#wildcardLabels;
  }

  get encloserNode(): number {
    return this.#encloserNode;
  }
}

/**
 * How many labels of `qname` lie below the closest encloser, the parent of the wildcard node `star`
 * that answered it: the query name's labels less the encloser's (counted in its wire name).
 */
function labelsBelow(st: CompiledStore, star: number, qname: QName, qwire: WireName | undefined): number {
  const names = st.b.names;
  let enc = 0;
  for (let p = st.b.nodeName[st.b.nodeParent[star]!]!; names[p]! !== 0; p += names[p]! + 1) enc++;
  return (qwire ?? wireName(text(qname))).offs.length - enc;
}

/** The qname's last `n` labels as text ("." for none), spelt as asked. */
function suffixText(qname: string, labels: string[], n: number): string {
  if (n === 0) return '.';
  if (n === labels.length) return qname;
  return labels.slice(labels.length - n).join('.') + '.';
}

/** One name's lookup inside one zone, without following CNAME or DNAME targets. */
function zoneStep(zone: Zone, qname: QName, qtype: number, opts: LookupOptions, qwire: WireName | undefined): Step {
  const st = zone.store;
  const flags = st.b.nodeFlags;
  const w = qwire ?? wireName(text(qname));
  const labels = w.offs.length;
  const zoneDepth = zone.apexLabels;
  // Walk down from the apex: a cut or a DNAME on the way decides before the name itself does.
  let closest = 0;
  if (labels > zoneDepth && (flags[0]! & F_DNAME) !== 0) {
    const t = text(qname);
    return dnameStep(st, 0, t, suffixText(t, splitLabels(t), zoneDepth));
  }
  for (let depth = zoneDepth + 1; depth <= labels; depth++) {
    const node = st.probe(w, labels - depth);
    if (node < 0) return missingName(st, qtype, closest, qname, opts);
    const atQname = depth === labels;
    const f = flags[node]!;
    if ((f & F_CUT) !== 0) {
      // DS lives in the parent (RFC 4035 §3.1.4.1): the parent side of the cut answers it with
      // authority, the DS RRset or NODATA, never a referral.
      if (atQname && qtype === RRType.DS) {
        const ds = st.setOf(node, RRType.DS);
        return ds >= 0 ? { kind: 'answer', sets: [ds], owner: text(qname), wildcard: NO_WILDCARD } : { kind: 'nodata', wildcard: NO_WILDCARD };
      }
      return { kind: 'referral', ns: st.setOf(node, RRType.NS), node };
    }
    if (!atQname && (f & F_DNAME) !== 0) {
      const t = text(qname);
      return dnameStep(st, node, t, suffixText(t, splitLabels(t), depth));
    }
    closest = node;
  }
  return existingName(st, closest, qname, qtype, NO_WILDCARD, opts);
}

/** The name exists (or `wildcard` stands for it): its answer, CNAME or NODATA; `owner`'s text is read only for an answer or a CNAME. */
function existingName(st: CompiledStore, node: number, owner: QName, qtype: number, wildcard: number, opts: LookupOptions): Step {
  const b = st.b;
  // RRSIG and NSEC live beside a CNAME (RFC 4035 §2.5, RFC 2181 §10.1): a query for them is answered at the
  // name, as Knot, BIND and (in signed zones) NSD answer it, never by the CNAME's target.
  if ((b.nodeFlags[node]! & F_CNAME) !== 0 && qtype !== RRType.CNAME && qtype !== RRType.ANY && qtype !== RRType.RRSIG && qtype !== RRType.NSEC) {
    const cname = st.setOf(node, RRType.CNAME);
    return { kind: 'cname', set: cname, owner: text(owner), target: st.targetText(b.setFirstRr[cname]!), wildcard };
  }
  if (qtype === RRType.ANY) {
    const first = b.nodeFirstSet[node]!;
    const count = b.nodeSets[node]!;
    if (count === 0) return { kind: 'nodata', wildcard };
    if (opts.minimalAny) {
      // RFC 8482 §4.1: any one RRset will do; the smallest, so the answer is least likely to truncate.
      let best = first;
      for (let s = first + 1; s < first + count; s++) if (b.setRrs[s]! < b.setRrs[best]!) best = s;
      return { kind: 'answer', sets: [best], owner: text(owner), wildcard };
    }
    const sets: number[] = [];
    for (let s = first; s < first + count; s++) sets.push(s);
    return { kind: 'answer', sets, owner: text(owner), wildcard };
  }
  const set = st.setOf(node, qtype);
  if (set >= 0) return { kind: 'answer', sets: [set], owner: text(owner), wildcard };
  return { kind: 'nodata', wildcard };
}

/** The name does not exist: RFC 4592 §4.1, the source of synthesis is "*." + the closest encloser. */
function missingName(st: CompiledStore, qtype: number, closest: number, qname: QName, opts: LookupOptions): Step {
  const star = st.b.nodeWild[closest]!;
  if (star < 0) return { kind: 'nxdomain', closest };
  return existingName(st, star, qname, qtype, star, opts);
}

/** RFC 6672 §2.2: replace the DNAME owner suffix of qname with the DNAME target. */
function dnameStep(st: CompiledStore, node: number, qname: string, owner: string): Step {
  const set = st.setOf(node, RRType.DNAME);
  const dnameTarget = st.targetText(st.b.setFirstRr[set]!);
  // The labels of the question's name below the DNAME owner, lower-cased (as Knot and NSD write them): the
  // synthesized target then compresses into the question whatever its case, so an answer reads the same for
  // every case of the question and the answer cache's replay of it (question bytes patched) is what a fresh
  // lookup writes.
  const prefix = lowerAscii(owner === '.' ? qname : qname.slice(0, qname.length - owner.length));
  const targetText = dnameTarget === '.' ? prefix : prefix + dnameTarget;
  try {
    parseLabels(targetText);
  } catch (e) {
    if (e instanceof NameError) return { kind: 'yxdomain', set, node };
    throw e;
  }
  const cname: ResourceRecord<TargetRdata> = { name: qname, type: RRType.CNAME, class: RRClass.IN, ttl: st.b.setTtl[set]!, data: { target: targetText } };
  return { kind: 'dname', set, node, cname, target: targetText };
}

/**
 * A referral's glue (RFC 9471 §2): addresses of the cut's in-domain name servers (below the cut)
 * first, then of sibling ones (elsewhere in this zone). Returns how many records are in-domain glue:
 * those must all fit in the response, the sibling glue may be left out (§3).
 */
function addGlue(zone: Zone, ns: ResourceRecord[], out: ResourceRecord[]): number {
  const cut = ns[0]!.name;
  const inDomain = ns.filter((r) => isSubdomain((r.data as TargetRdata).target, cut));
  const sibling = ns.filter((r) => !isSubdomain((r.data as TargetRdata).target, cut));
  addAdditional(zone, [{ type: RRType.NS, records: inDomain }], out);
  const required = out.length;
  addAdditional(zone, [{ type: RRType.NS, records: sibling }], out);
  return required;
}

/**
 * Additional-section processing: the addresses (A, then AAAA) of the in-zone names that the answer's
 * records point at — NS (RFC 1035 §3.3.11), MX (§3.3.9), SRV (RFC 2782), SVCB and HTTPS (RFC 9460
 * §4.1, with the target's SVCB/HTTPS RRset) — glue below cuts included. Names in other zones are left
 * out, even zones served here, as NSD and Knot do. Each name is added once; the section is optional,
 * so the encoder drops what does not fit.
 */
/** The types whose records name hosts whose addresses go in the additional section (addAdditional). */
const ADDITIONAL_TYPES: ReadonlySet<number> = new Set([RRType.NS, RRType.MX, RRType.SRV, RRType.SVCB, RRType.HTTPS]);

function addAdditional(zone: Zone, sets: readonly { type: number; records: readonly ResourceRecord[] }[], out: ResourceRecord[], owner?: string): void {
  const type0 = sets[0]?.type;
  if ((type0 === undefined || !ADDITIONAL_TYPES.has(type0)) && sets.length === 1) return;
  const st = zone.store;
  const added = new Set<string>();
  for (const set of sets) {
    for (const r of set.records) {
      const target = additionalTarget(set.type, r, owner ?? r.name);
      if (target === undefined || !zone.contains(target)) continue;
      const key = nameKey(target);
      if (added.has(key)) continue;
      added.add(key);
      const node = st.findNode(key);
      if (node < 0) continue;
      const nodeName = st.nodeText(node);
      for (const t of [RRType.A, RRType.AAAA]) {
        const addr = st.setOf(node, t);
        if (addr >= 0) st.answerRecords(addr, nodeName, out);
      }
      // RFC 9460 §4.1 names SVCB records too: the target's own RRset of the same type (one step of an
      // alias chain, as Knot adds it), unless the target is the owner, whose RRset is the answer.
      if ((set.type === RRType.SVCB || set.type === RRType.HTTPS) && key !== nameKey(owner ?? r.name)) {
        const next = st.setOf(node, set.type);
        if (next >= 0) st.answerRecords(next, nodeName, out);
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
