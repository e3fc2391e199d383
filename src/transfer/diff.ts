// The difference between two versions of a zone, and a version rebuilt from another plus a difference.
import { nameKey } from '../wire/name.js';
import { RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { foldedRdataKey as rdataKey } from './rdata-key.js';
import { Zone } from '../zone/tree.js';
import { recordsButSoa } from './records.js';
import type { ZoneDiff } from './unit.js';

/** Equal for two records exactly when they are the same record (owner and names inside compared without case, RFC 4343). */
export function recordKey(rr: ResourceRecord): string {
  return `${nameKey(rr.name)}\u0000${rr.type}\u0000${rr.class}\u0000${rr.ttl}\u0000${rdataKey(rr)}`;
}

function keyed(zone: Zone): Map<string, ResourceRecord> {
  const m = new Map<string, ResourceRecord>();
  for (const rr of recordsButSoa(zone)) m.set(recordKey(rr), rr);
  return m;
}

/** What went and what came from `before` to `after`, apex SOAs apart (a changed TTL is a removal and an addition, RFC 1995 §4). */
export function diffRecords(before: Zone, after: Zone): { removed: ResourceRecord[]; added: ResourceRecord[] } {
  const a = keyed(before);
  const removed: ResourceRecord[] = [];
  const added: ResourceRecord[] = [];
  for (const rr of recordsButSoa(after)) {
    const k = recordKey(rr);
    if (a.has(k)) a.delete(k);
    else added.push(rr);
  }
  for (const rr of a.values()) removed.push(rr);
  return { removed, added };
}

/** True when the two versions hold the same records apart from the SOA serial. */
export function sameData(before: Zone, after: Zone): boolean {
  const s1 = before.soa.data;
  const s2 = after.soa.data;
  const soaSame = before.soa.ttl === after.soa.ttl && nameKey(s1.mname) === nameKey(s2.mname) && nameKey(s1.rname) === nameKey(s2.rname) && s1.refresh === s2.refresh && s1.retry === s2.retry && s1.expire === s2.expire && s1.minimum === s2.minimum;
  if (!soaSame || before.recordCount !== after.recordCount) return false;
  const d = diffRecords(before, after);
  return d.removed.length === 0 && d.added.length === 0;
}

/** The same SOA with another serial. */
export function withSerial(soa: ResourceRecord<SOARdata>, serial: number): ResourceRecord<SOARdata> {
  return { ...soa, data: { ...soa.data, serial } };
}

/** `zone` with its SOA replaced (a new serial). */
export function rebuildWithSoa(zone: Zone, soa: ResourceRecord<SOARdata>): Zone {
  return Zone.build(zone.origin, [soa, ...recordsButSoa(zone)]);
}

/**
 * The version `d` leads to from `zone`: its records minus the removed plus the added, the SOA `d.to`.
 * Removing what is absent and adding what is present change nothing, so replaying a difference over a
 * zone file that already holds it is harmless.
 */
export function applyDiff(zone: Zone, d: ZoneDiff): Zone {
  const m = keyed(zone);
  for (const rr of d.removed) m.delete(recordKey(rr));
  for (const rr of d.added) m.set(recordKey(rr), rr);
  return Zone.build(zone.origin, [d.to, ...m.values()]);
}

/** A difference from `before` to `after` (whose SOAs must differ in serial). */
export function zoneDiff(before: Zone, after: Zone): ZoneDiff {
  const { removed, added } = diffRecords(before, after);
  return { from: before.soa, to: after.soa, removed, added };
}

export const isApexSoa = (zone: Zone, rr: ResourceRecord): boolean => rr.type === RRType.SOA && nameKey(rr.name) === zone.originKey;
