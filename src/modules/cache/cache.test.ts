// answer-cache: a cached answer must be byte-for-byte what a fresh lookup would have sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, queryMessage } from '../../wire/message.js';
import { RRType } from '../../wire/types.js';
import { parseConfigText } from '../../config/load.js';
import { parseZone } from '../../zone/parser.js';
import { Zone, ZoneSet } from '../../zone/tree.js';
import { QueryContext, type TransportInfo } from '../../answer/context.js';
import { Pipeline } from '../../answer/pipeline.js';
import { parseQuery } from '../../wire/fastpath.js';
import { Engine } from '../../answer/engine.js';
import { createUnits } from '../../answer/units.js';
import type { Unit } from '../../answer/unit.js';
import { AnswerCache, serverAnswerCache } from './index.js';

const ZONE = '$TTL 60\n@ SOA ns hm 1 1 1 1 1\n NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\nalias CNAME www\n*.w TXT "wild"\n';
const config = parseConfigText('{}', 't.yaml').config;
const zones = (text: string) => new ZoneSet([Zone.build('t.lab.', parseZone(text, { origin: 't.lab.' }).records)]);
const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };

function q(name: string, type: number, id: number, rd: boolean, cd = false, edns = false): Uint8Array {
  return encodeMessage(queryMessage(name, type, { id, rd, cd, edns }));
}

const withoutCache = (u: Unit) => !u.name.startsWith('answer-cache');

test('a cached answer equals a fresh one for another ID, case, RD and CD', () => {
  const cache = new AnswerCache();
  const runtime = { config, zones: zones(ZONE), generation: 1 };
  const cached = new Engine(runtime, createUnits(cache));
  const fresh = new Engine(runtime, createUnits().filter(withoutCache));
  const cases: [string, number][] = [['www.t.lab.', RRType.A], ['alias.t.lab.', RRType.A], ['x.w.t.lab.', RRType.TXT], ['nope.t.lab.', RRType.A], ['www.t.lab.', RRType.AAAA]];
  for (const [name, type] of cases) {
    cached.handle(q(name, type, 1, true, false, true), udp);
    const variants = [q(name.toUpperCase(), type, 7, false, false, true), q(name.replace(/^./, (c) => c.toUpperCase()), type, 65535, true, true, true)];
    for (const v of variants) assert.deepEqual(cached.handle(v, udp), fresh.handle(v, udp), name);
  }
  assert.ok(cache.hits >= 10, `hits ${cache.hits}`);
});

test('queries with EDNS options, and other transports or sizes, are not served from one entry', () => {
  const cache = new AnswerCache();
  const runtime = { config, zones: zones(ZONE), generation: 1 };
  const engine = new Engine(runtime, createUnits(cache));
  engine.handle(q('www.t.lab.', RRType.A, 1, false), udp);
  engine.handle(q('www.t.lab.', RRType.A, 1, false, false, true), udp);
  engine.handle(q('www.t.lab.', RRType.A, 1, false), { ...udp, proto: 'tcp' });
  assert.equal(cache.size, 3);
  assert.equal(cache.hits, 0);
});

test('a reload (new generation) empties the cache', () => {
  const cache = new AnswerCache();
  const engine = new Engine({ config, zones: zones(ZONE), generation: 1 }, createUnits(cache));
  const before = engine.handle(q('www.t.lab.', RRType.A, 1, false), udp) as Uint8Array;
  engine.swap({ config, zones: zones(ZONE.replace('198.51.100.2', '198.51.100.99')), generation: 2 });
  const after = engine.handle(q('www.t.lab.', RRType.A, 1, false), udp) as Uint8Array;
  assert.notDeepEqual(after, before);
  assert.deepEqual([...after.subarray(after.length - 4)], [198, 51, 100, 99]);
});

/** A cache key from text, for the tests of the store itself. */
const k = (s: string): Uint8Array => new TextEncoder().encode(s);

test('the cache is bounded', () => {
  const cache = new AnswerCache(3);
  for (let i = 0; i < 10; i++) cache.set(k(String(i)), 0, new Uint8Array(1));
  assert.equal(cache.size, 0, 'entries of another generation are not stored');
  cache.get(k('x'), 0);
  for (let i = 0; i < 10; i++) cache.set(k(String(i)), 0, new Uint8Array(1));
  assert.equal(cache.size, 3);
  assert.ok(cache.get(k('9'), 0) && !cache.get(k('0'), 0));
});

