// Pipeline tests: declared order, one registration per unit, async resumption, failure branches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery } from '../wire/fastpath.js';
import { decodeMessage, encodeMessage, queryMessage } from '../wire/message.js';
import { Rcode, RRType } from '../wire/types.js';
import { parseConfigText } from '../config/load.js';
import { ZoneSet } from '../zone/tree.js';
import { QueryContext, type TransportInfo } from './context.js';
import { Engine } from './engine.js';
import { Pipeline, STAGE_ORDER } from './pipeline.js';
import { createUnits } from './units.js';
import { ANSWERED, CONTINUE, drop, fail, type Unit } from './unit.js';
import type { Runtime } from './runtime.js';

const runtime: Runtime = { config: parseConfigText('{}', 'test.yaml').config, zones: new ZoneSet([]), generation: 1 };
const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5000, localAddress: '127.0.0.1', localPort: 53 };

function queryBytes(name = 'a.lab.', type: number = RRType.A): Uint8Array {
  return encodeMessage(queryMessage(name, type, { id: 99, rd: true }));
}

const ctxFor = (raw = queryBytes()) => new QueryContext(raw, parseQuery(raw), udp, runtime, 0);

test('the declared chain registers every unit once, in stage order', () => {
  const units = createUnits();
  const names = units.map((u) => u.name);
  assert.equal(new Set(names).size, names.length);
  const ranks = units.map((u) => STAGE_ORDER.indexOf(u.stage));
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
  assert.doesNotThrow(() => new Pipeline(units));
});

test('a unit registered twice or out of stage order is rejected', () => {
  const u: Unit = { name: 'x', stage: 'guard', handle: () => CONTINUE };
  assert.throws(() => new Pipeline([u, u]), /registered twice/);
  const late: Unit = { name: 'late', stage: 'guard', handle: () => CONTINUE };
  const resp: Unit = { name: 'resp', stage: 'responder', handle: () => ANSWERED };
  assert.throws(() => new Pipeline([resp, late]), /after a later stage/);
});

test('the first responder that answers wins; finishers still run', () => {
  const order: string[] = [];
  const p = new Pipeline([
    { name: 'a', stage: 'responder', handle: () => (order.push('a'), CONTINUE) },
    { name: 'b', stage: 'responder', handle: () => (order.push('b'), ANSWERED) },
    { name: 'c', stage: 'responder', handle: () => (order.push('c'), ANSWERED) },
    { name: 'f', stage: 'finish', handle: () => (order.push('f'), CONTINUE) },
  ]);
  assert.deepEqual(p.run(ctxFor()), { kind: 'send' });
  assert.deepEqual(order, ['a', 'b', 'f']);
});

test('an asynchronous unit resumes the chain after it', async () => {
  const order: string[] = [];
  const p = new Pipeline([
    { name: 'g', stage: 'guard', handle: async () => (order.push('g'), CONTINUE) },
    { name: 'r', stage: 'responder', handle: () => (order.push('r'), ANSWERED) },
    { name: 'f', stage: 'finish', handle: async () => (order.push('f'), CONTINUE) },
    { name: 'f2', stage: 'finish', handle: () => (order.push('f2'), CONTINUE) },
  ]);
  const v = p.run(ctxFor());
  assert.ok(v instanceof Promise);
  assert.deepEqual(await v, { kind: 'send' });
  assert.deepEqual(order, ['g', 'r', 'f', 'f2']);
});

test('fail clears the sections and sets the rcode; drop sends nothing; nothing answering is REFUSED', () => {
  const ctx = ctxFor();
  ctx.response.answer.push({ name: 'a.lab.', type: 1, class: 1, ttl: 1, data: { address: '198.51.100.1' } });
  new Pipeline([{ name: 'g', stage: 'guard', handle: () => fail(Rcode.REFUSED, 'no') }]).run(ctx);
  assert.equal(ctx.response.rcode, Rcode.REFUSED);
  assert.equal(ctx.response.answer.length, 0);
  assert.deepEqual(new Pipeline([{ name: 'd', stage: 'guard', handle: () => drop('quiet') }]).run(ctxFor()), { kind: 'drop', reason: 'quiet' });
  const none = ctxFor();
  new Pipeline([]).run(none);
  assert.equal(none.response.rcode, Rcode.REFUSED);
});

test('a unit that throws gives SERVFAIL and is reported, synchronously or not', async () => {
  const errors: string[] = [];
  const boom: Unit = { name: 'boom', stage: 'responder', handle: () => { throw new Error('bug'); } };
  const engine = new Engine(runtime, [boom], { onUnitError: (u) => errors.push(u.name) });
  const reply = engine.handle(queryBytes(), udp);
  assert.ok(reply instanceof Uint8Array);
  assert.equal(decodeMessage(reply).flags.rcode, Rcode.SERVFAIL);
  const asyncBoom: Unit = { name: 'aboom', stage: 'responder', handle: async () => { throw new Error('bug'); } };
  const r2 = await new Engine(runtime, [asyncBoom], { onUnitError: (u) => errors.push(u.name) }).handle(queryBytes(), udp);
  assert.equal(decodeMessage(r2!).flags.rcode, Rcode.SERVFAIL);
  assert.deepEqual(errors, ['boom', 'aboom']);
});

test('the engine ignores packets shorter than a header', () => {
  const engine = new Engine(runtime, createUnits());
  assert.equal(engine.handle(new Uint8Array(11), udp), null);
});
