// The catalog zone (RFC 9432, producer side): every primary zone of the configuration as a member, built at each load.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { zoneSchema, type Config, type ZoneConfig } from '../config/schema.js';
import { nameKey, nameToWire, namesEqual } from '../wire/name.js';
import { RRClass, RRType, type ResourceRecord } from '../wire/types.js';
import type { CatalogConfig } from '../secondary/schema.js';
import { printZone } from '../zone/print.js';
import { serialAdd } from '../transfer/serial.js';

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
 * The serial of a catalog whose state is unknown (no state file yet): the configuration file's
 * modification time in seconds, what earlier versions used as the serial, so consumers are not set back;
 * 1 when the configuration has no file (the demo, tests parsing text).
 */
export function catalogSerial(configFile: string): number {
  try {
    return Math.max(1, Math.floor(statSync(configFile).mtimeMs / 1000)) >>> 0;
  } catch {
    return 1;
  }
}

/** The identity of the catalog's data: SHA-256 of its records in canonical order, the serial left out. */
export function catalogDigest(catalog: string, members: readonly string[]): string {
  return createHash('sha256').update(printZone(catalogRecords(catalog, members, 0)).join('\n')).digest('hex');
}

/** Where the catalog's serial and the digest of the data it stands for are kept: beside its journal. */
export function catalogStatePath(zc: ZoneConfig): string {
  return `${zc.file}.serial`;
}

/**
 * The catalog's serial follows its content (RFC 9432 §5: consumers see a change by the serial): the
 * kept serial while the data's digest is the kept one, one more when the data changed (the member list,
 * anything in the catalog); never down, a touch of the configuration changes nothing. Every worker of
 * `workers: N` reads the same state and computes the same serial; each writes the same state (temporary
 * file and rename). `unknown` is the serial when there is no state yet. A state that cannot be written
 * is a warning: the serial then comes from `unknown` again at the next start.
 */
export function catalogSerialFor(statePath: string, digest: string, unknown: number): { serial: number; warning?: string } {
  let state: { serial: number; digest: string } | undefined;
  try {
    const j = JSON.parse(readFileSync(statePath, 'utf8')) as { serial?: unknown; digest?: unknown };
    if (typeof j.serial === 'number' && Number.isInteger(j.serial) && j.serial >= 0 && j.serial <= 0xffffffff && typeof j.digest === 'string') state = { serial: j.serial, digest: j.digest };
  } catch {
    state = undefined;
  }
  if (state?.digest === digest) return { serial: state.serial };
  const serial = state ? serialAdd(state.serial, 1) : unknown >>> 0;
  try {
    const tmp = `${statePath}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ serial, digest }) + '\n', { mode: 0o640 });
    renameSync(tmp, statePath);
    return { serial };
  } catch (e) {
    return { serial, warning: `catalog serial state ${statePath} not written (${(e as Error).message}): the serial is not kept across restarts` };
  }
}

/**
 * The catalog as an entry of `zones:`, so the primary role serves it like any zone (allowTransfer,
 * notify, journal). Its `file` is never read: the records are built (catalogRecords); the journal, its
 * base and the serial state (catalogStatePath) go beside it.
 */
export function catalogZoneEntry(c: CatalogConfig, baseDir: string): ZoneConfig {
  return zoneSchema.parse({
    name: c.zone,
    file: resolve(baseDir, `${c.zone}catalog`),
    ...(c.allowTransfer ? { allowTransfer: c.allowTransfer } : {}),
    notify: c.notify,
    // A serial not above the served one (a lost state file) is raised by the primary role, never refused.
    serial: 'increment',
  });
}

export function isCatalogZone(config: Config, zc: ZoneConfig): boolean {
  return config.catalog !== undefined && namesEqual(config.catalog.zone, zc.name);
}