test('eviction is first in, first out, also when a stored key is stored again', () => {
  const cache = new AnswerCache(3);
  cache.get(k('x'), 1);
  for (const s of ['a', 'b', 'c', 'a', 'd', 'e']) cache.set(k(s), 1, new Uint8Array([s.charCodeAt(0)]));
  // "a" stored again became the newest; its first ring slot went stale and was reused for it.
  assert.equal(cache.size, 3);
  assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((s) => cache.get(k(s), 1)?.[0]), [97, undefined, undefined, 100, 101]);
  // A reload (new generation) starts an empty ring.
  assert.equal(cache.get(k('d'), 2), undefined);
  for (const s of ['f', 'g', 'h', 'i']) cache.set(k(s), 2, new Uint8Array(1));
  assert.deepEqual(['f', 'g', 'h', 'i'].map((s) => cache.get(k(s), 2) !== undefined), [false, true, true, true]);
});

test('keys are compared as bytes: a prefix, a longer buffer and hash neighbours find only their own entry', () => {
  const cache = new AnswerCache(200000);
  cache.get(k(''), 1);
  // 100,000 keys in 2^30 buckets: a few share a bucket (birthday bound), so chains are exercised.
  for (let i = 0; i < 100000; i++) cache.set(k(`key${i}`), 1, Uint8Array.of(i & 0xff, i >> 8, i >> 16));
  for (let i = 0; i < 100000; i++) {
    const w = cache.get(k(`key${i}`), 1)!;
    assert.equal(w[0]! | (w[1]! << 8) | (w[2]! << 16), i);
  }
  const buf = k('key12xyz');
  assert.equal(cache.get(buf, 1, 5)?.[0], 12, 'the given length of a longer buffer');
  assert.equal(cache.get(k('key1234567'), 1), undefined);
  assert.equal(cache.size, 100000);
});

test('flush empties the cache, or drops one name and the names below it', () => {
  const cache = new AnswerCache();
  const runtime = { config, zones: zones(ZONE), generation: 1 };
  const engine = new Engine(runtime, createUnits(cache));
  const names: [string, number][] = [['www.t.lab.', RRType.A], ['WWW.t.lab.', RRType.AAAA], ['x.w.t.lab.', RRType.TXT], ['y.w.t.lab.', RRType.TXT], ['ns.t.lab.', RRType.A], ['t.lab.', RRType.SOA]];
  const ask = () => names.forEach(([n, t], i) => engine.handle(q(n, t, i + 1, false), udp));
  ask();
  const hits = cache.hits;
  ask();
  assert.equal(cache.hits - hits, names.length, 'all cached');
  // www.t.lab. A and AAAA (case does not matter); names that merely end in the same letters stay.
  assert.equal(cache.flush(new TextEncoder().encode('\x03WWW\x01t\x03lab\x00')), 2);
  assert.equal(cache.flush(new Uint8Array([1, 0x77, 1, 0x74, 3, 0x6c, 0x61, 0x62, 0])), 2, 'w.t.lab. takes x.w and y.w');
  assert.equal(cache.flush(new Uint8Array([1, 0x77, 1, 0x74, 3, 0x6c, 0x61, 0x62, 0])), 0);
  const before = cache.hits;
  ask();
  assert.equal(cache.hits - before, 2, 'ns and the apex were still cached');
  assert.equal(cache.flush(), names.length);
  assert.equal(cache.flush(), 0);
});

test('a byte-bounded arena wraps: every answer found is the last one stored for its key, and the newest ones are all found', () => {
  // 64 KiB of arena (the least), up to 100 entries, answers of 1..2,000 bytes over 300 keys: the log
  // wraps hundreds of times and evicts by count and by bytes; the table's probe runs see removals.
  const cache = new AnswerCache(100, { maxBytes: 64 << 10 });
  cache.get(k(''), 1);
  let seed = 7;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const last = new Map<string, Uint8Array>();
  const recent: { key: string; bytes: number }[] = [];
  for (let op = 0; op < 20000; op++) {
    const key = `key-${rand(300)}`;
    const answer = Uint8Array.from({ length: 1 + rand(2000) }, () => rand(256));
    cache.set(k(key), 1, answer);
    last.set(key, answer);
    recent.push({ key, bytes: 16 + key.length + answer.length + 8 });
    assert.deepEqual(cache.get(k(key), 1), answer, `op ${op}: the answer just stored`);
    if (op % 500 !== 499) continue;
    let found = 0;
    for (const [key, answer] of last) {
      const got = cache.get(k(key), 1);
      if (got === undefined) continue;
      found++;
      assert.deepEqual(got, answer, `op ${op}: ${key} holds its last answer`);
    }
    assert.equal(cache.size, found, 'size counts the entries found');
    assert.ok(found <= 100);
    // The newest stores within 48 KiB (at most 100 of them) were not evicted.
    let bytes = 0;
    for (let i = recent.length - 1, n = 0; i >= 0 && n < 100 && (bytes += recent[i]!.bytes) <= 48 << 10; i--, n++) {
      assert.ok(cache.get(k(recent[i]!.key), 1), `op ${op}: ${recent[i]!.key}, ${recent.length - i} stores ago`);
    }
  }
});

