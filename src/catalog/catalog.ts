// The catalog zone (RFC 9432, producer side): every primary zone of the configuration as a member, built at each load.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { zoneSchema, type Config, type ZoneConfig } from '../config/schema.js';
import { nameKey, nameToWire, namesEqual } from '../wire/name.js';
import { RRClass, RRType, type ResourceRecord } from '../wire/types.js';
import type { CatalogConfig } from '../secondary/schema.js';

/** RFC 9432 §4.3.1: the catalog schema version this producer writes. */
export const CATALOG_VERSION = '2';

/**
 * A member's unique ID label (RFC 9432 §4.1: any label unique in the catalog, stable for the member).
 * SHA-1 of the member's lower-cased wire name, in hex, as Knot DNS and BIND make theirs.
 */
export function memberId(zone: string): string {
  return createHash('sha1').update(nameToWire(zone.toLowerCase())).digest('hex');
}

/** The zones a catalog lists: every primary zone (no `primaries:`), never the catalog itself. */
export function catalogMembers(config: Config): string[] {
  const cat = config.catalog?.zone;
  return config.zones.filter((z) => !z.primaries && !(cat && namesEqual(z.name, cat))).map((z) => z.name);
}

/**
 * The catalog's records (RFC 9432 §4): SOA and NS at the apex (the NS is "invalid.", §4.1: never
 * resolved), `version` TXT "2", and `<id>.zones` PTR for each member. TTL 0, as §4.1 suggests.
 */
export function catalogRecords(catalog: string, members: readonly string[], serial: number): ResourceRecord[] {
  const rr = (name: string, type: number, data: ResourceRecord['data']): ResourceRecord => ({ name, type, class: RRClass.IN, ttl: 0, data });
  const out: ResourceRecord[] = [
    rr(catalog, RRType.SOA, { mname: 'invalid.', rname: 'invalid.', serial: serial >>> 0, refresh: 60, retry: 60, expire: 2_419_200, minimum: 0 }),
    rr(catalog, RRType.NS, { target: 'invalid.' }),
    rr(`version.${catalog}`, RRType.TXT, { strings: [new TextEncoder().encode(CATALOG_VERSION)] }),
  ];
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(nameKey(m))) continue;
    seen.add(nameKey(m));
    out.push(rr(`${memberId(m)}.zones.${catalog}`, RRType.PTR, { target: m }));
  }
  return out;
}

/**
 * The catalog's serial: the configuration file's modification time in seconds (members change only
 * when the file does, so a reload after an edit raises it; every worker of `workers: N` computes the
 * same one). 1 when the configuration has no file (the demo, tests parsing text).
 */
export function catalogSerial(configFile: string): number {
  try {
    return Math.max(1, Math.floor(statSync(configFile).mtimeMs / 1000)) >>> 0;
  } catch {
    return 1;
  }
}

/**
 * The catalog as an entry of `zones:`, so the primary role serves it like any zone (allowTransfer,
 * notify, journal). Its `file` is never read: the records are built (catalogRecords); the journal goes beside it.
 */
export function catalogZoneEntry(c: CatalogConfig, baseDir: string): ZoneConfig {
  return zoneSchema.parse({
    name: c.zone,
    file: resolve(baseDir, `${c.zone}catalog`),
    ...(c.allowTransfer ? { allowTransfer: c.allowTransfer } : {}),
    notify: c.notify,
  });
}

export function isCatalogZone(config: Config, zc: ZoneConfig): boolean {
  return config.catalog !== undefined && namesEqual(config.catalog.zone, zc.name);
}
