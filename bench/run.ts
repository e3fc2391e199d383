// `npm run bench`: dnsperf against fluxdns, knotd, nsd, named, pdns and a bare Node responder; writes bench/results/.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { appendFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { freePort } from '../test/helpers/ports.js';
import { runningProcesses } from '../test/helpers/proc.js';
import { cpuSecondsBetween, cpuTicks, dnsperf, peakRss, runningDnsperf } from './measure.js';
import {
  cpuTable,
  markdownTable,
  loadTable,
  ratios,
  summarize,
  svgChart,
  targetsTable,
  type BenchResults,
  type LoadResult,
  type RunSample,
  type ServerResult,
  type TargetCheck,
} from './report.js';
import { kdig, repoRoot, sleep, spawnServer, startServer, waitForSoa, type BenchServer, type ServerKind } from './servers.js';
import { axfrBench, axfrTable, type AxfrResult } from './axfr.js';
import { DYNAMIC_POLICY_YAML, luaRecord, writeDistinctQueries, writeDynamicQueries, writeQueries, writeZone } from './zone.js';

const execFileP = promisify(execFile);

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '8' },
    outstanding: { type: 'string', default: '200' },
    timeout: { type: 'string', default: '2' },
    'big-records': { type: 'string', default: '1000000' },
    'no-build': { type: 'boolean', default: false },
    'skip-tcp': { type: 'boolean', default: false },
    'skip-load': { type: 'boolean', default: false },
    'skip-dynamic': { type: 'boolean', default: false },
    /** AXFR of the big zone, fluxdns and knotd (bench/axfr.ts; issue 13). */
    'skip-axfr': { type: 'boolean', default: false },
    /** Which UDP query mixes to run: repeat (answers repeat), distinct (every name distinct). */
    mix: { type: 'string', default: 'repeat,distinct' },
    'distinct-queries': { type: 'string', default: '1500000' },
    only: { type: 'string' },
    /**
     * LABEL=PATH: another fluxdns build (PATH is its dist/cli/main.js) run as contender `LABEL` beside
     * this tree's, same config, pinned like it, in the same interleaved rounds (A/B of two builds).
     * Repeatable; LABEL is added to --only when that is given.
     */
    build: { type: 'string', multiple: true, default: [] },
    /** N: fluxdns contenders run with rrl on as by default, at N responses per second (a rate dnsperf never reaches), not `rrl: off`. */
    rrl: { type: 'string' },
    /** Seconds of unmeasured dnsperf per server before each phase's first round (0: none). */
    warmup: { type: 'string', default: '3' },
    out: { type: 'string', default: join(repoRoot, 'bench', 'results') },
  },
});