test('an answer larger than an eighth of the arena is not stored', () => {
  const cache = new AnswerCache(100, { maxBytes: 64 << 10 });
  cache.get(k(''), 1);
  cache.set(k('big'), 1, new Uint8Array(9000));
  cache.set(k('small'), 1, new Uint8Array(10));
  assert.equal(cache.get(k('big'), 1), undefined);
  assert.equal(cache.get(k('small'), 1)?.length, 10);
});

test('an answer stored from a context made by hand is found by the engine, and one the engine stored by such a context', () => {
  // The lookup hashes and compares the query's bytes (queryKeyHash, AnswerCache.lookup); the store writes
  // the key cacheKey builds: an entry either context stored must be found by the other.
  const cache = new AnswerCache();
  const runtime = { config, zones: zones(ZONE), generation: 1 };
  const units = createUnits(cache);
  const engine = new Engine(runtime, units);
  const pipeline = new Pipeline(units);
  const byHand = (raw: Uint8Array): void => {
    const ctx = new QueryContext(raw, parseQuery(raw), udp, runtime, 0);
    assert.deepEqual(pipeline.run(ctx), { kind: 'send' });
  };
  byHand(q('www.t.lab.', RRType.A, 1, false, false, true));
  assert.equal(cache.size, 1);
  const first = engine.handle(q('WWW.t.lab.', RRType.A, 2, false, false, true), udp) as Uint8Array;
  assert.equal(cache.hits, 1, 'the engine found the entry stored by hand');
  engine.handle(q('x.w.t.lab.', RRType.TXT, 3, false, false, true), udp);
  assert.equal(cache.size, 2);
  byHand(q('X.W.t.lab.', RRType.TXT, 4, false, false, true));
  assert.equal(cache.hits, 2, 'a context made by hand found the entry the engine stored');
  // Another type, transport or EDNS of the same name is another key on either path.
  byHand(q('www.t.lab.', RRType.AAAA, 5, false, false, true));
  engine.handle(q('www.t.lab.', RRType.A, 6, false, false, false), udp);
  assert.equal(cache.hits, 2);
  assert.equal(cache.size, 4);
  const a = decodeMessage(first);
  assert.deepEqual([a.id, a.questions[0]!.name, a.answers.map((r) => r.data)], [2, 'WWW.t.lab.', [{ address: '198.51.100.2' }]]);
});

test('the server cache stores an answer on its second ask, case-blind, and a reload forgets the first asks', () => {
  // The ask is counted by the lookup (AnswerCache.lookup) and the store follows the answer.
  const cache = serverAnswerCache();
  const runtime = { config, zones: zones(ZONE), generation: 1 };
  const engine = new Engine(runtime, createUnits(cache));
  const fresh = new Engine(runtime, createUnits().filter(withoutCache));
  const ask = (name: string, type: number, id: number) => engine.handle(q(name, type, id, true, false, true), udp) as Uint8Array;
  ask('www.t.lab.', RRType.A, 1);
  ask('r1.w.t.lab.', RRType.TXT, 2);
  assert.deepEqual([cache.size, cache.hits, cache.misses], [0, 0, 2], 'first asks store nothing');
  ask('WWW.t.LAB.', RRType.A, 3);
  ask('www.t.lab.', RRType.AAAA, 4);
  assert.deepEqual([cache.size, cache.hits], [1, 0], 'the second ask of www A (another case) is stored; AAAA is another key');
  const hit = ask('wWw.T.lab.', RRType.A, 5);
  assert.equal(cache.hits, 1);
  assert.deepEqual(hit, fresh.handle(q('wWw.T.lab.', RRType.A, 5, true, false, true), udp), 'the hit is the fresh answer, ID and case its own');
  engine.swap({ ...runtime, generation: 2 });
  ask('r1.w.t.lab.', RRType.TXT, 6);
  ask('www.t.lab.', RRType.A, 7);
  assert.deepEqual([cache.size, cache.hits], [0, 1], 'after a reload, asks before it do not count');
  ask('R1.W.t.lab.', RRType.TXT, 8);
  assert.equal(cache.size, 1);
});

test('a reload forgets first asks when nothing was stored yet (only the seen filter was written)', () => {
  const cache = serverAnswerCache();
  const runtime = { config, zones: zones(ZONE), generation: 1 };
  const engine = new Engine(runtime, createUnits(cache));
  const ask = (id: number) => engine.handle(q('www.t.lab.', RRType.A, id, true, false, true), udp);
  ask(1);
  assert.equal(cache.size, 0, 'a first ask stores nothing');
  engine.swap({ ...runtime, generation: 2 });
  ask(2);
  assert.equal(cache.size, 0, 'the ask before the reload does not count');
  ask(3);
  assert.equal(cache.size, 1, 'the second ask after it stores');
});
