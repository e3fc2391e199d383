// Starts redis-server (and redis-sentinel) for tests: a free loopback port, its own temporary folder,
// stopped (or killed with -9) by PID; a restart reuses the folder, so AOF persistence can be checked.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { startProcess, type Proc } from './proc.js';

export interface RedisOptions {
  /** appendonly yes with appendfsync always: every acknowledged write is on disk (default true). */
  aof?: boolean;
  /** Start as a replica of this port on 127.0.0.1. */
  replicaOf?: number;
}

export interface RunningRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly proc: Proc;
  /** SIGTERM (redis-server saves and exits). */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same folder (its AOF). */
  restart(): Promise<void>;
}

function waitReady(proc: Proc, what: RegExp): Promise<void> {
  return proc.waitFor(what, 20_000, 'stdout');
}

export async function startRedis(opts: RedisOptions = {}): Promise<RunningRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-redis-'));
  const conf = join(dir, 'redis.conf');
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    'save ""',
    `appendonly ${opts.aof === false ? 'no' : 'yes'}`,
    'appendfsync always',
    'daemonize no',
    'protected-mode no',
    'loglevel notice',
    // Sentinel rewrites the configuration of the instances it reconfigures.
    'replica-announce-ip 127.0.0.1',
  ];
  if (opts.replicaOf !== undefined) lines.push(`replicaof 127.0.0.1 ${opts.replicaOf}`);
  writeFileSync(conf, lines.join('\n') + '\n');
  let proc!: Proc;
  const start = async () => {
    proc = startProcess('redis-server', [conf], { name: `redis:${port}`, cwd: dir });
    await waitReady(proc, /Ready to accept connections/);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get proc() {
      return proc;
    },
    async stop() {
      await proc.stop();
    },
    async kill() {
      if (!proc.running) return;
      process.kill(proc.pid, 'SIGKILL');
      await proc.exited;
    },
    async restart() {
      await start();
    },
  };
}

export interface RunningSentinel {
  readonly port: number;
  readonly proc: Proc;
  stop(): Promise<void>;
}

/**
 * A sentinel watching the primary on `primaryPort` as `name`, quorum 1, with short timers so a
 * failover happens within seconds (down-after 1 s, failover-timeout 5 s).
 */
export async function startSentinel(primaryPort: number, name: string): Promise<RunningSentinel> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      'protected-mode no',
      'sentinel announce-ip 127.0.0.1',
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
    ].join('\n') + '\n',
  );
  const proc = startProcess('redis-sentinel', [conf], { name: `sentinel:${port}`, cwd: dir });
  await proc.waitFor(/\+monitor master/, 20_000, 'stdout');
  return { port, proc, stop: async () => void (await proc.stop()) };
}
