// `npm run bench:cpu-split`: server CPU per answered query split by thread into user and system time,
// with context switches, for fluxdns and knotd under the same pinned dnsperf load (issue 11).
import { readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLK_TCK, dnsperf, threadDirs } from './measure.js';
import { startServer, type BenchServer, type ServerKind } from './servers.js';
import { freePort } from '../test/helpers/ports.js';
import { DYNAMIC_POLICY_YAML, writeDistinctQueries, writeQueries, writeZone } from './zone.js';
import { signZone } from '../test/helpers/dnssec-chain.js';

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string', default: 'fluxdns,knotd' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '3' },
    /**
     * Offered load in queries/s (dnsperf -Q) instead of dnsperf's fastest: every server then sees the
     * same arrival rate, so two builds compare under the machine's noise (dnsperf's own speed varies
     * with the other load, and the batch size, hence the cost per query, with it).
     */
    rate: { type: 'string' },
    /** fluxdns: also configure the dynamic phase's pool policy (`*.dyn.bench.lab`), which the repeating mix never asks. */
    policies: { type: 'boolean', default: false },
    /** repeat (the default: ~2,000 names asked again and again) or distinct (bench's every-name-distinct mix, a fresh file of `--distinct` names per round, the same for every server). */
    mix: { type: 'string', default: 'repeat' },
    /** LABEL=PATH of a dist/cli/main.js to run as another fluxdns (A/B of two builds); repeatable. */
    build: { type: 'string', multiple: true, default: [] },
    /** fluxdns node options, space-separated (e.g. "--single-threaded-gc"). */
    'node-flags': { type: 'string', default: '' },
    /**
     * nsec or nsec3: instead, fluxdns on the bench zone (20,000 records) unsigned without DO against the same zone
     * signed by dnssec-signzone with DO (issue 12), every name asked once (bench:dnssec's distinct mix, a fresh
     * file of --distinct names per round): how much of the signed answer's extra CPU is the kernel's.
     */
    presigned: { type: 'string' },
    /** Every fluxdns server also exports metrics (replays then counted by cell, as in production). */
    metrics: { type: 'boolean', default: false },
    distinct: { type: 'string', default: '200000' },
  },
});

interface ThreadSample {
  name: string;
  utime: number;
  stime: number;
  /** Run time in ns (schedstat), finer than the ticks. */
  runNs: number;
  vol: number;
  invol: number;
}

