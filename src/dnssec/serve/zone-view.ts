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
  /** Nodes of the zone's store by number (what LookupResult.closestNode names): how many, a node's parent, its name. */
  readonly nodeCount: number;
  nodeParent(n: number): number;
  nodeText(n: number): string;
  /** Writes node `n`'s name in canonical wire form (lower case, uncompressed) at out[at...]; returns where it ends. */
  nodeWire(n: number, out: Uint8Array, at: number): number;
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
    nodeCount: zone.store.b.nodeCount,
    nodeParent: (n) => zone.store.b.nodeParent[n]!,
    nodeText: (n) => zone.store.nodeText(n),
    nodeWire: (n, out, at) => {
      const names = zone.store.b.names;
      let p = zone.store.b.nodeName[n]!;
      // The arena holds the name uncompressed, case as written.
      for (;;) {
        const len = names[p]!;
        out[at++] = len;
        if (len === 0) return at;
        for (let k = 1; k <= len; k++) {
          const c = names[p + k]!;
          out[at++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
        }
        p += len + 1;
      }
    },
  };
}
