// `npm run bench:grants`: grant latency (query → answer with the translation installed) for the userspace and nftables backends.
//
// Each query asks for a subnet-scoped service with a new ECS address, so every answer is a new lease
// whose install() completed before the answer left (the fail-closed contract). nftables runs in a
// network namespace this script creates and deletes. Writes bench/results/grants.json and grants.md.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/ports.js';
import { startProcess, stopAll, type Proc } from '../test/helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../test/helpers/servers.js';

const { values: flags } = parseArgs({
  options: {
    sequential: { type: 'string', default: '3000' },
    concurrent: { type: 'string', default: '10000' },
    inflight: { type: 'string', default: '64' },
    /** Grants made before the timed ones (not counted): JIT compilation and start-up GCs are not the grant path. */
    // A fresh server answers its first thousands of queries while V8 compiles the hot path on the same pinned
    // core: with 500 the static name's own p99 was 2-3 ms, after 20,000 it is 0.1-0.3 ms (knotd: 0.09).
    warmup: { type: 'string', default: '20000' },
    backend: { type: 'string', multiple: true },
    /** appendfsync of the +redis rows' redis-server, one row per mode: always (no acknowledged lease lost on a crash), everysec. */
    fsync: { type: 'string', multiple: true },
    /** c (default): bench/grants-client.c, compiled here with cc — no GC or JIT of its own in the timed interval; node: bench/grants-client.ts. */
    client: { type: 'string', default: 'c' },
    /** CPU for the server and CPU for the client, "S,C" for taskset; "none": not pinned (redis-server: --redis-cpu). */
    pin: { type: 'string', default: '0,1' },
    /**
     * Where the +redis rows' redis-server runs: client (default since 2026-12-03) — on the client's CPU,
     * which waits in recv while the server works: the stand-in for a deployment's Redis, which is one
     * service shared by every DNS server and gateway (seed 000 §3, issue 14 item 2) and so never on one
     * server's core; server (the placement of every figure before 2026-12-03) — on the server's CPU, so
     * the claim, the AOF write and fsync, the netlink commit and the answer share one core; none — not pinned.
     */
    'redis-cpu': { type: 'string', default: 'client' },
    /** Extra V8 flags for the server process, e.g. --node-flags=--max-semi-space-size=1 (compare young-generation sizes). */
    'node-flags': { type: 'string', default: '' },
    /**
     * The server runs the built CLI (dist/cli/main.js, as `npm start` and the systemd unit do; built
     * first unless --no-build). --tsx runs src/ through tsx as every figure before 2026-12-02 did: tsx
     * wraps each closure it creates (__name), a cost a deployment does not pay.
     */
    tsx: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
});
const fsyncModes = flags.fsync ?? ['always', 'everysec'];
for (const m of fsyncModes) if (m !== 'always' && m !== 'everysec' && m !== 'no') throw new Error(`--fsync ${m}: always, everysec or no`);
const pins = flags.pin === 'none' ? undefined : flags.pin!.split(',');
if (pins && (pins.length !== 2 || !pins.every((c) => /^\d+$/.test(c)))) throw new Error('--pin S,C (CPU numbers) or none');
/** taskset prefix for the server side or the client. */
const pinned = (side: 0 | 1): string[] => (pins ? ['taskset', '-c', pins[side]!] : []);
const redisCpu = flags['redis-cpu']!;
const builtMain = join(repoRoot, 'dist', 'cli', 'main.js');
if (!flags.tsx && !flags['no-build']) execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
if (!flags.tsx && !existsSync(builtMain)) throw new Error(`${builtMain} missing: run npm run build (or use --tsx)`);
/** The server's entry: the built CLI, or src/ through tsx (--tsx). */
const serverMain = flags.tsx ? ['--import', 'tsx', fluxdnsMain] : [builtMain];
if (!['client', 'server', 'none'].includes(redisCpu)) throw new Error('--redis-cpu client, server or none');
const nodeFlags = flags['node-flags']!.split(/\s+/).filter(Boolean);
/** nftables: set elements over raw netlink (driver auto); nftables-lib: everything through libnftables (driver libnftables). */
/** nftables-nft: the same table driven through a long-lived `nft -i` (the fallback without the libnftables addon). */
/** "+redis": the same with the Redis state store (redis-server beside it, appendonly yes, appendfsync --fsync). */
type Backend = 'userspace' | 'nftables' | 'nftables-lib' | 'nftables-nft' | 'userspace+redis' | 'nftables+redis';
const backends = (flags.backend ?? ['userspace', 'nftables', 'nftables-lib', 'nftables-nft', 'userspace+redis', 'nftables+redis']) as Backend[];
/** A free port (two benches at once must not share one redis-server). */
const REDIS_PORT = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'fluxdns-grants-'));
const ns = `fxbench-${randomBytes(3).toString('hex')}`;

