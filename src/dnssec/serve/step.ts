// The DNSSEC step after the zone lookup (RFC 4035 §3.1, RFC 5155 §7.2): adds RRSIGs to every signed RRset
// and the NSEC/NSEC3 proofs of denials, wildcards and unsigned delegations to a pre-signed zone's answers.
import { nameKey, namesEqual, parentName } from '../../wire/name.js';
import { Rcode, RRType, type ResourceRecord, type TargetRdata } from '../../wire/types.js';
import type { LookupResult } from '../../zone/lookup.js';
import { COVER_BELOW_ANY, COVER_BY_NAME, COVER_NSEC3_HOLE, dnssecIndexOf, wildcardOf, type DnssecIndex, type LowerWireName } from './index.js';
import { denialProof, type Denial } from './proofs.js';
import { rawRdata, rrsigTypeCovered } from './rdata.js';
import { attachRecordBlock, recordBlockOf, type RecordBlock } from '../../wire/record-block.js';
import { wireOf } from '../../wire/pre-encoded.js';
import { blockSection, blockSectionOf } from '../../wire/message.js';

/**
 * Applies DNSSEC to a lookup's result in place (its section arrays are replaced, its records never
 * changed). Without DO nothing DNSSEC is added (RFC 3225 §3, RFC 4035 §3.2.1); the one change made
 * either way is that the owner names of NSEC3 records are not names of the zone (RFC 5155 §7.2.8).
 * Returns how what it added depends on the query name below its closest encloser (DnssecIndex.nsecCoverBelow's
 * values: COVER_BELOW_ANY when nothing added does — no DO, or an NSEC NXDOMAIN below a name without descendants —
 * COVER_AFTER_STAR, COVER_NSEC3_HOLE for an NSEC3 NXDOMAIN, wildcard answer or NODATA whose one name-dependent record
 * is the NSEC3 covering the next closer name, COVER_BY_NAME for any other proof found by the name and any case
 * not told apart).
 */
export function serveDnssec(result: LookupResult, qname: string, qtype: number, dnssecOk: boolean, qwire?: LowerWireName): number {
  if (!result.zone) return COVER_BELOW_ANY;
  const idx = dnssecIndexOf(result.zone);
  if (!idx) return COVER_BELOW_ANY;
  let below = COVER_BELOW_ANY;
  if ((result.kind === 'answer' || result.kind === 'nodata') && idx.isNsec3Owner(qname) && result.answer.every((r) => r.type === RRType.NSEC3 || r.type === RRType.RRSIG)) {
    below = COVER_BY_NAME;
    // The hashed owner holds nothing but the NSEC3 and its RRSIG: it answers as a name that does not exist.
    result.kind = 'nxdomain';
    result.rcode = Rcode.NXDOMAIN;
    result.answer = [];
    result.authority = [result.zone.negativeSoa()];
    result.additional = [];
    result.wildcard = false;
    result.requiredAdditional = 0;
  }
  if (result.answer.some((r) => r.type === RRType.RRSIG)) result.answer = rrsigTtls(idx, result.answer, qname, result.wildcardNode ?? -1);
  if (!dnssecOk) return below;
  const negative = signNegative(idx, result, qname, qtype, qwire);
  if (negative >= 0) return negative;
  const wild = signWildcardAnswer(idx, result, qname, qwire);
  if (wild >= 0) return wild;
  signResult(idx, result, qname, qtype, qwire);
  return COVER_BY_NAME;
}

/**
 * The common wildcard answer of a signed zone (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6): one RRset synthesized for
 * the question's own name, nothing in the other sections. What signResult gives for it — the RRset, the
 * wildcard's RRSIGs with the name as owner and the TTL sent, the NSEC covering the name (or the NSEC3 covering
 * the next closer name) with its RRSIGs — with the wildcard's RRSIGs found by node and type (no name made as
 * text), the covering NSEC from the per-node tables where the zone allows (DnssecIndex.nsecCoverIndexBelow)
 * and the covering NSEC3 by its place in the chain. Returns how the proof depends on the name below the
 * wildcard's parent (DnssecIndex.nsecCoverBelow), or -1 for any other result (nothing done).
 */
