// fluxdns serve: the server, in one process or as N cluster workers sharing the same sockets.
import cluster from 'node:cluster';
import { DEMO_COMMANDS, demoCommands, demoConfig, PORT_OFFSET } from '../config/demo.js';
import { ConfigError, loadConfigFile, type LoadedConfig } from '../config/load.js';
import { demoGatewayBackend } from '../config/demo.js';
import { startHelloBackend } from '../gateway/hello.js';
import { describeListeners, startGateway, type Gateway } from '../gateway/gateway.js';
import { createLogger } from '../observe/log.js';
import { answerPrimary, startMetricsListener, type MetricsListener } from '../observe/metrics/index.js';
import { observeCapabilities, observeGateway } from '../observe/metrics/sources.js';
import { setupCapabilities, type CapabilitySetup } from '../capability/setup.js';
import { LoadError } from '../server/runtime-load.js';
import { startServer, type RunningServer } from '../server/server.js';
import { loadOrReport, parseFlags, UsageError } from './args.js';

type WorkerMessage = { type: 'ready'; listeners: string[] } | { type: 'failed'; error: string };

export async function runServe(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' } });
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
  const logger = createLogger(loaded.config.log.level);
  const workers = loaded.config.workers;
  if (workers > 1 && cluster.isPrimary) return runPrimary(workers, configFile, loaded, logger);

  let server: RunningServer | undefined;
  // Capabilities (seed 000): leases granted by the DNS answers, enforced by the gateway below.
  let caps: CapabilitySetup;
  try {
    caps = await setupCapabilities(loaded.config, () => server?.engine.runtime.config ?? loaded.config, logger);
  } catch (e) {
    const msg = `cannot start capabilities: ${(e as Error).message}`;
    if (cluster.isWorker) process.send?.({ type: 'failed', error: msg } satisfies WorkerMessage);
    process.stderr.write(msg + '\n');
    return 1;
  }
  try {
    server = await startServer({ loaded, source, logger, capabilities: caps.caps });
  } catch (e) {
    await caps.close();
    const msg = e instanceof LoadError || e instanceof ConfigError ? e.message : `cannot start: ${(e as Error).message}`;
    if (cluster.isWorker) process.send?.({ type: 'failed', error: msg } satisfies WorkerMessage);
    process.stderr.write(msg + '\n');
    return 1;
  }
  // The data plane runs in the same process when the configuration has a gateway key.
  let gateway: Gateway | undefined;
  if (loaded.config.gateway) {
    try {
      // The demo's gateway needs something behind it; a real configuration names its own backends.
      if (configFile === undefined && cluster.isPrimary) {
        const hello = demoGatewayBackend(port);
        await startHelloBackend(hello.host, hello.port);
      }
      gateway = await startGateway(loaded.config.gateway, { logger, hooks: caps.userspace?.hooks() });
      caps.userspace?.attach(gateway);
    } catch (e) {
      await Promise.all([server.close(), caps.close()]);
      const msg = `cannot start the gateway: ${(e as Error).message}`;
      if (cluster.isWorker) process.send?.({ type: 'failed', error: msg } satisfies WorkerMessage);
      process.stderr.write(msg + '\n');
      return 1;
    }
  }
  // The metrics listener runs where the whole server's numbers meet: the primary of workers: N, else here.
  let metrics: MetricsListener | undefined;
  if (loaded.config.metrics) {
    observeCapabilities(caps.caps);
    if (gateway) observeGateway(gateway);
  }
  if (cluster.isWorker) answerPrimary();
  else if (loaded.config.metrics) {
    try {
      metrics = await startMetricsListener(loaded.config.metrics, logger);
    } catch (e) {
      await Promise.all([server.close(), gateway?.close(), caps.close()]);
      process.stderr.write(`cannot start the metrics listener on ${loaded.config.metrics.listen}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  await caps.caps.start();
  if (caps.admin) logger.info('capability admin API', { listen: `${caps.admin.address}:${caps.admin.port}` });
  const running = server;
  const where = server.listeners.map((l) => `${l.proto} ${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`);
  if (gateway) where.push(describeListeners(gateway.listeners));
  const reload = () => {
    const r = running.reload();
    const next = running.engine.runtime.config.gateway;
    if (r.ok && gateway && next) gateway.update(next);
    void caps.reload(r.ok ? running.engine.runtime.config : undefined);
  };
  process.on('SIGHUP', reload);
  const stop = () => {
    void Promise.all([running.close(), gateway?.close(), caps.close(), metrics?.close()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (cluster.isWorker) {
    process.send?.({ type: 'ready', listeners: where } satisfies WorkerMessage);
    // The primary forwards signals as messages so a worker never outlives it.
    process.on('message', (m: unknown) => {
      if (m === 'reload') reload();
      if (m === 'stop') stop();
    });
    process.on('disconnect', stop);
    return -1;
  }
  announce(where, configFile === undefined, loaded);
  return -1;
}

function announce(where: string[], demo: boolean, loaded: LoadedConfig): void {
  process.stdout.write(`fluxdns ready: ${where.join(', ')}\n`);
  if (demo) {
    const port = Number(/:(\d+)$/.exec(loaded.config.listen[0]!.address)![1]);
    const lines = demoCommands(port).map((c, i) => `  ${c}\n      # ${DEMO_COMMANDS[i]!.shows}`);
    process.stdout.write(`\nThe built-in demo is running. Try:\n${lines.join('\n')}\n\n`);
  }
}

async function runPrimary(n: number, configFile: string | undefined, loaded: LoadedConfig, logger: ReturnType<typeof createLogger>): Promise<number> {
  let metrics: MetricsListener | undefined;
  if (loaded.config.metrics) {
    try {
      metrics = await startMetricsListener(loaded.config.metrics, logger);
    } catch (e) {
      process.stderr.write(`cannot start the metrics listener on ${loaded.config.metrics.listen}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const code = await forkWorkers(n, configFile, loaded, logger);
  await metrics?.close();
  return code;
}

function forkWorkers(n: number, configFile: string | undefined, loaded: LoadedConfig, logger: ReturnType<typeof createLogger>): Promise<number> {
  return new Promise((resolve) => {
    let ready = 0;
    let stopping = false;
    let where: string[] = [];
    const fork = () => {
      const w = cluster.fork();
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          where = m.listeners;
          if (++ready === n) announce(where, configFile === undefined, loaded);
        } else if (m.type === 'failed' && ready < n) {
          stopping = true;
          for (const x of Object.values(cluster.workers ?? {})) x?.kill();
          resolve(1);
        }
      });
    };
    cluster.on('exit', (w, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(0);
        return;
      }
      logger.error('worker died; starting another', { pid: w.process.pid, code, signal });
      fork();
    });
    for (let i = 0; i < n; i++) fork();
    const broadcast = (msg: string) => {
      for (const w of Object.values(cluster.workers ?? {})) w?.send(msg);
    };
    process.on('SIGHUP', () => broadcast('reload'));
    const stop = () => {
      stopping = true;
      broadcast('stop');
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
