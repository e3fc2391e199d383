// Builds a complete Runtime from a validated configuration, or reports every problem and builds nothing.
import type { Runtime } from '../answer/runtime.js';
import type { LoadedConfig } from '../config/load.js';
import type { ZoneConfig } from '../config/schema.js';
import { checkZoneReport, formatZoneIssue } from '../zone/check.js';
import { loadZoneFile, ZoneError } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { verifyZonemd, withZonemd, zonemdHashCode } from '../zone/zonemd.js';
import { existsSync } from 'node:fs';
import { catalogMembers, catalogRecords, catalogSerial, isCatalogZone } from '../catalog/catalog.js';

export class LoadError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'LoadError';
  }
}

export interface ZoneLoadReport {
  name: string;
  file: string;
  records: number;
  serial: number;
  /** What the zone loaded despite ("FILE:LINE: message"): occluded data, out-of-zone data, missing glue … */
  warnings: string[];
}

/**
 * One zone from its master file, checked: the zone and its report, or the problems ("FILE:LINE:
 * message") when it cannot be served. `unreadable` words the error of a file that cannot be read.
 */
export function loadOneZone(zc: ZoneConfig, unreadable: (e: Error) => string = (e) => `${zc.file}: ${e.message}`): { zone: Zone; report: ZoneLoadReport } | { problems: string[] } {
  try {
    const parsed = loadZoneFile(zc.file, zc.name);
    const { errors, warnings } = checkZoneReport(parsed, zc.name);
    if (errors.length > 0) return { problems: errors.map(formatZoneIssue) };
    // RFC 8976 §4: a zone whose ZONEMD does not verify is not served (the old version keeps serving on reload).
    const zonemd = verifyZonemd(zc.name, parsed.records);
    if (zonemd.status === 'invalid') return { problems: [`${zc.file}: ${zonemd.reason}`] };
    // zonemd: sha384|sha512 on a primary zone: the digest is computed at every load (RFC 8976 §3).
    if (zc.zonemd) parsed.records = withZonemd(zc.name, parsed.records, zonemdHashCode(zc.zonemd));
    const zone = Zone.build(zc.name, parsed.records);
    return { zone, report: { name: zc.name, file: zc.file, records: parsed.records.length, serial: zone.serial, warnings: warnings.map(formatZoneIssue) } };
  } catch (e) {
    return { problems: [e instanceof ZoneError ? e.message : unreadable(e as Error)] };
  }
}

export function loadZones(loaded: LoadedConfig): { zones: ZoneSet; report: ZoneLoadReport[] } {
  const problems: string[] = [];
  const zones: Zone[] = [];
  const report: ZoneLoadReport[] = [];
  const seen = new Set<string>();
  loaded.config.zones.forEach((zc, i) => {
    const key = zc.name.toLowerCase();
    if (seen.has(key)) {
      problems.push(`${loaded.file}: zones[${i}].name: zone ${zc.name} is listed twice`);
      return;
    }
    seen.add(key);
    if (isCatalogZone(loaded.config, zc)) {
      const records = catalogRecords(zc.name, catalogMembers(loaded.config), catalogSerial(loaded.file));
      const zone = Zone.build(zc.name, records);
      zones.push(zone);
      report.push({ name: zc.name, file: '(catalog)', records: records.length, serial: zone.serial, warnings: [] });
      return;
    }
    // A secondary zone before its first transfer has no file yet: it is served once transferred (src/secondary).
    if (zc.primaries && !existsSync(zc.file)) return;
    const r = loadOneZone(zc, (e) => {
      // The file itself could not be read ($INCLUDE failures are ZoneErrors): blame the configuration line that named it.
      const line = loaded.lineOf?.(['zones', i, 'file']);
      const code = (e as NodeJS.ErrnoException).code;
      const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${e.message})`;
      return `${loaded.file}${line ? `:${line}` : ''}: zones[${i}].file: zone file ${zc.file} of zone ${zc.name} ${what}`;
    });
    if ('problems' in r) problems.push(...r.problems);
    else {
      zones.push(r.zone);
      report.push(r.report);
    }
  });
  if (problems.length > 0) throw new LoadError(problems);
  return { zones: new ZoneSet(zones), report };
}

export function buildRuntime(loaded: LoadedConfig, generation: number): { runtime: Runtime; report: ZoneLoadReport[] } {
  const { zones, report } = loadZones(loaded);
  return { runtime: { config: loaded.config, zones, generation }, report };
}
