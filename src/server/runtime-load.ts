// Builds a complete Runtime from a validated configuration, or reports every problem and builds nothing.
import type { Runtime } from '../answer/runtime.js';
import type { LoadedConfig } from '../config/load.js';
import { checkZone } from '../zone/check.js';
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
      const issues = checkZone(parsed, zc.name);
      if (issues.length > 0) {
        for (const is of issues) problems.push(`${is.file}${is.line ? `:${is.line}` : ''}: ${is.message}`);
        return;
      }
      const zone = Zone.build(zc.name, parsed.records);
      zones.push(zone);
      report.push({ name: zc.name, file: zc.file, records: parsed.records.length, serial: zone.serial });
    } catch (e) {
      if (e instanceof ZoneError) problems.push(e.message);
      else problems.push(`${zc.file}: ${(e as Error).message}`);
    }
  });
  if (problems.length > 0) throw new LoadError(problems);
  return { zones: new ZoneSet(zones), report };
}

export function buildRuntime(loaded: LoadedConfig, generation: number): { runtime: Runtime; report: ZoneLoadReport[] } {
  const { zones, report } = loadZones(loaded);
  return { runtime: { config: loaded.config, zones, generation }, report };
}
