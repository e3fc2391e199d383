// One serving process: loads the runtime, binds the listeners, reloads on SIGHUP, stops on SIGTERM.
import type { SecondaryStatus } from '../secondary/manager.js';
import { Engine } from '../answer/engine.js';
import { ModuleSet } from '../answer/units.js';
import { serverAnswerCache } from '../modules/cache/index.js';
import type { LoadedConfig } from '../config/load.js';
import type { Config, ZoneConfig } from '../config/schema.js';
import type { Capabilities } from '../capability/core.js';
import { parseHostPort } from '../config/schema.js';
import { attackCounters } from '../observe/attack-counters.js';
import type { Logger } from '../observe/log.js';
import { counterBy, observed, provideExtra } from '../observe/metrics/index.js';
import { gcExposed, startMemoryRelief } from './memory-relief.js';
import { LATENCY_SAMPLE, QueryMetrics, TOP_WATCH_MS } from '../observe/metrics/queries.js';
import { DnstapOutput } from '../observe/dnstap/output.js';
import { queryLog } from '../observe/querylog.js';
import type { QueryObserver } from '../answer/engine.js';
import { ConnectionGate, realTimers } from '../transport/conn.js';
import { planProcessDescriptors } from './descriptors.js';
import { listenHttps } from '../transport/https.js';
import { streamLimitsOf } from '../transport/limits.js';
import { listenTcp } from '../transport/tcp.js';
import { listenTls, type EncryptedListener } from '../transport/tls.js';
import { listenUdpAuto } from '../transport/udp-batch.js';
import { nameKey, nameToWire, parseName } from '../wire/name.js';
import { ZoneSet, type Zone } from '../zone/tree.js';
import { readCompiledZone, type CompiledZoneRef, type CompiledZoneRefs } from '../control/compiled-file.js';
import { buildRuntime, buildRuntimeOffThread, catalogZone, loadOneZoneOffThread, zoneFromCompiled, type ZoneLoadReport } from './runtime-load.js';
import { isCatalogZone } from '../catalog/catalog.js';
import cluster from 'node:cluster';
import { lookupUser } from './privileges.js';
import { Primary } from '../transfer/primary.js';
import { updateService, type UpdateLink } from '../update/handler.js';
import { ownsUpdates, type UpdateVerdict } from '../update/cluster.js';

const reloads = counterBy('fluxdns_reloads_total', 'Configuration and zone reloads, by result', ['result']);
reloads.add(0, 'success');
reloads.add(0, 'failure');

export interface Listener {
  proto: 'udp' | 'tcp' | 'tls' | 'https';
  address: string;
  port: number;
  close(): Promise<void>;
}

/** A zone being served, for `fluxdns ctl zone status`. */
export interface ZoneStatus extends ZoneLoadReport {
  /** Where its data comes from: "file" (a master file under zones:) or "secondary" (transferred from its primaries). */
  source: 'file' | 'secondary';
  /** A secondary zone's state (src/secondary/status.ts adds it). */
  secondary?: SecondaryStatus;
  /** When this process loaded it (ISO 8601). */
  loadedAt: string;
}

export type ReloadResult =
  | { ok: true; report: ZoneLoadReport[]; generation: number; restartNeeded: string[]; /** Zones whose new version the primary role refused (each keeps serving the old one), with the reason. */ refused: string[] }
  | { ok: false; error: Error };

export type { CompiledZoneRef, CompiledZoneRefs } from '../control/compiled-file.js';

