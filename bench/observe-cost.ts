// `npm run bench:observe`: the engine's cost per query with and without the metrics observer, in one
// process, rounds interleaved (so a busy machine slows both alike). The dnsperf view is `npm run bench`'s
// "fluxdns (workers: 1, metrics on)" row. Two slots without metrics measure the noise: a cost
// inside the spread of off − off cannot be told from none.
import { parseConfigText } from '../src/config/load.js';
import type { TransportInfo } from '../src/answer/context.js';
import { Engine } from '../src/answer/engine.js';
import { createUnits } from '../src/answer/units.js';
import { LATENCY_SAMPLE, QueryMetrics } from '../src/observe/metrics/queries.js';
import { encodeMessage, queryMessage } from '../src/wire/message.js';
import { RRType } from '../src/wire/types.js';
import { parseZone } from '../src/zone/parser.js';
import { mulberry32 } from '../src/sim/prng.js';
import { Zone, ZoneSet } from '../src/zone/tree.js';

const HOSTS = 2000;
const ZONE = `$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${Array.from({ length: HOSTS }, (_, i) => `h${i} A 198.18.${i >> 8}.${i & 0xff}`).join('\n')}\n`;
const zones = new ZoneSet([Zone.build('b.lab.', parseZone(ZONE, { origin: 'b.lab.' }).records)]);
const config = parseConfigText('rrl: off\n', 'bench.yaml').config;
const udp: TransportInfo = { proto: 'udp', remoteAddress: '198.51.100.9', remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 };
// Nine names in ten exist (answer-cache hits after the first round), one in ten is NXDOMAIN.
const queries = Array.from({ length: 4096 }, (_, i) =>
  encodeMessage(queryMessage(i % 10 === 9 ? `nx${i}.b.lab.` : `h${i % HOSTS}.b.lab.`, RRType.A, { id: i & 0xffff, edns: 1232 })),
);

/**
 * CPU time (user + system) in µs of `n` queries: on a machine other jobs share, time spent descheduled
 * is left out (wall time counts it, and it dwarfed the difference being measured).
 */
let next = 0;
function chunk(engine: Engine, n: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) engine.handle(queries[next++ & 4095]!, udp);
  const t = process.cpuUsage(t0);
  return t.user + t.system;
}

// One engine answers every chunk; the observer is attached for the chunks of the "on" slot only. Two
// "off" slots measure the noise. Three engines (one per slot) showed a steady 30–60 ns between two
// identical plain ones — which engine object was made first, or ran after which — as large as the
// cost being measured; with one engine, the slots differ only in the observer.
const engine = new Engine({ config, zones, generation: 1 }, createUnits());
const m = new QueryMetrics();
m.register();
const observe: NonNullable<Engine['observer']> = (ctx, reply, s) => m.record(ctx, reply, s);
const ON = 2;
function run(slot: number, n: number): number {
  // As the server sets it when `metrics:` is the only observer.
  engine.observer = slot === ON ? observe : undefined;
  engine.timeEvery = slot === ON ? LATENCY_SAMPLE : 1;
  return chunk(engine, n);
}

// A round runs CHUNKS chunks of K queries in each slot, the slots taking turns chunk by chunk in an
// order shuffled every time (seeded, so runs repeat), so a burst of load on the machine falls on all
// three alike; a round's figure per slot is its CPU time over all its chunks. Rounds of whole runs
// (100,000 queries each) let the load change between them and gave noise quartiles of ±400 ns.
const K = Number(process.env.K ?? 2000);
const CHUNKS = Number(process.env.CHUNKS ?? 25);
const ROUNDS = Number(process.env.ROUNDS ?? 21);
const N = K * CHUNKS;
const random = mulberry32(0x9e3779b9);
const order = [0, 1, 2];
function shuffled(): number[] {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
for (let c = 0; c < 75; c++) run(c % 3, K);
const off: number[] = [];
const on: number[] = [];
const noise: number[] = [];
const cost: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const sum = [0, 0, 0];
  for (let c = 0; c < CHUNKS; c++) for (const slot of shuffled()) sum[slot]! += run(slot, K);
  const ns = sum.map((us) => (us * 1000) / N);
  const base = (ns[0]! + ns[1]!) / 2;
  off.push(base);
  on.push(ns[ON]!);
  noise.push(ns[1]! - ns[0]!);
  cost.push(ns[ON]! - base);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const quartiles = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor(s.length / 4)]!, s[Math.floor((3 * s.length) / 4)]!] as const;
};
const a = median(off);
const b = median(on);
const [n1, n3] = quartiles(noise);
const [c1, c3] = quartiles(cost);
const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
process.stdout.write(
  `engine CPU ns/query, ${ROUNDS} rounds of ${CHUNKS} interleaved chunks of ${K} queries per engine (load ${load}): metrics off ${a.toFixed(0)}, metrics on ${b.toFixed(0)}\n` +
    `  on − off per round:  median ${median(cost).toFixed(0)} ns (${((100 * median(cost)) / a).toFixed(1)} %), quartiles ${c1.toFixed(0)} … ${c3.toFixed(0)}\n` +
    `  off − off (noise):   median ${median(noise).toFixed(0)} ns, quartiles ${n1.toFixed(0)} … ${n3.toFixed(0)}\n` +
    `  latency histogram: ${m.latency.count} of ${(m.fold(), m.queries).reduce((x, y) => x + y, 0)} queries timed (1 in ${LATENCY_SAMPLE})\n`,
);