function config(b: Backend, port: number): string {
  const backend = b.startsWith('userspace') ? 'userspace' : 'nftables';
  // rrl: off — one client asks thousands of times a second (RRL is on by default at 200 responses/s).
  return `listen:
  - { proto: udp, address: "127.0.0.1:${port}" }
rrl: off
zones:
  - { name: grants.lab., file: ${join(dir, 'grants.lab.zone')} }
pools:
  - { name: grants, prefixes: [198.18.0.0/15] }
services:
  - { name: app.grants.lab, target: 198.51.100.10, ports: [tcp/443], pool: grants, ttl: 20, grace: 60, scope: subnet }
capabilities:
  backend: ${backend}
  trustedResolvers: [127.0.0.0/8]
${backend === 'nftables' ? `  nftables: { table: fxbench${b === 'nftables-nft' ? ', driver: nft' : b === 'nftables-lib' ? ', driver: libnftables' : ''} }\n` : ''}${b.endsWith('+redis') ? `state: { backend: redis, url: "redis://127.0.0.1:${REDIS_PORT}" }\n` : ''}log: { level: warn }
`;
}

/** redis-server for a +redis row, in the namespace with the server (nftables) or on the host's loopback. */
async function startBenchRedis(inNs: string[], fsync: string): Promise<Proc> {
  const rdir = mkdtempSync(join(dir, 'redis-'));
  const args = ['redis-server', '--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--dir', rdir, '--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--protected-mode', 'no'];
  const [cmd, ...rest] = [...inNs, ...(redisCpu === 'none' ? [] : pinned(redisCpu === 'server' ? 0 : 1)), ...args];
  const p = startProcess(cmd!, rest, { name: 'redis-server' });
  await p.waitFor(/Ready to accept connections/, 20000, 'stdout');
  return p;
}

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

interface Result {
  backend: string;
  grants: number;
  /** Sequential grants, each a new lease. */
  grant: Percentiles;
  /** A cached static name of the same zone, asked between the grants by the same client: the floor of any answer here. */
  static: Percentiles;
  grantsPerSecond: number;
  /** Latency of the concurrent phase's grants (`inflight` outstanding). */
  concurrent: Percentiles;
  /** CPU the server used per grant (its process and live children, e.g. `nft -i`), ms: what the load cannot inflate much. */
  cpuPerGrant: number;
  /** CPU redis-server used per grant (+redis rows), ms: with --redis-cpu server it shares the server's core. */
  redisCpuPerGrant?: number;
  /** The server's GC pauses during the sequential phase (from --trace-gc): how many, their sum and the longest, ms. */
  gc: { pauses: number; totalMs: number; maxMs: number };
}

