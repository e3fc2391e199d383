// The UDP addon's mirror of answer-cache hits (native/udp_batch.c, answer/replay.ts) through real
// loopback sockets: a replayed reply is byte for byte what the engine answers (ID, RD/CD, the question's
// case, EDNS, TTLs), a swap (reload, zone change, UPDATE) empties it, under rrl each replay spends its
// client's bucket as the rrl unit would, and an observer that needs each query stops replays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { parseConfigText } from '../config/load.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { encodeMessage, queryMessage } from '../wire/message.js';
import { RRType } from '../wire/types.js';
import { Engine } from '../answer/engine.js';
import { ModuleSet } from '../answer/units.js';
import type { Runtime } from '../answer/runtime.js';
import type { TransportInfo } from '../answer/context.js';
import { replayedTotal } from '../answer/replay.js';
import { attackCounters } from '../observe/attack-counters.js';
import { listenUdpBatch, type BatchUdpListener } from './udp-batch.js';
import { loadNativeUdp } from './udp-native.js';
import { addonWith } from '../../test/helpers/addon-spy.js';
import { udpAsker, type UdpAsker } from '../../test/helpers/udp.js';

const native = loadNativeUdp().addon;
const needNative = () => assert.ok(native, `the UDP batching addon did not load (${loadNativeUdp().error}); build it with node scripts/build-native.mjs`);

const zoneText = (address: string) => `$TTL 3600\n@ SOA ns hm 7 1 1 1 300\n NS ns\nns A 198.51.100.1\nwww 120 A ${address}\nmail MX 10 www\n`;

/** A runtime as the server builds it: the chain of the configured modules (ModuleSet.load). */
function runtime(yaml: string, address: string, generation: number, modules = new ModuleSet()): Runtime {
  const loaded = parseConfigText(yaml, 't.yaml');
  const zones = new ZoneSet([Zone.build('t.lab.', parseZone(zoneText(address), { origin: 't.lab.' }).records)]);
  const { authorities, chain } = modules.load(loaded, zones);
  return { config: loaded.config, zones, generation, authorities, chain };
}

const PLAIN = 'rrl: off\nlimits: { udpPayload: 1232 }';

/** A query's bytes: `name` as given (its case), ID, RD, CD, and EDNS (payload size, DO) when asked. */
function query(name: string, id: number, o: { rd?: boolean; cd?: boolean; edns?: { payload: number; do: boolean } } = {}): Uint8Array {
  const m = queryMessage(`${name}.`, RRType.A, { id, rd: o.rd ?? true, cd: o.cd ?? false, ...(o.edns ? { edns: o.edns.payload, dnssecOk: o.edns.do } : {}) });
  return new Uint8Array(encodeMessage(m));
}


const info: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5353, localAddress: '127.0.0.1', localPort: 53 };

/** What a fresh engine (its own cache, nothing replayed) answers to these bytes. */
function reference(rt: Runtime, q: Uint8Array): Uint8Array {
  const r = new Engine(rt).handle(q, info);
  assert.ok(r instanceof Uint8Array);
  return r;
}

async function withListener(engine: Engine, body: (l: BatchUdpListener, c: UdpAsker) => Promise<void>): Promise<void> {
  needNative();
  const l = listenUdpBatch(native!, engine, '127.0.0.1', 0, { udp: { batchSize: 16 }, reusePort: false, onError: (e) => assert.fail(e) });
  const c = await udpAsker();
  try {
    await body(l, c);
  } finally {
    c.sock.close();
    await l.close();
  }
}