function threads(root: number): Map<string, ThreadSample> {
  const out = new Map<string, ThreadSample>();
  for (const base of threadDirs(root)) {
    try {
      const stat = readFileSync(`${base}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = readFileSync(`${base}/status`, 'utf8');
      const vol = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const invol = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const runNs = Number(readFileSync(`${base}/schedstat`, 'utf8').split(' ')[0]);
      // "/proc/PID/task/TID" → "PID/TID"
      out.set(base.slice(6).replace('/task/', '/'), { name, utime: Number(rest[11]), stime: Number(rest[12]), runNs, vol, invol });
    } catch {
      // the thread exited
    }
  }
  return out;
}

function report(label: string, before: Map<string, ThreadSample>, after: Map<string, ThreadSample>, completed: number, qps: number): void {
  const per = (x: number) => ((x * 1e6) / CLK_TCK / completed).toFixed(2);
  const rows: string[] = [];
  let u = 0;
  let s = 0;
  let run = 0;
  let vol = 0;
  let invol = 0;
  for (const [id, a] of after) {
    const b = before.get(id) ?? { name: a.name, utime: 0, stime: 0, runNs: 0, vol: 0, invol: 0 };
    const du = a.utime - b.utime;
    const ds = a.stime - b.stime;
    const dr = a.runNs - b.runNs;
    const dv = a.vol - b.vol;
    const di = a.invol - b.invol;
    u += du;
    s += ds;
    run += dr;
    vol += dv;
    invol += di;
    if (dr > 1e6 || dv > 0 || di > 0)
      rows.push(`    ${(a.name + ' ' + id).padEnd(34)} user ${per(du).padStart(5)} sys ${per(ds).padStart(5)} run ${(dr / 1e3 / completed).toFixed(3).padStart(6)} µs/q  vol ${dv} invol ${di}`);
  }
  process.stdout.write(
    `${label.padEnd(12)} ${Math.round(qps)} q/s  user ${per(u)} sys ${per(s)} µs/q  run ${(run / 1e3 / completed).toFixed(2)} µs/q  ` +
      `ctxsw/1000q vol ${((vol * 1000) / completed).toFixed(2)} invol ${((invol * 1000) / completed).toFixed(2)}\n${rows.join('\n')}\n`,
  );
}

async function presigned(mode: 'nsec' | 'nsec3'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-cpusplit-'));
  const servers: { label: string; s: BenchServer; dnssec: boolean }[] = [];
  try {
    const zoneFile = join(dir, 'bench.lab.zone');
    const shape = await writeZone(zoneFile, 20000);
    mkdirSync(join(dir, mode));
    const signed = signZone(join(dir, mode), 'bench.lab.', readFileSync(zoneFile, 'utf8'), mode);
    // --build LABEL=PATH adds that build serving the signed zone with DO (A/B of two builds, same names per round).
    const builds = flags.build!.map((b) => b.split('=') as [string, string]);
    for (const [label, file, dnssec, main] of [['unsigned', zoneFile, false, undefined], [`${mode}+DO`, signed.file, true, undefined], ...builds.map(([l, m]) => [`${mode}+DO ${l}`, signed.file, true, m] as const)] as const) {
      const extraYaml = flags.metrics ? `metrics: { listen: "127.0.0.1:${await freePort()}" }\n` : undefined;
      servers.push({ label, s: await startServer('fluxdns', { zoneFile: file, port: await freePort(), cpu: '0', workers: 1, main, extraYaml }, 240000), dnssec });
    }
    const rounds = Number(flags.rounds);
    const opts = { clients: 8, outstanding: 200, tcp: false, cpu: '1', timeout: 2, seconds: 600, once: true };
    // Round 0 warms up; each server gets a fresh file of distinct names per round.
    for (let r = 0; r <= rounds; r++) {
      const order = r % 2 === 0 ? servers : [...servers].reverse();
      for (const { label, s, dnssec } of order) {
        // Signed servers of a round get the same names (the A/B), the unsigned one others of the same mix.
        const queryFile = join(dir, `distinct-${dnssec ? 'signed' : 'unsigned'}-${r}.txt`);
        writeDistinctQueries(queryFile, shape, Number(flags.distinct), 11 + r + (dnssec ? 100 : 0));
        const before = threads(s.proc.pid);
        const res = await dnsperf({ ...opts, queryFile, port: s.port, dnssec });
        const after = threads(s.proc.pid);
        if (r === 0) continue;
        process.stdout.write(`round ${r} load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}  `);
        report(label, before, after, res.completed, res.qps);
      }
    }
  } finally {
    for (const { s } of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-cpusplit-'));
  const servers: { label: string; s: BenchServer }[] = [];
  try {
    const zoneFile = join(dir, 'bench.lab.zone');
    const queryFile = join(dir, 'queries.txt');
    const shape = await writeZone(zoneFile, 12800);
    writeQueries(queryFile, shape, 100000);
    const nodeFlags = flags['node-flags']!.split(' ').filter((x) => x !== '');
    const wanted: { label: string; kind: ServerKind; main?: string }[] = flags.only!.split(',').filter((k) => k !== '').map((k) => ({ label: k, kind: k as ServerKind }));
    for (const b of flags.build!) {
      const [label, main] = b.split('=');
      if (!label || !main) throw new Error(`--build: expected LABEL=PATH/dist/cli/main.js, found ${b}`);
      wanted.push({ label, kind: 'fluxdns', main });
    }
    for (const w of wanted) {
      const port = await freePort();
      const extraYaml = (flags.policies ? DYNAMIC_POLICY_YAML : '') + (flags.metrics ? `\nmetrics: { listen: "127.0.0.1:${await freePort()}" }\n` : '');
      const s = await startServer(w.kind, { zoneFile, port, cpu: '0', workers: 1, nodeFlags, main: w.main, extraYaml: extraYaml === '' ? undefined : extraYaml });
      servers.push({ label: w.label, s });
    }
    const opts = { queryFile, clients: 8, outstanding: 200, tcp: false, cpu: '1', timeout: 2, rate: flags.rate === undefined ? undefined : Number(flags.rate) };
    for (const { s } of servers) await dnsperf({ ...opts, port: s.port, seconds: Number(flags.warmup) });
    const distinct = flags.mix === 'distinct';
    for (let r = 0; r < Number(flags.rounds); r++) {
      const order = r % 2 === 0 ? servers : [...servers].reverse();
      const roundFile = join(dir, `distinct-${r}.txt`);
      if (distinct) writeDistinctQueries(roundFile, shape, Number(flags.distinct), 11 + r);
      for (const { label, s } of order) {
        const before = threads(s.proc.pid);
        const res = await dnsperf(distinct ? { ...opts, queryFile: roundFile, port: s.port, seconds: 600, once: true } : { ...opts, port: s.port, seconds: Number(flags.seconds) });
        const after = threads(s.proc.pid);
        process.stdout.write(`round ${r + 1} load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}  `);
        report(label, before, after, res.completed, res.qps);
      }
    }
  } finally {
    for (const { s } of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (flags.presigned !== undefined && flags.presigned !== 'nsec' && flags.presigned !== 'nsec3') throw new Error('--presigned: nsec or nsec3');
if (flags.mix !== 'repeat' && flags.mix !== 'distinct') throw new Error('--mix: repeat or distinct');
await (flags.presigned !== undefined ? presigned(flags.presigned) : main());
