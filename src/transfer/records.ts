// Every record of a zone in transfer order (apex SOA first), through the zone's public entry points only.
import { RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import type { Zone } from '../zone/tree.js';
import { nameKey } from '../wire/name.js';

/** The compiled zone of issue #11 offers `records()`; until then the node map is walked. */
type WithRecords = { records?: () => Iterable<ResourceRecord> };

/** Every record once except the apex SOA, which a transfer sends first and last itself (RFC 5936 §2.2). */
export function* recordsButSoa(zone: Zone): Generator<ResourceRecord> {
  const own = (zone as unknown as WithRecords).records;
  if (typeof own === 'function') {
    for (const rr of own.call(zone)) if (rr.type !== RRType.SOA || nameKey(rr.name) !== zone.originKey) yield rr;
    return;
  }
  const apex = zone.get(zone.originKey);
  for (const [type, set] of apex?.rrsets ?? []) if (type !== RRType.SOA) yield* set.records;
  for (const [key, node] of zone.nodes) {
    if (key === zone.originKey) continue;
    for (const set of node.rrsets.values()) yield* set.records;
  }
}

/** Every record, the apex SOA first. */
export function* allRecords(zone: Zone): Generator<ResourceRecord> {
  yield zone.soa as ResourceRecord<SOARdata>;
  yield* recordsButSoa(zone);
}
