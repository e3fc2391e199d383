// RFC 2136 dynamic update of a zone, all or nothing: zone checks, prerequisites (§3.2), the update
// section's prescan (§3.4.1), then its records applied to a copy (§3.4.2) that must still be a valid zone.
import { isSubdomain, nameKey } from '../wire/name.js';
import { META_TYPES, Rcode, receivedTtl, RRClass, RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { checkZoneReport } from '../zone/check.js';
import { foldedRdataKey as rdataKey } from '../transfer/rdata-key.js';
import { Zone } from '../zone/tree.js';
import type { UpdateMessage, UpdateRecord } from '../client/update.js';
import { recordsButSoa } from '../transfer/records.js';
import { nextSerial, serialGt, type SerialPolicy } from '../transfer/serial.js';
import type { ZoneDiff } from '../transfer/unit.js';

export type UpdateResult =
  /** Applied: `next` is the new version (serial raised); unchanged when the update changed nothing. */
  | { readonly rcode: typeof Rcode.NOERROR; readonly next: Zone | undefined; readonly diff?: ZoneDiff }
  | { readonly rcode: number; readonly reason: string };

const err = (rcode: number, reason: string): UpdateResult => ({ rcode, reason });

/**
 * The working copy an update is applied to: only the names it touches are copied (from the zone's
 * nodes), so an update costs its own size plus one pass to build the new version.
 */
class Working {
  /** Touched names: owner key → type → records, as they are now. */
  readonly names = new Map<string, Map<number, ResourceRecord[]>>();
  /** Touched names as they were. */
  private readonly before = new Map<string, ResourceRecord[]>();
  soa: ResourceRecord<SOARdata>;
  changed = false;

  constructor(private readonly zone: Zone) {
    this.soa = zone.soa;
  }

  private node(name: string): Map<number, ResourceRecord[]> {
    const k = nameKey(name);
    let types = this.names.get(k);
    if (!types) {
      types = new Map();
      const orig: ResourceRecord[] = [];
      for (const [t, set] of this.zone.nodes.get(k)?.rrsets ?? []) {
        if (t === RRType.SOA && k === this.zone.originKey) continue;
        types.set(t, [...set.records]);
        orig.push(...set.records);
      }
      this.names.set(k, types);
      this.before.set(k, orig);
    }
    return types;
  }

  rrset(name: string, type: number): ResourceRecord[] {
    if (type === RRType.SOA && nameKey(name) === this.zone.originKey) return [this.soa];
    return this.node(name).get(type) ?? [];
  }

  inUse(name: string): boolean {
    return this.node(name).size > 0 || nameKey(name) === this.zone.originKey;
  }

  typesAt(name: string): number[] {
    return [...this.node(name).keys()];
  }

  add(rr: ResourceRecord): void {
    const types = this.node(rr.name);
    const list = types.get(rr.type) ?? [];
    const key = rdataKey(rr);
    // §3.4.2.2: a duplicate adds nothing; the RRset takes the new TTL (one TTL per RRset, RFC 2181 §5.2).
    const sameTtl = list.length === 0 || list[0]!.ttl === rr.ttl;
    const next = sameTtl ? [...list] : list.map((x) => ({ ...x, ttl: rr.ttl }));
    if (!list.some((x) => rdataKey(x) === key)) next.push(rr);
    if (next.length === list.length && sameTtl) return;
    types.set(rr.type, next);
    this.changed = true;
  }

  deleteRRset(name: string, type: number): void {
    if (this.node(name).delete(type)) this.changed = true;
  }

  deleteName(name: string, keep: (type: number) => boolean): void {
    for (const t of this.typesAt(name)) if (!keep(t)) this.deleteRRset(name, t);
  }

  deleteRR(rr: UpdateRecord): void {
    const types = this.node(rr.name);
    const list = types.get(rr.type);
    if (!list) return;
    const key = rdataKey({ ...rr, class: RRClass.IN, data: rr.data! });
    const left = list.filter((x) => rdataKey(x) !== key);
    if (left.length === list.length) return;
    this.changed = true;
    if (left.length === 0) types.delete(rr.type);
    else types.set(rr.type, left);
  }

  /** The touched names' records now, the SOA first. */
  touched(): ResourceRecord[] {
    const out: ResourceRecord[] = [this.soa];
    for (const types of this.names.values()) for (const list of types.values()) out.push(...list);
    return out;
  }

  /** Every record of the new version, the SOA first. */
  records(): ResourceRecord[] {
    const out = this.touched();
    for (const rr of recordsButSoa(this.zone)) if (!this.names.has(nameKey(rr.name))) out.push(rr);
    return out;
  }

  /** What went and what came at the touched names (SOAs apart). */
  diff(): { removed: ResourceRecord[]; added: ResourceRecord[] } {
    const removed: ResourceRecord[] = [];
    const added: ResourceRecord[] = [];
    const key = (r: ResourceRecord) => `${r.type} ${r.ttl} ${rdataKey(r)}`;
    for (const [k, types] of this.names) {
      const was = new Map(this.before.get(k)!.map((r) => [key(r), r]));
      for (const list of types.values()) {
        for (const r of list) {
          if (!was.delete(key(r))) added.push(r);
        }
      }
      removed.push(...was.values());
    }
    return { removed, added };
  }
}

/** Types an update may not add (§3.4.1.2: meta types and queries-only types are FORMERR). */
function isMeta(type: number): boolean {
  return META_TYPES.has(type) || type === RRType.MAILA || type === RRType.MAILB;
}

/** §3.2: every prerequisite must hold; the first that fails gives the answer. */
function checkPrerequisites(w: Working, zone: Zone, prereqs: readonly UpdateRecord[]): UpdateResult | undefined {
  const valueSets = new Map<string, UpdateRecord[]>();
  for (const p of prereqs) {
    if (p.ttl !== 0) return err(Rcode.FORMERR, `prerequisite ${p.name} with TTL ${p.ttl} (must be 0)`);
    if (!isSubdomain(p.name, zone.origin)) return err(Rcode.NOTZONE, `prerequisite ${p.name} is outside ${zone.origin}`);
    if (p.class === RRClass.ANY) {
      if (p.data !== undefined) return err(Rcode.FORMERR, 'prerequisite of class ANY with data');
      if (p.type === RRType.ANY) {
        if (!w.inUse(p.name)) return err(Rcode.NXDOMAIN, `prerequisite: ${p.name} is not in use`);
      } else if (w.rrset(p.name, p.type).length === 0) return err(Rcode.NXRRSET, `prerequisite: no ${p.name} type ${p.type}`);
    } else if (p.class === RRClass.NONE) {
      if (p.data !== undefined) return err(Rcode.FORMERR, 'prerequisite of class NONE with data');
      if (p.type === RRType.ANY) {
        if (w.inUse(p.name)) return err(Rcode.YXDOMAIN, `prerequisite: ${p.name} is in use`);
      } else if (w.rrset(p.name, p.type).length > 0) return err(Rcode.YXRRSET, `prerequisite: ${p.name} type ${p.type} exists`);
    } else if (p.class === RRClass.IN) {
      if (p.data === undefined || isMeta(p.type)) return err(Rcode.FORMERR, 'value-dependent prerequisite without data');
      const k = `${nameKey(p.name)}|${p.type}`;
      const list = valueSets.get(k) ?? [];
      list.push(p);
      valueSets.set(k, list);
    } else return err(Rcode.FORMERR, `prerequisite of class ${p.class}`);
  }
  // §3.2.3: "RRset exists (value dependent)": the zone's RRset equals the given records exactly.
  for (const list of valueSets.values()) {
    const have = new Set(w.rrset(list[0]!.name, list[0]!.type).map((r) => rdataKey(r)));
    const want = new Set(list.map((r) => rdataKey({ ...r, data: r.data! })));
    if (have.size !== want.size || [...want].some((k) => !have.has(k))) return err(Rcode.NXRRSET, `prerequisite: ${list[0]!.name} type ${list[0]!.type} differs`);
  }
  return undefined;
}

/** §3.4.1: the whole update section is checked before anything is applied. */
function prescan(zone: Zone, updates: readonly UpdateRecord[]): UpdateResult | undefined {
  for (const u of updates) {
    if (!isSubdomain(u.name, zone.origin)) return err(Rcode.NOTZONE, `${u.name} is outside ${zone.origin}`);
    if (u.class === RRClass.IN) {
      if (isMeta(u.type) || u.data === undefined) return err(Rcode.FORMERR, `cannot add ${u.name} type ${u.type}${u.data === undefined ? ' without data' : ''}`);
    } else if (u.class === RRClass.ANY) {
      if (u.ttl !== 0 || u.data !== undefined || (isMeta(u.type) && u.type !== RRType.ANY)) return err(Rcode.FORMERR, `malformed RRset delete of ${u.name}`);
    } else if (u.class === RRClass.NONE) {
      if (u.ttl !== 0 || u.data === undefined || isMeta(u.type)) return err(Rcode.FORMERR, `malformed RR delete of ${u.name}`);
    } else return err(Rcode.FORMERR, `update of class ${u.class}`);
  }
  return undefined;
}

/**
 * Applies `u` to `zone` (whose apex the zone section named) and returns the new version, with the
 * serial raised (`increment`, or `unixtime`), unless the update names a higher SOA serial itself.
 * Data that would break the zone (CNAME beside other data, a record below a DNAME …) is REFUSED.
 */
export function applyUpdate(zone: Zone, u: UpdateMessage, policy: SerialPolicy, nowSeconds: number): UpdateResult {
  const w = new Working(zone);
  const bad = checkPrerequisites(w, zone, u.prerequisites) ?? prescan(zone, u.updates);
  if (bad) return bad;
  const apex = zone.originKey;
  let soaFromUpdate: ResourceRecord<SOARdata> | undefined;
  for (const r of u.updates) {
    const atApex = nameKey(r.name) === apex;
    if (r.class === RRClass.IN) {
      // A TTL with the top bit set counts as 0 (RFC 2181 §8), as the zone file it is written to reads it back.
      const rr: ResourceRecord = { name: r.name, type: r.type, class: RRClass.IN, ttl: receivedTtl(r.ttl), data: r.data! };
      if (r.type === RRType.SOA) {
        // §3.4.2.2: a SOA replaces the apex SOA only with a higher serial; elsewhere it is ignored.
        const soa = rr as ResourceRecord<SOARdata>;
        if (atApex && serialGt(soa.data.serial, w.soa.data.serial)) {
          w.soa = soa;
          soaFromUpdate = soa;
          w.changed = true;
        }
        continue;
      }
      const here = w.typesAt(r.name);
      const hasCname = here.includes(RRType.CNAME);
      const hasOther = here.some((t) => t !== RRType.CNAME && t !== RRType.RRSIG && t !== RRType.NSEC);
      if ((r.type === RRType.CNAME && (hasOther || atApex)) || (r.type !== RRType.CNAME && r.type !== RRType.RRSIG && r.type !== RRType.NSEC && hasCname)) {
        return err(Rcode.REFUSED, `${r.name}: a CNAME cannot share its name with other data (RFC 1034 §3.6.2)`);
      }
      if (r.type === RRType.CNAME) w.deleteRRset(r.name, RRType.CNAME); // §3.4.2.2: a CNAME replaces the CNAME
      w.add(rr);
    } else if (r.class === RRClass.ANY) {
      // §3.4.2.3: at the apex, SOA and NS are never deleted this way.
      if (r.type === RRType.ANY) w.deleteName(r.name, (t) => atApex && (t === RRType.SOA || t === RRType.NS));
      else if (!(atApex && (r.type === RRType.SOA || r.type === RRType.NS))) w.deleteRRset(r.name, r.type);
    } else {
      if (r.type === RRType.SOA) continue;
      // §3.4.2.4: the last apex NS stays.
      if (atApex && r.type === RRType.NS && w.rrset(r.name, RRType.NS).length <= 1) continue;
      w.deleteRR(r);
    }
  }
  if (!w.changed) return { rcode: Rcode.NOERROR, next: undefined };
  if (!soaFromUpdate) w.soa = { ...w.soa, data: { ...w.soa.data, serial: nextSerial(zone.serial, policy, nowSeconds) } };
  // The zone checks (src/zone/check.ts) on what changed: the touched names and the apex.
  const touched = w.touched();
  if (!w.names.has(zone.originKey)) touched.push(...w.rrset(zone.origin, RRType.NS));
  const report = checkZoneReport({ records: touched, sources: touched.map(() => ({ file: 'UPDATE', line: 0 })), warnings: [] }, zone.origin);
  if (report.errors.length > 0) return err(Rcode.REFUSED, `the zone would not be valid: ${report.errors[0]!.message}`);
  const { removed, added } = w.diff();
  return { rcode: Rcode.NOERROR, next: Zone.build(zone.origin, w.records()), diff: { from: zone.soa, to: w.soa, removed, added } };
}
