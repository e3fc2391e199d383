// What a serving process answers on the control socket, and how the primary of `workers: N` asks
// every worker and merges their answers (a zone reload must reach each process that serves it).
import type { ControlHandler, ControlReply, ControlRequest } from '../control/protocol.js';
import { VERSION } from '../version.js';
import type { CompiledZoneRef, CompiledZoneRefs, ReloadResult, RunningServer, ZoneStatus } from './server.js';

export interface ProcessControl {
  server: RunningServer;
  /**
   * Reloads everything the way SIGHUP does (zones, configuration, the gateway's table); `compiled`:
   * zones the primary of workers: N compiled once for every worker.
   */
  reload(compiled?: CompiledZoneRefs): Promise<ReloadResult>;
  /** "udp 127.0.0.1:53", … as in the ready line. */
  listeners(): string[];
  /** The capability admin API's address and token, when the configuration has one. */
  admin(): { url: string; token: string } | undefined;
  /** `ctl stats`: the metrics as a table (and as data for --json). */
  stats(): Promise<StatsData>;
}

export interface StatusData {
  version: string;
  pid: number;
  uptime: number;
  workers: number;
  config: string;
  generation: number;
  listeners: string[];
  zones: { name: string; serial: number }[];
}

export interface StatsData {
  table: string;
  families: unknown[];
}

export interface ReloadData {
  zone?: string;
  /** Processes that reloaded (1, or each worker). */
  processes: number;
  zones: { name: string; serial: number; records: number }[];
  restartNeeded: string[];
  /** Zones that keep their served version: the new one was refused (serial not raised …), with the reason. */
  refused?: string[];
}

const started = Date.now();

function reloadReply(r: ReloadResult, zone: string | undefined): ControlReply {
  if (!r.ok) return { ok: false, error: r.error.message };
  const data: ReloadData = { zone, processes: 1, zones: r.report.map((z) => ({ name: z.name, serial: z.serial, records: z.records })), restartNeeded: r.restartNeeded, refused: r.refused };
  return { ok: true, data };
}

/** The handler of one serving process (the only one, or a worker asked by the primary). */
export function processHandler(p: ProcessControl, configFile: string): (req: ControlRequest, compiled?: CompiledZoneRef, compiledZones?: CompiledZoneRefs) => Promise<ControlReply> {
  // `compiled` (one zone) and `compiledZones` (a whole reload) come only from the primary over the
  // cluster channel, never from the control socket.
  return async (req: ControlRequest, compiled?: CompiledZoneRef, compiledZones?: CompiledZoneRefs): Promise<ControlReply> => {
    const s = p.server;
    switch (req.cmd) {
      case 'status': {
        const rt = s.engine.runtime;
        const data: StatusData = {
          version: VERSION,
          pid: process.pid,
          uptime: Math.floor((Date.now() - started) / 1000),
          workers: rt.config.workers,
          config: configFile,
          generation: rt.generation,
          listeners: p.listeners(),
          zones: s.zoneStatus().map((z) => ({ name: z.name, serial: z.serial })),
        };
        return { ok: true, data };
      }
      case 'reload':
        return reloadReply(await (req.zone === undefined ? p.reload(compiledZones) : s.reloadZone(req.zone, compiled)), req.zone);
      case 'zone-status': {
        const zones = s.zoneStatus();
        if (req.zone === undefined) return { ok: true, data: { zones } };
        const key = (req.zone.endsWith('.') ? req.zone : req.zone + '.').toLowerCase();
        const z = zones.filter((x) => x.name.toLowerCase() === key);
        if (z.length === 0) return { ok: false, error: `${key}: no such zone (serving ${zones.map((x) => x.name).join(', ') || 'none'})` };
        return { ok: true, data: { zones: z } };
      }
      case 'zone-flush':
        try {
          return { ok: true, data: { zone: req.zone, ...s.flushZone(req.zone) } };
        } catch (e) {
          return { ok: false, error: (e as Error).message };
        }
      case 'cache-flush':
        try {
          return { ok: true, data: { name: req.name, removed: s.flushCache(req.name) } };
        } catch (e) {
          return { ok: false, error: `${req.name}: ${(e as Error).message}` };
        }
      case 'stats':
        return { ok: true, data: await p.stats() };
      case 'admin': {
        const a = p.admin();
        return a ? { ok: true, data: a } : { ok: false, error: 'this server has no capability admin API (capabilities.admin)' };
      }
    }
  };
}

/**
 * The primary's handler with `workers: N`: every request goes to each worker; replies are merged.
 * A reload is done when every worker did it; any worker's error is the caller's error.
 */
export function clusterHandler(ask: (req: ControlRequest) => Promise<ControlReply[]>, workers: number, configFile: string, stats: () => Promise<StatsData>): ControlHandler {
  return async (req) => {
    // The metrics are merged over the workers by the metrics module itself (it asks them).
    if (req.cmd === 'stats') return { ok: true, data: await stats() };
    const replies = await ask(req);
    if (replies.length === 0) return { ok: false, error: 'no worker is running' };
    const failed = replies.filter((r): r is Extract<ControlReply, { ok: false }> => !r.ok);
    if (failed.length > 0) {
      const errors = [...new Set(failed.map((f) => f.error))];
      const partial = failed.length < replies.length ? ` (in ${failed.length} of ${replies.length} workers; the others did it)` : '';
      return { ok: false, error: errors.join('\n') + partial };
    }
    const data = replies.map((r) => (r as { data: unknown }).data);
    switch (req.cmd) {
      case 'status': {
        const first = data[0] as StatusData;
        return { ok: true, data: { ...first, pid: process.pid, uptime: Math.floor((Date.now() - started) / 1000), workers, config: configFile, workerPids: (data as StatusData[]).map((d) => d.pid) } };
      }
      case 'reload':
        return { ok: true, data: { ...(data[0] as ReloadData), processes: replies.length } };
      case 'cache-flush': {
        const first = data[0] as { name?: string };
        return { ok: true, data: { name: first.name, removed: (data as { removed: number }[]).reduce((n, d) => n + d.removed, 0) } };
      }
      default:
        return { ok: true, data: data[0] };
    }
  };
}

export type { ZoneStatus };
