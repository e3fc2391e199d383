// Builds a complete Runtime from a validated configuration, or reports every problem and builds nothing.
import type { Runtime } from '../answer/runtime.js';
import type { LoadedConfig } from '../config/load.js';
import { checkZoneReport, formatZoneIssue } from '../zone/check.js';
import { loadZoneFile, ZoneError } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';

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
    try {
      const parsed = loadZoneFile(zc.file, zc.name);
      const { errors, warnings } = checkZoneReport(parsed, zc.name);
      if (errors.length > 0) {
        for (const is of errors) problems.push(formatZoneIssue(is));
        return;
      }
      const zone = Zone.build(zc.name, parsed.records);
      zones.push(zone);
      report.push({ name: zc.name, file: zc.file, records: parsed.records.length, serial: zone.serial, warnings: warnings.map(formatZoneIssue) });
    } catch (e) {
      if (e instanceof ZoneError) problems.push(e.message);
      else {
        // The file itself could not be read ($INCLUDE failures are ZoneErrors): blame the configuration line that named it.
        const line = loaded.lineOf?.(['zones', i, 'file']);
        const code = (e as NodeJS.ErrnoException).code;
        const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as Error).message})`;
        problems.push(`${loaded.file}${line ? `:${line}` : ''}: zones[${i}].file: zone file ${zc.file} of zone ${zc.name} ${what}`);
      }
    }
  });
  if (problems.length > 0) throw new LoadError(problems);
  return { zones: new ZoneSet(zones), report };
}

export function buildRuntime(loaded: LoadedConfig, generation: number): { runtime: Runtime; report: ZoneLoadReport[] } {
  const { zones, report } = loadZones(loaded);
  return { runtime: { config: loaded.config, zones, generation }, report };
}
