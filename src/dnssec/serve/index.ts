// Per-zone DNSSEC index, built once per loaded zone: RRSIGs by (owner, covered type), the NSEC chain in
// canonical order (RFC 4034 §6.1), NSEC3 records by hashed owner (RFC 5155) and the zone's NSEC3PARAM.
import { nameKey, parentName, parseLabels, splitLabels } from '../../wire/name.js';
import { RRType, type ResourceRecord } from '../../wire/types.js';
import type { Zone } from '../../zone/tree.js';
import { canonicalKey, canonicalKeyPrefix, canonicalKeyUnits, canonicalNameWire, compareKeyUnits } from '../canonical.js';
import { base32hex, nsec3Hash, nsec3HashWire, nsec3Label } from '../nsec3-hash.js';
import { rawRdata, readNsec3, readNsec3Param, rrsigTypeCovered, type Nsec3ParamFields } from './rdata.js';
import { viewOfZone, type DnssecZoneView } from './zone-view.js';

/** A name in lower-cased wire form: its bytes, where each label starts, and where its root label is (a query's question, zone/compiled.ts WireName). */
export interface LowerWireName {
  readonly wire: Uint8Array;
  readonly offs: ArrayLike<number>;
  readonly root: number;
}

interface NsecEntry {
  /** canonicalKey of the owner below the origin: plain string order is the chain's order. */
  key: string;
  record: ResourceRecord;
}

interface Nsec3Entry {
  /** Lower-case base32hex of the hash: its string order is the hash's byte order. */
  hash: string;
  /** The first 30 bits of the hash (six base32hex digits): the binary search compares these first. */
  prefix: number;
  record: ResourceRecord;
  optOut: boolean;
  /** Its place in nsec3Chain (set once the chain is sorted). */
  at: number;
}

/** DnssecIndex.nsecCoverBelow's answers. */
export const COVER_BY_NAME = 0;
export const COVER_BELOW_ANY = 1;
export const COVER_AFTER_STAR = 2;
/**
 * Not nsecCoverBelow's but serveDnssec's: a signed NSEC3 reply whose one part that depends on the name below
 * the closest encloser is the NSEC3 covering the next closer name (with its RRSIGs), at another place of the
 * chain than every other NSEC3 of the reply — the UDP addon fills that place in per name (native/nsec3.h).
 */
export const COVER_NSEC3_HOLE = 3;

/** Bound on remembered NSEC3 hashes and proofs per zone (each entry ~100 bytes). */
const HASH_MEMO_MAX = 10000;

const B32HEX_DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 32; i++) B32HEX_DIGIT['0123456789abcdefghijklmnopqrstuv'.charCodeAt(i)] = i;

/** The first six base32hex digits of a hashed label as a number (30 bits): the same order as the strings. */
function hashPrefix(hash: string): number {
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 32 + Math.max(0, B32HEX_DIGIT[hash.charCodeAt(i) & 127] ?? 0);
  return v;
}

/** The first 30 bits of a digest at d[at...]: hashPrefix of its base32hex text. */
function digestPrefix(d: Uint8Array, at: number): number {
  return ((d[at]! << 22) | (d[at + 1]! << 14) | (d[at + 2]! << 6) | (d[at + 3]! >> 2)) >>> 0;
}

/** A bounded memo: a full one starts over (random names asked once would only churn it). */
function remember<V>(memo: Map<string, V>, key: string, value: V): V {
  if (memo.size >= HASH_MEMO_MAX) memo.clear();
  memo.set(key, value);
  return value;
}

export class DnssecIndex {
  private readonly sigs = new Map<string, Map<number, ResourceRecord[]>>();
  private readonly nsecByOwner = new Map<string, ResourceRecord>();
  private readonly nsecChain: NsecEntry[] = [];
  private readonly nsec3ByHash = new Map<string, Nsec3Entry>();
  private readonly nsec3Chain: Nsec3Entry[] = [];
  private readonly nsec3Owners = new Set<string>();
  /** The length of the hashed owner labels (base32hex of the hash; the chain uses one algorithm). */
  private nsec3LabelLength = -1;
  /** The NSEC3PARAM at the apex (RFC 5155 §4), or the parameters of the first NSEC3 when it is missing. */
  readonly nsec3Param: Nsec3ParamFields | undefined;
  readonly origin: string;

