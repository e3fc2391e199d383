// `npm run bench:observe`: the engine's cost per query with and without the metrics observer, in one
// process, rounds interleaved (so a busy machine slows both alike). The dnsperf view is `npm run bench`'s
// "fluxdns (workers: 1, metrics on)" row. A third engine, also without metrics, measures the noise: a cost
// inside the spread of off − off cannot be told from none.
import { parseConfigText } from '../src/config/load.js';
import type { TransportInfo } from '../src/answer/context.js';
import { Engine } from '../src/answer/engine.js';
import { createUnits } from '../src/answer/units.js';
import { LATENCY_SAMPLE, QueryMetrics } from '../src/observe/metrics/queries.js';
import { encodeMessage, queryMessage } from '../src/wire/message.js';
import { RRType } from '../src/wire/types.js';
import { parseZone } from '../src/zone/parser.js';
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
 * CPU time (user + system) per query in ns: on a machine other jobs share, time spent descheduled is
 * left out (wall time counts it, and it dwarfed the difference being measured).
 */
function round(engine: Engine, n: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) engine.handle(queries[i & 4095]!, udp);
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / n;
}

const plain = new Engine({ config, zones, generation: 1 }, createUnits());
// A second engine without metrics: the difference between the two plain ones is the run's noise.
const control = new Engine({ config, zones, generation: 1 }, createUnits());
const observed = new Engine({ config, zones, generation: 1 }, createUnits());
const m = new QueryMetrics();
m.register();
observed.observer = (ctx, reply, s) => m.record(ctx, reply, s);
// As the server sets it when `metrics:` is the only observer.
observed.timeEvery = LATENCY_SAMPLE;

const N = Number(process.env.N ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 21);
for (const e of [plain, control, observed]) round(e, N);
const off: number[] = [];
const ctl: number[] = [];
const on: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // The order rotates so that no engine always runs first (or after the same one).
  const order = [0, 1, 2].map((k) => (k + r) % 3);
  for (const k of order) (k === 0 ? off : k === 1 ? ctl : on).push(round(k === 0 ? plain : k === 1 ? control : observed, N));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const quartiles = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor(s.length / 4)]!, s[Math.floor((3 * s.length) / 4)]!] as const;
};
const a = median(off);
const b = median(on);
const noise = off.map((x, i) => ctl[i]! - x);
const cost = off.map((x, i) => on[i]! - x);
const [n1, n3] = quartiles(noise);
const [c1, c3] = quartiles(cost);
const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
process.stdout.write(
  `engine CPU ns/query, ${ROUNDS} interleaved rounds of ${N} (load ${load}): metrics off ${a.toFixed(0)}, metrics on ${b.toFixed(0)}\n` +
    `  on − off per round:  median ${median(cost).toFixed(0)} ns (${((100 * median(cost)) / a).toFixed(1)} %), quartiles ${c1.toFixed(0)} … ${c3.toFixed(0)}\n` +
    `  off − off (noise):   median ${median(noise).toFixed(0)} ns, quartiles ${n1.toFixed(0)} … ${n3.toFixed(0)}\n` +
    `  latency histogram: ${m.latency.count} of ${m.queries.reduce((x, y) => x + y, 0)} queries timed (1 in ${LATENCY_SAMPLE})\n`,
);
