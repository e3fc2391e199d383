// Builds a complete Runtime from a validated configuration, or reports every problem and builds nothing.
import type { Runtime } from '../answer/runtime.js';
import type { Unit } from '../answer/unit.js';
import { completeRuntime, type ModuleSet } from '../answer/units.js';
import type { LoadedConfig } from '../config/load.js';
import type { Config, ZoneConfig } from '../config/schema.js';
import { compileZoneFile, type CompiledZoneFile } from '../zone/load.js';
import { zoneLoader, type LoadedZoneFile } from '../zone/loader.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { existsSync } from 'node:fs';
import { readCompiledZone, type CompiledZoneRefs } from '../control/compiled-file.js';
import { catalogDigest, catalogMembers, catalogRecords, catalogSerial, catalogSerialFor, catalogStatePath, isCatalogZone } from '../catalog/catalog.js';

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

/** The report of a zone that loaded. */
function reportOf(zc: ZoneConfig, r: { records: number; serial: number; warnings: string[] }): ZoneLoadReport {
  return { name: zc.name, file: zc.file, records: r.records, serial: r.serial, warnings: r.warnings };
}

type ZoneOutcome = { zone: Zone; report: ZoneLoadReport } | { problems: string[] };

function outcome(zc: ZoneConfig, r: LoadedZoneFile, unreadable: (e: { message: string; code?: string }) => string): ZoneOutcome {
  if (r.ok) return { zone: r.zone, report: reportOf(zc, r) };
  return { problems: 'problems' in r ? r.problems : [unreadable(r.unreadable)] };
}

const defaultUnreadable = (zc: ZoneConfig) => (e: { message: string }) => `${zc.file}: ${e.message}`;

/**
 * A zone compiled elsewhere (the primary of workers: N, for `ctl reload ZONE`), as loadOneZone would
 * give it: its arrays become the Zone in O(1).
 */
export function zoneFromCompiled(zc: ZoneConfig, r: CompiledZoneFile): ZoneOutcome {
  let loaded: LoadedZoneFile;
  try {
    loaded = r.ok ? withZone(r) : r;
  } catch (e) {
    loaded = { ok: false, problems: [`${zc.file}: ${(e as Error).message}`] };
  }
  return outcome(zc, loaded, defaultUnreadable(zc));
}

/** A compiled zone as a Zone (O(1)); it keeps the hash of the file's bytes compiled (the primary role's test). */
function withZone(r: Extract<CompiledZoneFile, { ok: true }>): LoadedZoneFile {
  const zone = Zone.fromBuffers(r.buffers);
  zone.fileHash = r.fileHash;
  return { ok: true, zone, records: r.records, serial: r.serial, warnings: r.warnings };
}

/** Parses, checks and compiles in this thread (the start, before anything is served). */
function loadHere(zc: ZoneConfig): LoadedZoneFile {
  const r = compileZoneFile(zc.name, zc.file, { zonemd: zc.zonemd });
  return r.ok ? withZone(r) : r;
}

/**
 * One zone from its master file, checked: the zone and its report, or the problems ("FILE:LINE:
 * message") when it cannot be served. `unreadable` words the error of a file that cannot be read.
 */
export function loadOneZone(zc: ZoneConfig, unreadable: (e: { message: string; code?: string }) => string = defaultUnreadable(zc)): ZoneOutcome {
  return outcome(zc, loadHere(zc), unreadable);
}

/** loadOneZone in the zone-loader thread: the serving thread only swaps the result in. */
export async function loadOneZoneOffThread(zc: ZoneConfig, unreadable: (e: { message: string; code?: string }) => string = defaultUnreadable(zc)): Promise<ZoneOutcome> {
  return outcome(zc, await zoneLoader.load(zc.name, zc.file, { zonemd: zc.zonemd }), unreadable);
}

/** A zone to load from its file, or one already built (the catalog zone). */
interface ZoneJob {
  i: number;
  zc: ZoneConfig;
  built?: LoadedZoneFile;
}

/**
 * The catalog zone (RFC 9432) of `config`, built: its serial follows its content (src/catalog); the digest
 * of its data stands in for a file's hash, so the primary role sees an unchanged catalog as unchanged.
 * `unknownSerial` is the serial when none is kept yet.
 */
export function catalogZone(config: Config, zc: ZoneConfig, unknownSerial: number): LoadedZoneFile {
  const members = catalogMembers(config);
  const digest = catalogDigest(zc.name, members);
  const { serial, warning } = catalogSerialFor(catalogStatePath(zc), digest, unknownSerial);
  const records = catalogRecords(zc.name, members, serial);
  const zone = Zone.build(zc.name, records);
  zone.fileHash = digest;
  return { ok: true, zone, records: records.length, serial: zone.serial, warnings: warning ? [warning] : [] };
}

