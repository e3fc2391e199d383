// Per-zone DNSSEC index, built once per loaded zone: RRSIGs by (owner, covered type), the NSEC chain in
// canonical order (RFC 4034 §6.1), NSEC3 records by hashed owner (RFC 5155) and the zone's NSEC3PARAM.
import { nameKey, parentName, splitLabels } from '../../wire/name.js';
import { RRType, type ResourceRecord } from '../../wire/types.js';
import type { Zone } from '../../zone/tree.js';
import { canonicalLabels, compareLabels } from '../canonical.js';
import { nsec3Label } from '../nsec3-hash.js';
import { rawRdata, readNsec3, readNsec3Param, rrsigTypeCovered, type Nsec3ParamFields } from './rdata.js';
import { viewOfZone, type DnssecZoneView } from './zone-view.js';

interface NsecEntry {
  labels: Uint8Array[];
  record: ResourceRecord;
}

interface Nsec3Entry {
  /** Lower-case base32hex of the hash: its string order is the hash's byte order. */
  hash: string;
  record: ResourceRecord;
  optOut: boolean;
}

/** Bound on remembered NSEC3 hashes per zone (each entry ~100 bytes). */
const HASH_MEMO_MAX = 10000;

export class DnssecIndex {
  private readonly sigs = new Map<string, Map<number, ResourceRecord[]>>();
  private readonly nsecByOwner = new Map<string, ResourceRecord>();
  private readonly nsecChain: NsecEntry[] = [];
  private readonly nsec3ByHash = new Map<string, Nsec3Entry>();
  private readonly nsec3Chain: Nsec3Entry[] = [];
  private readonly nsec3Owners = new Set<string>();
  /** The NSEC3PARAM at the apex (RFC 5155 §4), or the parameters of the first NSEC3 when it is missing. */
  readonly nsec3Param: Nsec3ParamFields | undefined;
  readonly origin: string;

  constructor(readonly view: DnssecZoneView) {
    this.origin = view.origin;
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
              this.nsecChain.push({ labels: canonicalLabels(rr.name), record: rr });
            }
            break;
          case RRType.NSEC3: {
            const f = readNsec3(raw);
            const hash = splitLabels(key)[0] ?? '';
            if (!this.nsec3ByHash.has(hash)) {
              const e = { hash, record: rr, optOut: (f.flags & 1) === 1 };
              this.nsec3ByHash.set(hash, e);
              this.nsec3Chain.push(e);
              this.nsec3Owners.add(key);
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
    this.nsecChain.sort((a, b) => compareLabels(a.labels, b.labels));
    this.nsec3Chain.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    this.nsec3Param = param ?? firstNsec3;
  }

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
  nsecCovering(name: string): ResourceRecord | undefined {
    const chain = this.nsecChain;
    if (chain.length === 0) return undefined;
    const target = canonicalLabels(name);
    let lo = 0;
    let hi = chain.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (compareLabels(chain[mid]!.labels, target) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return chain[found >= 0 ? found : chain.length - 1]!.record;
  }

  /** Hashes of names asked again and again (closest enclosers, wildcards, the apex); bounded. */
  private readonly hashMemo = new Map<string, string>();

  /** The hashed owner label of `name` under this zone's NSEC3 parameters. */
  nsec3HashOf(name: string): string {
    const key = nameKey(name);
    let h = this.hashMemo.get(key);
    if (h === undefined) {
      const p = this.nsec3Param!;
      h = nsec3Label(name, p.salt, p.iterations, p.algorithm);
      // Random names asked once would only churn the memo: a full memo starts over.
      if (this.hashMemo.size >= HASH_MEMO_MAX) this.hashMemo.clear();
      this.hashMemo.set(key, h);
    }
    return h;
  }

  /** The NSEC3 whose owner is H(name) (RFC 5155 §7.2: "matches"). */
  nsec3Matching(name: string): ResourceRecord | undefined {
    if (!this.nsec3Param) return undefined;
    return this.nsec3ByHash.get(this.nsec3HashOf(name))?.record;
  }

  /** The NSEC3 that covers H(name): the last hashed owner before it, wrapping around (RFC 5155 §7.2). */
  nsec3Covering(name: string): { record: ResourceRecord; optOut: boolean } | undefined {
    const chain = this.nsec3Chain;
    if (chain.length === 0 || !this.nsec3Param) return undefined;
    const h = this.nsec3HashOf(name);
    let lo = 0;
    let hi = chain.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (chain[mid]!.hash < h) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const e = chain[found >= 0 ? found : chain.length - 1]!;
    return { record: e.record, optOut: e.optOut };
  }

  /** `name` is the owner of an NSEC3 record (RFC 5155 §7.2.8). */
  isNsec3Owner(name: string): boolean {
    return this.nsec3Owners.size > 0 && this.nsec3Owners.has(nameKey(name));
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