export interface RunningServer {
  readonly engine: Engine;
  readonly listeners: readonly Listener[];
  /**
   * Re-reads the configuration file (if any) and its zones; keeps the old data when anything fails.
   * The zones are parsed and compiled in the zone-loader thread (src/zone/loader.ts): the serving
   * thread only swaps the result in. Reloads run one after the other. `compiled`: zones the primary
   * of workers: N compiled for every worker (used where the file is the one configured here).
   */
  reload(compiled?: CompiledZoneRefs): Promise<ReloadResult>;
  /**
   * Re-reads one zone's master file (the file the configuration in force names) and swaps it in
   * alone; every other zone and the configuration stay. On any error the old zone keeps serving.
   */
  /** `compiled`: the zone as the primary of workers: N compiled it (used when it is of the same file). */
  reloadZone(name: string, compiled?: CompiledZoneRef): Promise<ReloadResult>;
  /** Swaps a zone built elsewhere (a secondary's transfer) into the live set, replacing the zone of that origin. */
  installZone(zone: Zone, report: ZoneLoadReport): void;
  /** Stops serving a zone (a secondary zone past its SOA expire); false when it was not served. */
  dropZone(name: string): boolean;
  zoneStatus(): ZoneStatus[];
  /** Writes the served version of zone NAME to its file (`fluxdns zone flush NAME`); comments are lost. */
  flushZone(name: string): { file: string; serial: number };
  /** Puts one new version of a zone into service (an UPDATE), leaving every other zone as it is. */
  swapZone(zone: Zone): void;
  /** In the owner of updates (workers: N): applies an UPDATE another worker received and forwarded. */
  applyForwardedUpdate(zone: string, raw: Uint8Array, client: string): UpdateVerdict;
  /**
   * In a worker that does not own updates: brings zone NAME (every zone when absent) up to the last
   * version its journal holds, as the owner wrote it. Throws when the journal does not continue from the served serial.
   */
  catchUpWithJournal(name?: string): void;
  /** Empties the answer cache, or drops NAME and the names below it; returns how many entries went. */
  flushCache(name?: string): number;
  close(): Promise<void>;
}

/**
 * What a reload from `before` to `after` cannot apply while running: sockets are bound and
 * processes forked at start. Each entry names the key and the change.
 */
export function restartNeeded(before: Config, after: Config): string[] {
  const key = (l: Config['listen'][number]) => `${l.proto} ${l.address}`;
  const was = new Set(before.listen.map(key));
  const now = new Set(after.listen.map(key));
  const out: string[] = [];
  for (const l of now) if (!was.has(l)) out.push(`listen: ${l} added`);
  for (const l of was) if (!now.has(l)) out.push(`listen: ${l} removed`);
  if (before.workers !== after.workers) out.push(`workers: ${before.workers} -> ${after.workers}`);
  if (JSON.stringify(before.udp) !== JSON.stringify(after.udp)) out.push('udp: batching settings changed');
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (!same(before.gateway?.listeners, after.gateway?.listeners) || !same(before.gateway?.bind, after.gateway?.bind)) out.push('gateway.listeners: changed');
  if (!same(before.capabilities.admin?.listen, after.capabilities.admin?.listen)) out.push('capabilities.admin.listen: changed');
  for (const k of ['control', 'user', 'pidFile'] as const) if (!same(before[k], after[k])) out.push(`${k}: changed`);
  if (!same(before.log.file, after.log.file)) out.push('log.file: changed');
  for (const k of ['metrics', 'dnstap'] as const) if (!same(before[k], after[k])) out.push(`${k}: changed`);
  if (!same(before.log.queries, after.log.queries)) out.push('log.queries: changed');
  return out;
}

export interface ServeOptions {
  /** The configuration already read for this start. */
  loaded: LoadedConfig;
  /** Reads the configuration again for reload() (the file, or the built-in demo). */
  source: () => LoadedConfig;
  logger: Logger;
  /** The capability core the DNS answers grant leases from (shared with the gateway and the admin API). */
  capabilities?: Capabilities;
  /** With workers: N: this worker's way to the owner of updates (src/update/cluster.ts). */
  updates?: UpdateLink;
}

/** One line per zone, then each warning it loaded despite (occluded data, missing glue …) with its file and line. */
function logZoneReport(logger: Logger, report: ZoneLoadReport[]): void {
  for (const { warnings, ...z } of report) {
    logger.info('zone loaded', { ...z, warnings: warnings.length });
    for (const w of warnings) logger.warn('zone warning', { zone: z.name, warning: w });
  }
}

/** Serial and records of a served zone's version (none without a zone). */
function servedNow(z: Zone | undefined): { serial: number; records: number } | undefined {
  return z && { serial: z.serial, records: z.store.b.rrCount };
}

/**
 * The report of what serves after a reload: each zone's serial and records are those of the version
 * served (a policy may have raised the serial; UPDATEs not yet in the file add to it). A zone whose new
 * version the primary role refused keeps its line from before, and `fresh` leaves it out (it was not
 * loaded: no "zone loaded" line, its load time stays).
 */