test('a replayed hit is byte for byte the engine answer: ID, RD/CD, the question case, EDNS and TTLs', async () => {
  const rt = runtime(PLAIN, '203.0.113.5', 1);
  const engine = new Engine(rt);
  await withListener(engine, async (l, c) => {
    // Asked twice (the cache stores on the second ask), hit once in JS (the mirror keeps it), then replayed.
    for (let i = 0; i < 3; i++) await c.ask(l.port, query('www.t.lab', 100 + i));
    const before = l.stats!().replayed;
    const variants = [
      query('www.t.lab', 7),
      query('WwW.T.lAb', 0xbeef, { rd: false }),
      query('WWW.t.LAB', 0x1234, { cd: true }),
    ];
    for (const q of variants) assert.deepEqual(await c.ask(l.port, q), reference(rt, q), `query ${q[0]! * 256 + q[1]!}`);
    assert.equal(l.stats!().replayed - before, 3, 'all three came from the mirror');
    // EDNS with DO: another key; the reply carries its OPT record, TTLs as stored.
    const edns = (id: number, name: string) => query(name, id, { edns: { payload: 1232, do: true } });
    for (let i = 0; i < 3; i++) await c.ask(l.port, edns(200 + i, 'www.t.lab'));
    const q = edns(0x4242, 'wWW.t.lab');
    const beforeEdns = l.stats!().replayed;
    const r = await c.ask(l.port, q);
    assert.deepEqual(r, reference(rt, q));
    assert.equal(l.stats!().replayed - beforeEdns, 1, 'from the mirror');
    // The case as sent is in the reply's question; the answer's owner is a pointer to it.
    assert.deepEqual(r.subarray(12, 12 + 11), q.subarray(12, 12 + 11));
  });
});

test('a swap (reload, zone change, UPDATE) empties the mirror: the next answer has the new data', async () => {
  const modules = new ModuleSet();
  const engine = new Engine(runtime(PLAIN, '203.0.113.5', 1, modules));
  await withListener(engine, async (l, c) => {
    for (let i = 0; i < 4; i++) await c.ask(l.port, query('www.t.lab', i + 1));
    assert.ok(l.stats!().replayed >= 1, 'replayed before the swap');
    const rt2 = runtime(PLAIN, '203.0.113.77', 2, modules);
    engine.swap(rt2);
    const replayed = l.stats!().replayed;
    const q = query('www.t.lab', 99);
    const r = await c.ask(l.port, q);
    assert.deepEqual(r, reference(rt2, q), 'answered from the new zone');
    assert.deepEqual([...r.subarray(r.length - 4)], [203, 0, 113, 77]);
    assert.equal(l.stats!().replayed, replayed, 'not replayed');
    // And the new answers are replayed in turn.
    for (let i = 0; i < 3; i++) await c.ask(l.port, query('www.t.lab', 200 + i));
    assert.ok(l.stats!().replayed > replayed);
  });
});

