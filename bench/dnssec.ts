// `npm run bench:dnssec`: signatures/s per algorithm (in process); dnsperf against pinned fluxdns servers: a pre-signed zone with DO against the unsigned zone, and pool answers of an online-signed policy zone with DO (signed) and without (unsigned).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateKey, writeKeyFiles, type AlgorithmNumber } from '../src/dnssec/keys.js';
import { signRRset, verifyRRset } from '../src/dnssec/rrsig.js';
import { RRType, type ResourceRecord } from '../src/wire/types.js';
import { freePort } from '../test/helpers/ports.js';
import { cpuSecondsBetween, cpuTicks } from './measure.js';
import { startServer, type BenchServer, type ServerKind } from './servers.js';
import { writeDistinctQueries, writeDynamicQueries, writeQueries, writeZone } from './zone.js';
import { signZone } from '../test/helpers/dnssec-chain.js';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { sign } from 'node:crypto';
import { ed25519Signer, nativeSigning } from '../src/dnssec/native-signer.js';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'skip-dnsperf': { type: 'boolean', default: false },
    /** Which dnsperf sections to run: presigned (pre-signed zone with DO vs unsigned), online (pool answers). */
    sections: { type: 'string', default: 'presigned,online' },
    /** Records in the pre-signed bench zone (bench/zone.ts shape). */
    records: { type: 'string', default: '20000' },
    /** Names per distinct-mix file (each sent once per round). */
    'distinct-queries': { type: 'string', default: '200000' },
    /** Servers that answer the same zones in the same rounds, to show what signing costs elsewhere ('' for none). */
    reference: { type: 'string', default: 'knotd' },
  },
});
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
const DISTINCT = Number(flags['distinct-queries']);
const SECTIONS = new Set(flags.sections.split(','));
const REFERENCES = flags.reference.split(',').filter((k) => k !== '') as ServerKind[];
const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

/** CPU µs per call of `f` (process.cpuUsage over about a second, after a warm-up): wall-clock rates mean little on a loaded machine. */
function cpuPerCall(f: (i: number) => void): number {
  for (let i = 0; i < 300; i++) f(i);
  const t = process.cpuUsage();
  const end = Date.now() + 1000;
  let n = 0;
  while (Date.now() < end) {
    for (let j = 0; j < 50; j++) f(n + j);
    n += 50;
  }
  const u = process.cpuUsage(t);
  return (u.user + u.system) / n;
}

/** One signature's CPU: the whole RRSIG (signRRset: canonical form, signed data, native signer when built) and a bare node:crypto sign() of the same length of data. */
function signingCpu(alg: AlgorithmNumber): { rrsigUs: number; nodeCryptoUs: number } {
  const key = generateKey('bench.lab', alg, false);
  const o = { inception: 1_800_000_000, expiration: 1_801_000_000 };
  const rrsigUs = cpuPerCall((i) => signRRset([{ name: `u${i}.dyn.bench.lab.`, type: RRType.A, class: 1, ttl: 30, data: { address: `198.18.0.${(i % 254) + 1}` } }], key, o));
  const data = Buffer.alloc(80, 7);
  const nodeCryptoUs = cpuPerCall(() => (alg === 15 ? sign(null, data, key.privateKey) : sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })));
  return { rrsigUs, nodeCryptoUs };
}

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

/**
 * dnsperf with the DO bit (`-D`) or without, against the pinned server; CPU seconds of the server per query.
 * `once`: the query file is sent exactly once (`-n 1`; every name of a distinct mix asked once), else for SECONDS.
 */