/** utime + stime in ms of `pid` and every live descendant (the children files under /proc/PID/task). */
function treeCpuMs(pid: number): number {
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      for (const t of readdirSync(`/proc/${p}/task`)) {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) stack.push(Number(c));
      }
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number) => Math.round(x * 1000) / 1000;
function percentiles(latencies: number[]): Percentiles {
  const xs = [...latencies].sort((a, b) => a - b);
  if (xs.length === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
  return { p50: round(pct(xs, 50)), p90: round(pct(xs, 90)), p99: round(pct(xs, 99)), p999: round(pct(xs, 99.9)), max: round(xs.at(-1)!) };
}

/** Pauses in `--trace-gc` output: "... ms: Scavenge 4.1 (5.3) -> 3.6 (6.3) MB, 0.56 / 0.00 ms ..." (the first figure is the pause). */
function gcPauses(trace: string): { pauses: number; totalMs: number; maxMs: number } {
  const ms = [...trace.matchAll(/ ms: (?:Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Minor Mark-Sweep)\b[^\n]*? MB, ([\d.]+) \/ [\d.]+ ms/g)].map((m) => Number(m[1]));
  return { pauses: ms.length, totalMs: round(ms.reduce((a, b) => a + b, 0)), maxMs: round(Math.max(0, ...ms)) };
}

const CLIENT_C = join(dir, 'grants-client');
const GRANT_NAME = 'app.grants.lab';
/** A static A record of the zone: its answer comes from the answer cache after the first query. */
const STATIC_NAME = 'ns.grants.lab';

interface ClientRun {
  grant: number[];
  static: number[];
  concurrent: number;
  seconds: number;
  concurrentLatencies: number[];
}

/** One client run (in the namespace for nftables, pinned); `offset` numbers its ECS addresses after the previous run's. */
async function runClient(backend: Backend, pre: string[], port: number, phase: { sequential: number; warmup: number; concurrent: number; offset: number }): Promise<ClientRun> {
  const args =
    flags.client === 'node'
      ? [process.execPath, '--import', 'tsx', join(repoRoot, 'bench', 'grants-client.ts'), '--server', `127.0.0.1:${port}`, '--sequential', String(phase.sequential), '--concurrent', String(phase.concurrent), '--inflight', flags.inflight!, '--warmup', String(phase.warmup), '--offset', String(phase.offset), '--name', GRANT_NAME, '--static', STATIC_NAME]
      : [CLIENT_C, '127.0.0.1', String(port), String(phase.sequential), String(phase.warmup), String(phase.concurrent), flags.inflight!, String(phase.offset), GRANT_NAME, STATIC_NAME];
  const [cmd, ...rest] = [...pre, ...pinned(1), ...args];
  const client = startProcess(cmd!, rest, { cwd: repoRoot, name: `grants client ${backend}` });
  const exit = await client.exited;
  if (exit.code !== 0) throw new Error(`grants client failed\n${client.describe()}`);
  return JSON.parse(client.stdout.trim().split('\n').at(-1)!) as ClientRun;
}

async function measure(backend: Backend, fsync: string): Promise<Result> {
  const inNs = !backend.startsWith('userspace') ? ['ip', 'netns', 'exec', ns] : [];
  const port = !backend.startsWith('userspace') ? 5300 : await freePort();
  writeFileSync(join(dir, `${backend}.yaml`), config(backend, port));
  const redis = backend.endsWith('+redis') ? await startBenchRedis(inNs, fsync) : undefined;
  const [cmd, ...pre] = [...inNs, ...pinned(0), process.execPath];
  const server = startProcess(cmd!, [...pre, ...nodeFlags, '--trace-gc', ...serverMain, 'serve', '--config', join(dir, `${backend}.yaml`)], { cwd: repoRoot, name: `fluxdns ${backend}` });
  try {
    await server.waitFor(/fluxdns ready/, 30000, 'both');
    const cpu0 = treeCpuMs(server.pid);
    const redisCpu0 = redis ? treeCpuMs(redis.pid) : 0;
    const warmup = Number(flags.warmup);
    const sequential = Number(flags.sequential);
    const concurrent = Number(flags.concurrent);
    // Three client runs, so the server's GC trace can be cut at the sequential phase's edges.
    await runClient(backend, inNs, port, { sequential: 0, warmup, concurrent: 0, offset: 0 });
    const traceFrom = server.stdout.length;
    const seq = await runClient(backend, inNs, port, { sequential, warmup: 0, concurrent: 0, offset: warmup });
    const gc = gcPauses(server.stdout.slice(traceFrom));
    const conc = await runClient(backend, inNs, port, { sequential: 0, warmup: 0, concurrent, offset: warmup + sequential });
    const grants = warmup + sequential + concurrent;
    const cpu = treeCpuMs(server.pid) - cpu0;
    const redisCpuUsed = redis ? treeCpuMs(redis.pid) - redisCpu0 : undefined;
    return {
      backend: backend.endsWith('+redis') ? `${backend} (appendfsync ${fsync})` : backend,
      grants,
      grant: percentiles(seq.grant),
      static: percentiles(seq.static),
      grantsPerSecond: Math.round(conc.concurrent / conc.seconds),
      concurrent: percentiles(conc.concurrentLatencies),
      cpuPerGrant: round(cpu / grants),
      redisCpuPerGrant: redisCpuUsed === undefined ? undefined : round(redisCpuUsed / grants),
      gc,
    };
  } finally {
    await server.stop();
    await redis?.stop();
  }
}

try {
  writeFileSync(join(dir, 'grants.lab.zone'), '$TTL 300\n@ SOA ns.grants.lab. host.grants.lab. 1 3600 600 86400 60\n@ NS ns.grants.lab.\nns A 127.0.0.1\n');
  if (backends.some((b) => !b.startsWith('userspace'))) {
    // Without the addon every nftables row silently runs through `nft -i`: say so.
    if (!existsSync(join(repoRoot, 'native', 'build', 'Release', 'fluxdns_nft.node'))) process.stdout.write('warning: native/build/Release/fluxdns_nft.node is missing, so the nftables rows run through nft -i (build it: node scripts/build-native.mjs)\n');
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  }
  if (flags.client !== 'node') execFileSync('cc', ['-O2', '-Wall', '-o', CLIENT_C, join(repoRoot, 'bench', 'grants-client.c')], { stdio: 'inherit' });
  const runs = backends.flatMap((b) => (b.endsWith('+redis') ? fsyncModes.map((f) => [b, f] as const) : [[b, ''] as const]));
  const results: Result[] = [];
  const f = (p: Percentiles) => `p50 ${p.p50} p90 ${p.p90} p99 ${p.p99} p99.9 ${p.p999} max ${p.max} ms`;
  for (const [b, fsync] of runs) {
    const r = await measure(b, fsync);
    results.push(r);
    process.stdout.write(`${r.backend}${b.endsWith('+redis') ? ` [redis-server on the ${redisCpu}'s CPU]` : ''}: grant ${f(r.grant)} | static name ${f(r.static)} | ${r.grantsPerSecond} grants/s (${flags.inflight} in flight, p99 ${r.concurrent.p99} ms) | server CPU ${r.cpuPerGrant} ms/grant${r.redisCpuPerGrant === undefined ? '' : `, redis-server ${r.redisCpuPerGrant}`} | GC in the sequential phase: ${r.gc.pauses} pauses, ${r.gc.totalMs} ms, longest ${r.gc.maxMs} ms\n`);
  }
  const meta = { date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg().map((x) => Math.round(x * 100) / 100), client: flags.client === 'node' ? 'bench/grants-client.ts' : 'bench/grants-client.c', pin: flags.pin, redisCpu, serverNodeFlags: nodeFlags.join(' '), server: flags.tsx ? 'src via tsx' : 'dist/cli/main.js', sequential: Number(flags.sequential), warmup: Number(flags.warmup), concurrent: Number(flags.concurrent), inflight: Number(flags.inflight) };
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench', 'results', 'grants.json'), JSON.stringify({ ...meta, results }, null, 2) + '\n');
  const md = [
    `# Grant latency (${meta.date}, ${meta.cpus} CPUs, load ${meta.loadavg.join(' ')})`,
    '',
    `Query → answer with the translation installed (each query a new subnet-scoped lease); percentiles of ${meta.sequential} sequential grants after ${meta.warmup} untimed ones, client ${meta.client}, ` +
      `${meta.pin === 'none' ? 'not pinned' : `server on CPU ${pins![0]}, client on CPU ${pins![1]}, redis-server ${redisCpu === 'none' ? 'not pinned' : `on the ${redisCpu}'s CPU (--redis-cpu ${redisCpu})`}`}${meta.serverNodeFlags ? `, server node flags \`${meta.serverNodeFlags}\`` : ''}. ` +
      `"static" is a cached static name of the same zone asked by the same client between the grants: the floor of any answer on this machine. Seed 000: 13 ms DNS update + 4 ms NAT rule.`,
    '',
    '| backend | grant p50 | p90 | p99 | p99.9 | max | static p50 | static p99 | static p99.9 | grants/s | concurrent p99 | server CPU/grant | redis-server CPU/grant | GC pauses (sequential): n, sum, longest |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.backend} | ${r.grant.p50} | ${r.grant.p90} | ${r.grant.p99} | ${r.grant.p999} | ${r.grant.max} | ${r.static.p50} | ${r.static.p99} | ${r.static.p999} | ${r.grantsPerSecond} | ${r.concurrent.p99} | ${r.cpuPerGrant} | ${r.redisCpuPerGrant ?? '-'} | ${r.gc.pauses}, ${r.gc.totalMs}, ${r.gc.maxMs} |`),
    '',
    'All times ms.',
    '',
  ].join('\n');
  writeFileSync(join(repoRoot, 'bench', 'results', 'grants.md'), md);
} finally {
  await stopAll();
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // not created
  }
  rmSync(dir, { recursive: true, force: true });
}