function signWildcardAnswer(idx: DnssecIndex, result: LookupResult, qname: string, qwire: LowerWireName | undefined): number {
  const wnode = result.wildcardNode ?? -1;
  const src = result.answer;
  const denial = idx.denial;
  if (wnode < 0 || qwire === undefined || result.kind !== 'answer' || src.length === 0 || result.authority.length !== 0 || result.additional.length !== 0 || denial === 'none') return -1;
  const first = src[0]!;
  if (first.type === RRType.RRSIG || !namesEqual(first.name, qname)) return -1;
  for (let k = 1; k < src.length; k++) if (src[k]!.type !== first.type || src[k]!.name !== first.name) return -1;
  // NSEC3 (RFC 5155 §7.2.6): the NSEC3 covering the next closer name below the wildcard's parent, as signResult finds it.
  const n3 = denial === 'nsec3' ? idx.nsec3CoveringNextCloserAt(qname, idx.view.nodeParent(wnode), qwire) : -1;
  if (denial === 'nsec3' && n3 < 0) return -1;
  const wsigs = wildcardSigs(idx, wnode, first.type);
  if (wsigs !== undefined) {
    const answer = src.slice();
    // The owner is the name asked, never the wildcard's (RFC 4035 §3.1.3.3): new copies per answer.
    for (const s of wsigs) answer.push(s.name === first.name && s.ttl === first.ttl ? s : { ...s, name: first.name, ttl: first.ttl });
    result.answer = answer;
  }
  if (n3 >= 0) {
    result.authority = nsec3ProofSection(idx, n3);
    // The authority section is that one NSEC3 and its RRSIGs (RFC 5155 §7.2.6).
    return COVER_NSEC3_HOLE;
  }
  const enc = idx.view.nodeParent(wnode);
  const below = idx.nsecCoverBelow(qwire, enc, wnode);
  result.authority = nsecProofSection(idx, below !== COVER_BY_NAME ? idx.nsecWildcardCoverIndexNode(enc) : idx.nsecCoverIndexWire(qwire));
  return below;
}

/** The RRSIGs of a wildcard node's RRset of one type, by node and then type (few per wildcard). */
interface WildSigs {
  readonly type: number;
  readonly sigs: readonly ResourceRecord[] | undefined;
  readonly next: WildSigs | undefined;
}

function wildcardSigs(idx: DnssecIndex, node: number, type: number): readonly ResourceRecord[] | undefined {
  const memo = sectionMemo(idx);
  const byNode = (memo.wildSigs ??= new Map());
  const head = byNode.get(node);
  for (let e = head; e !== undefined; e = e.next) if (e.type === type) return e.sigs;
  const sigs = idx.sigsFor(idx.view.nodeText(node), type);
  byNode.set(node, { type, sigs, next: head });
  return sigs;
}

/**
 * The common negative answer (NXDOMAIN or NODATA of the question's own name: nothing but the zone's SOA)
 * without grouping its sections: the SOA with its RRSIGs and the proof, each from sets built once. What
 * signResult gives for it. Returns how its proof depends on the name below its closest encloser
 * (DnssecIndex.nsecCoverBelow), or -1 for any other result (nothing done).
 */