async function run(s: BenchServer, queryFile: string, dnssec: boolean, once = false): Promise<{ qps: number; usPerQuery: number; lostPct: number }> {
  const before = cpuTicks(s.proc.pid!);
  const args = ['-c', '1', 'dnsperf', ...(dnssec ? ['-D'] : []), '-s', '127.0.0.1', '-p', String(s.port), '-d', queryFile, '-c', '8', '-q', '200', '-t', '2'];
  args.push(...(once ? ['-n', '1', '-l', '600'] : ['-l', String(SECONDS)]));
  const out = await new Promise<string>((resolve, reject) => {
    execFile('taskset', args, { timeout: (once ? 640 : SECONDS + 40) * 1000, maxBuffer: 16 << 20 }, (e, o) => (e ? reject(e) : resolve(o)));
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
    const c = signingCpu(alg);
    console.log(`${name}: ${Math.round(r.signPerSec)} signatures/s, ${Math.round(r.verifyPerSec)} verifications/s; CPU per RRSIG ${c.rrsigUs.toFixed(1)} µs (${nativeSigning() ? (alg === 15 ? `native signer, ${ed25519Signer()}` : 'native signer') : 'node:crypto'}), a bare node:crypto sign() ${c.nodeCryptoUs.toFixed(1)} µs`);
  }
  if (flags['skip-dnsperf']) return;
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-bench-dnssec-'));
  try {
    const zoneFile = join(dir, 'bench.lab.zone');
    await writeZone(zoneFile, 1000);
    if (SECTIONS.has('presigned')) await presigned(dir, zoneFile);
    if (!SECTIONS.has('online')) return;
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
        console.log(`alg ${alg}: unsigned ${med(plainQps).toFixed(0)} q/s, ${med(plain).toFixed(1)} µs CPU/query; signed ${med(signedQps).toFixed(0)} q/s, ${med(signed).toFixed(1)} µs CPU/query; ratio ${(med(signed) / med(plain)).toFixed(2)} × (target ≤ 4 ×)`);
      } finally {
        await s.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The pre-signed target: the same zone signed by dnssec-signzone (NSEC, NSEC3) and answered with DO, against
 * the unsigned zone answered without; each server pinned to CPU 0, rounds interleaved (the machine is shared).
 * Two mixes: the repeating one (answer cache hits) and every-name-distinct (every answer looked up and proven).
 */
async function presigned(dir: string, zoneFile: string): Promise<void> {
  const records = Number(flags.records);
  const shape = await writeZone(zoneFile, records);
  const text = readFileSync(zoneFile, 'utf8');
  // The repeating mix is one file, asked again each round (answers come from the answer cache after the
  // first); the distinct mix is a fresh file per round (seeds 11, 12, …) sent once, or names would be asked
  // a second time (and the answer cache would admit them then).
  const repeat = join(dir, 'repeat.txt');
  writeQueries(repeat, shape, 100000);
  // The unsigned server answers for both modes: each mode gets its own distinct files.
  const distinctFiles = (mode: string, seed: number): string[] =>
    Array.from({ length: ROUNDS + 1 }, (_, i) => {
      const file = join(dir, `distinct-${mode}-${i}.txt`);
      writeDistinctQueries(file, shape, DISTINCT, seed + i);
      return file;
    });
  console.log(`\n# pre-signed zone (${records} records, dnssec-signzone) with DO vs the unsigned zone without DO; CPU µs per query of the server (pinned to CPU 0), median of ${ROUNDS} interleaved rounds${REFERENCES.length > 0 ? `; ${REFERENCES.join(', ')} answer the same zones in the same rounds (reference: what signing costs there)` : ''}`);
  const started: BenchServer[] = [];
  const start = async (kind: ServerKind, file: string): Promise<BenchServer> => {
    const s = await startServer(kind, { zoneFile: file, port: await freePort(), cpu: '0' });
    started.push(s);
    return s;
  };
  try {
    const unsigned = new Map<ServerKind, BenchServer>();
    for (const kind of ['fluxdns', ...REFERENCES] as ServerKind[]) unsigned.set(kind, await start(kind, zoneFile));
    for (const mode of ['nsec', 'nsec3'] as const) {
      const signDir = join(dir, mode);
      mkdirSync(signDir);
      const signedFile = signZone(signDir, 'bench.lab.', text, mode).file;
      const signed = new Map<ServerKind, BenchServer>();
      for (const kind of unsigned.keys()) signed.set(kind, await start(kind, signedFile));
      const mixes = { repeat: Array.from({ length: ROUNDS + 1 }, () => repeat), distinct: distinctFiles(mode, mode === 'nsec' ? 11 : 111) };
      for (const [mix, files] of Object.entries(mixes)) {
        const once = mix === 'distinct';
        const plain = new Map<ServerKind, number[]>();
        const withDo = new Map<ServerKind, number[]>();
        for (let i = 0; i <= ROUNDS; i++) {
          // Round 0 warms every server up; the servers take turns within a round, so each round sees one machine state.
          for (const kind of unsigned.keys()) {
            const a = (await run(unsigned.get(kind)!, files[i]!, false, once)).usPerQuery;
            const b = (await run(signed.get(kind)!, files[i]!, true, once)).usPerQuery;
            if (i === 0) continue;
            plain.set(kind, [...(plain.get(kind) ?? []), a]);
            withDo.set(kind, [...(withDo.get(kind) ?? []), b]);
          }
        }
        const line = (kind: ServerKind): string => {
          const p = plain.get(kind)!;
          const d = withDo.get(kind)!;
          const rounds = d.map((x, i) => (x / p[i]!).toFixed(2)).join(' / ');
          return `unsigned ${med(p).toFixed(2)} µs/query, signed+DO ${med(d).toFixed(2)} µs/query; ratio ${(med(d) / med(p)).toFixed(2)} × (rounds ${rounds})`;
        };
        console.log(`${mode} ${mix}: ${line('fluxdns')} (target ≤ 1.3 ×)`);
        for (const kind of REFERENCES) console.log(`  ${kind} ${mode} ${mix}: ${line(kind)}; fluxdns signed+DO / ${kind} signed+DO ${(med(withDo.get('fluxdns')!) / med(withDo.get(kind)!)).toFixed(2)} ×`);
      }
      for (const s of signed.values()) {
        await s.stop();
        started.splice(started.indexOf(s), 1);
      }
    }
  } finally {
    for (const s of started) await s.stop().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
