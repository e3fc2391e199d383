// Per-zone query counts from wire bytes agree with ZoneSet.find (the deepest zone holding the name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryContext, type TransportInfo } from '../../answer/context.js';
import type { Runtime } from '../../answer/runtime.js';
import { parseConfigText } from '../../config/load.js';
import { parseQuery } from '../../wire/fastpath.js';
import { encodeMessage, queryMessage } from '../../wire/message.js';
import { RRType } from '../../wire/types.js';
import { parseZone } from '../../zone/parser.js';
import { Zone, ZoneSet } from '../../zone/tree.js';
import { ZoneCounts } from './zone-counts.js';
import { Engine } from '../../answer/engine.js';
import { createUnits } from '../../answer/units.js';
import { serverAnswerCache } from '../../modules/cache/index.js';

const config = parseConfigText('rrl: off\n', 'test.yaml').config;
const udp: TransportInfo = { proto: 'udp', remoteAddress: '198.51.100.9', remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 };

function zone(origin: string): Zone {
  return Zone.build(origin, parseZone(`$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n`, { origin }).records);
}

function runtime(origins: string[], generation = 1): Runtime {
  return { config, zones: new ZoneSet(origins.map(zone)), generation };
}

function ask(counts: ZoneCounts, rt: Runtime, name: string): void {
  const raw = encodeMessage(queryMessage(name, RRType.A, { id: 1 }));
  counts.record(new QueryContext(raw, parseQuery(raw), udp, rt, 0));
}

/** What the old per-name lookup counted: the origin of ZoneSet.find, '' for none. */
function expected(rt: Runtime, names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) {
    const o = rt.zones.find(n)?.origin ?? '';
    out[o] = (out[o] ?? 0) + 1;
  }
  return out;
}

test('nested zones, case, names in no zone: each query counts for the deepest zone holding its name', () => {
  const rt = runtime(['b.lab.', 'x.b.lab.', 'other.example.']);
  const names = ['h1.b.lab.', 'H1.B.LaB.', 'b.lab.', 'deep.in.X.b.lab.', 'x.b.lab.', 'xb.lab.', 'lab.', 'example.', 'a.other.example.', 'other.example.org.', 'c.lab.', 'ab.lab.'];
  const c = new ZoneCounts();
  for (const n of names) ask(c, rt, n);
  assert.deepEqual(Object.fromEntries(c.entries()), expected(rt, names));
  assert.deepEqual(Object.fromEntries(c.entries()), { 'b.lab.': 3, 'x.b.lab.': 2, 'other.example.': 1, '': 6 });
});

test('a root zone takes every name no deeper zone holds', () => {
  const rt = runtime(['.', 'b.lab.']);
  const names = ['h.b.lab.', 'lab.', 'www.example.', '.'];
  const c = new ZoneCounts();
  for (const n of names) ask(c, rt, n);
  assert.deepEqual(Object.fromEntries(c.entries()), expected(rt, names));
  assert.equal(Object.fromEntries(c.entries())['.'], 3);
});

test('many zones of one origin length are found by hash, with the same counts as ZoneSet.find', () => {
  // 40 origins of 6 wire bytes ("zNN.lab." minus the root label is 3+1+3+1 = 8; all the same length).
  const origins = Array.from({ length: 40 }, (_, i) => `z${String(i).padStart(2, '0')}.lab.`);
  const rt = runtime([...origins, 'sub.z07.lab.']);
  const names: string[] = [];
  for (let i = 0; i < 500; i++) {
    const k = (i * 7919) % 45;
    names.push(k < 40 ? `h${i}.${i % 3 === 0 ? 'sub.' : ''}Z${String(k).padStart(2, '0')}.lab.` : `h${i}.q${k}.lab.`);
  }
  const c = new ZoneCounts();
  for (const n of names) ask(c, rt, n);
  assert.deepEqual(Object.fromEntries(c.entries()), expected(rt, names));
});

test('counts survive a reload (a new runtime): the earlier runtime\'s counts are kept by origin', () => {
  const a = runtime(['b.lab.']);
  const b = runtime(['b.lab.', 'c.lab.'], 2);
  const c = new ZoneCounts();
  ask(c, a, 'h.b.lab.');
  ask(c, a, 'h.c.lab.');
  ask(c, b, 'h.b.lab.');
  ask(c, b, 'h.c.lab.');
  ask(c, a, 'h.b.lab.');
  assert.deepEqual(Object.fromEntries(c.entries()), { 'b.lab.': 3, 'c.lab.': 1, '': 1 });
});

test('through the engine: the answering zone\'s slot (zone responder, answer-cache hits) counts as the name match would', () => {
  const rt = runtime(['b.lab.', 'x.b.lab.', 'other.example.']);
  const engine = new Engine(rt, createUnits(serverAnswerCache()));
  const c = new ZoneCounts();
  let bySlot = 0;
  engine.observer = (ctx) => {
    if (ctx.zoneSlot >= 0) bySlot++;
    c.record(ctx);
  };
  // Each name three times: a miss, a miss stored (second ask), then a hit from the stored entry.
  const asked: [string, number][] = [
    ['ns.b.lab.', RRType.A], ['NS.B.lab.', RRType.A], ['nx.b.lab.', RRType.A], ['deep.in.X.b.lab.', RRType.AAAA],
    ['x.b.lab.', RRType.SOA], ['x.b.lab.', RRType.DS], ['b.lab.', RRType.DS], ['a.other.example.', RRType.A], ['lab.', RRType.A], ['www.example.', RRType.A],
  ];
  const names: string[] = [];
  for (let round = 0; round < 3; round++) {
    for (const [name, type] of asked) {
      names.push(name);
      engine.handle(encodeMessage(queryMessage(name, type, { id: 7 })), udp);
    }
  }
  assert.deepEqual(Object.fromEntries(c.entries()), expected(rt, names));
  // Every query in a file zone but the DS ones (answered by the parent side) went by slot, hits included.
  assert.equal(bySlot, 3 * 6);
});