function signNegative(idx: DnssecIndex, result: LookupResult, qname: string, qtype: number, qwire: LowerWireName | undefined): number {
  const auth = result.authority;
  if (result.answer.length !== 0 || result.additional.length !== 0 || auth.length !== 1 || auth[0] !== result.zone!.negativeSoa()) return -1;
  const enc = result.closestNode ?? -1;
  if (result.kind === 'nxdomain' && enc >= 0 && idx.denial === 'nsec3') {
    // RFC 5155 §7.2.2 by places in the chain: what denialProof gives (the encloser's NSEC3, the one
    // covering the next closer name, the one covering the wildcard, each once), without its records.
    const m = idx.nsec3MatchingNodeAt(enc);
    const c = m >= 0 ? idx.nsec3CoveringNextCloserAt(qname, enc, qwire) : -1;
    if (c >= 0) {
      const w = idx.nsec3WildcardCoveringNodeAt(enc);
      result.authority = nsec3NxdomainSection(idx, auth[0]!, m, c, w);
      // The encloser's NSEC3 and the wildcard's are the same for every name below it; the next closer
      // name's is the name's, unless it is one of those two (then it goes out once and stands for two).
      return c !== m && c !== w ? COVER_NSEC3_HOLE : COVER_BY_NAME;
    }
  }
  let d: Denial;
  if (result.kind === 'nxdomain' && qwire !== undefined && enc >= 0 && idx.denial === 'nsec') {
    // The common NXDOMAIN of an NSEC zone: the NSEC covering the name and the one covering the wildcard
    // (denialProof's case), found by their places in the chain, and the section made once per such pair.
    const below = idx.nsecCoverBelow(qwire, enc, -1);
    const wild = idx.nsecWildcardCoverIndexNode(enc);
    result.authority = nsecNxdomainSection(idx, auth[0]!, below !== COVER_BY_NAME ? wild : idx.nsecCoverIndexWire(qwire), wild);
    return below;
  }
  if (result.kind === 'nxdomain') d = { kind: 'nxdomain', sname: qname, encloser: enc, wire: qwire };
  else if (result.kind !== 'nodata') return -1;
  else if (idx.view.exists(qname)) d = { kind: 'nodata', sname: qname, qtype };
  else d = { kind: 'wildcard-nodata', sname: qname, source: wildcardOf(idx.closestEncloser(qname)) };
  const proof = denialProof(idx, d);
  result.authority = negativeSection(idx, auth[0]!, proof);
  // An NSEC3 wildcard NODATA (RFC 5155 §7.2.5): the encloser's NSEC3, the one covering the next closer name
  // and the wildcard's own, three distinct records — only the second depends on the name below the encloser.
  return d.kind === 'wildcard-nodata' && idx.denial === 'nsec3' && proof.length === 3 ? COVER_NSEC3_HOLE : COVER_BY_NAME;
}

/**
 * Negative authority sections made once per index: the SOA with its RRSIGs, then each proof record with
 * its RRSIGs, found by the proof records in order (a trie over their identities). Random names asked once
 * each share few proofs (the NSEC covering the name, the one covering the wildcard), so the sections are
 * few against the names; the encoder writes them block after block (wire/message.ts blockSection).
 */
interface SectionNode {
  /** Shared by every answer it goes out with: units replace a section, never change one in place. */
  section?: ResourceRecord[];
  next?: Map<ResourceRecord, SectionNode>;
}

/** Bound on the sections remembered per index (each some 100 bytes): a full memo starts over. */
const SECTIONS_MAX = 1 << 16;

interface SectionMemo {
  root: SectionNode;
  size: number;
  /** NSEC NXDOMAIN sections by the place of the covering NSEC in the chain, with the wildcard's in `wildOf` (one pair per place). */
  byCover?: (ResourceRecord[] | undefined)[];
  wildOf?: Int32Array;
  /** The SOA every section of byCover begins with. */
  coverSoa?: ResourceRecord;
  /** Sections of one NSEC and its RRSIGs (a wildcard answer's authority), by the NSEC's place in the chain. */
  byPlace?: (ResourceRecord[] | undefined)[];
  /** The RRSIGs of wildcard RRsets by the wildcard's node (signWildcardAnswer). */
  wildSigs?: Map<number, WildSigs>;
  /** The same for an NSEC3 zone, by the NSEC3's place in the chain. */
  n3ByPlace?: (ResourceRecord[] | undefined)[];
  /** nsec3BlockAt's blocks by place. */
  n3Blocks?: (RecordBlock | null | undefined)[];
  /** The last negative SOA set an NSEC3 NXDOMAIN went out with, and its block (null: none). */
  soaSet?: readonly ResourceRecord[];
  soaBlock?: RecordBlock | null;
}

/** The NSEC at place `i` of the chain with its RRSIGs as a section of its own, made once. */
function nsecProofSection(idx: DnssecIndex, i: number): ResourceRecord[] {
  const memo = sectionMemo(idx);
  return placeSection((memo.byPlace ??= new Array<ResourceRecord[] | undefined>(idx.nsecCount)), idx, i, nsecProofAt);
}

function nsecProofAt(idx: DnssecIndex, i: number): readonly ResourceRecord[] {
  return proofWithSigs(idx, idx.nsecRecordAt(i));
}

