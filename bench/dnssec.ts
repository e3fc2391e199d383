// `npm run bench:dnssec`: signatures/s per algorithm (in process), and dnsperf against one pinned fluxdns: pool answers of an online-signed policy zone with DO (signed) and without (unsigned).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKey, writeKeyFiles, type AlgorithmNumber } from '../src/dnssec/keys.js';
import { signRRset, verifyRRset } from '../src/dnssec/rrsig.js';
import { RRType, type ResourceRecord } from '../src/wire/types.js';
import { freePort } from '../test/helpers/ports.js';
import { cpuSecondsBetween, cpuTicks, dnsperf } from './measure.js';
import { startServer, type BenchServer } from './servers.js';
import { writeDynamicQueries, writeZone } from './zone.js';
import { execFile } from 'node:child_process';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'skip-dnsperf': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);

function signingRate(alg: AlgorithmNumber): { signPerSec: number; verifyPerSec: number } {
  const key = generateKey('bench.lab', alg, false);
  const rr = (i: number): ResourceRecord[] => [{ name: `u${i}.dyn.bench.lab.`, type: RRType.A, class: 1, ttl: 30, data: { address: `198.18.0.${(i % 254) + 1}` } }];
  const o = { inception: 1_800_000_000, expiration: 1_801_000_000 };
  for (let i = 0; i < 500; i++) signRRset(rr(i), key, o); // warm up
  let n = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + 2_000_000_000n;
  const sigs: ResourceRecord[] = [];
  while (process.hrtime.bigint() < until) {
    for (let j = 0; j < 100; j++) sigs.push(signRRset(rr(n + j), key, o));
    n += 100;
  }
  const signSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const t1 = process.hrtime.bigint();
  const m = Math.min(n, 5000);
  for (let i = 0; i < m; i++) if (!verifyRRset(rr(i), sigs[i]!, key.dnskeyRdata)) throw new Error('signature did not verify');
  const verifySec = Number(process.hrtime.bigint() - t1) / 1e9;
  return { signPerSec: n / signSec, verifyPerSec: m / verifySec };
}

/** dnsperf with the DO bit (`-D`) or without, against the pinned server; CPU seconds of the server per query. */
async function run(s: BenchServer, queryFile: string, dnssec: boolean): Promise<{ qps: number; usPerQuery: number; lostPct: number }> {
  if (!dnssec) {
    const before = cpuTicks(s.proc.pid!);
    const r = await dnsperf({ port: s.port, queryFile, seconds: SECONDS, clients: 8, outstanding: 200, tcp: false, cpu: '1', timeout: 2 });
    const cpu = cpuSecondsBetween(before, cpuTicks(s.proc.pid!));
    return { qps: r.qps, usPerQuery: (cpu / Math.max(1, r.completed)) * 1e6, lostPct: r.lostPct };
  }
  // measure.ts's dnsperf has no -D: run it here with the same arguments plus -D.
  const before = cpuTicks(s.proc.pid!);
  const out = await new Promise<string>((resolve, reject) => {
    execFile('taskset', ['-c', '1', 'dnsperf', '-D', '-s', '127.0.0.1', '-p', String(s.port), '-d', queryFile, '-l', String(SECONDS), '-c', '8', '-q', '200', '-t', '2'], { timeout: (SECONDS + 40) * 1000, maxBuffer: 16 << 20 }, (e, o) => (e ? reject(e) : resolve(o)));
  });
  const cpu = cpuSecondsBetween(before, cpuTicks(s.proc.pid!));
  const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const lostPct = Number(/Queries lost:\s+\d+ \(([\d.]+)%\)/.exec(out)?.[1] ?? 0);
  return { qps, usPerQuery: (cpu / Math.max(1, completed)) * 1e6, lostPct };
}

async function main(): Promise<void> {
  console.log('# DNSSEC signing (in process, one core)');
  for (const [alg, name] of [[13, 'ECDSAP256SHA256'], [15, 'ED25519']] as const) {
    const r = signingRate(alg);
    console.log(`${name}: ${Math.round(r.signPerSec)} signatures/s, ${Math.round(r.verifyPerSec)} verifications/s`);
  }
  if (flags['skip-dnsperf']) return;
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-bench-dnssec-'));
  try {
    const zoneFile = join(dir, 'bench.lab.zone');
    await writeZone(zoneFile, 1000);
    const queryFile = join(dir, 'dyn.txt');
    writeDynamicQueries(queryFile, 100000);
    console.log('\n# pool answers (A, distinct names, fresh address each): unsigned (no DO) vs online-signed (DO), server pinned to CPU 0');
    for (const alg of [13, 15] as const) {
      const key = writeKeyFiles(dir, generateKey('dyn.bench.lab', alg, true)).privateFile;
      const extraYaml = `pools:\n  - { name: dyn, prefixes: [198.18.0.0/24] }\npolicies:\n  - { match: { qname: "*.dyn.bench.lab" }, action: { pool: dyn, ttl: 30 }, zone: { name: dyn.bench.lab, dnssec: { sign: online, keys: [${JSON.stringify(key)}] } } }\n`;
      const s = await startServer('fluxdns', { zoneFile, port: await freePort(), cpu: '0', extraYaml });
      try {
        await run(s, queryFile, true); // warm up
        const plain: number[] = [];
        const signed: number[] = [];
        const plainQps: number[] = [];
        const signedQps: number[] = [];
        for (let i = 0; i < ROUNDS; i++) {
          const a = await run(s, queryFile, false);
          const b = await run(s, queryFile, true);
          plain.push(a.usPerQuery);
          signed.push(b.usPerQuery);
          plainQps.push(a.qps);
          signedQps.push(b.qps);
        }
        const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
        console.log(`alg ${alg}: unsigned ${med(plainQps).toFixed(0)} q/s, ${med(plain).toFixed(1)} µs CPU/query; signed ${med(signedQps).toFixed(0)} q/s, ${med(signed).toFixed(1)} µs CPU/query; ratio ${(med(signed) / med(plain)).toFixed(2)} × (target ≤ 4 ×)`);
      } finally {
        await s.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