function servedReport(loaded: readonly ZoneLoadReport[], previous: readonly ZoneLoadReport[], served: ZoneSet, refused: ReadonlySet<string>): { report: ZoneLoadReport[]; fresh: ZoneLoadReport[] } {
  const report: ZoneLoadReport[] = [];
  const fresh: ZoneLoadReport[] = [];
  for (const r of loaded) {
    const z = Primary.zoneNamed(served, r.name);
    const kept = z && refused.has(z.originKey) ? previous.find((p) => p.name.toLowerCase() === r.name.toLowerCase()) : undefined;
    const line = { ...(kept ?? r), ...servedNow(z) };
    report.push(line);
    if (!kept) fresh.push(line);
  }
  return { report, fresh };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { logger } = opts;
  let generation = 1;
  const cache = serverAnswerCache();
  const onUnitError = (unit: { name: string }, err: unknown) => logger.error('pipeline unit failed', { unit: unit.name, err });
  // The primary role (src/transfer): journals replayed over the zone files, NOTIFY, serial checks on reload.
  // With workers: N, one worker (the owner of updates, forked with OWNER_ENV; its replacement after a crash
  // too) writes journals, applies UPDATEs and sends NOTIFY; the others read the journals.
  const primary = new Primary({ logger, writer: opts.updates?.owner ?? ownsUpdates(cluster.isWorker) });
  // The modules of this process: their state outlives reloads; each configuration is loaded into them.
  /** One new version of one zone into service (an UPDATE); every other zone stays as it is. */
  const swapZone = (zone: Zone) => {
    const rt = engine.runtime;
    generation++;
    engine.swap({ ...rt, zones: new ZoneSet([...rt.zones.zones.filter((z) => z.originKey !== zone.originKey), zone]), generation });
  };
  // Called only once queries flow, after the engine below exists.
  const updates = updateService({ primary, current: () => engine.runtime, swap: swapZone, log: (level, m, f) => logger[level](m, f), cluster: opts.updates });
  const modules = new ModuleSet({ capabilities: opts.capabilities, warn: (m, f) => logger.warn(m, f), answerCache: cache, xfr: { audit: (level, m, f) => logger[level](m, f), diffs: primary, update: updates.handle } });
  const built = buildRuntime(opts.loaded, generation, modules, onUnitError);
  const report = built.report;
  const runtime = { ...built.runtime, zones: primary.start(built.runtime.zones, built.runtime.config) };
  logZoneReport(logger, report);
  const loadedAt = new Map<string, string>();
  const stamp = (reports: readonly ZoneLoadReport[]) => {
    const t = new Date().toISOString();
    for (const z of reports) loadedAt.set(z.name.toLowerCase(), t);
  };
  stamp(report);
  let reports = report;
  const engine = new Engine(runtime, [], {
    onUnitError,
    onEncodeError: (err) => logger.error('response encoding failed', { err }),
  });
  // Per-query observers, chosen at start: metrics, dnstap, the sampled query log (a reload does not add or remove them).
  const observers: QueryObserver[] = [];
  if (runtime.config.metrics) observers.push(observeQueries(engine));
  const dnstap = runtime.config.dnstap ? new DnstapOutput(runtime.config.dnstap, logger) : undefined;
  if (dnstap) observers.push(dnstap.observe);
  const sample = runtime.config.log.queries?.sample;
  if (sample !== undefined) observers.push(queryLog(sample, logger));
  engine.observer = combine(observers);
  // Metrics alone fold the UDP addon's replays in by answer cell; dnstap and the query log need every query.
  engine.replay.setObserver(observers.length > 0, dnstap === undefined && sample === undefined);
  // Metrics alone time one query in LATENCY_SAMPLE; dnstap and the query log print every query's times.
  engine.timeEvery = dnstap || sample !== undefined ? 1 : LATENCY_SAMPLE;
  const netError = (err: Error) => logger.warn('socket error', { err: err.message });
  // One gate for every stream listener: the connection limits hold per process, across TCP, DoT and DoH.
  // The descriptor budget (issue 16): DNS listeners and their connections are reserved first; what is
  // left goes to the gateway's flows, so a flow flood cannot take the descriptors TCP DNS needs.
  const fds = planProcessDescriptors({ listeners: runtime.config.listen.length, tcpMaxConnections: runtime.config.limits.tcpMaxConnections, gateway: runtime.config.gateway });
  if (fds.fresh) {
    logger.info('descriptor budget', { limit: fds.limit, hard: fds.nofile.hard, raised: fds.nofile.how, reserve: fds.reserve, tcpMaxConnections: fds.streamConnections, gateway: fds.gateway });
    for (const w of fds.warnings) logger.warn(w);
  }
  const streamLimits = () => {
    const l = streamLimitsOf(engine.runtime.config);
    return l.maxConnections > fds.streamConnections ? { ...l, maxConnections: fds.streamConnections } : l;
  };
  const gate = new ConnectionGate(streamLimits, realTimers, (e) =>
    logger.warn(e.event === 'evicted' ? 'connection table full: evicted the least recently active connection of the largest holder' : 'new connections refused: prefix over tcpAcceptRatePerPrefix', { ...e }),
  );
  attackCounters.stream = gate.counters;
  // After an attack that grew memory (a DoH stream attack, a flood of malformed input), collect and trim once it is over.
  // Only while idle: no connection arriving, few open, the event loop almost unused (src/server/memory-relief.ts).
  const relief = startMemoryRelief({ arrived: () => gate.counters.arrived, open: () => gate.connections }, (r) =>
    logger.info('memory relief', { ...r, ms: Math.round(r.ms), longestStepMs: Math.round(r.longestStepMs) }),
  );
  // Info, not a warning: the relief still trims malloc, and tests start the sources without the flag.
  if (fds.fresh && !gcExposed()) logger.info('memory relief without garbage collection: node was started without --expose-gc (the fluxdns command, npm start and contrib/fluxdns.service pass it; or set NODE_OPTIONS=--expose-gc)');
  const encrypted: EncryptedListener[] = [];

  const listeners: Listener[] = [];
  // Workers started as root that drop to `user:` bind their SO_REUSEPORT sockets as that user's: a
  // worker the primary (no longer root) starts again later is that user and must join the same group.
  const user = runtime.config.user;
  const reuseOwner = runtime.config.workers > 1 && user !== undefined && process.getuid?.() === 0 ? lookupUser(user).uid : undefined;
  try {
    for (const l of runtime.config.listen) {
      const { host, port } = parseHostPort(l.address)!;
      if (l.proto === 'udp') {
        const u = await listenUdpAuto(engine, host, port, {
          udp: runtime.config.udp,
          reusePort: runtime.config.workers > 1,
          socketOwner: reuseOwner,
          onError: netError,
          onMode: (mode, detail) => logger.info('UDP transport', { mode, detail }),
        });
        listeners.push({ proto: 'udp', address: u.address, port: u.port, close: u.close });
      } else if (l.proto === 'tcp') {
        const t = await listenTcp(engine, host, port, gate, netError);
        listeners.push({ proto: 'tcp', address: t.address, port: t.port, close: t.close });
      } else {
        const files = { cert: l.cert!, key: l.key! };
        const t = await (l.proto === 'tls' ? listenTls : listenHttps)(engine, host, port, files, gate, netError);
        encrypted.push(t);
        listeners.push({ proto: l.proto, address: t.address, port: t.port, close: t.close });
      }
    }
  } catch (e) {
    await Promise.all(listeners.map((l) => l.close()));
    throw e;
  }

  // Reloads run one after the other: a second SIGHUP during a reload waits for the first.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = (f: () => Promise<ReloadResult>): Promise<ReloadResult> => {
    const next = queue.then(f, f);
    queue = next;
    return next;
  };

  const reloadAll = async (compiled?: CompiledZoneRefs): Promise<ReloadResult> => {
    try {
      const loaded = opts.source();
      // Parsed and compiled in the zone-loader thread (or once for every worker, by the primary of
      // workers: N: `compiled`): queries keep being answered meanwhile.
      const next = await buildRuntimeOffThread(loaded, generation + 1, modules, onUnitError, compiled, (zone, err) =>
        logger.warn('the primary\'s compiled zone is unreadable; loading the file here', { zone, err }),
      );
      const restart = restartNeeded(engine.runtime.config, loaded.config);
      if (restart.length > 0) logger.warn('these changes take effect on restart; the rest is reloaded', { restartNeeded: restart });
      // A zone whose data changed without a raised serial keeps its served version (logged there).
      const { zones, errors: refused, refused: refusedZones } = primary.reconcile(engine.runtime.zones, next.runtime.zones, loaded.config);
      generation++;
      engine.swap({ ...next.runtime, zones });
      // Renewed certificates take effect on reload; a bad one keeps the old one serving.
      for (const t of encrypted) {
        try {
          t.reloadCertificate();
        } catch (e) {
          logger.error('certificate reload failed; keeping the previous one', { err: (e as Error).message });
        }
      }
      logger.setLevel(loaded.config.log.level);
      const served = servedReport(next.report, reports, zones, refusedZones);
      logZoneReport(logger, served.fresh);
      stamp(served.fresh);
      reports = served.report;
      logger.info('reloaded', { generation, compiledByPrimary: next.compiledByPrimary });
      reloads.inc('success');
      return { ok: true, report: served.report, generation, restartNeeded: restart, refused };
    } catch (e) {
      reloads.inc('failure');
      logger.error('reload failed; still serving the previous configuration and zones', { errors: (e as Error).message.split('\n') });
      return { ok: false, error: e as Error };
    }
  };

  /** The primary's compiled zone, or undefined (then this process loads the file itself) when it cannot be read. */
  const readCompiled = (zc: ZoneConfig, path: string) => {
    try {
      return zoneFromCompiled(zc, readCompiledZone(path));
    } catch (e) {
      logger.warn('the primary\'s compiled zone is unreadable; loading the file here', { zone: zc.name, err: (e as Error).message });
      return undefined;
    }
  };
  const reloadOne = async (name: string, compiled?: CompiledZoneRef): Promise<ReloadResult> => {
    let key: string;
    try {
      key = parseName(name.endsWith('.') ? name : name + '.').toLowerCase();
    } catch (e) {
      return { ok: false, error: new Error(`${name}: not a domain name: ${(e as Error).message}`) };
    }
    const config = engine.runtime.config;
    const zc = config.zones.find((z) => z.name.toLowerCase() === key);
    if (!zc) return { ok: false, error: new Error(`${key}: no such zone in the configuration (zones: ${config.zones.map((z) => z.name).join(', ') || 'none'})`) };
    let r;
    let compiledBy: 'primary' | 'here' | 'catalog' = 'here';
    try {
      if (isCatalogZone(config, zc)) {
        // The catalog has no file: it is built again from the configuration in service (members change
        // with a configuration reload, SIGHUP or `ctl reload`); its serial moves only if its data did.
        compiledBy = 'catalog';
        const served = engine.runtime.zones.find(zc.name);
        const built = catalogZone(config, zc, served?.originKey === key ? served.serial : 1);
        r = built.ok ? { zone: built.zone, report: { name: zc.name, file: '(catalog)', records: built.records, serial: built.serial, warnings: built.warnings } } : { problems: [`${zc.name}: the catalog cannot be built`] };
      } else {
        // Compiled once by the primary for every worker (src/control/compiled-file.ts), unless the
        // configuration here names another file (a reload the primary has not seen yet).
        r = compiled !== undefined && compiled.file === zc.file ? readCompiled(zc, compiled.path) : undefined;
        if (r !== undefined) compiledBy = 'primary';
        else r = await loadOneZoneOffThread(zc);
      }
    } catch (e) {
      r = { problems: [(e as Error).message] };
    }
    if ('problems' in r) {
      reloads.inc('failure');
      logger.error('zone reload failed; still serving the previous zone', { zone: zc.name, errors: r.problems });
      return { ok: false, error: new Error(r.problems.join('\n')) };
    }
    // The runtime in force now (not when the load began): only this zone changes.
    const current = engine.runtime;
    const checked = primary.reconcile(current.zones, current.zones.with(r.zone), current.config, r.zone.originKey);
    if (checked.errors.length > 0) {
      reloads.inc('failure');
      return { ok: false, error: new Error(checked.errors.join('\n')) };
    }
    generation++;
    // One swap: a query sees either the old zone set or the new one, never a mix.
    engine.swap({ ...current, zones: checked.zones, generation });
    stamp([r.report]);
    reports = [...reports.filter((z) => z.name.toLowerCase() !== key), r.report];
    logZoneReport(logger, [r.report]);
    logger.info('zone reloaded', { zone: zc.name, generation, compiledBy });
    reloads.inc('success');
    return { ok: true, report: [r.report], generation, restartNeeded: [], refused: [] };
  };

  return {
    engine,
    listeners,
    reload(compiled) {
      return serially(() => reloadAll(compiled));
    },
    reloadZone(name, compiled) {
      return serially(() => reloadOne(name, compiled));
    },
    installZone(zone, report) {
      const current = engine.runtime;
      const zones = current.zones.zones.filter((z) => z.originKey !== zone.originKey);
      // Through the primary role too: the new serial is journaled (IXFR out) and notified, as a reload's would be.
      const checked = primary.reconcile(current.zones, new ZoneSet([...zones, zone]), current.config, zone.originKey);
      if (checked.errors.length > 0) {
        logger.error('transferred zone not installed; still serving the previous version', { zone: zone.origin, errors: checked.errors });
        return;
      }
      generation++;
      engine.swap({ config: current.config, zones: checked.zones, generation });
      stamp([report]);
      reports = [...reports.filter((z) => z.name.toLowerCase() !== zone.originKey), report];
    },
    dropZone(name) {
      const current = engine.runtime;
      const key = name.toLowerCase();
      const zones = current.zones.zones.filter((z) => z.originKey !== key);
      if (zones.length === current.zones.size) return false;
      generation++;
      engine.swap({ config: current.config, zones: new ZoneSet(zones), generation });
      reports = reports.filter((z) => z.name.toLowerCase() !== key);
      return true;
    },
    zoneStatus() {
      const order = engine.runtime.config.zones.map((z) => z.name.toLowerCase());
      // Serial and records of the version served now: a journal replayed at start, UPDATEs and a worker's
      // catch-up move it past what the file load reported.
      return [...reports]
        .sort((a, b) => order.indexOf(a.name.toLowerCase()) - order.indexOf(b.name.toLowerCase()))
        .map((z) => ({ ...z, ...servedNow(Primary.zoneNamed(engine.runtime.zones, z.name)), source: 'file' as const, loadedAt: loadedAt.get(z.name.toLowerCase()) ?? '' }));
    },
    flushCache(name) {
      // The addon's mirror of cache hits forgets with the cache (all of it: it is not kept by name).
      engine.replay.reset();
      if (name === undefined) return cache.flush();
      return cache.flush(nameToWire(parseName(name.endsWith('.') ? name : name + '.')));
    },
    flushZone(name) {
      const z = Primary.zoneNamed(engine.runtime.zones, name);
      if (!z) throw new Error(`${name}: no such zone served (zones: ${engine.runtime.zones.zones.map((x) => x.origin).join(', ') || 'none'})`);
      return { file: primary.flush(z, engine.runtime.config), serial: z.serial };
    },
    swapZone,
    applyForwardedUpdate: updates.applyForwarded,
    catchUpWithJournal(name) {
      const key = name === undefined ? undefined : nameKey(name);
      const problems: string[] = [];
      for (const z of engine.runtime.zones.zones) {
        if (key !== undefined && z.originKey !== key) continue;
        try {
          const next = primary.catchUp(z);
          if (next !== z) {
            swapZone(next);
            logger.info('caught up with the journal', { zone: z.origin, from: z.serial, to: next.serial });
          }
        } catch (e) {
          problems.push(`${z.origin}: ${(e as Error).message}`);
        }
      }
      if (problems.length > 0) throw new Error(problems.join('; '));
    },
    async close() {
      await Promise.all(listeners.map((l) => l.close()));
      // Clean shutdown: zones changed by UPDATE are written back to their files (src/transfer/primary.ts).
      primary.close(engine.runtime.zones, engine.runtime.config);
      await dnstap?.close();
    },
  };
}

/** Counts every query the engine answers (metrics: key) and exports the zones' serials. */
function observeQueries(engine: Engine): QueryObserver {
  const m = new QueryMetrics();
  m.register();
  observed('fluxdns_zone_serial', 'SOA serial of each loaded zone', 'gauge', ['zone'], () => engine.runtime.zones.zones.map((z) => [[z.origin], z.serial]), 'max');
  provideExtra('top', () => {
    // The top lists need each query's name and client: replays by the UDP addon stop while they fill.
    engine.replay.hold();
    setTimeout(() => engine.replay.release(), TOP_WATCH_MS).unref();
    return m.watchTop();
  });
  return (ctx, reply, seconds) => m.record(ctx, reply, seconds);
}

function combine(observers: readonly QueryObserver[]): QueryObserver | undefined {
  if (observers.length <= 1) return observers[0];
  return (ctx, reply, seconds) => {
    for (const o of observers) o(ctx, reply, seconds);
  };
}