/** The proof set at chain place `i` (`proofAt`: a record with its RRSIGs) as a section of its own, made once and kept in `byPlace`. */
function placeSection(byPlace: (ResourceRecord[] | undefined)[], idx: DnssecIndex, i: number, proofAt: (idx: DnssecIndex, i: number) => readonly ResourceRecord[]): ResourceRecord[] {
  let section = byPlace[i];
  if (section === undefined) {
    byPlace[i] = section = proofAt(idx, i).slice();
    blockSection(section);
  }
  return section;
}

const sectionMemos = new WeakMap<DnssecIndex, SectionMemo>();
/** The last index asked for: a server answers from a few zones, and the WeakMap is skipped for the same one again. */
let lastIdx: DnssecIndex | undefined;
let lastMemo: SectionMemo | undefined;

function sectionMemo(idx: DnssecIndex): SectionMemo {
  let memo = lastIdx === idx ? lastMemo : sectionMemos.get(idx);
  if (memo === undefined) sectionMemos.set(idx, (memo = { root: {}, size: 0 }));
  lastIdx = idx;
  lastMemo = memo;
  return memo;
}

/**
 * The NXDOMAIN section of an NSEC zone for the NSEC at place `cover` of the chain and the one at `wild`
 * (the same record once when they are one): remembered per covering place, for one wildcard place at a
 * time. Random names under one encloser fall between few NSECs, so most are answered from here.
 */
function nsecNxdomainSection(idx: DnssecIndex, soa: ResourceRecord, cover: number, wild: number): ResourceRecord[] {
  const memo = sectionMemo(idx);
  if (memo.coverSoa !== soa) {
    // The zone's one negative SOA heads every section kept: checked here once, not on each (whose
    // records are cold in the CPU cache when a random name needs it).
    memo.byCover = undefined;
    memo.wildOf = undefined;
    memo.coverSoa = soa;
  }
  const byCover = (memo.byCover ??= new Array<ResourceRecord[] | undefined>(idx.nsecCount));
  const wildOf = (memo.wildOf ??= new Int32Array(idx.nsecCount));
  const hit = byCover[cover];
  if (hit !== undefined && wildOf[cover] === wild) return hit;
  const a = idx.nsecRecordAt(cover);
  const b = idx.nsecRecordAt(wild);
  const section = buildNegativeSection(idx, soa, a === b ? [a] : [a, b]);
  byCover[cover] = section;
  wildOf[cover] = wild;
  return section;
}

/**
 * The NXDOMAIN section of an NSEC3 zone (RFC 5155 §7.2.2): the SOA and its RRSIGs, then the NSEC3 matching
 * the closest encloser (chain place `m`), the one covering the next closer name (`c`) and the one covering
 * the wildcard (`w`), each once and each with its RRSIGs: what denialProof gives. Made per answer (the
 * covering NSEC3 is another for nearly every random name; sections kept per pair were cold in the CPU cache
 * by the time they were asked again), with its blocks handed to the encoder as they are known
 * (wire/message.ts blockSectionOf) instead of found and checked record by record. Distinct places have
 * distinct owners, and the SOA another type, so no set joins the next.
 */
function nsec3NxdomainSection(idx: DnssecIndex, soa: ResourceRecord, m: number, c: number, w: number): ResourceRecord[] {
  const memo = sectionMemo(idx);
  const soaSet = negativeSoaWithSigs(idx, soa);
  if (memo.soaSet !== soaSet) {
    memo.soaSet = soaSet;
    memo.soaBlock = blockOfSet(soaSet);
  }
  const mSet = nsec3ProofAt(idx, m);
  const cSet = c !== m ? nsec3ProofAt(idx, c) : undefined;
  const wSet = w !== m && w !== c ? nsec3ProofAt(idx, w) : undefined;
  const authority = soaSet.slice();
  pushAll(authority, mSet);
  if (cSet !== undefined) pushAll(authority, cSet);
  if (wSet !== undefined) pushAll(authority, wSet);
  const sb = memo.soaBlock;
  const mb = nsec3BlockAt(idx, memo, m);
  const cb = cSet !== undefined ? nsec3BlockAt(idx, memo, c) : undefined;
  const wb = wSet !== undefined ? nsec3BlockAt(idx, memo, w) : undefined;
  // Every set a block of its own (an SOA with upper-case names has none, record-block.ts), or the general path.
  if (!sb || !mb || cb === null || wb === null) return authority;
  blockSectionOf(authority, cb === undefined ? (wb === undefined ? [sb, mb] : [sb, mb, wb]) : wb === undefined ? [sb, mb, cb] : [sb, mb, cb, wb]);
  return authority;
}