  constructor(readonly view: DnssecZoneView) {
    this.origin = view.origin;
    this.originLabels = parseLabels(view.origin).length;
    let param: Nsec3ParamFields | undefined;
    let firstNsec3: Nsec3ParamFields | undefined;
    for (const rr of view.records()) {
      const raw = rawRdata(rr);
      if (!raw) continue;
      const key = nameKey(rr.name);
      try {
        switch (rr.type) {
          case RRType.RRSIG: {
            const covered = rrsigTypeCovered(raw);
            let byType = this.sigs.get(key);
            if (!byType) this.sigs.set(key, (byType = new Map()));
            const list = byType.get(covered);
            if (list) list.push(rr);
            else byType.set(covered, [rr]);
            break;
          }
          case RRType.NSEC:
            if (!this.nsecByOwner.has(key)) {
              this.nsecByOwner.set(key, rr);
              this.nsecChain.push({ key: canonicalKey(rr.name, this.originLabels), record: rr });
            }
            break;
          case RRType.NSEC3: {
            const f = readNsec3(raw);
            const hash = splitLabels(key)[0] ?? '';
            if (!this.nsec3ByHash.has(hash)) {
              const e = { hash, prefix: hashPrefix(hash), record: rr, optOut: (f.flags & 1) === 1, at: -1 };
              this.nsec3ByHash.set(hash, e);
              this.nsec3Chain.push(e);
              this.nsec3Owners.add(key);
              this.nsec3LabelLength = hash.length;
            }
            firstNsec3 ??= { algorithm: f.algorithm, flags: 0, iterations: f.iterations, salt: f.salt };
            break;
          }
          case RRType.NSEC3PARAM:
            if (key === nameKey(view.origin)) param ??= readNsec3Param(raw);
            break;
        }
      } catch {
        // Malformed DNSSEC RDATA is reported by the load audit; it is simply not used for proofs.
      }
    }
    this.nsecChain.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.nsecPrefixes = Float64Array.from(this.nsecChain, (e) => canonicalKeyPrefix(e.key));
    this.nsec3Chain.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    this.nsec3Prefixes = Float64Array.from(this.nsec3Chain, (e) => e.prefix);
    this.nsec3Chain.forEach((e, i) => (e.at = i));
    // Every place present from the start: an array filled at random places would turn into a dictionary.
    this.nsec3Sets = new Array<readonly ResourceRecord[] | undefined>(this.nsec3Chain.length).fill(undefined);
    this.nsec3Param = param ?? firstNsec3;
  }

  /** Labels in the origin: the chain's keys leave them out. */
  private readonly originLabels: number;
  /** nsecChain's key prefixes (canonicalKeyPrefix), in the same order: the binary search reads these first. */
  private readonly nsecPrefixes: Float64Array;
  /** nsec3Chain's prefixes, in the same order. */
  private readonly nsec3Prefixes: Float64Array;
  /** Proof records of names asked again and again (wildcards at closest enclosers); bounded. */
  private readonly nsecCoverMemo = new Map<string, ResourceRecord>();
  private readonly nsec3CoverMemo = new Map<string, Nsec3Entry>();

  /** Which denial of existence the zone uses. */
  get denial(): 'nsec' | 'nsec3' | 'none' {
    if (this.nsec3Chain.length > 0 && this.nsec3Param) return 'nsec3';
    return this.nsecChain.length > 0 ? 'nsec' : 'none';
  }

  /** The RRSIGs at `owner` covering `type`. */
  sigsFor(owner: string, type: number): readonly ResourceRecord[] | undefined {
    return this.sigs.get(nameKey(owner))?.get(type);
  }

  /** The NSEC owned by `name`. */
  nsecAt(name: string): ResourceRecord | undefined {
    return this.nsecByOwner.get(nameKey(name));
  }