function intFlag(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer, found ${JSON.stringify(v)}`);
  return n;
}

const ROUNDS = intFlag('rounds', flags.rounds);
const WARMUP = flags.warmup === '0' ? 0 : intFlag('warmup', flags.warmup);
const SECONDS = intFlag('seconds', flags.seconds);
const CLIENTS = intFlag('clients', flags.clients);
const OUTSTANDING = intFlag('outstanding', flags.outstanding);
const TIMEOUT = intFlag('timeout', flags.timeout);
const BIG = intFlag('big-records', flags['big-records']);
const MIXES = new Set(flags.mix!.split(','));
for (const m of MIXES) if (m !== 'repeat' && m !== 'distinct') throw new Error(`--mix: expected repeat and/or distinct, found ${JSON.stringify(m)}`);
const DISTINCT = intFlag('distinct-queries', flags['distinct-queries']);
/** Round r of the distinct mix asks the names of seed DISTINCT_SEED + r (bench/zone.ts writeDistinctQueries). */
const DISTINCT_SEED = 11;
const SERVER_CPU = '0';
const DNSPERF_CPU = '1';

interface Contender {
  id: string;
  label: string;
  kind: ServerKind;
  cpu: string | null;
  workers?: number;
  tcp: boolean;
  /** fluxdns only: YAML added to its configuration. */
  extraYaml?: string;
  /** fluxdns only: node options before the script. */
  nodeFlags?: string[];
  /** fluxdns only: the CLI's main.js of another build (--build). */
  main?: string;
}

const CONTENDERS: Contender[] = [
  { id: 'fluxdns', label: 'fluxdns (workers: 1)', kind: 'fluxdns', cpu: SERVER_CPU, workers: 1, tcp: true },
  { id: 'knotd', label: 'knotd', kind: 'knotd', cpu: SERVER_CPU, tcp: true },
  { id: 'nsd', label: 'nsd', kind: 'nsd', cpu: SERVER_CPU, tcp: true },
  { id: 'named', label: 'named', kind: 'named', cpu: SERVER_CPU, tcp: true },
  { id: 'pdns', label: 'pdns_server (bind backend)', kind: 'pdns', cpu: SERVER_CPU, tcp: false },
  { id: 'bare-node', label: 'bare Node dgram responder', kind: 'bare-node', cpu: SERVER_CPU, tcp: false },
  { id: 'fluxdns-w2', label: 'fluxdns (workers: 2, unpinned)', kind: 'fluxdns', cpu: null, workers: 2, tcp: false },
  // The cost of observing every query: the same server with the metrics listener on (counters, latency histogram, top-k).
  { id: 'fluxdns-metrics', label: 'fluxdns (workers: 1, metrics on)', kind: 'fluxdns', cpu: SERVER_CPU, workers: 1, tcp: false, extraYaml: 'metrics: { listen: "127.0.0.1:0" }' },
  // V8's garbage collector helper threads share the one pinned core with the serving thread: with a
  // single-threaded collector their work is done inline, without the threads' wake-ups.
  { id: 'fluxdns-1gc', label: 'fluxdns (workers: 1, --single-threaded-gc)', kind: 'fluxdns', cpu: SERVER_CPU, workers: 1, tcp: false, nodeFlags: ['--single-threaded-gc'] },
];

for (const b of flags.build!) {
  const eq = b.indexOf('=');
  const id = b.slice(0, eq);
  const main = b.slice(eq + 1);
  if (eq <= 0 || !main.endsWith('.js')) throw new Error(`--build: expected LABEL=PATH/dist/cli/main.js, found ${JSON.stringify(b)}`);
  if (CONTENDERS.some((c) => c.id === id)) throw new Error(`--build: ${id} is already a contender`);
  CONTENDERS.push({ id, label: `fluxdns ${id}`, kind: 'fluxdns', cpu: SERVER_CPU, workers: 1, tcp: true, main });
}

const running = new Set<BenchServer>();
let workDir = '';

async function cleanup(): Promise<void> {
  for (const pid of runningDnsperf) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  await Promise.all([...running].map((s) => s.stop()));
  running.clear();
  // Anything spawned but not yet registered as running (e.g. mid-start-up).
  await Promise.all(runningProcesses().map((p) => p.stop(3000)));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${sig}: stopping every server started by the bench…\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

async function version(cmd: string, args: string[], re: RegExp): Promise<string> {
  try {
    const r = await execFileP(cmd, args, { timeout: 10000 });
    return re.exec(r.stdout + r.stderr)?.[1] ?? '?';
  } catch (e) {
    const o = e as { stdout?: string; stderr?: string };
    return re.exec((o.stdout ?? '') + (o.stderr ?? ''))?.[1] ?? 'unavailable';
  }
}

/** Checks an A query beyond the SOA that startServer already saw. */
async function verify(s: BenchServer, c: Contender): Promise<void> {
  const a = await kdig(s.port, 'h0.bench.lab.', 'A');
  if (a.status !== 'NOERROR' || !a.answer.some((l) => /\sA\s+198\.18\.0\.0$/.test(l))) {
    throw new Error(`${c.label} answered h0.bench.lab. A wrongly:\n${a.raw}`);
  }
  if (c.tcp) {
    const t = await kdig(s.port, 'bench.lab.', 'SOA', true);
    if (t.status !== 'NOERROR' || !t.aa) throw new Error(`${c.label} answered SOA over TCP wrongly:\n${t.raw}`);
  }
}

async function measure(s: BenchServer, c: Contender, queryFile: string, tcp: boolean, round: number): Promise<RunSample> {
  const before = cpuTicks(s.proc.pid);
  const r = await dnsperf({ port: s.port, queryFile, seconds: SECONDS, clients: CLIENTS, outstanding: OUTSTANDING, tcp, cpu: DNSPERF_CPU, timeout: TIMEOUT });
  const cpu = cpuSecondsBetween(before, cpuTicks(s.proc.pid));
  if (!s.proc.running) throw new Error(`${c.label} died during the run\n${s.proc.describe()}`);
  const bad = (r.rcodes['SERVFAIL'] ?? 0) + (r.rcodes['REFUSED'] ?? 0) + (r.rcodes['FORMERR'] ?? 0);
  if (c.kind !== 'bare-node' && bad > r.completed * 0.01) log(`  warning: ${c.label} answered ${bad} queries with SERVFAIL/REFUSED/FORMERR`);
  return {
    round,
    qps: r.qps,
    meanLatencyMs: r.meanLatencyMs,
    lostPct: r.lostPct,
    cpuUsPerQuery: r.completed > 0 ? (cpu * 1e6) / r.completed : NaN,
    completed: r.completed,
    rcodes: r.rcodes,
    loadavg1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
  };
}

/** Round r runs the list rotated by r, reversed on odd rounds, so no server always goes first or last. */
function orderFor<T>(list: readonly T[], round: number): T[] {
  const k = round % list.length;
  const rotated = [...list.slice(k), ...list.slice(0, k)];
  return round % 2 === 1 ? rotated.reverse() : rotated;
}

async function throughput(
  contenders: Contender[],
  servers: Map<string, BenchServer>,
  /** One file, or one per contender and round (the distinct mix: a fresh file per round, see main). */
  queryFile: string | ((c: Contender, round: number) => string),
  tcp: boolean,
  tag = tcp ? 'tcp' : 'udp',
  warmFile?: string,
): Promise<ServerResult[]> {
  const samples = new Map<string, RunSample[]>(contenders.map((c) => [c.id, []]));
  // Unmeasured traffic first: a fresh fluxdns spends its first ~100,000 queries compiling hot code on
  // its one pinned core, which fell on round 1 (its first round ran 1.3 × its later ones). The distinct
  // mix warms up on the repeating names, so that its own names are still unseen when measured.
  if (WARMUP > 0) {
    for (const c of contenders) {
      const s = servers.get(c.id)!;
      await dnsperf({ port: s.port, queryFile: warmFile ?? (typeof queryFile === 'string' ? queryFile : queryFile(c, 0)), seconds: WARMUP, clients: CLIENTS, outstanding: OUTSTANDING, tcp, cpu: DNSPERF_CPU, timeout: TIMEOUT });
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of orderFor(contenders, round)) {
      const s = servers.get(c.id)!;
      const sample = await measure(s, c, typeof queryFile === 'string' ? queryFile : queryFile(c, round), tcp, round);
      samples.get(c.id)!.push(sample);
      log(
        `  ${tag} round ${round + 1}/${ROUNDS} ${c.label.padEnd(32)} ${Math.round(sample.qps).toString().padStart(7)} q/s  ` +
          `${sample.meanLatencyMs.toFixed(3)} ms  lost ${sample.lostPct.toFixed(2)} %  cpu ${sample.cpuUsPerQuery.toFixed(2)} µs/q  load ${sample.loadavg1}`,
      );
      await sleep(500);
    }
  }
  return contenders.map((c) => ({ id: c.id, label: c.label, pinned: c.cpu !== null, samples: samples.get(c.id)!, median: summarize(samples.get(c.id)!) }));
}

async function loadTest(kind: ServerKind, zoneFile: string, records: number): Promise<LoadResult> {
  const port = await freePort();
  const t0 = performance.now();
  const s = spawnServer(kind, { zoneFile, port, cpu: SERVER_CPU, workers: 1 });
  running.add(s);
  try {
    let hwm = { max: 0, sum: 0 };
    // Sample VmHWM while loading too: a forking server (nsd) may hand the zone to a child.
    const sampler = setInterval(() => {
      const p = peakRss(s.proc.pid);
      hwm = { max: Math.max(hwm.max, p.max), sum: Math.max(hwm.sum, p.sum) };
    }, 200);
    let answeredAt: number;
    try {
      // The time of the first answer, not of kdig's check after it (bench:load measures the same way).
      answeredAt = await waitForSoa(s.proc, port, 'bench.lab.', 300000);
    } finally {
      clearInterval(sampler);
    }
    const loadSeconds = (answeredAt - t0) / 1000;
    await sleep(1000);
    const p = peakRss(s.proc.pid);
    return { id: kind, records, loadSeconds, peakRssBytes: Math.max(hwm.max, p.max), peakRssSumBytes: Math.max(hwm.sum, p.sum) };
  } finally {
    await s.stop();
    running.delete(s);
  }
}

async function main(): Promise<void> {
  if (!flags['no-build']) {
    log('npm run build …');
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const only = flags.only === undefined ? undefined : [...flags.only.split(','), ...flags.build!.map((b) => b.slice(0, b.indexOf('=')))];
  const contenders = only ? CONTENDERS.filter((c) => only.includes(c.id)) : CONTENDERS;
  workDir = mkdtempSync(join(tmpdir(), 'fluxdns-bench-'));
  const zoneFile = join(workDir, 'bench.lab.zone');
  const queryFile = join(workDir, 'queries.txt');
  // ~12,800 records on ~10,000 names (hosts, wildcard owners, ns1, apex).
  const shape = await writeZone(zoneFile, 12800);
  const mix = writeQueries(queryFile, shape, 100000);
  log(`zone bench.lab.: ${shape.hosts + shape.wildcards + 2} names, ${shape.records} records; ${mix.total} queries (${mix.nxdomain} NXDOMAIN, ${mix.nodata} NODATA, ${mix.wildcard} wildcard)`);

  const versions: Record<string, string> = {
    fluxdns: JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string,
    knotd: await version('knotd', ['-V'], /(\d+\.\d+\.\d+)/),
    nsd: await version('nsd', ['-v'], /version (\d+\.\d+\.\d+)/i),
    named: await version('named', ['-v'], /BIND (\S+)/),
    pdns: await version('pdns_server', ['--version'], /Server (\d+\.\d+\.\d+)/),
    dnsperf: await version('dnsperf', ['-h'], /Version (\S+)/),
    node: process.version,
  };
  log(`versions: ${JSON.stringify(versions)}`);

  const servers = new Map<string, BenchServer>();
  for (const c of contenders) {
    const port = await freePort();
    const s = await startServer(c.kind, { zoneFile, port, cpu: c.cpu, workers: c.workers ?? 1, extraYaml: c.extraYaml, nodeFlags: c.nodeFlags, main: c.main, rrlRate: flags.rrl === undefined ? undefined : Number(flags.rrl) });
    running.add(s);
    servers.set(c.id, s);
    await verify(s, c);
    log(`started ${c.label}${c.main ? ` from ${c.main}` : ''} pid ${s.proc.pid} on 127.0.0.1:${port}${c.cpu === null ? ' (unpinned)' : ` (core ${c.cpu})`}`);
  }

  log(`UDP: ${ROUNDS} rounds × ${SECONDS} s, dnsperf -c ${CLIENTS} -q ${OUTSTANDING} -t ${TIMEOUT} on core ${DNSPERF_CPU}`);
  const udp = MIXES.has('repeat') ? await throughput(contenders, servers, queryFile, false) : [];
  let distinct: ServerResult[] = [];
  let distinctMix: BenchResults['distinctMix'];
  if (MIXES.has('distinct')) {
    // A fresh file per round (seeds 11, 12, …): dnsperf starts its file again each run, so one file would
    // send rounds 2 and later names already asked in round 1 — a second sighting, which fluxdns's answer
    // cache admits (it stores on the second ask), and no longer a mix of names never seen.
    const distinctFiles = Array.from({ length: ROUNDS }, (_, round) => join(workDir, `distinct-queries-${round + 1}.txt`));
    distinctFiles.forEach((file, round) => {
      distinctMix = writeDistinctQueries(file, shape, DISTINCT, DISTINCT_SEED + round);
    });
    log(
      `UDP, every name distinct: ${distinctMix!.total} queries per round (${distinctMix!.wildcard} under a wildcard, ${distinctMix!.nxdomain} NXDOMAIN at the apex, ` +
        `${distinctMix!.belowHost} NXDOMAIN below a host), seeds ${DISTINCT_SEED}–${DISTINCT_SEED + ROUNDS - 1}, one file per round`,
    );
    distinct = await throughput(contenders, servers, (_c, round) => distinctFiles[round]!, false, 'distinct', queryFile);
  }
  let tcp: ServerResult[] = [];
  if (!flags['skip-tcp']) {
    log('TCP (dnsperf -m tcp):');
    tcp = await throughput(contenders.filter((c) => c.tcp), servers, queryFile, true);
  }
  for (const s of servers.values()) {
    await s.stop();
    running.delete(s);
  }

  // Dynamic answers (policy-first addressing): a random address from a /24 for every name, fluxdns's
  // pool policy against PowerDNS's LUA pickrandom over the same 254 addresses.
  let dynamic: ServerResult[] = [];
  if (!flags['skip-dynamic'] && (!only || only.includes('dynamic') || only.includes('fluxdns'))) {
    const dynQueries = join(workDir, 'dynamic-queries.txt');
    writeDynamicQueries(dynQueries, 100000);
    const luaZone = join(workDir, 'bench.lab.lua.zone');
    copyFileSync(zoneFile, luaZone);
    appendFileSync(luaZone, luaRecord());
    // The same distinct names under a static wildcard (*.w0): what the pool answer is compared with.
    const staticQueries = join(workDir, 'static-queries.txt');
    writeDynamicQueries(staticQueries, 100000, 'w0.bench.lab');
    const dynContenders = ([
      { id: 'fluxdns', label: 'fluxdns pool policy', kind: 'fluxdns', cpu: SERVER_CPU, workers: 1, tcp: false },
      { id: 'fluxdns-static', label: 'fluxdns static wildcard, same names', kind: 'fluxdns', cpu: SERVER_CPU, workers: 1, tcp: false },
      { id: 'pdns-lua', label: 'pdns_server LUA pickrandom', kind: 'pdns', cpu: SERVER_CPU, tcp: false },
    ] as Contender[]).filter((c) => !only || only.includes('dynamic') || only.includes(c.kind));
    const dynServers = new Map<string, BenchServer>();
    for (const c of dynContenders) {
      const port = await freePort();
      const s = await startServer(c.kind, c.kind === 'pdns' ? { zoneFile: luaZone, port, cpu: c.cpu, lua: true } : { zoneFile, port, cpu: c.cpu, extraYaml: DYNAMIC_POLICY_YAML });
      running.add(s);
      dynServers.set(c.id, s);
      const a = await kdig(port, 'check.dyn.bench.lab.', 'A');
      if (a.status !== 'NOERROR' || !a.answer.some((l) => /\sA\s+198\.18\.0\.\d+$/.test(l))) throw new Error(`${c.label} answered check.dyn.bench.lab. A wrongly:\n${a.raw}`);
      log(`started ${c.label}${c.main ? ` from ${c.main}` : ''} pid ${s.proc.pid} on 127.0.0.1:${port}`);
    }
    log('dynamic answers (UDP):');
    dynamic = await throughput(dynContenders, dynServers, (c) => (c.id === 'fluxdns-static' ? staticQueries : dynQueries), false, 'dynamic');
    for (const s of dynServers.values()) {
      await s.stop();
      running.delete(s);
    }
  }

  const load: LoadResult[] = [];
  if (!flags['skip-load']) {
    const bigZone = join(workDir, 'big.zone');
    const big = await writeZone(bigZone, BIG);
    log(`load: zone of ${big.records} records (${big.hosts + big.wildcards + 2} names)`);
    for (const kind of ['fluxdns', 'knotd', 'nsd'] as const) {
      if (only && !only.includes(kind)) continue;
      const r = await loadTest(kind, bigZone, big.records);
      log(`  ${kind}: ${r.loadSeconds.toFixed(2)} s to first SOA, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
      load.push(r);
    }
  }

  let axfr: AxfrResult[] = [];
  if (!flags['skip-axfr'] && (!only || only.includes('axfr'))) {
    const bigZone = join(workDir, 'axfr.zone');
    const big = await writeZone(bigZone, BIG);
    log(`AXFR: zone of ${big.records} records, ${ROUNDS} transfers per server`);
    axfr = await axfrBench({ zoneFile: bigZone, zoneRecords: big.records, rounds: ROUNDS, cpu: SERVER_CPU, log });
  }

  const ratio = { udp: ratios(udp), distinct: ratios(distinct), tcp: ratios(tcp), dynamic: ratios(dynamic) };
  const targets: TargetCheck[] = [];
  const f = udp.find((r) => r.id === 'fluxdns');
  const named = udp.find((r) => r.id === 'named');
  const bare = udp.find((r) => r.id === 'bare-node');
  if (f && named) {
    const x = f.median.qps / named.median.qps;
    targets.push({ target: 'static-zone UDP qps ≥ 1.0 × named', measured: `${x.toFixed(2)} × named`, holds: x >= 1.0 });
  }
  if (f && bare) {
    const x = f.median.qps / bare.median.qps;
    targets.push({ target: 'static-zone UDP qps ≥ 0.9 × bare Node', measured: `${x.toFixed(2)} × bare Node`, holds: x >= 0.9 });
  }
  const knot = udp.find((r) => r.id === 'knotd');
  if (f && knot) {
    const x = f.median.cpuUsPerQuery / knot.median.cpuUsPerQuery;
    targets.push({ target: 'repeating mix: CPU µs/query ≤ 0.9 × knotd', measured: `${x.toFixed(2)} × knotd (${f.median.cpuUsPerQuery.toFixed(2)} vs ${knot.median.cpuUsPerQuery.toFixed(2)} µs)`, holds: x <= 0.9 });
  }
  const fdist = distinct.find((r) => r.id === 'fluxdns');
  const kdist = distinct.find((r) => r.id === 'knotd');
  if (fdist && kdist) {
    const x = fdist.median.cpuUsPerQuery / kdist.median.cpuUsPerQuery;
    targets.push({ target: 'every-name-distinct mix: CPU µs/query ≤ 1.0 × knotd', measured: `${x.toFixed(2)} × knotd (${fdist.median.cpuUsPerQuery.toFixed(2)} vs ${kdist.median.cpuUsPerQuery.toFixed(2)} µs)`, holds: x <= 1.0 });
  }
  const fd = dynamic.find((r) => r.id === 'fluxdns');
  if (fd && f) {
    const x = fd.median.qps / f.median.qps;
    targets.push({ target: 'dynamic pool answers stay close to static answers', measured: `${x.toFixed(2)} × fluxdns static qps`, holds: x >= 0.8 });
  }
  const fs = dynamic.find((r) => r.id === 'fluxdns-static');
  if (fd && fs) {
    const x = fd.median.cpuUsPerQuery / fs.median.cpuUsPerQuery;
    targets.push({ target: 'pool answer CPU ≤ 1.2 × a static answer (same distinct names)', measured: `${x.toFixed(2)} × (${fd.median.cpuUsPerQuery.toFixed(2)} vs ${fs.median.cpuUsPerQuery.toFixed(2)} µs)`, holds: x <= 1.2 });
  }
  const fx = axfr.find((a) => a.id === 'fluxdns');
  const kx = axfr.find((a) => a.id === 'knotd');
  if (fx && kx) {
    const x = fx.medianSeconds / kx.medianSeconds;
    targets.push({ target: `AXFR of ${fx.zoneRecords.toLocaleString('en-US')} records ≤ 1.5 × knotd's time`, measured: `${x.toFixed(2)} × knotd (${fx.medianSeconds.toFixed(2)} vs ${kx.medianSeconds.toFixed(2)} s; server CPU ${fx.medianCpuSeconds.toFixed(2)} vs ${kx.medianCpuSeconds.toFixed(2)} s)`, holds: x <= 1.5 });
  }
  const fl = load.find((l) => l.id === 'fluxdns');
  if (fl) {
    targets.push({ target: `${fl.records.toLocaleString('en-US')}-record zone loads in ≤ 3 s`, measured: `${fl.loadSeconds.toFixed(2)} s`, holds: fl.loadSeconds <= 3 });
    targets.push({ target: `${fl.records.toLocaleString('en-US')}-record zone in ≤ 350 MiB peak RSS`, measured: `${(fl.peakRssBytes / 2 ** 20).toFixed(0)} MiB`, holds: fl.peakRssBytes <= 350 * 2 ** 20 });
  }

  const results: BenchResults & { axfr: AxfrResult[] } = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', kernel: release(), node: process.version },
    versions,
    params: { rounds: ROUNDS, seconds: SECONDS, clients: CLIENTS, outstanding: OUTSTANDING, timeout: TIMEOUT, serverCpu: SERVER_CPU, dnsperfCpu: DNSPERF_CPU },
    zone: { names: shape.hosts + shape.wildcards + 2, records: shape.records, wildcards: shape.wildcards },
    queries: mix,
    udp,
    distinctMix,
    distinct,
    tcp,
    dynamic,
    ratios: ratio,
    load,
    axfr,
    targets,
  };

  const out = flags.out!;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(out, 'latest.svg'), svgChart(results));
  const md = [
    `UDP (median of ${ROUNDS} rounds × ${SECONDS} s; servers on core ${SERVER_CPU} except where unpinned, dnsperf on core ${DNSPERF_CPU})`,
    '',
    ...(udp.length > 0 ? [markdownTable(udp, ratio.udp), ''] : []),
    ...(distinct.length > 0 ? [`UDP, every name distinct (${DISTINCT.toLocaleString('en-US')} names per round, seeds ${DISTINCT_SEED}–${DISTINCT_SEED + ROUNDS - 1}, a new file each round: random labels under a wildcard, NXDOMAIN at the apex, NXDOMAIN below a host)`, '', markdownTable(distinct, ratio.distinct), ''] : []),
    ...(udp.length > 0 || distinct.length > 0 ? ['Server CPU µs per answered query (median; ratio to knotd; load average at the end of each run in the JSON)', '', cpuTable(udp, distinct), ''] : []),
    ...(tcp.length > 0 ? ['TCP (dnsperf -m tcp)', '', markdownTable(tcp, ratio.tcp), ''] : []),
    ...(dynamic.length > 0 ? ['Dynamic answers: a random address of a /24 for every name (UDP)', '', markdownTable(dynamic, ratio.dynamic), ''] : []),
    ...(load.length > 0 ? ['Zone load', '', loadTable(load), ''] : []),
    ...(axfr.length > 0 ? [`AXFR over TCP of the ${axfr[0]!.zoneRecords.toLocaleString('en-US')}-record zone (median of ${ROUNDS}; servers on core ${SERVER_CPU}, the client on core ${DNSPERF_CPU})`, '', axfrTable(axfr), ''] : []),
    ...(targets.length > 0 ? ['Targets', '', targetsTable(targets), ''] : []),
  ].join('\n');
  writeFileSync(join(out, 'latest.md'), md);
  process.stdout.write('\n' + md + `\nwrote ${join(out, 'latest.json')}, latest.svg, latest.md\n`);
}

try {
  await main();
} catch (e) {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
} finally {
  if (!interrupted) await cleanup();
}
