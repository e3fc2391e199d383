// zone responder in the pipeline: which zone answers (the DS rule of RFC 4035 §3.1.4.1) and the answer cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../config/load.js';
import { decodeMessage, encodeMessage, queryMessage } from '../../wire/message.js';
import { Rcode, RRType } from '../../wire/types.js';
import { parseZone } from '../../zone/parser.js';
import { Zone, ZoneSet } from '../../zone/tree.js';
import type { TransportInfo } from '../../answer/context.js';
import { Engine } from '../../answer/engine.js';
import { createUnits } from '../../answer/units.js';
import { AnswerCache } from '../cache/index.js';

const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };
const zone = (origin: string, text: string) => Zone.build(origin, parseZone(text, { origin }).records);
const zones = new ZoneSet([
  zone('p.lab.', '$TTL 60\n@ SOA ns hm 1 1 1 1 30\n NS ns\nns A 198.51.100.1\nc NS ns\nc TYPE43 \\# 8 3039 0D 02 0A0B0C0D\nu NS ns\n'),
  zone('c.p.lab.', '$TTL 60\n@ SOA ns.p.lab. hm 2 1 1 1 40\n NS ns.p.lab.\n'),
  zone('u.p.lab.', '$TTL 60\n@ SOA ns.p.lab. hm 3 1 1 1 50\n NS ns.p.lab.\n'),
]);
const cache = new AnswerCache();
const engine = new Engine({ config: parseConfigText('{}', 'z.yaml').config, zones, generation: 1 }, createUnits(cache));
let id = 1;
const ask = (name: string, type: number) => decodeMessage(engine.handle(encodeMessage(queryMessage(name, type, { id: id++ })), udp) as Uint8Array);

test('DS at the apex of a served child is answered by the served parent, repeatedly (answer cache)', () => {
  for (let i = 0; i < 2; i++) {
    const ds = ask('c.p.lab.', RRType.DS);
    assert.equal(ds.flags.aa, true);
    assert.deepEqual(ds.answers.map((r) => [r.name, r.type]), [['c.p.lab.', RRType.DS]]);
    const soa = ask('c.p.lab.', RRType.SOA);
    assert.deepEqual(soa.answers.map((r) => [r.name, r.type]), [['c.p.lab.', RRType.SOA]], 'the child answers every other type');
    const nods = ask('u.p.lab.', RRType.DS);
    assert.equal(nods.flags.rcode, Rcode.NOERROR);
    assert.deepEqual(nods.authorities.map((r) => [r.name, r.ttl]), [['p.lab.', 30]], 'NODATA with the parent SOA');
  }
  assert.ok(cache.hits >= 3);
});

test('DS at the apex of a file zone under a policy-owned zone is answered by the policy zone, its parent', () => {
  const config = parseConfigText('policies:\n  - { match: { qname: "pool.pz.lab" }, action: { rcode: NXDOMAIN }, zone: pz.lab }\n', 'z.yaml').config;
  const child = new ZoneSet([zone('f.pz.lab.', '$TTL 60\n@ SOA ns.pz.lab. hm 9 1 1 1 70\n NS ns.pz.lab.\nwww A 198.51.100.9\n')]);
  const e = new Engine({ config, zones: child, generation: 1 }, createUnits(new AnswerCache()));
  const askE = (name: string, type: number) => decodeMessage(e.handle(encodeMessage(queryMessage(name, type, { id: id++ })), udp) as Uint8Array);
  const ds = askE('f.pz.lab.', RRType.DS);
  assert.equal(ds.flags.aa, true);
  assert.deepEqual(ds.authorities.map((r) => [r.name, r.type]), [['pz.lab.', RRType.SOA]]);
  assert.deepEqual(askE('f.pz.lab.', RRType.SOA).answers.map((r) => r.name), ['f.pz.lab.'], 'the child answers other types');
  assert.deepEqual(askE('www.f.pz.lab.', RRType.DS).authorities.map((r) => r.name), ['f.pz.lab.'], 'DS below the apex: the child');
});
