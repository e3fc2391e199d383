// `npm run bench:observe`: the engine's cost per query with and without the metrics observer, in one
// process, rounds interleaved (so a busy machine slows both alike). The dnsperf view is `npm run bench`'s
// "fluxdns (workers: 1, metrics on)" row.
import { parseConfigText } from '../src/config/load.js';
import type { TransportInfo } from '../src/answer/context.js';
import { Engine } from '../src/answer/engine.js';
import { createUnits } from '../src/answer/units.js';
import { QueryMetrics } from '../src/observe/metrics/queries.js';
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

function round(engine: Engine, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) engine.handle(queries[i & 4095]!, udp);
  return Number(process.hrtime.bigint() - t0) / n;
}

const plain = new Engine({ config, zones, generation: 1 }, createUnits());
const observed = new Engine({ config, zones, generation: 1 }, createUnits());
const m = new QueryMetrics();
observed.observer = (ctx, reply, s) => m.record(ctx, reply, s);

const N = Number(process.env.N ?? 200_000);
round(plain, N);
round(observed, N);
const off: number[] = [];
const on: number[] = [];
for (let r = 0; r < 9; r++) {
  off.push(round(plain, N));
  on.push(round(observed, N));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const a = median(off);
const b = median(on);
process.stdout.write(`engine ns/query, median of 9 interleaved rounds of ${N}: metrics off ${a.toFixed(0)}, metrics on ${b.toFixed(0)} (+${(b - a).toFixed(0)} ns, ${((100 * (b - a)) / a).toFixed(1)} %)\n`);