/**
 * The block of nsec3ProofAt(idx, i) (null: it has none), kept by place: a record's block is a hidden property
 * whose lookup is megamorphic (records come in many shapes), some 15 % of a below-host NXDOMAIN's profile.
 */
function nsec3BlockAt(idx: DnssecIndex, memo: SectionMemo, i: number): RecordBlock | null {
  const blocks = (memo.n3Blocks ??= new Array<RecordBlock | null | undefined>(idx.nsec3Count).fill(undefined));
  let b = blocks[i];
  if (b === undefined) blocks[i] = b = blockOfSet(nsec3ProofAt(idx, i));
  return b;
}

/** The record block that is exactly `set` (null when its records have none, or one that holds others too). */
function blockOfSet(set: readonly ResourceRecord[]): RecordBlock | null {
  const b = recordBlockOf(set[0]!);
  return b?.records === set ? b : null;
}

/** The NSEC3 at place `i` of the chain with its RRSIGs as a section of its own (a wildcard answer's authority), made once. */
function nsec3ProofSection(idx: DnssecIndex, i: number): ResourceRecord[] {
  const memo = sectionMemo(idx);
  return placeSection((memo.n3ByPlace ??= new Array<ResourceRecord[] | undefined>(idx.nsec3Count).fill(undefined)), idx, i, nsec3ProofAt);
}

function buildNegativeSection(idx: DnssecIndex, soa: ResourceRecord, proof: readonly ResourceRecord[]): ResourceRecord[] {
  const authority = negativeSoaWithSigs(idx, soa).slice();
  for (const r of proof) pushAll(authority, proofWithSigs(idx, r));
  blockSection(authority);
  return authority;
}

function negativeSection(idx: DnssecIndex, soa: ResourceRecord, proof: readonly ResourceRecord[]): ResourceRecord[] {
  const memo = sectionMemo(idx);
  // The index's negative SOA is one record (its zone's), so the proofs alone key the section.
  let node = memo.root;
  for (const r of proof) {
    node.next ??= new Map();
    let child = node.next.get(r);
    if (child === undefined) node.next.set(r, (child = {}));
    node = child;
  }
  if (node.section !== undefined && node.section[0] === soa) return node.section;
  const authority = buildNegativeSection(idx, soa, proof);
  if (memo.size >= SECTIONS_MAX) {
    memo.root = {};
    memo.size = 0;
    return authority;
  }
  memo.size++;
  node.section = authority;
  return authority;
}

/**
 * An RRSIG query (or ANY) answers the zone's RRSIGs at the name. The zone holds them as one set with one
 * TTL (RFC 2181 §5.2), but each RRSIG's TTL is that of the RRset it covers (RFC 4034 §3), as NSD sends it.
 */
function rrsigTtls(idx: DnssecIndex, answer: ResourceRecord[], qname: string, wildcardNode: number): ResourceRecord[] {
  // RRSIGs synthesized from a wildcard (the last name's, RFC 4592 §3.3.1) take the TTLs of the wildcard's RRsets.
  const source = wildcardNode >= 0 ? idx.view.nodeText(wildcardNode) : undefined;
  const last = source !== undefined ? lastName(answer, qname) : '';
  return answer.map((r) => {
    if (r.type !== RRType.RRSIG) return r;
    const raw = rawRdata(r);
    const owner = source !== undefined && namesEqual(r.name, last) ? source : r.name;
    const covered = raw && raw.length >= 2 ? idx.view.rrset(owner, rrsigTypeCovered(raw)) : undefined;
    return covered && covered.ttl !== r.ttl ? { ...r, ttl: covered.ttl } : r;
  });
}

