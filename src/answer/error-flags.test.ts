// Header flags of error answers: RD is copied and no other query flag (RFC 8906 §8.1.4, as Knot does);
// answers from data copy CD (RFC 4035 §3.1.6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { decodeMessage, encodeMessage, queryMessage } from '../wire/message.js';
import { Rcode, RRClass, RRType, type Message } from '../wire/types.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import type { TransportInfo } from './context.js';
import { Engine } from './engine.js';
import { createUnits } from './units.js';

const zones = new ZoneSet([Zone.build('f.lab.', parseZone('$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n NS ns\nns A 198.51.100.1\n', { origin: 'f.lab.' }).records)]);
const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };
const engine = new Engine({ config: parseConfigText('{}', 'f.yaml').config, zones, generation: 1 }, createUnits());

/** Sends `msg` with RD, CD and AD set (and Z, which RFC 8906 §8.1.3.2 also sends) and decodes the answer. */
function ask(msg: Message): Message {
  const wire = encodeMessage({ ...msg, flags: { ...msg.flags, rd: true, cd: true, ad: true, z: true } });
  const out = engine.handle(wire, udp);
  assert.ok(out instanceof Uint8Array);
  return decodeMessage(out);
}

const flagsOf = (m: Message): string[] => (['qr', 'aa', 'tc', 'rd', 'ra', 'z', 'ad', 'cd'] as const).filter((f) => m.flags[f]);

test('NOTIMP for an unknown opcode copies RD alone, with and without a question', () => {
  const withQuestion = queryMessage('f.lab.', RRType.SOA, { id: 1 });
  withQuestion.flags.opcode = 15;
  const headerOnly: Message = { ...withQuestion, id: 2, questions: [] };
  for (const m of [withQuestion, headerOnly, { ...withQuestion, id: 3, edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options: [] } }]) {
    const r = ask(m);
    assert.equal(r.flags.rcode, Rcode.NOTIMP);
    assert.equal(r.flags.opcode, 15);
    assert.deepEqual(flagsOf(r), ['qr', 'rd']);
  }
});

test('REFUSED (out of zone, unknown class), BADVERS and FORMERR copy RD alone', () => {
  const chaos = queryMessage('f.lab.', RRType.SOA, { id: 4 });
  chaos.questions[0]!.class = RRClass.CH;
  const badvers = queryMessage('f.lab.', RRType.SOA, { id: 5, edns: 1232 });
  badvers.edns!.version = 1;
  const optType = queryMessage('f.lab.', RRType.OPT, { id: 6 });
  const cases: [Message, number][] = [
    [queryMessage('www.example.lab.', RRType.A, { id: 7 }), Rcode.REFUSED],
    [chaos, Rcode.REFUSED],
    [badvers, Rcode.BADVERS],
    [optType, Rcode.FORMERR],
  ];
  for (const [m, rcode] of cases) {
    const r = ask(m);
    assert.equal((r.edns?.extendedRcode ?? 0) * 16 + r.flags.rcode, rcode, `id ${m.id}`);
    assert.deepEqual(flagsOf(r), ['qr', 'rd'], `id ${m.id}`);
  }
});

test('answers from data copy CD (RFC 4035 §3.1.6), never AD or Z', () => {
  assert.deepEqual(flagsOf(ask(queryMessage('f.lab.', RRType.SOA, { id: 8 }))), ['qr', 'aa', 'rd', 'cd']);
  assert.deepEqual(flagsOf(ask(queryMessage('nope.f.lab.', RRType.A, { id: 9 }))), ['qr', 'aa', 'rd', 'cd']);
});
