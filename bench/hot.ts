// `npm run bench:hot`: CPU µs per query of the engine alone (no sockets), in one process, with the server's
// chain (modules loaded as the server loads them) and its answer cache: the every-name-distinct mix
// (seed 11, what the cache has not seen) and the repeating mix. CPU time, not wall time, so a loaded
// machine still gives a usable figure; compare builds A/B by alternating runs (--rounds).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TransportInfo } from '../src/answer/context.js';
import { Engine } from '../src/answer/engine.js';
import { ModuleSet } from '../src/answer/units.js';
import { serverAnswerCache } from '../src/modules/cache/index.js';
import { parseConfigText } from '../src/config/load.js';
import { buildRuntime } from '../src/server/runtime-load.js';
import { encodeMessage, queryMessage } from '../src/wire/message.js';
import { typeCode } from '../src/wire/types.js';
import { writeDistinctQueries, writeQueries, writeZone } from './zone.js';

const { values: flags } = parseArgs({
  options: {
    queries: { type: 'string', default: '300000' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    // --no-edns: queries without OPT, as dnsperf sends them by default (Node 20's parseArgs has no negation of a boolean).
    'no-edns': { type: 'boolean', default: false },
    // RRL as operators run it (on by default), at a rate no query reaches: what checking costs.
    rrl: { type: 'boolean', default: false },
    // A CPU profile of the measured rounds only (not zone generation, parsing or warm-up), written to this file.
    'cpu-prof': { type: 'string' },
  },
});
const N = Number(flags.queries);
const ROUNDS = Number(flags.rounds);

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-hot-'));
try {
  const zoneFile = join(dir, 'bench.lab.zone');
  const shape = await writeZone(zoneFile, 12800);
  const repeatFile = join(dir, 'repeat.txt');
  const distinctFile = join(dir, 'distinct.txt');
  writeQueries(repeatFile, shape, 100000);
  // Each round asks names no earlier round asked: every round is cold.
  writeDistinctQueries(distinctFile, shape, N * (ROUNDS + 1));
  const loaded = parseConfigText(`rrl: ${flags.rrl ? '{ responsesPerSecond: 1000000 }' : 'off'}\nzones:\n  - { name: bench.lab., file: ${JSON.stringify(zoneFile)} }\n`, join(dir, 'fluxdns.yaml'));
  const { runtime } = buildRuntime(loaded, 1, new ModuleSet({ answerCache: serverAnswerCache() }));
  const engine = new Engine(runtime, []);
  const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 };

  // Queries as dnsperf sends them (EDNS 1232 unless --no-edns), encoded before the clock starts.
  const encode = (file: string): Uint8Array[] =>
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l, i) => {
        const [name, type] = l.split(' ');
        return encodeMessage(queryMessage(name!.endsWith('.') ? name! : name + '.', typeCode(type!)!, { id: i & 0xffff, edns: flags['no-edns'] ? false : 1232 }));
      });
  const repeat = encode(repeatFile);
  const distinct = encode(distinctFile);

  let sink = 0;
  /** CPU µs per query (user + system of this process) over `count` queries from `qs` starting at `from`. */
  function run(qs: Uint8Array[], from: number, count: number): number {
    const c0 = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      const r = engine.handle(qs[(from + i) % qs.length]!, udp);
      if (r instanceof Uint8Array) sink += r.length;
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / count;
  }

  // Warm-up: the JIT on the repeating mix and on distinct names no measured round asks.
  run(repeat, 0, 200000);
  run(distinct, N * ROUNDS, N);
  const results: { distinct: number[]; repeat: number[] } = { distinct: [], repeat: [] };
  const profiler = flags['cpu-prof'] !== undefined ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  for (let r = 0; r < ROUNDS; r++) {
    if (flags.only !== 'repeat') results.distinct.push(run(distinct, r * N, N));
    if (flags.only !== 'distinct') results.repeat.push(run(repeat, r * N, N));
  }
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(flags['cpu-prof']!, JSON.stringify(profile));
    profiler.disconnect();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const fmt = (xs: number[]) => `${median(xs).toFixed(2)} µs/query CPU (rounds ${xs.map((x) => x.toFixed(2)).join(' ')})`;
  if (results.distinct.length) process.stdout.write(`every name distinct (cold)  ${fmt(results.distinct)}\n`);
  if (results.repeat.length) process.stdout.write(`repeating mix (warm cache)  ${fmt(results.repeat)}\n`);
  process.stdout.write(`${N} queries per round; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${sink > 0 ? 'replies sent' : 'NO REPLIES'}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