/**
 * The last name a lookup looked up: `qname`, or the target of the chain of CNAMEs (those a DNAME made too)
 * the answer holds from it. A wildcard the lookup ended on stood for this name — which owns no record of
 * the answer when its step was NODATA (a CNAME to a name only a wildcard covers, without the type asked).
 */
function lastName(answer: readonly ResourceRecord[], qname: string): string {
  let name = qname;
  for (const r of answer) if (r.type === RRType.CNAME && namesEqual(r.name, name)) name = (r.data as TargetRdata).target;
  return name;
}

/** One RRset of a section: records [start, end) share owner and type. */
interface Group {
  start: number;
  end: number;
  name: string;
  type: number;
}

function groups(records: readonly ResourceRecord[]): Group[] {
  const out: Group[] = [];
  for (let i = 0; i < records.length; ) {
    const r = records[i]!;
    let j = i + 1;
    while (j < records.length && records[j]!.type === r.type && namesEqual(records[j]!.name, r.name)) j++;
    out.push({ start: i, end: j, name: r.name, type: r.type });
    i = j;
  }
  return out;
}

/** The last renamed copy made of an index's RRSIG list: the negative SOA's (a lower TTL) is asked for again and again. */
const renamed = new WeakMap<readonly ResourceRecord[], { owner: string; ttl: number; sigs: readonly ResourceRecord[] }>();

/** The RRSIGs for an RRset emitted at `owner` with `ttl` (RFC 4035 §3.1.1, wildcard owners as in §3.1.3.3). */
function sigsAs(sigs: readonly ResourceRecord[], owner: string, ttl: number): readonly ResourceRecord[] {
  let same = true;
  for (const s of sigs) if (s.name !== owner || s.ttl !== ttl) same = false;
  if (same) return sigs;
  const last = renamed.get(sigs);
  if (last && last.owner === owner && last.ttl === ttl) return last.sigs;
  const out = sigs.map((s) => (s.name === owner && s.ttl === ttl ? s : { ...s, name: owner, ttl }));
  renamed.set(sigs, { owner, ttl, sigs: out });
  return out;
}

/**
 * A proof record as it goes out, followed by its RRSIGs: NSEC3 owners in lower case, as NSD and Knot send
 * them (validators such as unbound compare the hashed label as text with the hash they compute, in lower
 * case). Built once per record of the index and reused.
 */
const proofSets = new WeakMap<ResourceRecord, readonly ResourceRecord[]>();

function proofWithSigs(idx: DnssecIndex, r: ResourceRecord): readonly ResourceRecord[] {
  let set = proofSets.get(r);
  if (!set) {
    const owner = r.type === RRType.NSEC3 ? nameKey(r.name) : r.name;
    set = [owner === r.name ? r : { ...r, name: owner }, ...sigsAs(idx.sigsFor(r.name, r.type) ?? [], owner, r.ttl)];
    // A proof goes out as bytes made once: only its owner is compressed per answer (wire/record-block.ts).
    attachRecordBlock(set, rawRdata);
    proofSets.set(r, set);
  }
  return set;
}

/** proofWithSigs of the NSEC3 at place `i` of the chain, kept by place (DnssecIndex.nsec3Sets). */
function nsec3ProofAt(idx: DnssecIndex, i: number): readonly ResourceRecord[] {
  return idx.nsec3Sets[i] ?? (idx.nsec3Sets[i] = proofWithSigs(idx, idx.nsec3RecordAt(i)));
}

/** The RDATA bytes a record block copies: RFC 3597 bytes, or the wire form a compiled zone's record carries. */
const blockRdata = (rr: ResourceRecord): Uint8Array | undefined => rawRdata(rr) ?? wireOf(rr.data);

/** A zone's negative-answer SOA followed by its RRSIGs at the SOA's TTL (RFC 4035 §3.1.3), built once per SOA record. */
const negativeSets = new WeakMap<ResourceRecord, readonly ResourceRecord[]>();

function negativeSoaWithSigs(idx: DnssecIndex, soa: ResourceRecord): readonly ResourceRecord[] {
  let set = negativeSets.get(soa);
  if (!set) {
    set = [soa, ...(idx.sigsFor(soa.name, RRType.SOA) ?? []).map((s) => (s.name === soa.name && s.ttl === soa.ttl ? s : { ...s, name: soa.name, ttl: soa.ttl }))];
    // Written from bytes made once, its MNAME and RNAME compressed as any record's (wire/record-block.ts).
    attachRecordBlock(set, blockRdata);
    negativeSets.set(soa, set);
  }
  return set;
}

