// Query metrics through the engine: answer-cache hits counted by cell come out equal to counting each reply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportInfo } from '../../answer/context.js';
import type { Runtime } from '../../answer/runtime.js';
import { Engine } from '../../answer/engine.js';
import { createUnits } from '../../answer/units.js';
import { parseConfigText } from '../../config/load.js';
import { serverAnswerCache } from '../../modules/cache/index.js';
import { encodeMessage, queryMessage } from '../../wire/message.js';
import { RRType, rcodeName, typeName } from '../../wire/types.js';
import { parseZone } from '../../zone/parser.js';
import { Zone, ZoneSet } from '../../zone/tree.js';
import { collectMetrics } from './collect.js';
import { QueryMetrics, SIZE_BOUNDS } from './queries.js';

const config = parseConfigText('rrl: off\n', 'test.yaml').config;
const udp: TransportInfo = { proto: 'udp', remoteAddress: '198.51.100.9', remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 };
const tcp: TransportInfo = { ...udp, proto: 'tcp' };

function zone(origin: string, body = ''): Zone {
  return Zone.build(origin, parseZone(`$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${body}`, { origin }).records);
}

/** The value of one sample line of the Prometheus text, 0 when absent. */
function sample(text: string, line: string): number {
  const at = text.split('\n').find((l) => l.startsWith(`${line} `));
  return at === undefined ? 0 : Number(at.slice(line.length + 1));
}

test('answer-cache hits counted by cell equal counting every reply: queries, sizes, byte sums, zones', async () => {
  const txt = Array.from({ length: 30 }, (_, i) => `t${i} TXT "${'x'.repeat(i * 40)}"`).join('\n');
  const rt: Runtime = { config, zones: new ZoneSet([zone('b.lab.', `h A 198.51.100.2\n${txt}\n`), zone('x.b.lab.')]), generation: 1 };
  const engine = new Engine(rt, createUnits(serverAnswerCache()));
  const m = new QueryMetrics();
  m.register();
  // The reference: every reply counted from its own bytes, and how many went the one-increment path.
  const want = { queries: new Map<string, number>(), sizes: new Map<string, number[]>(), zones: new Map<string, number>() };
  let byCell = 0;
  engine.observer = (ctx, reply, s) => {
    if (ctx.cacheCell >= 0 && reply === ctx.cacheReply) byCell++;
    m.record(ctx, reply, s);
    const p = ctx.transport.proto;
    const key = `transport="${p}",qtype="${typeName(ctx.query.question!.type)}",rcode="${reply === null ? 'none' : rcodeName(reply[3]! & 15)}"`;
    want.queries.set(key, (want.queries.get(key) ?? 0) + 1);
    const z = rt.zones.find(ctx.query.question!.name)?.origin ?? '';
    want.zones.set(z, (want.zones.get(z) ?? 0) + 1);
    if (reply !== null) {
      const s2 = want.sizes.get(p) ?? [0, 0];
      want.sizes.set(p, [s2[0]! + 1, s2[1]! + reply.length]);
    }
  };
  const asked: [string, number][] = [
    ['h.b.lab.', RRType.A], ['H.B.lab.', RRType.A], ['nx.b.lab.', RRType.A], ['h.b.lab.', RRType.AAAA], ['x.b.lab.', RRType.SOA],
    ['b.lab.', RRType.DS], ['www.example.', RRType.A], ...Array.from({ length: 30 }, (_, i): [string, number] => [`t${i}.b.lab.`, RRType.TXT]),
  ];
  for (let round = 0; round < 5; round++) {
    for (const [name, type] of asked) {
      for (const t of [udp, tcp]) engine.handle(encodeMessage(queryMessage(name, type, { id: 7, edns: round % 2 === 0 ? 1232 : undefined })), t);
    }
  }
  assert.ok(byCell > asked.length * 2, `hits counted by cell: ${byCell}`);
  const text = (await collectMetrics()).text;
  for (const [key, n] of want.queries) assert.equal(sample(text, `fluxdns_queries_total{${key}}`), n, key);
  const total = [...want.queries.values()].reduce((a, b) => a + b, 0);
  const lines = text.split('\n').filter((l) => l.startsWith('fluxdns_queries_total{'));
  assert.equal(lines.reduce((a, l) => a + Number(l.split(' ').pop()), 0), total, 'no other cells counted');
  for (const [p, [count, sum]] of want.sizes) {
    assert.equal(sample(text, `fluxdns_response_size_bytes_count{transport="${p}"}`), count, `${p} size count`);
    assert.equal(sample(text, `fluxdns_response_size_bytes_sum{transport="${p}"}`), sum, `${p} byte sum`);
  }
  // The buckets: the replies of 30 TXT sizes spread over several of them; +Inf holds every reply.
  const inf = sample(text, 'fluxdns_response_size_bytes_bucket{le="+Inf",transport="udp"}') || sample(text, 'fluxdns_response_size_bytes_bucket{transport="udp",le="+Inf"}');
  assert.equal(inf, want.sizes.get('udp')![0]);
  assert.ok(SIZE_BOUNDS.length > 3);
  for (const [z, n] of want.zones) assert.equal(sample(text, `fluxdns_zone_queries_total{zone="${z}"}`), n, `zone ${z}`);
  // Read twice: folding moves the counts once.
  assert.equal(sample((await collectMetrics()).text, `fluxdns_zone_queries_total{zone="b.lab."}`), want.zones.get('b.lab.'));
});
