// One serving process: loads the runtime, binds the listeners, reloads on SIGHUP, stops on SIGTERM.
import { Engine } from '../answer/engine.js';
import { createUnits } from '../answer/units.js';
import type { LoadedConfig } from '../config/load.js';
import type { Capabilities } from '../capability/core.js';
import { parseHostPort } from '../config/schema.js';
import { attackCounters } from '../observe/attack-counters.js';
import type { Logger } from '../observe/log.js';
import { counterBy, observed, provideExtra } from '../observe/metrics/index.js';
import { QueryMetrics } from '../observe/metrics/queries.js';
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
import { buildRuntime, type ZoneLoadReport } from './runtime-load.js';

const reloads = counterBy('fluxdns_reloads_total', 'Configuration and zone reloads, by result', ['result']);
reloads.add(0, 'success');
reloads.add(0, 'failure');

export interface Listener {
  proto: 'udp' | 'tcp' | 'tls' | 'https';
  address: string;
  port: number;
  close(): Promise<void>;
}

export interface RunningServer {
  readonly engine: Engine;
  readonly listeners: readonly Listener[];
  /** Re-reads the configuration file (if any) and its zones; keeps the old data when anything fails. */
  reload(): { ok: true; report: ZoneLoadReport[] } | { ok: false; error: Error };
  close(): Promise<void>;
}

export interface ServeOptions {
  /** The configuration already read for this start. */
  loaded: LoadedConfig;
  /** Reads the configuration again for reload() (the file, or the built-in demo). */
  source: () => LoadedConfig;
  logger: Logger;
  /** The capability core the DNS answers grant leases from (shared with the gateway and the admin API). */
  capabilities?: Capabilities;
}

/** One line per zone, then each warning it loaded despite (occluded data, missing glue …) with its file and line. */
function logZoneReport(logger: Logger, report: ZoneLoadReport[]): void {
  for (const { warnings, ...z } of report) {
    logger.info('zone loaded', { ...z, warnings: warnings.length });
    for (const w of warnings) logger.warn('zone warning', { zone: z.name, warning: w });
  }
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { logger } = opts;
  let generation = 1;
  const { runtime, report } = buildRuntime(opts.loaded, generation);
  logZoneReport(logger, report);
  const engine = new Engine(runtime, createUnits(undefined, { capabilities: opts.capabilities }), {
    onUnitError: (unit, err) => logger.error('pipeline unit failed', { unit: unit.name, err }),
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
  const encrypted: EncryptedListener[] = [];

  const listeners: Listener[] = [];
  try {
    for (const l of runtime.config.listen) {
      const { host, port } = parseHostPort(l.address)!;
      if (l.proto === 'udp') {
        const u = await listenUdpAuto(engine, host, port, {
          udp: runtime.config.udp,
          reusePort: runtime.config.workers > 1,
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

  return {
    engine,
    listeners,
    reload() {
      try {
        const loaded = opts.source();
        const next = buildRuntime(loaded, generation + 1);
        const was = engine.runtime.config;
        if (JSON.stringify([loaded.config.metrics, loaded.config.dnstap, loaded.config.log.queries]) !== JSON.stringify([was.metrics, was.dnstap, was.log.queries])) {
          logger.warn('metrics, dnstap and log.queries changes take effect on restart');
        }
        if (JSON.stringify(loaded.config.listen) !== JSON.stringify(engine.runtime.config.listen) || loaded.config.workers !== engine.runtime.config.workers) {
          logger.warn('listen and workers changes take effect on restart');
        }
        generation++;
        engine.swap(next.runtime);
        // Renewed certificates take effect on reload; a bad one keeps the old one serving.
        for (const t of encrypted) {
          try {
            t.reloadCertificate();
          } catch (e) {
            logger.error('certificate reload failed; keeping the previous one', { err: (e as Error).message });
          }
        }
        logger.setLevel(loaded.config.log.level);
        logZoneReport(logger, next.report);
        logger.info('reloaded', { generation });
        reloads.inc('success');
        return { ok: true, report: next.report };
      } catch (e) {
        reloads.inc('failure');
        logger.error('reload failed; still serving the previous configuration and zones', { errors: (e as Error).message.split('\n') });
        return { ok: false, error: e as Error };
      }
    },
    async close() {
      await Promise.all(listeners.map((l) => l.close()));
      await dnstap?.close();
    },
  };
}

/** Counts every query the engine answers (metrics: key) and exports the zones' serials. */
function observeQueries(engine: Engine): QueryObserver {
  const m = new QueryMetrics();
  m.register();
  observed('fluxdns_zone_serial', 'SOA serial of each loaded zone', 'gauge', ['zone'], () => engine.runtime.zones.zones.map((z) => [[z.origin], z.serial]), 'max');
  provideExtra('topNames', () => m.topNames.entries());
  provideExtra('topClients', () => m.topClients.entries());
  return (ctx, reply, seconds) => m.record(ctx, reply, seconds);
}

function combine(observers: readonly QueryObserver[]): QueryObserver | undefined {
  if (observers.length <= 1) return observers[0];
  return (ctx, reply, seconds) => {
    for (const o of observers) o(ctx, reply, seconds);
  };
}
