// The few facts the DNSSEC serving step needs from a zone, so it depends on the zone store only through this.
import { nameKey } from '../../wire/name.js';
import type { ResourceRecord } from '../../wire/types.js';
import type { RRset, Zone } from '../../zone/tree.js';

export interface DnssecZoneView {
  /** The apex, absolute. */
  readonly origin: string;
  /** The name exists in the zone: it owns records or is an empty non-terminal (RFC 4592 §2.2.2). */
  exists(name: string): boolean;
  rrset(name: string, type: number): RRset | undefined;
  /** The name is a zone cut (NS below the apex). */
  isCut(name: string): boolean;
  /** Every record, once, for the index built at load. */
  records(): Iterable<ResourceRecord>;
}

/** The view of today's in-memory zone (src/zone/tree.ts). */
export function viewOfZone(zone: Zone): DnssecZoneView {
  const z = zone as Zone & { records?: () => Iterable<ResourceRecord> };
  return {
    origin: zone.origin,
    exists: (name) => zone.get(nameKey(name)) !== undefined,
    rrset: (name, type) => zone.get(nameKey(name))?.rrsets.get(type),
    isCut: (name) => zone.cuts.has(nameKey(name)),
    records:
      typeof z.records === 'function'
        ? () => z.records!()
        : function* () {
            for (const node of zone.nodes.values()) for (const set of node.rrsets.values()) yield* set.records;
          },
  };
}
