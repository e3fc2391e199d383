// echo responder in the pipeline: its place before the zones, the answer cache, the injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, queryMessage } from '../../wire/message.js';
import { Rcode, RRType } from '../../wire/types.js';
import { parseConfigText } from '../../config/load.js';
import { parseZone } from '../../zone/parser.js';
import { Zone, ZoneSet } from '../../zone/tree.js';
import type { TransportInfo } from '../../answer/context.js';
import { Engine } from '../../answer/engine.js';
import { createUnits } from '../../answer/units.js';
import { AnswerCache } from '../cache/index.js';

const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };

function q(name: string, type: number): Uint8Array {
  return encodeMessage(queryMessage(name, type, { id: 9 }));
}

function engine(echoYaml: string, clock = { t: 0 }) {
  const config = parseConfigText(`echo:\n${echoYaml}`, 't.yaml').config;
  // A master-file zone below the echo zone answers for itself.
  const zones = new ZoneSet([Zone.build('sub.echo.lab.', parseZone('$TTL 60\n@ SOA ns hm 1 1 1 1 1\n NS ns\nns A 198.51.100.1\n', { origin: 'sub.echo.lab.' }).records)]);
  const cache = new AnswerCache();
  const e = new Engine({ config, zones, generation: 1 }, createUnits(cache, { now: () => clock.t }));
  const ask = (name: string, type: number) => decodeMessage(e.handle(q(name, type), udp) as Uint8Array);
  return { ask, cache, clock };
}

test('a stateless echo zone answers through the pipeline and its answers are cacheable', () => {
  const { ask, cache } = engine('  - { zone: echo.lab }\n');
  const m = ask('198.51.100.7.ca.box.echo.lab.', RRType.A);
  assert.equal(m.flags.aa, true);
  assert.deepEqual(m.answers.map((r) => [r.name, r.type]), [['198.51.100.7.ca.box.echo.lab.', RRType.CNAME], ['box.echo.lab.', RRType.A]]);
  ask('198.51.100.7.ca.box.echo.lab.', RRType.A);
  assert.equal(cache.hits, 1);
  assert.equal(ask('ns.sub.echo.lab.', RRType.A).answers[0]?.name, 'ns.sub.echo.lab.', 'the deeper master zone answers');
  assert.equal(ask('example.lab.', RRType.A).flags.rcode, Rcode.REFUSED, 'outside every zone');
  assert.equal(ask('echo.lab.', RRType.AXFR).flags.rcode, Rcode.REFUSED);
});

test('with short-time caching nothing is replayed by the answer cache, and the clock bounds the age', () => {
  const { ask, cache, clock } = engine('  - { zone: echo.lab, shortTimeCache: { enabled: true, maxAgeSeconds: 5 } }\n');
  ask('198.51.100.7.ca.box.echo.lab.', RRType.A);
  assert.equal(ask('box.echo.lab.', RRType.A).answers[0]?.type, RRType.A);
  assert.equal(ask('box.echo.lab.', RRType.A).answers.length, 0, 'the first retrieval consumed it');
  ask('198.51.100.8.ca.box.echo.lab.', RRType.A);
  clock.t = 5000;
  assert.equal(ask('box.echo.lab.', RRType.A).answers.length, 0, 'older than maxAgeSeconds');
  assert.equal(cache.size, 0);
  assert.equal(cache.hits, 0);
});

test('DS at a cut between an echo zone and a master-file zone is answered by the parent side (RFC 4035 §3.1.4.1)', () => {
  const config = parseConfigText('echo:\n  - { zone: echo.lab }\n', 't.yaml').config;
  const zone = (origin: string, text: string) => Zone.build(origin, parseZone(text, { origin }).records);
  const zones = new ZoneSet([
    zone('lab.', '$TTL 60\n@ SOA ns hm 7 1 1 1 1\n NS ns\nns A 198.51.100.1\necho NS ns\n'),
    zone('sub.echo.lab.', '$TTL 60\n@ SOA ns hm 8 1 1 1 1\n NS ns\nns A 198.51.100.1\n'),
  ]);
  const e = new Engine({ config, zones, generation: 1 }, createUnits(new AnswerCache()));
  const ask = (name: string, type: number) => decodeMessage(e.handle(q(name, type), udp) as Uint8Array);
  // The echo zone's DS comes from the master-file parent lab., which holds the cut.
  const apex = ask('echo.lab.', RRType.DS);
  assert.equal(apex.flags.aa, true);
  assert.deepEqual(apex.authorities.map((r) => [r.name, r.type]), [['lab.', RRType.SOA]]);
  assert.equal(ask('echo.lab.', RRType.SOA).answers[0]?.name, 'echo.lab.', 'other types at the apex: the echo zone');
  // The master-file child's DS comes from the echo zone, its parent, not from the child.
  const child = ask('sub.echo.lab.', RRType.DS);
  assert.equal(child.flags.aa, true);
  assert.ok(!child.authorities.some((r) => r.name === 'sub.echo.lab.'), JSON.stringify(child.authorities));
  assert.equal(ask('sub.echo.lab.', RRType.SOA).answers[0]?.name, 'sub.echo.lab.');
});
