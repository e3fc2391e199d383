// The few facts the DNSSEC serving step needs from a zone, so it depends on the zone store only through this.
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

/**
 * The view of a compiled zone (src/zone/tree.ts): each question probes the hash index once and builds
 * at most the one RRset asked for (never a whole node: that decoded every RRSIG and NSEC at the name).
 */
export function viewOfZone(zone: Zone): DnssecZoneView {
  return {
    origin: zone.origin,
    exists: (name) => zone.has(name),
    rrset: (name, type) => zone.rrset(name, type),
    isCut: (name) => zone.isCut(name),
    records: () => zone.records(),
  };
}
