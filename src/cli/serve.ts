// fluxdns serve: the server, in one process or as N cluster workers sharing the same sockets.
import cluster, { type Worker } from 'node:cluster';
import { chownSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { DEMO_COMMANDS, demoCommands, demoConfig, PORT_OFFSET } from '../config/demo.js';
import { ConfigError, loadConfigFile, type LoadedConfig } from '../config/load.js';
import { demoGatewayBackend } from '../config/demo.js';
import { startControl, type ControlServer } from '../control/server.js';
import { CONTROL_IDLE_MS, WORKER_PROGRESS_MS, type ControlReply, type ControlRequest } from '../control/protocol.js';
import { startHelloBackend } from '../gateway/hello.js';
import { describeListeners, startGateway, type Gateway } from '../gateway/gateway.js';
import { createLogger, openLogFile, type LogFile, type Logger } from '../observe/log.js';
import { answerPrimary, collectMetrics, metricsTable, startMetricsListener, type MetricsListener } from '../observe/metrics/index.js';
import { observeAttackDefences, observeCapabilities, observeGateway } from '../observe/metrics/sources.js';
import { setupCapabilities, type CapabilitySetup } from '../capability/setup.js';
import { clusterHandler, processHandler, type StatsData } from '../server/control.js';
import { notifyReady } from '../server/notify.js';
import { dropKeepingBind, dropPrivileges, lookupUser } from '../server/privileges.js';
import { LoadError } from '../server/runtime-load.js';
import { startServer, type CompiledZoneRef, type CompiledZoneRefs, type RunningServer } from '../server/server.js';
import { writeCompiledZone } from '../control/compiled-file.js';
import { zoneLoader } from '../zone/loader.js';
import { isCatalogZone } from '../catalog/catalog.js';
import type { ZoneConfig } from '../config/schema.js';
import { loadOrReport, parseFlags, UsageError } from './args.js';
import { secondaryRows } from '../secondary/status.js';
import { Rcode } from '../wire/types.js';
import { fromBase64, isUpdateIpc, OWNER_ENV, ownsUpdates, UpdateCoordinator, WorkerUpdateLink, type UpdateIpc, type UpdatePeer } from '../update/cluster.js';
import { applySecondaryMessage, forwardNotifies, isSecondaryMessage, startSecondaryInPrimary, startSecondaryInProcess, type SecondaryMessage } from '../secondary/run.js';

export const SERVE_FLAGS = {
  config: { type: 'string', short: 'c', value: 'FILE', help: 'the configuration (YAML); without it, the built-in demo on 127.0.0.1:5353' },
  port: { type: 'string', short: 'p', value: 'N', help: 'move every listener to port N (DoT to N+1, DoH to N+2; the demo moves all its ports)' },
} as const;

type WorkerMessage =
  | { type: 'ready'; listeners: string[] }
  | { type: 'failed'; error: string }
  | { type: 'ctl-reply'; id: number; reply: ControlReply }
  /** The command `id` is still running here (every WORKER_PROGRESS_MS): the primary's timeout is on silence. */
  | { type: 'ctl-progress'; id: number }
  | Extract<SecondaryMessage, { type: 'secondary-notify' }>
  | UpdateIpc;
type PrimaryMessage =
  | 'reload' | 'stop' | 'reopen'
  | { type: 'ctl'; id: number; req: ControlRequest; compiled?: CompiledZoneRef; compiledZones?: CompiledZoneRefs }
  | SecondaryMessage
  | UpdateIpc;

export async function runServe(args: string[]): Promise<number> {
  const { values } = parseFlags(args, SERVE_FLAGS);
  const configFile = values.config;
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`--port: expected a port from 0 to 65535, found ${JSON.stringify(values.port)}`);
  // --port moves every listener to that port (like named -p), handy beside another server; DoT and
  // DoH go to the next ports up (PORT_OFFSET). The demo moves all its ports along (DEMO_PORTS).
  const source = (): LoadedConfig => {
    if (!configFile) return demoConfig(port);
    const l = loadConfigFile(configFile);
    if (port !== undefined) for (const x of l.config.listen) x.address = x.address.replace(/:\d+$/, `:${port + (PORT_OFFSET[x.proto] ?? 0)}`);
    return l;
  };
  const loaded = loadOrReport(source);
  if (!loaded) return 1;
  const c = loaded.config;
  let logFile: LogFile | undefined;
  try {
    if (c.user !== undefined) lookupUser(c.user); // an unknown user fails the start, before anything is bound
    if (c.log.file) logFile = openLogFile(c.log.file);
  } catch (e) {
    process.stderr.write(`${loaded.file}: ${(e as Error).message}\n`);
    return 1;
  }
  const logger = createLogger(c.log.level, logFile ? (l) => logFile!.write(l) : undefined);
  // logrotate moves the file, then sends SIGUSR1: the next line goes to a new file at the path.
  // (Having a handler also keeps Node from opening its inspector on SIGUSR1.)
  process.on('SIGUSR1', () => {
    if (!logFile) return;
    try {
      logFile.reopen();
      logger.info('log file reopened', { file: logFile.path });
    } catch (e) {
      process.stderr.write(`cannot reopen the log file ${logFile.path}: ${(e as Error).message}\n`);
    }
  });
  if (c.workers > 1 && cluster.isPrimary) return runPrimary(c.workers, configFile, loaded, logger, logFile, source);
  const fail = (msg: string) => {
    if (cluster.isWorker) process.send?.({ type: 'failed', error: msg } satisfies WorkerMessage);
    process.stderr.write(msg + '\n');
    if (logFile) logger.error(msg);
    return 1;
  };

  let server: RunningServer | undefined;
  // UPDATE with workers: N (src/update/cluster.ts): listening from the start, as a forwarded UPDATE's
  // verdict may come back before the rest of the start is done.
  const updateLink = cluster.isWorker ? new WorkerUpdateLink(ownsUpdates(true), (m) => process.send?.(m)) : undefined;
  if (updateLink) {
    process.on('message', (m: unknown) => {
      if (isUpdateIpc(m)) onUpdateMessage(m, updateLink, () => server, logger);
    });
    process.on('disconnect', () => updateLink.close());
  }
  // Capabilities (seed 000): leases granted by the DNS answers, enforced by the gateway below.
  let caps: CapabilitySetup;
  try {
    caps = await setupCapabilities(c, () => server?.engine.runtime.config ?? c, logger);
  } catch (e) {
    return fail(`cannot start capabilities: ${(e as Error).message}`);
  }
  try {
    server = await startServer({ loaded, source, logger, capabilities: caps.caps, updates: updateLink });
  } catch (e) {
    await caps.close();
    return fail(e instanceof LoadError || e instanceof ConfigError ? e.message : `cannot start: ${(e as Error).message}`);
  }
  // The data plane runs in the same process when the configuration has a gateway key.
  let gateway: Gateway | undefined;
  if (c.gateway) {
    try {
      // The demo's gateway needs something behind it; a real configuration names its own backends.
      // It believes a PROXY v2 header only on the gateway's own connections.
      if (configFile === undefined && cluster.isPrimary) {
        const hello = demoGatewayBackend(port);
        await startHelloBackend(hello.host, hello.port, (a, p) => gateway?.ownsConnection(a, p) ?? false);
      }
      gateway = await startGateway(c.gateway, { logger, hooks: caps.userspace?.hooks() });
      caps.userspace?.attach(gateway);
    } catch (e) {
      await Promise.all([server.close(), caps.close()]);
      return fail(`cannot start the gateway: ${(e as Error).message}`);
    }
  }
  // The metrics listener runs where the whole server's numbers meet: the primary of workers: N, else here.
  let metrics: MetricsListener | undefined;
  if (c.metrics) {
    observeCapabilities(caps.caps);
    observeAttackDefences();
    if (gateway) observeGateway(gateway);
  }
  if (cluster.isWorker) answerPrimary();
  else if (c.metrics) {
    try {
      metrics = await startMetricsListener(c.metrics, logger);
    } catch (e) {
      await Promise.all([server.close(), gateway?.close(), caps.close()]);
      return fail(`cannot start the metrics listener on ${c.metrics.listen}: ${(e as Error).message}`);
    }
  }
  await caps.caps.start();
  if (caps.admin) logger.info('capability admin API', { listen: `${caps.admin.address}:${caps.admin.port}` });
  const running = server;
  const where = server.listeners.map((l) => `${l.proto} ${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`);
  if (gateway) where.push(describeListeners(gateway.listeners));
  // The secondary role (zones with primaries): transfers run here, or in the primary of workers: N.
  const secondaries = cluster.isWorker ? undefined : startSecondaryInProcess(running, c, logger);
  if (cluster.isWorker) forwardNotifies((m) => process.send?.(m));
  const reload = async (compiled?: CompiledZoneRefs) => {
    const r = await running.reload(compiled);
    if (r.ok) secondaries?.configure(running.engine.runtime.config);
    const next = running.engine.runtime.config.gateway;
    if (r.ok && gateway && next) gateway.update(next);
    void caps.reload(r.ok ? running.engine.runtime.config : undefined);
    return r;
  };
  const handler = processHandler(
    {
      server: running,
      reload,
      listeners: () => where,
      admin: () => {
        const a = running.engine.runtime.config.capabilities.admin;
        return caps.admin && a ? { url: `http://${caps.admin.address}:${caps.admin.port}`, token: a.token } : undefined;
      },
      stats: statsTable,
    },
    loaded.file,
  );
  let control: ControlServer | undefined;
  if (cluster.isPrimary && c.control) {
    try {
      control = await startControl(c.control.socket, secondaryRows(handler, () => secondaries?.status() ?? [], () => running.engine.runtime.config));
    } catch (e) {
      await Promise.all([running.close(), gateway?.close(), caps.close(), metrics?.close()]);
      return fail(`cannot open the control socket: ${(e as Error).message}`);
    }
  }
  if (cluster.isPrimary && c.pidFile) writePidFile(c.pidFile, c.user);
  // Every listener is bound: give up root for good (the user: key).
  if (c.user !== undefined) {
    try {
      const a = dropPrivileges(c.user);
      logger.info('running as', { user: a.name, uid: a.uid, gid: a.gid, ...(a.threadsKeepingCaps !== undefined ? { threadsKeepingCaps: a.threadsKeepingCaps } : {}) });
    } catch (e) {
      await Promise.all([running.close(), gateway?.close(), caps.close(), control?.close(), metrics?.close()]);
      return fail((e as Error).message);
    }
  }
  process.on('SIGHUP', () => void reload());
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { reason: why, pid: process.pid });
    secondaries?.stop();
    void Promise.all([running.close(), gateway?.close(), caps.close(), control?.close(), metrics?.close()]).then(() => {
      if (cluster.isPrimary && c.pidFile) removePidFile(c.pidFile);
      logger.info('stopped', { pid: process.pid });
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (cluster.isWorker) {
    process.send?.({ type: 'ready', listeners: where } satisfies WorkerMessage);
    // The primary forwards signals as messages so a worker never outlives it.
    process.on('message', (m: PrimaryMessage) => {
      if (m === 'reload') void reload();
      else if (m === 'stop') stop('stopped by the primary');
      else if (m === 'reopen') process.emit('SIGUSR1', 'SIGUSR1');
      else if (isSecondaryMessage(m)) applySecondaryMessage(running, m, logger);
      else if (typeof m === 'object' && m.type === 'ctl') {
        const id = m.id;
        const progress = setInterval(() => process.send?.({ type: 'ctl-progress', id } satisfies WorkerMessage), WORKER_PROGRESS_MS);
        void handler(m.req, m.compiled, m.compiledZones)
          .then((reply) => process.send?.({ type: 'ctl-reply', id, reply } satisfies WorkerMessage))
          .finally(() => clearInterval(progress));
      }
    });
    process.on('disconnect', () => stop('the primary went away'));
    return -1;
  }
  announce(where, configFile === undefined, loaded, logger);
  return -1;
}

/** In a worker: an UPDATE message from the cluster primary (the owner applies; every worker catches up). */
function onUpdateMessage(m: UpdateIpc, link: WorkerUpdateLink, server: () => RunningServer | undefined, logger: Logger): void {
  const send = (r: UpdateIpc) => process.send?.(r);
  const s = server();
  if (m.type === 'update-done') link.settle(m.id, m.verdict);
  else if (m.type === 'update-apply') {
    let verdict;
    try {
      verdict = s ? s.applyForwardedUpdate(m.zone, fromBase64(m.raw), m.client) : { rcode: Rcode.SERVFAIL, reason: 'the owner of updates is still starting' };
    } catch (e) {
      logger.error('forwarded update failed', { zone: m.zone, err: (e as Error).message });
      verdict = { rcode: Rcode.SERVFAIL, reason: (e as Error).message };
    }
    send({ type: 'update-applied', id: m.id, zone: m.zone, verdict });
  } else if (m.type === 'update-sync') {
    let error: string | undefined;
    try {
      s?.catchUpWithJournal(m.zone);
    } catch (e) {
      error = (e as Error).message;
      logger.error('cannot catch up with the journal: this worker serves an older version', { zone: m.zone, err: error });
    }
    send({ type: 'update-synced', id: m.id, ...(error !== undefined ? { error } : {}) });
  }
}

/** `ctl stats`: the whole server's metrics (merged over workers by collectMetrics) as a table. */
async function statsTable(): Promise<StatsData> {
  const m = await collectMetrics();
  return { table: metricsTable(m.families), families: m.families };
}

function writePidFile(path: string, user: string | number | undefined): void {
  writeFileSync(path, `${process.pid}\n`, { mode: 0o644 });
  // After dropping root the process removes its own PID file (in a folder the user may write, e.g. /run/fluxdns).
  if (user !== undefined && process.getuid?.() === 0) {
    const a = lookupUser(user);
    chownSync(path, a.uid, a.gid);
  }
}

function removePidFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* a folder the dropped user cannot write: the next start overwrites it */
  }
}