/** The zones to load (each listed once), and the problem of each one listed twice. */
function zoneJobs(loaded: LoadedConfig): { jobs: ZoneJob[]; problems: string[] } {
  const problems: string[] = [];
  const jobs: ZoneJob[] = [];
  const seen = new Set<string>();
  loaded.config.zones.forEach((zc, i) => {
    const key = zc.name.toLowerCase();
    if (seen.has(key)) problems.push(`${loaded.file}: zones[${i}].name: zone ${zc.name} is listed twice`);
    else {
      seen.add(key);
      // The catalog zone (RFC 9432) is made from the configuration, here: it is small.
      if (isCatalogZone(loaded.config, zc)) return void jobs.push({ i, zc, built: catalogZone(loaded.config, zc, catalogSerial(loaded.file)) });
      // A secondary zone before its first transfer has no file yet: it is served once transferred (src/secondary).
      if (zc.primaries && !existsSync(zc.file)) return;
      jobs.push({ i, zc });
    }
  });
  return { jobs, problems };
}

/** The zone set from every job's result, or a LoadError with every problem. */
function assemble(loaded: LoadedConfig, jobs: ZoneJob[], results: LoadedZoneFile[], problems: string[]): { zones: ZoneSet; report: ZoneLoadReport[] } {
  const zones: Zone[] = [];
  const report: ZoneLoadReport[] = [];
  jobs.forEach(({ i, zc, built }, j) => {
    const r = outcome(zc, results[j]!, (e) => {
      // The file itself could not be read ($INCLUDE failures are ZoneErrors): blame the configuration line that named it.
      const line = loaded.lineOf?.(['zones', i, 'file']);
      const what = e.code === 'ENOENT' ? 'does not exist' : `cannot be read (${e.message})`;
      return `${loaded.file}${line ? `:${line}` : ''}: zones[${i}].file: zone file ${zc.file} of zone ${zc.name} ${what}`;
    });
    if ('problems' in r) problems.push(...r.problems);
    else {
      zones.push(r.zone);
      report.push(built ? { ...r.report, file: '(catalog)' } : r.report);
    }
  });
  if (problems.length > 0) throw new LoadError(problems);
  return { zones: new ZoneSet(zones), report };
}

/** Every zone of the configuration, loaded in this thread (the start, before anything is served). */
export function loadZones(loaded: LoadedConfig): { zones: ZoneSet; report: ZoneLoadReport[] } {
  const { jobs, problems } = zoneJobs(loaded);
  return assemble(loaded, jobs, jobs.map((j) => j.built ?? loadHere(j.zc)), problems);
}

/**
 * Every zone of the configuration, parsed and compiled in the zone-loader thread (a reload). A zone in
 * `compiled` (the primary of workers: N compiled it once for every worker) is read from the primary's
 * file instead when it is of the file configured here; an unreadable one is loaded here (`unreadable`
 * hears why). `compiledByPrimary` counts the zones taken from the primary.
 */
export async function loadZonesOffThread(
  loaded: LoadedConfig,
  compiled?: CompiledZoneRefs,
  unreadable?: (zone: string, err: string) => void,
): Promise<{ zones: ZoneSet; report: ZoneLoadReport[]; compiledByPrimary: number }> {
  const { jobs, problems } = zoneJobs(loaded);
  let compiledByPrimary = 0;
  const fromPrimary = (zc: ZoneConfig): LoadedZoneFile | undefined => {
    const ref = compiled?.[zc.name.toLowerCase()];
    if (ref === undefined || ref.file !== zc.file) return undefined;
    try {
      const r = readCompiledZone(ref.path);
      const z = r.ok ? withZone(r) : undefined;
      if (z !== undefined) compiledByPrimary++;
      return z;
    } catch (e) {
      unreadable?.(zc.name, (e as Error).message);
      return undefined;
    }
  };
  const results = await Promise.all(jobs.map((j) => j.built ?? fromPrimary(j.zc) ?? zoneLoader.load(j.zc.name, j.zc.file, { zonemd: j.zc.zonemd })));
  return { ...assemble(loaded, jobs, results, problems), compiledByPrimary };
}

/** buildRuntime with the zones loaded off the serving thread (see loadZonesOffThread for `compiled`). */
export async function buildRuntimeOffThread(
  loaded: LoadedConfig,
  generation: number,
  modules?: ModuleSet,
  onUnitError?: (unit: Unit, err: unknown) => void,
  compiled?: CompiledZoneRefs,
  unreadable?: (zone: string, err: string) => void,
): Promise<{ runtime: Runtime; report: ZoneLoadReport[]; compiledByPrimary: number }> {
  const { zones, report, compiledByPrimary } = await loadZonesOffThread(loaded, compiled, unreadable);
  if (!modules) return { runtime: completeRuntime({ config: loaded.config, zones, generation }), report, compiledByPrimary };
  const { authorities, chain } = modules.load(loaded, zones, onUnitError);
  return { runtime: { config: loaded.config, zones, generation, authorities, chain }, report, compiledByPrimary };
}

/**
 * The zones, then the load phase of the process's modules (answer/units.ts): the table of authorities
 * and the chain of the configured modules' hooks, every derived structure built now. Without `modules`
 * (`fluxdns explain`), the runtime has its table of authorities and no chain.
 */
export function buildRuntime(loaded: LoadedConfig, generation: number, modules?: ModuleSet, onUnitError?: (unit: Unit, err: unknown) => void): { runtime: Runtime; report: ZoneLoadReport[] } {
  const { zones, report } = loadZones(loaded);
  if (!modules) return { runtime: completeRuntime({ config: loaded.config, zones, generation }), report };
  const { authorities, chain } = modules.load(loaded, zones, onUnitError);
  return { runtime: { config: loaded.config, zones, generation, authorities, chain }, report };
}