function signResult(idx: DnssecIndex, result: LookupResult, qname: string, qtype: number, qwire: LowerWireName | undefined): void {
  const denials: Denial[] = [];
  const answer: ResourceRecord[] = [];
  // Names whose RRSIGs the answer holds already (a query for RRSIG or ANY): their RRsets get none added. Per
  // name: a DNAME step before such a name is still signed (its RRSIG goes with it, as Knot and NSD send it).
  let sigOwners: Set<string> | undefined;
  for (const r of result.answer) if (r.type === RRType.RRSIG) (sigOwners ??= new Set()).add(nameKey(r.name));
  let sname = qname;
  let previous: Group | undefined;
  const src = result.answer;
  // The wildcard the lookup answered the last name from (its node; -1: none): RRsets owned by that name
  // were synthesized from it, so neither the name's existence nor its closest encloser is searched by text.
  const wildcardNode = result.wildcardNode ?? -1;
  const last = wildcardNode >= 0 ? lastName(src, qname) : '';
  for (const g of groups(src)) {
    for (let k = g.start; k < g.end; k++) answer.push(src[k]!);
    const ttl = src[g.start]!.ttl;
    const synthesizedCname = g.type === RRType.CNAME && previous?.type === RRType.DNAME;
    const hasOwnSigs = sigOwners !== undefined && sigOwners.has(nameKey(g.name));
    if (g.type === RRType.RRSIG && wildcardNode >= 0 && namesEqual(g.name, last)) {
      // A query for RRSIG answered from a wildcard: the signatures are synthesized too, so the proof that no
      // closer name exists goes with them (RFC 4035 §3.1.3.3), as NSD, Knot and BIND add it.
      const wire = qwire !== undefined && namesEqual(g.name, qname) ? qwire : undefined;
      denials.push({ kind: 'wildcard-answer', sname: g.name, source: idx.view.nodeText(wildcardNode), encloser: idx.view.nodeParent(wildcardNode), wire });
    } else if (!hasOwnSigs && !synthesizedCname && g.type !== RRType.RRSIG && wildcardNode >= 0 && namesEqual(g.name, last)) {
      const source = idx.view.nodeText(wildcardNode);
      const wsigs = idx.sigsFor(source, g.type);
      if (wsigs) pushAll(answer, sigsAs(wsigs, g.name, ttl));
      const wire = qwire !== undefined && namesEqual(g.name, qname) ? qwire : undefined;
      denials.push({ kind: 'wildcard-answer', sname: g.name, source, encloser: idx.view.nodeParent(wildcardNode), wire });
    } else if (!hasOwnSigs && !synthesizedCname && g.type !== RRType.RRSIG) {
      // RFC 6672 §5.3.1: the CNAME made from a DNAME is not signed; the DNAME's RRSIG proves it.
      const own = idx.sigsFor(g.name, g.type);
      if (own && idx.view.exists(g.name)) pushAll(answer, sigsAs(own, g.name, ttl));
      else if (!idx.view.exists(g.name)) {
        // Synthesized from the wildcard at the closest encloser (RFC 4592 §3.3.1): its RRSIGs go out
        // with the owner of the answer, and the proof that no closer name exists with them.
        const source = wildcardOf(idx.closestEncloser(g.name));
        const wsigs = idx.sigsFor(source, g.type);
        if (wsigs) pushAll(answer, sigsAs(wsigs, g.name, ttl));
        denials.push({ kind: 'wildcard-answer', sname: g.name, source });
      }
    }
    if (g.type === RRType.CNAME && namesEqual(g.name, sname)) sname = (src[g.start]!.data as TargetRdata).target;
    previous = g;
  }

  let authority: ResourceRecord[] = [];
  const auth = result.authority;
  for (const g of groups(auth)) {
    if (g.type === RRType.SOA && g.end - g.start === 1 && auth[g.start] === result.zone!.negativeSoa()) {
      pushAll(authority, negativeSoaWithSigs(idx, auth[g.start]!));
      continue;
    }
    for (let k = g.start; k < g.end; k++) authority.push(auth[k]!);
    // A referral's NS RRset is not signed by the parent (RFC 4035 §2.2): no RRSIG exists for it.
    const own = idx.sigsFor(g.name, g.type);
    if (own && !(result.kind === 'referral' && g.type === RRType.NS)) pushAll(authority, sigsAs(own, g.name, auth[g.start]!.ttl));
  }

  switch (result.kind) {
    case 'nxdomain':
      // The lookup's closest encloser is that of the last name it looked up: sname, after any chain.
      denials.push({ kind: 'nxdomain', sname, encloser: result.closestNode ?? -1, wire: sname === qname ? qwire : undefined });
      break;
    case 'nodata':
      if (idx.view.exists(sname)) denials.push({ kind: 'nodata', sname, qtype });
      else denials.push({ kind: 'wildcard-nodata', sname, source: wildcardOf(idx.closestEncloser(sname)) });
      break;
    case 'referral': {
      const cut = result.authority.find((r) => r.type === RRType.NS)?.name;
      if (cut) {
        const ds = idx.view.rrset(cut, RRType.DS);
        if (ds) {
          // RFC 4035 §3.1.4: a signed child's DS and its RRSIG go with the referral.
          authority.push(...ds.records, ...sigsAs(idx.sigsFor(cut, RRType.DS) ?? [], ds.name, ds.ttl));
        } else denials.push({ kind: 'no-ds', cut });
      }
      break;
    }
    default:
      break;
  }
  const proofs: ResourceRecord[] = [];
  const only = denials.length === 1 ? denials[0]! : undefined;
  if (only?.kind === 'wildcard-answer' && only.wire !== undefined && authority.length === 0 && idx.denial === 'nsec') {
    // A wildcard answer of an NSEC zone: its authority is the NSEC covering the name (denialProof's case)
    // and that NSEC's RRSIGs alone, one section per place in the chain.
    authority = nsecProofSection(idx, idx.nsecCoverIndexWire(only.wire));
    denials.length = 0;
  }
  if (only?.kind === 'wildcard-answer' && only.encloser !== undefined && only.encloser >= 0 && idx.denial === 'nsec3') {
    // RFC 5155 §7.2.6 by place in the chain (as signNegative's NXDOMAIN): the NSEC3 covering the next
    // closer name, what denialProof gives, its outgoing set read from DnssecIndex.nsec3Sets.
    const i = idx.nsec3CoveringNextCloserAt(only.sname, only.encloser, only.wire);
    if (i >= 0) {
      // Alone in the authority section (nothing else goes there with a wildcard answer): one section per place.
      if (authority.length === 0) authority = nsec3ProofSection(idx, i);
      else pushAll(authority, nsec3ProofAt(idx, i));
      denials.length = 0;
    }
  }
  for (const d of denials) {
    for (const r of denialProof(idx, d)) {
      if (proofs.includes(r)) continue;
      proofs.push(r);
      for (const p of proofWithSigs(idx, r)) authority.push(p);
    }
  }

  // Additional data keeps its RRSIGs where the zone signed it (never glue: it has none, RFC 4035 §2.2);
  // the encoder drops an RRSIG that does not fit there without setting TC (§3.1.1).
  const additional: ResourceRecord[] = [];
  const add = result.additional;
  for (const g of groups(add)) {
    for (let k = g.start; k < g.end; k++) additional.push(add[k]!);
    if (g.start < result.requiredAdditional) continue;
    const own = idx.sigsFor(g.name, g.type);
    if (own && !underCut(idx, g.name)) pushAll(additional, sigsAs(own, g.name, add[g.start]!.ttl));
  }
  result.answer = answer;
  result.authority = authority;
  result.additional = additional;
}

function pushAll(out: ResourceRecord[], records: readonly ResourceRecord[]): void {
  for (const r of records) out.push(r);
}

/** The name is at or below a zone cut of this zone (glue or delegation data). */
function underCut(idx: DnssecIndex, name: string): boolean {
  for (let n = name; nameKey(n) !== nameKey(idx.origin) && n !== '.'; n = parentName(n)) if (idx.view.isCut(n)) return true;
  return false;
}