/**
 * Readiness: the ready line on stdout, and under systemd (Type=notify, $NOTIFY_SOCKET) READY=1 sent
 * from this process (src/server/notify.ts).
 */
function announce(where: string[], demo: boolean, loaded: LoadedConfig, logger: Logger): void {
  process.stdout.write(`fluxdns ready: ${where.join(', ')}\n`);
  logger.info('ready', { listeners: where, pid: process.pid });
  notifyReady(`serving ${where.join(', ')}`, (r) => {
    if (r.error) logger.warn('readiness notification failed', { via: r.how, err: r.error });
  });
  if (demo) {
    const port = Number(/:(\d+)$/.exec(loaded.config.listen[0]!.address)![1]);
    const lines = demoCommands(port).map((c, i) => `  ${c}\n      # ${DEMO_COMMANDS[i]!.shows}`);
    process.stdout.write(`\nThe built-in demo is running. Try:\n${lines.join('\n')}\n\n`);
  }
}

async function runPrimary(n: number, configFile: string | undefined, loaded: LoadedConfig, logger: Logger, logFile: LogFile | undefined, source: () => LoadedConfig): Promise<number> {
  let metrics: MetricsListener | undefined;
  if (loaded.config.metrics) {
    try {
      metrics = await startMetricsListener(loaded.config.metrics, logger);
    } catch (e) {
      process.stderr.write(`cannot start the metrics listener on ${loaded.config.metrics.listen}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const code = await forkWorkers(n, configFile, loaded, logger, logFile, source);
  await metrics?.close();
  return code;
}

function forkWorkers(n: number, configFile: string | undefined, loaded: LoadedConfig, logger: Logger, logFile: LogFile | undefined, source: () => LoadedConfig): Promise<number> {
  const c = loaded.config;
  return new Promise((resolve) => {
    let ready = 0;
    let stopping = false;
    let where: string[] = [];
    let control: ControlServer | undefined;
    let nextId = 1;
    const pending = new Map<number, (r: ControlReply) => void>();
    /** Restarts the silence timer of a pending command (a worker's ctl-progress). */
    const stillRunning = new Map<number, () => void>();
    const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      // The zone loader's threads (a SIGHUP compiled the zones here once for every worker) would keep
      // the primary alive after its workers are gone.
      void Promise.all([control?.close(), zoneLoader.close()]).then(() => {
        if (c.pidFile) removePidFile(c.pidFile);
        if (code === 0) logger.info('stopped', { pid: process.pid });
        resolve(code);
      });
    };
    /**
     * Sends a control request to every worker and collects the replies. A worker reports progress while
     * it works (ctl-progress), so a large zone's reload is waited for; one silent for CONTROL_IDLE_MS is given up on.
     */
    const ask = (req: ControlRequest, compiled?: CompiledZoneRef, compiledZones?: CompiledZoneRefs): Promise<ControlReply[]> =>
      Promise.all(
        workers().map(
          (w) =>
            new Promise<ControlReply>((done) => {
              const id = nextId++;
              const giveUp = () => {
                pending.delete(id);
                stillRunning.delete(id);
                done({ ok: false, error: `worker ${w.process.pid} went ${CONTROL_IDLE_MS / 1000} s without answering or reporting progress` });
              };
              let timer = setTimeout(giveUp, CONTROL_IDLE_MS);
              stillRunning.set(id, () => {
                clearTimeout(timer);
                timer = setTimeout(giveUp, CONTROL_IDLE_MS);
              });
              pending.set(id, (r) => {
                clearTimeout(timer);
                pending.delete(id);
                stillRunning.delete(id);
                done(r);
              });
              w.send({ type: 'ctl', id, req, ...(compiled ? { compiled } : {}), ...(compiledZones ? { compiledZones } : {}) } satisfies PrimaryMessage);
            }),
        ),
      );
    /**
     * `ctl reload ZONE`: parsed, checked and compiled once, here in the zone-loader thread, and handed to
     * every worker as a file of the compiled arrays (src/control/compiled-file.ts) instead of each worker
     * reading and compiling the file. A zone that fails to compile goes to the workers as before, so the
     * error, the log line and the failure count are theirs, worded as always.
     */
    const askCompiled = async (req: ControlRequest): Promise<ControlReply[]> => {
      if (req.cmd === 'reload' && req.zone === undefined) return askReloadAll(req);
      if (req.cmd !== 'reload' || req.zone === undefined) return ask(req);
      const key = (req.zone.endsWith('.') ? req.zone : req.zone + '.').toLowerCase();
      let zc: ZoneConfig | undefined;
      try {
        const config = source().config;
        zc = config.zones.find((z) => z.name.toLowerCase() === key);
        if (zc && (isCatalogZone(config, zc) || !existsSync(zc.file))) zc = undefined;
      } catch {
        zc = undefined;
      }
      if (zc === undefined) return ask(req);
      let written: { path: string; remove: () => void } | undefined;
      try {
        const r = await zoneLoader.compile(zc.name, zc.file, { zonemd: zc.zonemd });
        if (r.ok) written = writeCompiledZone(r);
      } catch (e) {
        logger.warn('compiling the zone for the workers failed; each worker loads it', { zone: zc.name, err: (e as Error).message });
      }
      if (written === undefined) return ask(req);
      logger.info('zone compiled for the workers', { zone: zc.name, file: zc.file });
      try {
        return await ask(req, { file: zc.file, path: written.path });
      } finally {
        written.remove();
      }
    };
    /**
     * A whole reload (SIGHUP, `ctl reload`): every zone file of the new configuration compiled once, here
     * in the zone-loader thread, and handed to every worker as files of compiled arrays, as askCompiled
     * does for one zone. A zone that fails to compile here is left to the workers (their error, their log).
     */
    const askReloadAll = async (req: ControlRequest): Promise<ControlReply[]> => {
      let config;
      try {
        config = source().config;
      } catch {
        // The workers read the configuration too and report why it does not load.
        return ask(req);
      }
      const refs: CompiledZoneRefs = {};
      const written: { remove: () => void }[] = [];
      try {
        await Promise.all(
          config.zones.map(async (zc) => {
            if (isCatalogZone(config, zc) || !existsSync(zc.file)) return;
            try {
              const r = await zoneLoader.compile(zc.name, zc.file, { zonemd: zc.zonemd });
              if (!r.ok) return;
              const w = writeCompiledZone(r);
              written.push(w);
              refs[zc.name.toLowerCase()] = { file: zc.file, path: w.path };
            } catch (e) {
              logger.warn('compiling the zone for the workers failed; each worker loads it', { zone: zc.name, err: (e as Error).message });
            }
          }),
        );
        if (written.length > 0) logger.info('zones compiled for the workers', { zones: written.length });
        return await ask(req, undefined, written.length > 0 ? refs : undefined);
      } finally {
        for (const w of written) w.remove();
      }
    };
    const onReady = async () => {
      if (c.control) {
        try {
          control = await startControl(c.control.socket, secondaryRows(clusterHandler(askCompiled, n, loaded.file, statsTable), () => secondaries.status(), () => secondaryConfig));
        } catch (e) {
          process.stderr.write(`cannot open the control socket: ${(e as Error).message}\n`);
          stop('the control socket failed');
          return;
        }
      }
      if (c.pidFile) writePidFile(c.pidFile, c.user);
      // Every worker serves and the control socket is open: the primary gives up root too, keeping only
      // the right to bind low ports for a worker it has to start again.
      if (c.user !== undefined) {
        try {
          const { account: a, keptBind } = dropKeepingBind(c.user);
          logger.info('primary running as', { user: a.name, uid: a.uid, gid: a.gid, keeps: keptBind ? 'CAP_NET_BIND_SERVICE' : 'nothing' });
        } catch (e) {
          process.stderr.write(`${(e as Error).message}\n`);
          stop('cannot drop privileges');
          return;
        }
      }
      announce(where, configFile === undefined, loaded, logger);
    };
    // One worker owns UPDATEs and the journals (src/update/cluster.ts); the worker started after it dies takes over.
    let ownerId: number | undefined;
    const readyIds = new Set<number>();
    const peers = new Map<number, UpdatePeer>();
    /**
     * A worker as the coordinator sees it. Sent with a callback: a message to a worker that just died
     * is dropped (its exit settles what waited for it) instead of an 'error' event that would end the primary.
     */
    const peerOf = (w: Worker): UpdatePeer => {
      let p = peers.get(w.id);
      if (!p) {
        p = { id: w.id, send: (m: UpdateIpc) => w.isConnected() && w.send(m, undefined, undefined, () => {}) };
        peers.set(w.id, p);
      }
      return p;
    };
    const updates = new UpdateCoordinator({
      peers: () => workers().filter((w) => readyIds.has(w.id)).map(peerOf),
      owner: () => {
        const w = ownerId !== undefined && readyIds.has(ownerId) ? cluster.workers?.[ownerId] : undefined;
        return w ? peerOf(w) : undefined;
      },
      log: (level, msg, fields) => logger[level](msg, fields),
    });
    const fork = (owner: boolean) => {
      const w = cluster.fork(owner ? { [OWNER_ENV]: '1' } : {});
      if (owner) ownerId = w.id;
      w.on('message', (m: WorkerMessage) => {
        if (isUpdateIpc(m)) updates.onMessage(peerOf(w), m);
        else if (m.type === 'ready') {
          where = m.listeners;
          readyIds.add(w.id);
          updates.onReady(peerOf(w));
          // A worker that started while a transfer was being written may have missed its message.
          for (const msg of secondaries.catchUp()) w.send(msg);
          if (++ready === n) void onReady();
        } else if (m.type === 'ctl-reply') {
          pending.get(m.id)?.(m.reply);
        } else if (m.type === 'ctl-progress') {
          stillRunning.get(m.id)?.();
        } else if (m.type === 'secondary-notify') {
          secondaries.notify(m.zone);
        } else if (m.type === 'failed' && ready < n) {
          stopping = true;
          for (const x of workers()) x.kill();
          finish(1);
        }
      });
    };
    cluster.on('exit', (w, code, signal) => {
      if (stopping) {
        // cluster.workers keeps a worker until its channel is closed too, and 'disconnect' may come after
        // 'exit': counting the listed workers left the primary running for ever, its workers gone.
        if (workers().every((x) => x === w || x.isDead())) finish(ready >= n ? 0 : 1);
        return;
      }
      readyIds.delete(w.id);
      peers.delete(w.id);
      updates.onExit(w.id);
      logger.error('worker died; starting another', { pid: w.process.pid, code, signal, ownedUpdates: w.id === ownerId });
      fork(w.id === ownerId);
    });
    const broadcast = (msg: PrimaryMessage) => {
      for (const w of workers()) w.send(msg);
    };
    // Zone transfers run here, once for all workers; each new version is announced to every worker.
    const secondaries = startSecondaryInPrimary(c, logger, broadcast);
    let secondaryConfig = c;
    for (let i = 0; i < n; i++) fork(i === 0);
    process.on('SIGHUP', () => {
      // Compiled once here for every worker; each worker logs its own outcome.
      void askReloadAll({ cmd: 'reload' });
      try {
        secondaryConfig = source().config;
        secondaries.configure(secondaryConfig);
      } catch (e) {
        logger.error('secondary zones not reconfigured: the configuration does not load', { err: (e as Error).message });
      }
    });
    // The primary reopens its own log file (runServe's handler) and tells each worker to reopen theirs.
    process.on('SIGUSR1', () => {
      if (logFile) broadcast('reopen');
    });
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { reason: why, pid: process.pid, workers: workers().length });
      secondaries.stop();
      broadcast('stop');
      if (workers().length === 0) finish(0);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