test('a swap inside a batch (a UDP UPDATE is applied while its batch is handled): replies the batch made before it are not kept', async () => {
  needNative();
  const modules = new ModuleSet();
  const engine = new Engine(runtime(PLAIN, '203.0.113.5', 1, modules));
  const rt2 = runtime(PLAIN, '203.0.113.77', 2, modules);
  // A query for swap.t.lab swaps the runtime while the engine handles it, as update/handler.ts does.
  const handle = engine.handle.bind(engine);
  engine.handle = (raw, t, more) => {
    const r = handle(raw, t, more);
    if (raw[13] === 0x73) engine.swap(rt2);
    return r;
  };
  // The addon as the listener sees it, recording each batch's size.
  const n = native!;
  const batches: number[] = [];
  const spy = addonWith(n, {
    open: (h, p, b, r, cb, owner) =>
      n.open(h, p, b, r, (count, recv) => {
        batches.push(count);
        return cb(count, recv);
      }, owner),
  });
  const l = listenUdpBatch(spy, engine, '127.0.0.1', 0, { udp: { batchSize: 16 }, reusePort: false, onError: (e) => assert.fail(e) });
  const c = await udpAsker();
  try {
    const two = new Promise<void>((resolve) => {
      let got = 0;
      const on = () => {
        if (++got === 2) {
          c.sock.off('message', on);
          resolve();
        }
      };
      c.sock.on('message', on);
    });
    // Never asked before: the engine's answer is one the mirror keeps (the cache admits it as it answers).
    c.sock.send(query('www.t.lab', 10), l.port, '127.0.0.1');
    c.sock.send(query('swap.t.lab', 11), l.port, '127.0.0.1', () => {
      // Both datagrams wait in the server's socket before the loop polls it again: one batch reads them.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    });
    await two;
    assert.deepEqual(batches, [2], 'the hit and the swapping query came in one batch');
    const q = query('www.t.lab', 99);
    const r = await c.ask(l.port, q);
    assert.deepEqual([...r.subarray(r.length - 4)], [203, 0, 113, 77], 'the new address, not a replay of the old');
    assert.deepEqual(r, reference(rt2, q));
  } finally {
    c.sock.close();
    await l.close();
  }
});

test('ctl cache flush (ReplayControl.reset) empties the mirror', async () => {
  const engine = new Engine(runtime(PLAIN, '203.0.113.5', 1));
  await withListener(engine, async (l, c) => {
    for (let i = 0; i < 4; i++) await c.ask(l.port, query('www.t.lab', i + 1));
    const replayed = l.stats!().replayed;
    assert.ok(replayed >= 1);
    engine.replay.reset();
    await c.ask(l.port, query('www.t.lab', 50));
    assert.equal(l.stats!().replayed, replayed, 'answered by the engine after the reset');
  });
});

/** Sends `qs` at once from `c` and sorts what comes back within `ms`: answered, truncated (TC, no records), or not at all. */
async function burst(c: UdpAsker, port: number, qs: Uint8Array[], ms = 400): Promise<{ answered: number; truncated: number; dropped: number }> {
  const got: Uint8Array[] = [];
  const on = (m: Buffer) => got.push(new Uint8Array(m));
  c.sock.on('message', on);
  for (const q of qs) c.sock.send(q, port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, ms));
  c.sock.off('message', on);
  const truncated = got.filter((m) => (m[2]! & 2) !== 0);
  for (const t of truncated) assert.equal(t[7], 0, 'a slipped response carries no answer');
  return { answered: got.length - truncated.length, truncated: truncated.length, dropped: qs.length - got.length };
}

test('rrl on (the default configuration): hits are replayed, each spending its bucket as the rrl unit would', async () => {
  const modules = new ModuleSet();
  const rt = runtime('limits: { udpPayload: 1232 }\nrrl: { responsesPerSecond: 2, slip: 2 }', '203.0.113.5', 41, modules);
  const engine = new Engine(rt);
  assert.notEqual(engine.replay.mode, 0, 'a chain with rrl is replayed');
  const counters = attackCounters.rrl!;
  await withListener(engine, async (l, c) => {
    // Three answers half a second apart (each within the bucket's credit): the answer is cached and the
    // addon keeps it; a second more fills the bucket (two credits) again.
    for (let i = 0; i < 3; i++) {
      await c.ask(l.port, query('www.t.lab', 1 + i));
      await new Promise((r) => setTimeout(r, 550));
    }
    await new Promise((r) => setTimeout(r, 500));
    const before = { ...counters };
    const replayed = l.stats!().replayed;
    // 20 at once: the two credits go to replays made in C; the 18 without credit go to the engine,
    // whose rrl unit limits them (slip 2: every second one truncated) on the bucket C spent.
    assert.deepEqual(await burst(c, l.port, Array.from({ length: 20 }, (_, i) => query('WWW.t.lab', 100 + i))), { answered: 2, truncated: 9, dropped: 9 });
    assert.equal(l.stats!().replayed - replayed, 2, 'the two answers were replays');
    assert.deepEqual({ ok: counters.ok - before.ok, slipped: counters.slipped - before.slipped, dropped: counters.dropped - before.dropped }, { ok: 2, slipped: 9, dropped: 9 }, 'counted as the rrl unit counts');
  });
});

test("rrl on: an echo zone's answers for distinct names are replayed on one bucket, the apex's, as the rrl unit counts them", async () => {
  // Stateless DNS (seed 003): `A.B.C.D.00.ec.lab` answers A A.B.C.D, a name made up per query. The rrl unit
  // counts such answers by the echo zone's apex and type (QueryContext.wildcardLabels, kept with the cached
  // answer), and the addon spends the bucket JS gave: two names share ec.lab A.
  const rt = runtime('limits: { udpPayload: 1232 }\nrrl: { responsesPerSecond: 4, slip: 2 }\necho:\n  - { zone: ec.lab., nsAddress: 127.0.0.1 }', '203.0.113.5', 45);
  const engine = new Engine(rt);
  assert.notEqual(engine.replay.mode, 0, 'a chain with echo and rrl is replayed');
  const names = ['198.51.100.1.00.ec.lab', '198.51.100.2.00.ec.lab'];
  await withListener(engine, async (l, c) => {
    // Three asks of each, interleaved within the rate: cached on the first, kept by the addon.
    for (let i = 0; i < 3; i++) {
      for (const n of names) {
        await c.ask(l.port, query(n, 1 + i * 2 + names.indexOf(n)));
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    await new Promise((r) => setTimeout(r, 1100));
    const replayed = l.stats!().replayed;
    // One bucket with 4 credits: 4 replays, then the engine limits the other 16 on it (a bucket per name: 8 answered).
    assert.deepEqual(await burst(c, l.port, Array.from({ length: 20 }, (_, i) => query(names[i % 2]!, 100 + i))), { answered: 4, truncated: 8, dropped: 8 });
    assert.equal(l.stats!().replayed - replayed, 4, 'the four answers were replays');
  });
});

test('rrl on: a client prefix without a bucket is the engine\'s (it makes the bucket), then replayed; exempt prefixes are replayed uncounted', async () => {
  const engine = new Engine(runtime('limits: { udpPayload: 1232 }\nrrl: { responsesPerSecond: 100 }', '203.0.113.5', 42));
  const counters = attackCounters.rrl!;
  await withListener(engine, async (l, c) => {
    for (let i = 0; i < 3; i++) await c.ask(l.port, query('www.t.lab', i + 1));
    const replayed = l.stats!().replayed;
    await c.ask(l.port, query('www.t.lab', 4));
    assert.equal(l.stats!().replayed - replayed, 1, 'replayed to 127.0.0.0/24');
    // Another /24 (the whole of 127/8 is loopback): no bucket yet, so the engine answers and makes one.
    const other = createSocket('udp4');
    await new Promise<void>((r) => other.bind(0, '127.0.9.9', r));
    const okBefore = counters.ok;
    try {
      for (let i = 0; i < 3; i++) {
        other.send(query('www.t.lab', 50 + i), l.port, '127.0.0.1');
        await new Promise<void>((r) => other.once('message', () => r()));
      }
    } finally {
      other.close();
    }
    assert.equal(l.stats!().replayed - replayed, 3, 'the first from 127.0.9.0/24 by the engine, the next two replayed');
    assert.equal(counters.ok - okBefore, 3, 'each counted once');
  });
  const exempt = new Engine(runtime('limits: { udpPayload: 1232 }\nrrl: { responsesPerSecond: 1, slip: 0, exempt: ["127.0.0.0/8"] }', '203.0.113.5', 43));
  const exemptCounters = attackCounters.rrl!;
  await withListener(exempt, async (l, c) => {
    assert.deepEqual(await burst(c, l.port, Array.from({ length: 3 }, (_, i) => query('www.t.lab', 1 + i))), { answered: 3, truncated: 0, dropped: 0 });
    assert.deepEqual(await burst(c, l.port, Array.from({ length: 10 }, (_, i) => query('www.t.lab', 10 + i))), { answered: 10, truncated: 0, dropped: 0 });
    assert.ok(l.stats!().replayed >= 9, `replayed ${l.stats!().replayed}`);
    assert.equal(exemptCounters.ok, 0, 'exempt: never counted');
  });
});

test('rrl on over IPv6: the addon finds the bucket the rrl unit made for the client /56', async () => {
  needNative();
  const engine = new Engine(runtime('limits: { udpPayload: 1232 }\nrrl: { responsesPerSecond: 100 }', '203.0.113.5', 44));
  const counters = attackCounters.rrl!;
  const l = listenUdpBatch(native!, engine, '::1', 0, { udp: { batchSize: 16 }, reusePort: false, onError: (e) => assert.fail(e) });
  const sock = createSocket('udp6');
  await new Promise<void>((r) => sock.bind(0, '::1', r));
  const ask = (q: Uint8Array) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply')), 3000);
      sock.once('message', (m) => {
        clearTimeout(t);
        resolve(new Uint8Array(m));
      });
      sock.send(q, l.port, '::1');
    });
  try {
    const okBefore = counters.ok;
    for (let i = 0; i < 3; i++) await ask(query('www.t.lab', 1 + i));
    const replayed = l.stats!().replayed;
    for (let i = 0; i < 3; i++) await ask(query('www.t.lab', 10 + i));
    // The prefix hash made in C from the peer's 16 bytes (rrl_pass) is the one JS made from "::1".
    assert.equal(l.stats!().replayed - replayed, 3, 'replayed to ::/56');
    assert.equal(counters.ok - okBefore, 6, 'each counted once');
  } finally {
    sock.close();
    await l.close();
  }
});

test('never replayed: an observer that needs each query, a hold', async () => {
  const observed = new Engine(runtime(PLAIN, '203.0.113.5', 1));
  let seen = 0;
  observed.observer = () => seen++;
  await withListener(observed, async (l, c) => {
    for (let i = 0; i < 6; i++) await c.ask(l.port, query('www.t.lab', i + 1));
    assert.equal(l.stats!().replayed, 0);
    assert.equal(seen, 6, 'the observer saw every query');
  });
  const held = new Engine(runtime(PLAIN, '203.0.113.5', 1));
  await withListener(held, async (l, c) => {
    for (let i = 0; i < 4; i++) await c.ask(l.port, query('www.t.lab', i + 1));
    const replayed = l.stats!().replayed;
    assert.ok(replayed >= 1);
    held.replay.hold();
    for (let i = 0; i < 4; i++) await c.ask(l.port, query('www.t.lab', 10 + i));
    assert.equal(l.stats!().replayed, replayed, 'none while held');
    held.replay.release();
    for (let i = 0; i < 4; i++) await c.ask(l.port, query('www.t.lab', 20 + i));
    assert.ok(l.stats!().replayed > replayed, 'replayed again after release');
  });
});

test('replays are counted: the process total and per metrics cell', async () => {
  const engine = new Engine(runtime(PLAIN, '203.0.113.5', 1));
  const total = replayedTotal();
  await withListener(engine, async (l, c) => {
    for (let i = 0; i < 8; i++) await c.ask(l.port, query('www.t.lab', i + 1));
    assert.equal(replayedTotal() - total, l.stats!().replayed);
    assert.ok(l.stats!().replayed >= 4);
  });
});

test('a burst: batches of replayed hits, engine answers and misses, each reply the engine answer to its own query', async () => {
  const rt = runtime(PLAIN, '203.0.113.5', 1);
  const engine = new Engine(rt);
  // Answers, NODATA (mail has no A, nor the apex) and NXDOMAIN: replies of several sizes in one batch.
  const names = ['www.t.lab', 'ns.t.lab', 'mail.t.lab', 't.lab', ...Array.from({ length: 10 }, (_, k) => `nx${k}.t.lab`)];
  const mixCase = (name: string, j: number) => [...name].map((ch, k) => ((j >> k % 5) & 1 ? ch.toUpperCase() : ch)).join('');
  await withListener(engine, async (l, c) => {
    for (const name of names) for (let i = 0; i < 3; i++) await c.ask(l.port, query(name, 1 + i));
    const before = l.stats!();
    // Sent in one tick, so the listener (this process) reads them 16 to a batch: hits the mirror answers,
    // with names never asked (the engine's) in between.
    const sent = new Map<number, Uint8Array>();
    for (let j = 0; j < 160; j++) {
      const id = 1000 + j;
      const q = j % 7 === 3 ? query(`fresh${j}.t.lab`, id) : query(mixCase(names[j % names.length]!, j), id, { rd: j % 2 === 0, cd: j % 3 === 0 });
      sent.set(id, q);
    }
    const replies = await c.askAll(l.port, sent);
    for (const [id, q] of sent) assert.deepEqual(replies.get(id), reference(rt, q), `query ${id}`);
    const after = l.stats!();
    const hits = [...sent.keys()].filter((id) => (id - 1000) % 7 !== 3).length;
    // The names never asked are NXDOMAINs below the apex: the encloser replay answers them (and the nx names
    // asked before) from a template learnt from the engine's NXDOMAIN with the same header bits and type.
    assert.equal(after.replayed - before.replayed, sent.size, 'every query came from the mirror or a template');
    assert.ok(after.shaped - before.shaped >= sent.size - hits, 'the fresh names from a template');
    assert.ok(after.received - before.received > 2 * (after.recv_calls - before.recv_calls), 'several datagrams per batch');
  });
});