  /**
   * The NSEC whose owner is the last one at or before `name` in canonical order: it covers `name`
   * (proves it does not exist) unless it is owned by `name` itself. The chain wraps from its last
   * owner to the apex (RFC 4034 §4.1.1).
   */
  nsecCovering(name: string, memo = false): ResourceRecord | undefined {
    const chain = this.nsecChain;
    if (chain.length === 0) return undefined;
    const key = memo ? nameKey(name) : '';
    if (memo) {
      const hit = this.nsecCoverMemo.get(key);
      if (hit) return hit;
    }
    const record = chain[this.nsecCoverIndex(name)]!.record;
    return memo ? remember(this.nsecCoverMemo, key, record) : record;
  }

  /** Scratch for a name's canonicalKey code units (at most 255 bytes). */
  private readonly keyUnits = new Uint16Array(512);

  /** nsecCovering for a name in lower-cased wire form (a query's question): its key compared as code units, never made a string. */
  nsecCoveringWire(name: LowerWireName): ResourceRecord | undefined {
    const i = this.nsecCoverIndexWire(name);
    return i < 0 ? undefined : this.nsecChain[i]!.record;
  }

  /** The NSEC chain's length: its places run from 0 to this, exclusive. */
  get nsecCount(): number {
    return this.nsecChain.length;
  }

  /** The NSEC at place `i` of the chain (nsecCoverIndexWire, nsecWildcardCoverIndexNode). */
  nsecRecordAt(i: number): ResourceRecord {
    return this.nsecChain[i]!.record;
  }

