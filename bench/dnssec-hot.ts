// `npm run bench:dnssec-hot`: CPU µs per online-signed pool answer in the engine alone (no sockets, one process), against the same answer without DO — the in-process view of bench:dnssec's online target, for A/B work and profiles (--cpu-prof).
// Two figures: the answering thread's CPU (what an answer waits for) and the whole process's (with the thread that draws ECDSA nonces ahead of need).
// Queries go in chunks of 200 with 5 ms idle between them, so the nonce pool refills on idle time as it does between a server's bursts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TransportInfo } from '../src/answer/context.js';
import { Engine } from '../src/answer/engine.js';
import { ModuleSet } from '../src/answer/units.js';
import { serverAnswerCache } from '../src/modules/cache/index.js';
import { parseConfigText } from '../src/config/load.js';
import { buildRuntime } from '../src/server/runtime-load.js';
import { generateKey, writeKeyFiles } from '../src/dnssec/keys.js';
import { ed25519Signer, nativeSignStats } from '../src/dnssec/native-signer.js';
import { signersOf } from '../src/dnssec/online/signers.js';
import { encodeMessage, queryMessage } from '../src/wire/message.js';
import { RRType } from '../src/wire/types.js';
import { writeZone } from './zone.js';

const { values: flags } = parseArgs({
  options: {
    queries: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    alg: { type: 'string', default: '13,15' },
  },
});
const N = Number(flags.queries);
const ROUNDS = Number(flags.rounds);
const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 };
/** This thread's CPU time in ns (schedstat: the kernel's per-task run time). */
const threadNs = (): number => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnssec-hot-'));
try {
  const zoneFile = join(dir, 'bench.lab.zone');
  await writeZone(zoneFile, 1000);
  for (const alg of flags.alg.split(',').map(Number) as (13 | 15)[]) {
    const key = writeKeyFiles(dir, generateKey('dyn.bench.lab', alg, true)).privateFile;
    // bench:dnssec's online server: a policy-owned, online-signed zone answering from a pool.
    const yaml = `rrl: off\nzones:\n  - { name: bench.lab., file: ${JSON.stringify(zoneFile)} }\npools:\n  - { name: dyn, prefixes: [198.18.0.0/24] }\npolicies:\n  - { match: { qname: "*.dyn.bench.lab" }, action: { pool: dyn, ttl: 30 }, zone: { name: dyn.bench.lab, dnssec: { sign: online, keys: [${JSON.stringify(key)}] } } }\n`;
    const { runtime } = buildRuntime(parseConfigText(yaml, join(dir, 'fluxdns.yaml')), 1, new ModuleSet({ answerCache: serverAnswerCache() }));
    const engine = new Engine(runtime, []);
    let q = 0;
    let sink = 0;
    const ask = (dnssecOk: boolean): Uint8Array => encodeMessage(queryMessage(`u${q++}.dyn.bench.lab.`, RRType.A, { id: q & 0xffff, edns: 1232, dnssecOk }));
    /** [answering thread, whole process] CPU µs per query. */
    async function run(dnssecOk: boolean, count: number): Promise<[number, number]> {
      const qs = Array.from({ length: count }, () => ask(dnssecOk));
      // The kernel updates a running task's schedstat at ticks and switches: read over the whole round (the thread sleeps in the gaps).
      const t0 = threadNs();
      const c0 = process.cpuUsage();
      for (let i = 0; i < qs.length; i += 200) {
        for (let j = i; j < Math.min(i + 200, qs.length); j++) {
          const r = engine.handle(qs[j]!, udp);
          if (r instanceof Uint8Array) sink += r.length;
        }
        await sleep(5);
      }
      const thread = threadNs() - t0;
      const c = process.cpuUsage(c0);
      return [thread / 1000 / count, (c.user + c.system) / count];
    }
    await run(false, N);
    await run(true, N);
    const plain: [number, number][] = [];
    const signed: [number, number][] = [];
    for (let r = 0; r < ROUNDS; r++) {
      plain.push(await run(false, N));
      signed.push(await run(true, N));
    }
    const signer = signersOf(runtime.config).find('dyn.bench.lab.')!.zoneSigners[0]!;
    const nonces = nativeSignStats(signer.privateKey);
    const [pt, pp] = [median(plain.map((x) => x[0])), median(plain.map((x) => x[1]))];
    const [st, sp] = [median(signed.map((x) => x[0])), median(signed.map((x) => x[1]))];
    process.stdout.write(`alg ${alg}: answering thread: unsigned ${pt.toFixed(2)} µs, signed ${st.toFixed(2)} µs per pool answer, ${(st / pt).toFixed(2)} ×; whole process: unsigned ${pp.toFixed(2)}, signed ${sp.toFixed(2)} µs, ${(sp / pp).toFixed(2)} ×; ECDSA nonces drawn ahead ${nonces.pooled}, signed inline ${nonces.inline}; Ed25519 by ${ed25519Signer()}; ${sink > 0 ? 'replies sent' : 'NO REPLIES'}\n`);
  }
  process.stdout.write(`${N} queries per round; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
