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
    sequential: { type: 'string', default: '1000' },
    concurrent: { type: 'string', default: '10000' },
    inflight: { type: 'string', default: '64' },
    /** Grants made before the timed ones (not counted): JIT compilation and start-up GCs are not the grant path. */
    warmup: { type: 'string', default: '500' },
    backend: { type: 'string', multiple: true },
    /** appendfsync of the +redis rows' redis-server: always (no acknowledged lease lost on a crash) or everysec. */
    fsync: { type: 'string', default: 'always' },
  },
});
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
async function startBenchRedis(inNs: string[]): Promise<Proc> {
  const rdir = mkdtempSync(join(dir, 'redis-'));
  const args = ['redis-server', '--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--dir', rdir, '--save', '', '--appendonly', 'yes', '--appendfsync', flags.fsync!, '--protected-mode', 'no'];
  const [cmd, ...rest] = [...inNs, ...args];
  const p = startProcess(cmd!, rest, { name: 'redis-server' });
  await p.waitFor(/Ready to accept connections/, 20000, 'stdout');
  return p;
}

interface Result {
  backend: string;
  grants: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  grantsPerSecond: number;
  /** CPU the server used per grant (its process and live children, e.g. `nft -i`), ms: what the load cannot inflate much. */
  cpuPerGrant: number;
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

async function measure(backend: Backend): Promise<Result> {
  const inNs = !backend.startsWith('userspace') ? ['ip', 'netns', 'exec', ns] : [];
  const port = !backend.startsWith('userspace') ? 5300 : await freePort();
  writeFileSync(join(dir, `${backend}.yaml`), config(backend, port));
  const [cmd, ...pre] = [...inNs, process.execPath];
  const redis = backend.endsWith('+redis') ? await startBenchRedis(inNs) : undefined;
  const server = startProcess(cmd!, [...pre, '--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, `${backend}.yaml`)], { cwd: repoRoot, name: `fluxdns ${backend}` });
  await server.waitFor(/fluxdns ready/, 30000, 'both');
  const cpu0 = treeCpuMs(server.pid);
  const client = startProcess(cmd!, [...pre, '--import', 'tsx', join(repoRoot, 'bench', 'grants-client.ts'), '--server', `127.0.0.1:${port}`, '--sequential', flags.sequential!, '--concurrent', flags.concurrent!, '--inflight', flags.inflight!, '--warmup', flags.warmup!], { cwd: repoRoot, name: `grants client ${backend}` });
  const exit = await client.exited;
  if (exit.code !== 0) throw new Error(`grants client failed\n${client.describe()}\n${server.describe()}`);
  const cpu = treeCpuMs(server.pid) - cpu0;
  await server.stop();
  await redis?.stop();
  const r = JSON.parse(client.stdout.trim().split('\n').at(-1)!) as { latencies: number[]; concurrent: number; seconds: number };
  const xs = [...r.latencies].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { backend: backend.endsWith('+redis') ? `${backend} (appendfsync ${flags.fsync})` : backend, grants: xs.length + r.concurrent + Number(flags.warmup), p50: round(pct(xs, 50)), p90: round(pct(xs, 90)), p99: round(pct(xs, 99)), max: round(xs.at(-1)!), grantsPerSecond: Math.round(r.concurrent / r.seconds), cpuPerGrant: Math.round((cpu / (xs.length + r.concurrent + Number(flags.warmup))) * 1000) / 1000 };
}

try {
  writeFileSync(join(dir, 'grants.lab.zone'), '$TTL 300\n@ SOA ns.grants.lab. host.grants.lab. 1 3600 600 86400 60\n@ NS ns.grants.lab.\nns A 127.0.0.1\n');
  if (backends.some((b) => !b.startsWith('userspace'))) {
    // Without the addon every nftables row silently runs through `nft -i`: say so.
    if (!existsSync(join(repoRoot, 'native', 'build', 'Release', 'fluxdns_nft.node'))) process.stdout.write('warning: native/build/Release/fluxdns_nft.node is missing, so the nftables rows run through nft -i (build it: node scripts/build-native.mjs)\n');
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  }
  const results: Result[] = [];
  for (const b of backends) {
    const r = await measure(b);
    results.push(r);
    process.stdout.write(`${b}: p50 ${r.p50} ms, p90 ${r.p90} ms, p99 ${r.p99} ms, max ${r.max} ms (${flags.sequential} sequential grants after ${flags.warmup} untimed); ${r.grantsPerSecond} grants/s (${flags.concurrent} grants, ${flags.inflight} in flight); server CPU ${r.cpuPerGrant} ms/grant\n`);
  }
  const meta = { date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, loadavg: loadavg().map((x) => Math.round(x * 100) / 100), sequential: Number(flags.sequential), warmup: Number(flags.warmup), concurrent: Number(flags.concurrent), inflight: Number(flags.inflight) };
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench', 'results', 'grants.json'), JSON.stringify({ ...meta, results }, null, 2) + '\n');
  const md = [
    `# Grant latency (${meta.date}, ${meta.cpus} CPUs, load ${meta.loadavg.join(' ')})`,
    '',
    `Query → answer with the translation installed (each query a new subnet-scoped lease); percentiles of ${meta.sequential} sequential grants after ${meta.warmup} untimed ones. Seed 000: 13 ms DNS update + 4 ms NAT rule.`,
    '',
    '| backend | p50 ms | p90 ms | p99 ms | max ms | grants/s | server CPU ms/grant |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.backend} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.grantsPerSecond} | ${r.cpuPerGrant} |`),
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