  /** nsecCoveringWire's place in the chain (-1 when the chain is empty): a number to key what is made once per proof. */
  nsecCoverIndexWire(name: LowerWireName): number {
    const chain = this.nsecChain;
    if (chain.length === 0) return -1;
    const u = this.keyUnits;
    const n = canonicalKeyUnits(name.wire, name.offs, this.originLabels, u);
    let tp = 0;
    for (let i = 0; i < 6; i++) tp = tp * 257 + (i < n ? u[i]! : 0);
    const prefixes = this.nsecPrefixes;
    let lo = 0;
    let hi = chain.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = prefixes[mid]!;
      if (p < tp || (p === tp && compareKeyUnits(chain[mid]!.key, u, n) <= 0)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 ? found : chain.length - 1;
  }

  /** nsecCovering's place in nsecChain (-1 when the chain is empty). */
  private nsecCoverIndex(name: string): number {
    const chain = this.nsecChain;
    if (chain.length === 0) return -1;
    const target = canonicalKey(name, this.originLabels);
    const tp = canonicalKeyPrefix(target);
    const prefixes = this.nsecPrefixes;
    let lo = 0;
    let hi = chain.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = prefixes[mid]!;
      if (p < tp || (p === tp && chain[mid]!.key <= target)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 ? found : chain.length - 1;
  }

  /** Hashes of names asked again and again (closest enclosers, wildcards, the apex); bounded. */
  private readonly hashMemo = new Map<string, string>();

  /** The hashed owner label of `name` under this zone's NSEC3 parameters. */
  nsec3HashOf(name: string, memo = true): string {
    const p = this.nsec3Param!;
    if (!memo) return nsec3Label(name, p.salt, p.iterations, p.algorithm);
    const key = nameKey(name);
    const h = this.hashMemo.get(key);
    return h ?? remember(this.hashMemo, key, nsec3Label(name, p.salt, p.iterations, p.algorithm));
  }

  /** The NSEC3 whose owner is H(name) (RFC 5155 §7.2: "matches"). */
  nsec3Matching(name: string): ResourceRecord | undefined {
    if (!this.nsec3Param) return undefined;
    return this.nsec3ByHash.get(this.nsec3HashOf(name))?.record;
  }

  /**
   * The NSEC3 that covers H(name): the last hashed owner before it, wrapping around (RFC 5155 §7.2).
   * `memo`: the name is asked again and again (a wildcard, an encloser), so its hash and answer are kept;
   * a next closer name of a random question is not (it would only churn the memo).
   */
  nsec3Covering(name: string, memo = true): { record: ResourceRecord; optOut: boolean } | undefined {
    const chain = this.nsec3Chain;
    if (chain.length === 0 || !this.nsec3Param) return undefined;
    // A name asked once (the next closer of a random question) is searched by the digest's first 30 bits,
    // its base32hex text made only if a prefix ties; a remembered one by its (remembered) text.
    if (memo) {
      const h = this.nsec3HashOf(name);
      const hit = this.nsec3CoverMemo.get(h);
      if (hit) return hit;
      return remember(this.nsec3CoverMemo, h, chain[this.coverIndex(hashPrefix(h), h, undefined)]!);
    }
    const p = this.nsec3Param;
    const digest = nsec3Hash(name, p.salt, p.iterations, p.algorithm);
    return chain[this.coverIndex(digestPrefix(digest, 0), undefined, digest)]!;
  }

  /**
   * The index in nsec3Chain of the NSEC3 covering a hash: the last hashed owner at or before it, wrapping
   * around. Binary search on the 30-bit prefixes; equal prefixes compare the base32hex text (`h`, made
   * from `digest` when not given).
   */
  private coverIndex(hp: number, h: string | undefined, digest: Uint8Array | undefined): number {
    const chain = this.nsec3Chain;
    const prefixes = this.nsec3Prefixes;
    let lo = 0;
    let hi = chain.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = prefixes[mid]!;
      if (p < hp || (p === hp && chain[mid]!.hash < (h ??= base32hex(digest!)))) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 ? found : chain.length - 1;
  }

  /**
   * Per node of the zone (LookupResult.closestNode), filled on first use: the nsec3Chain index of the NSEC3
   * matching the node's name (-1: none, -2: not known yet) and of the one covering "*." + the name. Each
   * closest encloser is hashed once per loaded zone, not per answer (a bounded memo by name churned with
   * many enclosers). Both in one array, node n's at [2n] and [2n + 1]: an NXDOMAIN reads both, one cache line.
   */
  private nodeTab: Int32Array | undefined;
  /** Scratch: a canonical wire name with room for "*." before it, and a digest. */
  private readonly wireScratch = new Uint8Array(260);
  private readonly digestScratch = new Uint8Array(20);

  private nodeTables(): Int32Array {
    return (this.nodeTab ??= new Int32Array(2 * this.view.nodeCount).fill(-2));
  }

  /** The NSEC3 matching the name of node `n` (RFC 5155 §7.2: "matches"), from the per-node table. */
  nsec3MatchingNode(n: number): ResourceRecord | undefined {
    const i = this.nsec3MatchingNodeAt(n);
    return i >= 0 ? this.nsec3Chain[i]!.record : undefined;
  }

  /**
   * Proofs by their place in the NSEC3 chain (the *At methods), for the common NXDOMAIN: the proof as it
   * goes out (its record and RRSIGs, step.ts) kept in an array by place, so a random covering NSEC3 costs
   * one array read instead of the chain entry, its record and a WeakMap lookup (each cold in the CPU
   * cache in a zone of thousands of names). Filled by the serving step on first use.
   */
  readonly nsec3Sets: (readonly ResourceRecord[] | undefined)[];

  /** The NSEC3 chain's length: its places run from 0 to this, exclusive. */
  get nsec3Count(): number {
    return this.nsec3Chain.length;
  }

  /** The NSEC3 record at place `i` of the chain. */
  nsec3RecordAt(i: number): ResourceRecord {
    return this.nsec3Chain[i]!.record;
  }

  /** nsec3MatchingNode's place in the chain, -1 when no NSEC3 matches. */
  nsec3MatchingNodeAt(n: number): number {
    const t = this.nodeTables();
    let i = t[2 * n]!;
    if (i === -2) {
      const p = this.nsec3Param!;
      const end = this.view.nodeWire(n, this.wireScratch, 0);
      nsec3HashWire(this.wireScratch, 0, end, p.salt, p.iterations, this.digestScratch, p.algorithm);
      const e = this.nsec3ByHash.get(base32hex(this.digestScratch));
      t[2 * n] = i = e === undefined ? -1 : e.at;
    }
    return i;
  }

  /** The NSEC covering the wildcard "*." + the name of node `n` (RFC 4035 §3.1.3.2), from the per-node table. */
  nsecWildcardCoveringNode(n: number): ResourceRecord | undefined {
    const i = this.nsecWildcardCoverIndexNode(n);
    return i >= 0 ? this.nsecChain[i]!.record : undefined;
  }

  /** Per node: how many children it has, and how many labels its name has (-1: not known), made on first use. */
  private nodeKids: Uint32Array | undefined;
  private nodeDepth: Int16Array | undefined;

  private nodeShape(): Uint32Array {
    if (this.nodeKids !== undefined) return this.nodeKids;
    const view = this.view;
    const kids = new Uint32Array(view.nodeCount);
    const depth = new Int16Array(view.nodeCount).fill(-1);
    for (let k = 0; k < view.nodeCount; k++) {
      const p = view.nodeParent(k);
      if (p < 0) depth[k] = k === 0 ? this.originLabels : -1;
      else {
        kids[p]!++;
        // A parent is made before its children (zone/compiled.ts); if not, the depth stays unknown.
        depth[k] = p < k && depth[p]! >= 0 ? depth[p]! + 1 : -1;
      }
    }
    this.nodeDepth = depth;
    return (this.nodeKids = kids);
  }

  /**
   * nsecCoverIndexWire for `name`, which does not exist and lies below node `enc` (its closest encloser: an
   * NXDOMAIN's name, or a wildcard answer's, `wild` then the wildcard node "*." + enc that answered, else -1).
   * A name's descendants follow it directly in canonical order (RFC 4034 §6.1), so where the zone has nothing
   * between the wildcard "*." + enc and the name, the NSEC covering that wildcard (nsecWildcardCoverIndexNode,
   * one per node) covers the name too and no search by the name is needed: when nothing lies below `enc`
   * (a name under a host), or when the wildcard is its one child, has nothing below it, and the name's label
   * under `enc` sorts after "*".
   */
  nsecCoverIndexBelow(name: LowerWireName, enc: number, wild: number): number {
    return this.nsecCoverBelow(name, enc, wild) !== COVER_BY_NAME ? this.nsecWildcardCoverIndexNode(enc) : this.nsecCoverIndexWire(name);
  }

  /**
   * How nsecCoverIndexBelow finds the NSEC covering `name` (same arguments): COVER_BELOW_ANY — the one
   * covering "*." + enc, and so for every name below `enc` (nothing lies below it); COVER_AFTER_STAR — that
   * one too, for every name whose label under `enc` sorts after "*" (the wildcard is enc's one child and
   * has nothing below it); COVER_BY_NAME — searched by the name. The encloser replay (answer/replay.ts)
   * reads it to tell whether a signed reply is the same for other names below `enc`.
   */
  nsecCoverBelow(name: LowerWireName, enc: number, wild: number): number {
    const kids = this.nodeShape();
    const k = kids[enc]!;
    if (k === 0) return COVER_BELOW_ANY;
    if (k === 1 && wild >= 0 && kids[wild] === 0 && this.view.nodeParent(wild) === enc) {
      const d = this.nodeDepth![enc]!;
      const i = name.offs.length - d - 1;
      if (d >= 0 && i >= 0) {
        const p = name.offs[i]!;
        const c = name.wire[p + 1]!;
        if (c > 0x2a || (c === 0x2a && name.wire[p]! > 1)) return COVER_AFTER_STAR;
      }
    }
    return COVER_BY_NAME;
  }

  /** nsecWildcardCoveringNode's place in the chain (-1 when the chain is empty). */
  nsecWildcardCoverIndexNode(n: number): number {
    const t = this.nodeTables();
    if (t[2 * n + 1] === -2) t[2 * n + 1] = this.nsecCoverIndex(wildcardOf(this.view.nodeText(n)));
    return t[2 * n + 1]!;
  }

  /** The NSEC3 covering the wildcard "*." + the name of node `n`, from the per-node table. */
  nsec3WildcardCoveringNode(n: number): ResourceRecord {
    return this.nsec3Chain[this.nsec3WildcardCoveringNodeAt(n)]!.record;
  }

  /** nsec3WildcardCoveringNode's place in the chain. */
  nsec3WildcardCoveringNodeAt(n: number): number {
    const t = this.nodeTables();
    let i = t[2 * n + 1]!;
    if (i === -2) {
      const p = this.nsec3Param!;
      const w = this.wireScratch;
      w[0] = 1;
      w[1] = 0x2a;
      const end = this.view.nodeWire(n, w, 2);
      nsec3HashWire(w, 0, end, p.salt, p.iterations, this.digestScratch, p.algorithm);
      t[2 * n + 1] = i = this.coverIndex(digestPrefix(this.digestScratch, 0), undefined, this.digestScratch);
    }
    return i;
  }

  /**
   * The NSEC3 covering the next closer name of `sname` below the node `encloser` (RFC 5155 §7.2.1): the
   * name's last (labels of the encloser + 1) labels, hashed from its canonical wire form. Undefined when
   * `sname` is not below the encloser's name (the caller then takes the general path).
   */
  nsec3CoveringNextCloser(sname: string, encloser: number, wire?: LowerWireName): ResourceRecord | undefined {
    const i = this.nsec3CoveringNextCloserAt(sname, encloser, wire);
    return i >= 0 ? this.nsec3Chain[i]!.record : undefined;
  }

  /** nsec3CoveringNextCloser's place in the chain, -1 when `sname` is not below the encloser's name. */
  nsec3CoveringNextCloserAt(sname: string, encloser: number, wire?: LowerWireName): number {
    const p = this.nsec3Param!;
    // The canonical wire form (RFC 4034 §6.2): the question's lower-cased bytes when given, else made from the text.
    const q = wire?.wire ?? canonicalNameWire(sname);
    const qLen = wire ? wire.root + 1 : q.length;
    const w = this.wireScratch;
    const ceEnd = this.view.nodeWire(encloser, w, 0);
    const ceLen = ceEnd;
    if (qLen <= ceLen) return -1;
    // The label that starts the next closer name: the one whose suffix after it is the encloser's name.
    let at = 0;
    for (;;) {
      const next = at + 1 + q[at]!;
      if (qLen - next === ceLen) break;
      if (q[at] === 0 || qLen - next < ceLen) return -1;
      at = next;
    }
    for (let k = 0; k < ceLen; k++) if (q[qLen - ceLen + k] !== w[k]) return -1;
    nsec3HashWire(q, at, qLen, p.salt, p.iterations, this.digestScratch, p.algorithm);
    return this.coverIndex(digestPrefix(this.digestScratch, 0), undefined, this.digestScratch);
  }

  /** `name` is the owner of an NSEC3 record (RFC 5155 §7.2.8). */
  isNsec3Owner(name: string): boolean {
    // Hashed owner labels all have the one length (32 for SHA-1): most names are ruled out without a lookup.
    return this.nsec3Owners.size > 0 && name.indexOf('.') === this.nsec3LabelLength && this.nsec3Owners.has(nameKey(name));
  }

  /** The deepest existing ancestor-or-self of `name` in the zone (RFC 4592 §3.3.1's closest encloser). */
  closestEncloser(name: string): string {
    let n = name;
    while (!this.view.exists(n) && nameKey(n) !== nameKey(this.origin) && n !== '.') n = parentName(n);
    return n;
  }

  /** The name one label longer than `ancestor` on the way down to `name` (RFC 5155 §1.3's next closer name). */
  nextCloser(name: string, ancestor: string): string {
    let n = name;
    for (;;) {
      const p = parentName(n);
      if (nameKey(p) === nameKey(ancestor) || p === n) return n;
      n = p;
    }
  }
}

/** The source of synthesis at a closest encloser (RFC 4592 §2.1.1): "*." before it; at the root, "*.". */
export function wildcardOf(encloser: string): string {
  return encloser === '.' ? '*.' : `*.${encloser}`;
}

/** Zones without a DNSKEY at the apex are not signed: no index, nothing to add. */
const indexes = new WeakMap<object, DnssecIndex | null>();

/** The index of a loaded zone, built on first use and kept as long as the zone is (a reload builds a new one). */
export function dnssecIndexOf(zone: Zone): DnssecIndex | undefined {
  let idx = indexes.get(zone);
  if (idx === undefined) {
    const view = viewOfZone(zone);
    idx = view.rrset(zone.origin, RRType.DNSKEY) || view.rrset(zone.origin, RRType.NSEC3PARAM) ? new DnssecIndex(view) : null;
    indexes.set(zone, idx);
  }
  return idx ?? undefined;
}
