// Encloser replay in the UDP addon (native/udp_batch.c: enclosers, tmpl_learn, tmpl_finish): the descent that
// places a name under its closest encloser in a registered compiled zone, and replies the addon makes from a
// template learnt for that encloser — byte for byte what the engine answers to each query, through real
// loopback sockets. Until the engine marks replies itself (Engine.lastShape, send meta word 7), the tests
// mark every reply of an unsigned zone: the addon must then refuse by itself what is not encloser-determined
// (names that exist, names under a cut or a DNAME, questions a guard or the size rule excludes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { wireName } from '../zone/compiled.js';
import { encodeMessage, queryMessage } from '../wire/message.js';
import { RRType } from '../wire/types.js';
import { Engine } from '../answer/engine.js';
import { ModuleSet } from '../answer/units.js';
import { serverAnswerCache } from '../modules/cache/index.js';
import type { Runtime } from '../answer/runtime.js';
import type { TransportInfo } from '../answer/context.js';
import { listenUdpBatch } from './udp-batch.js';
import { attackCounters } from '../observe/attack-counters.js';
import { loadNativeUdp, type EncloserZone } from './udp-native.js';
import { markingAddon } from '../../test/helpers/addon-spy.js';
import { udpAsker } from '../../test/helpers/udp.js';

const native = loadNativeUdp().addon;
const needNative = () => assert.ok(native, `the UDP batching addon did not load (${loadNativeUdp().error}); build it with node scripts/build-native.mjs`);

const ZONE = `$ORIGIN e.lab.
$TTL 300
@ SOA ns hostmaster 7 3600 600 86400 60
  NS ns
ns A 198.51.100.1
www A 198.51.100.2
  AAAA 2001:db8::2
a.b.c A 198.51.100.3
*.w A 198.51.100.4
  TXT "wild"
  MX 10 mail.other.lab.
x.w TXT "sibling"
y.z.w A 198.51.100.5
sub NS ns.other.lab.
dn DNAME target.lab.
cn CNAME www
*.wc CNAME www
mx MX 10 www
*.big TXT "${'x'.repeat(200)}" "${'y'.repeat(200)}"
`;

const CHILD = `$ORIGIN child.e.lab.
$TTL 300
@ SOA ns.e.lab. hostmaster.e.lab. 1 3600 600 86400 60
  NS ns.e.lab.
h A 198.51.100.9
`;

function zoneOf(origin: string, text: string): Zone {
  return Zone.build(origin, parseZone(text, { origin }).records);
}

function runtime(zones: Zone[], generation = 1, modules = new ModuleSet()): Runtime {
  const loaded = parseConfigText('rrl: off\nlimits: { udpPayload: 1232 }', 't.yaml');
  const set = new ZoneSet(zones);
  const { authorities, chain } = modules.load(loaded, set);
  return { config: loaded.config, zones: set, generation, authorities, chain };
}

/** A zone's arrays as the addon registers them. */
function encloserZone(z: Zone): EncloserZone {
  const b = z.store.b;
  return { apex: wireName(z.origin).wire, index: b.index, nodeHash: b.nodeHash, nodeName: b.nodeName, names: b.names, nodeFlags: b.nodeFlags };
}

const info: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5353, localAddress: '127.0.0.1', localPort: 53 };

test('the descent: closest encloser and next-closer label by the zone index, none for names that exist or lie under a cut or DNAME', () => {
  needNative();
  const n = native!;
  const sock = n.open('127.0.0.1', 0, 4, false, () => 0);
  try {
    const e = zoneOf('e.lab.', ZONE);
    const child = zoneOf('child.e.lab.', CHILD);
    const dnameApex = zoneOf('d.lab.', '$ORIGIN d.lab.\n$TTL 300\n@ SOA ns hm 1 1 1 1 1\n NS ns\n DNAME e.lab.\nns A 198.51.100.1\n');
    n.enclosers(sock, [e, child, dnameApex].map(encloserZone));
    const probe = (name: string) => n.encloserProbe(sock, wireName(name).wire);
    const at = (name: string, z: Zone, encloser: string, nOff: number) =>
      assert.deepEqual(probe(name), [[e, child, dnameApex].indexOf(z), z.store.findNode(encloser), nOff], name);
    at('nx.e.lab.', e, 'e.lab.', 0);
    at('a.b.nx.e.lab.', e, 'e.lab.', 4); // deeper: n is the label just below E
    at('q.c.e.lab.', e, 'c.e.lab.', 0); // an empty non-terminal is a node
    at('Q.B.c.E.lab.', e, 'b.c.e.lab.', 0);
    at('foo.w.e.lab.', e, 'w.e.lab.', 0);
    at('q.z.w.e.lab.', e, 'z.w.e.lab.', 0); // the wildcard's ENT sibling
    at('a.cn.e.lab.', e, 'cn.e.lab.', 0);
    at('er.www.e.lab.', e, 'www.e.lab.', 0);
    at('zz.child.e.lab.', child, 'child.e.lab.', 0); // the deepest apex wins
    for (const name of ['e.lab.', 'www.e.lab.', 'a.b.c.e.lab.', 'b.c.e.lab.', 'sub.e.lab.', 'x.sub.e.lab.', 'a.b.sub.e.lab.', 'x.dn.e.lab.', 'h.child.e.lab.', 'other.lab.', 'lab.', 'x.d.lab.', 'ns.d.lab.'])
      assert.equal(probe(name), null, name);
    // Off, and malformed sets refused with an error (replay stays off).
    n.enclosers(sock, undefined);
    assert.equal(probe('nx.e.lab.'), null);
    assert.throws(() => n.enclosers(sock, [{ ...encloserZone(e), index: new Int32Array(3) }]), /zone 0 is malformed/);
    assert.throws(() => n.enclosers(sock, [{ ...encloserZone(e), apex: new Uint8Array([3, 0x61]) }]), /zone 0 is malformed/);
    assert.throws(() => n.enclosers(sock, [encloserZone(e), { apex: new Uint8Array(1) } as unknown as EncloserZone]), /zone 1 is malformed/);
    assert.equal(probe('nx.e.lab.'), null);
  } finally {
    n.close(sock);
  }
});


/**
 * A batch listener whose every reply is marked encloser-determined (word 7 = 1: no metrics cell), with the
 * engine's current zones registered whenever the mirror is reset (as the listener does on each swap).
 */
type ShapingStats = { replayed: number; shaped: number; tmpl_reopens: number };

/**
 * `clockMs`: the addon's template clock (templateClock) fixed at that value from before the mirror's first
 * emptying (the registration), so template reopening (TMPL_REOPEN_MS) goes by `setClock`, not by real time.
 */
async function withShapingListener(engine: Engine, body: (port: number, stats: () => ShapingStats, ask: (q: Uint8Array) => Promise<Uint8Array>, setClock: (ms: number) => void) => Promise<void>, clockMs?: number): Promise<void> {
  needNative();
  const n = native!;
  const m = markingAddon(n, 1, () => engine.runtime.zones.zones.map(encloserZone));
  const l = listenUdpBatch(m.addon, engine, '127.0.0.1', 0, { udp: { batchSize: 16 }, reusePort: false, onError: (e) => assert.fail(e) });
  const setClock = (ms: number) => (n.templateClock ?? assert.fail('the addon has no templateClock: rebuild it'))(m.socket(), ms);
  if (clockMs !== undefined) setClock(clockMs);
  m.register();
  const c = await udpAsker();
  try {
    await body(l.port, () => n.stats(m.socket()) as ShapingStats, (q) => c.ask(l.port, q), setClock);
  } finally {
    c.sock.close();
    await l.close();
  }
}

type Edns = { payload: number; do: boolean } | undefined;
function query(name: string, type: number, id: number, edns: Edns, rd = true): Uint8Array {
  return new Uint8Array(encodeMessage(queryMessage(name, type, { id, rd, ...(edns ? { edns: edns.payload, dnssecOk: edns.do } : {}) })));
}

const long = (c: string, n: number) => c.repeat(n);

test('replies made from encloser templates are byte for byte the engine answers (NXDOMAIN, ENTs, wildcards, guards, case, EDNS, long names)', async () => {
  const rt = runtime([zoneOf('e.lab.', ZONE), zoneOf('child.e.lab.', CHILD)]);
  const engine = new Engine(rt);
  const ref = new Engine(rt);
  const names = [
    'nx1.e.lab', 'NX2.E.lab', 'zzz.e.lab', 'a.b.c.d.e.lab', 'hostmaster.e.lab', 'HostMaster.e.lab', 'ns2.e.lab', '-.e.lab', '0.e.lab', '*x.e.lab',
    'q.c.e.lab', 'Q.b.c.e.lab', 'zz.b.c.e.lab', 'a.b.c.e.lab', // ENTs (the last one exists)
    'foo.w.e.lab', 'BAR.w.e.lab', 'a.b.w.e.lab', 'x.w.e.lab', 'mail.w.e.lab', 'q.z.w.e.lab', 'r.z.w.e.lab', // wildcard, its sibling and ENT sibling
    'a.sub.e.lab', 'b.sub.e.lab', 'a.dn.e.lab', 'b.dn.e.lab', 'a.cn.e.lab', 'b.cn.e.lab', 'www.wc.e.lab', 'foo.wc.e.lab', 'bar.wc.e.lab', 'er.www.e.lab',
    'zz.child.e.lab', 'yy.child.e.lab', 'h.child.e.lab', 'x.y.z.other.lab',
    `${long('a', 63)}.${long('b', 63)}.${long('c', 63)}.${long('d', 50)}.e.lab`, `${long('q', 63)}.e.lab`, `${long('z', 63)}.${long('y', 63)}.w.e.lab`,
  ];
  const types = [RRType.A, RRType.AAAA, RRType.TXT, RRType.MX, RRType.ANY];
  const ednses: Edns[] = [undefined, { payload: 512, do: false }, { payload: 1232, do: true }];
  await withShapingListener(engine, async (_port, stats, ask) => {
    let id = 1;
    for (const edns of ednses)
      for (const type of types)
        for (const name of names) {
          const q = query(`${name}.`, type, id++ & 0xffff, edns, id % 3 !== 0);
          assert.deepEqual(await ask(q), ref.handle(q, info), `${name} type ${type} edns ${edns?.payload ?? '-'}`);
        }
    const st = stats();
    assert.ok(st.shaped > 100, `shaped ${st.shaped} of ${id - 1}`);
    assert.ok(st.replayed >= st.shaped);
  });
});

test('a guard: the SOA RNAME label as next-closer label is the engine\'s (its compression differs), the size rule holds', async () => {
  const rt = runtime([zoneOf('e.lab.', ZONE)]);
  const engine = new Engine(rt);
  const ref = new Engine(rt);
  await withShapingListener(engine, async (_port, stats, ask) => {
    const q1 = query('nx.e.lab.', RRType.A, 1, undefined);
    assert.deepEqual(await ask(q1), ref.handle(q1, info));
    const before = stats().shaped;
    const q2 = query('other.e.lab.', RRType.A, 2, undefined);
    assert.deepEqual(await ask(q2), ref.handle(q2, info));
    assert.equal(stats().shaped - before, 1, 'from the template');
    const q3 = query('HOSTMASTER.e.lab.', RRType.A, 3, undefined);
    const r3 = await ask(q3);
    assert.deepEqual(r3, ref.handle(q3, info));
    assert.equal(stats().shaped - before, 1, 'a guard: answered by the engine');
    // The size rule: a reply longer than the one learnt and than 512 bytes is the engine's to make (without
    // EDNS it does not fit: TC; with EDNS it does), one not longer than learnt is the template's.
    const longName = `${long('a', 63)}.${long('b', 63)}.${long('c', 63)}.big.e.lab.`;
    for (const edns of [undefined, { payload: 1232, do: false }]) {
      const learn = query('w.big.e.lab.', RRType.TXT, 5, edns);
      const learnt = await ask(learn);
      assert.deepEqual(learnt, ref.handle(learn, info));
      const shaped = stats().shaped;
      const big = query(longName, RRType.TXT, 6, edns);
      const r = await ask(big);
      assert.deepEqual(r, ref.handle(big, info));
      assert.ok(r.length > 512 || (r[2]! & 2) !== 0, `${r.length} bytes, TC ${r[2]! & 2}`);
      assert.equal(stats().shaped, shaped, 'longer than learnt and than 512: the engine\'s');
      const same = query('v.big.e.lab.', RRType.TXT, 7, edns);
      assert.deepEqual(await ask(same), ref.handle(same, info));
      assert.equal(stats().shaped, shaped + 1, 'as long as learnt: the template\'s');
    }
  });
});

test('a repeated name leaves the template path: its second template reply joins the mirror, the third ask is a plain mirror hit', async () => {
  const rt = runtime([zoneOf('e.lab.', ZONE)]);
  const engine = new Engine(rt);
  const ref = new Engine(rt);
  await withShapingListener(engine, async (_port, stats, ask) => {
    // Templates for the apex (NXDOMAIN) and the wildcard, learnt from other names.
    for (const name of ['seed.e.lab.', 'seed.w.e.lab.']) await ask(query(name, RRType.A, 1, undefined));
    for (const [k, name] of ['never.e.lab.', 'Never.W.e.lab.'].entries()) {
      const got: { shaped: number; replayed: number }[] = [];
      for (let i = 0; i < 4; i++) {
        const before = stats();
        const q = query(i % 2 ? name.toUpperCase() : name, RRType.A, 100 + 10 * k + i, undefined, i !== 2);
        assert.deepEqual(await ask(q), ref.handle(q, info), `${name} ask ${i + 1}`);
        const after = stats();
        got.push({ shaped: after.shaped - before.shaped, replayed: after.replayed - before.replayed });
      }
      // Asks 1 and 2 from the template (the second seen before: kept), 3 and 4 exact mirror hits.
      assert.deepEqual(got, [{ shaped: 1, replayed: 1 }, { shaped: 1, replayed: 1 }, { shaped: 0, replayed: 1 }, { shaped: 0, replayed: 1 }], name);
    }
    // A name the engine answered first (the template learnt from it): a mirror hit by its third ask at the latest.
    for (let i = 0; i < 3; i++) {
      const q = query('first.c.e.lab.', RRType.TXT, 200 + i, { payload: 1232, do: false });
      const before = stats();
      assert.deepEqual(await ask(q), ref.handle(q, info));
      if (i === 2) assert.deepEqual([stats().shaped - before.shaped, stats().replayed - before.replayed], [0, 1], 'first.c ask 3');
    }
  });
});

test('templates fill at most half the mirror: 70,000 learnt (more than the mirror holds) leave the hot exact entries replayed; a second after the cap closed the templates start over and the hot entries stay', async () => {
  // The server's answer cache (admits a name on its second ask): the flood's names, asked once, make no
  // exact entries, only templates.
  const rt = runtime([zoneOf('e.lab.', ZONE)], 1, new ModuleSet({ answerCache: serverAnswerCache() }));
  const engine = new Engine(rt);
  const ref = new Engine(rt);
  // The template clock stands still at 0 (the registration's emptying) through the flood: the cap stays closed.
  await withShapingListener(engine, async (port, stats, ask, setClock) => {
    // Hot exact entries: names that exist, asked until the mirror answers them.
    const hot = ['www.e.lab.', 'ns.e.lab.', 'mx.e.lab.'].map((name, i) => query(name, RRType.A, 10 + i, undefined));
    for (let round = 0; round < 3; round++) for (const q of hot) await ask(q);
    const hits = async (): Promise<number> => {
      const before = stats();
      for (const q of hot) assert.deepEqual(await ask(q), ref.handle(q, info));
      const after = stats();
      assert.equal(after.shaped, before.shaped);
      return after.replayed - before.replayed;
    };
    assert.equal(await hits(), hot.length, 'the hot names are mirror hits');
    // 70,000 template keys (60,000 qtypes without EDNS, 10,000 with; a new NXDOMAIN name each, so no answer
    // cache hit makes it an exact entry): each a template, more than the mirror's 65,536 entries.
    const c = await udpAsker();
    try {
      const total = 70000, burst = 250;
      for (let at = 0; at < total; at += burst) {
        let got = 0;
        const done = new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`${got} of ${burst} replies at ${at}`)), 5000);
          const on = () => {
            if (++got === burst) {
              clearTimeout(t);
              c.sock.off('message', on);
              resolve();
            }
          };
          c.sock.on('message', on);
        });
        for (let i = at; i < at + burst; i++)
          c.sock.send(query(`f${i}.e.lab.`, 1024 + (i % 60000), i & 0xffff, i < 60000 ? undefined : { payload: 1232, do: false }), port, '127.0.0.1');
        await done;
      }
    } finally {
      c.sock.close();
    }
    assert.equal(await hits(), hot.length, 'still mirror hits after the flood');
    // The templates learnt before the cap still answer.
    const before = stats().shaped;
    const q = query('other.e.lab.', 1024, 7, undefined);
    assert.deepEqual(await ask(q), ref.handle(q, info));
    assert.equal(stats().shaped - before, 1, 'from a template');
    // A shape not in the flood (qtype 62000) is not learnt at the cap: its second name goes to JS too.
    const shape = (name: string, id: number) => query(name, 62000, id, undefined);
    const fresh = async (names: string[]): Promise<number> => {
      const at = stats().shaped;
      for (const [i, name] of names.entries()) {
        const q2 = shape(name, 100 + i);
        assert.deepEqual(await ask(q2), ref.handle(q2, info), name);
      }
      return stats().shaped - at;
    };
    assert.equal(await fresh(['n1.e.lab.', 'n2.e.lab.', 'n3.e.lab.']), 0, 'the cap is closed: nothing learnt');
    assert.equal(stats().tmpl_reopens, 0);
    // Just short of the interval (TMPL_REOPEN_MS, 1 s since the registration emptied the templates): still closed.
    setClock(999);
    assert.equal(await fresh(['n4.e.lab.', 'n5.e.lab.']), 0, 'still closed at 999 ms');
    // Past it: the next learn empties the templates (the exact entries stay) and learns; the names after it are templates' replies.
    setClock(1001);
    assert.equal(await fresh(['n6.e.lab.', 'n7.e.lab.', 'N8.E.lab.', `${'q'.repeat(40)}.e.lab.`]), 3, 'learnt again: three names from the template');
    assert.equal(stats().tmpl_reopens, 1);
    assert.equal(await hits(), hot.length, 'the hot names are still mirror hits (kept through the reopening)');
    // The flood's templates went with it: a name of the first one's shape is JS's again, then learnt anew.
    const b2 = stats().shaped;
    for (const [i, name] of ['other2.e.lab.', 'other3.e.lab.'].entries()) {
      const q3 = query(name, 1024, 200 + i, undefined);
      assert.deepEqual(await ask(q3), ref.handle(q3, info));
    }
    assert.equal(stats().shaped - b2, 1, 'the old template gone, the new one answers the second name');
  }, 0);
});

test('a swap that adds a name under a learnt encloser: the new name is answered from the new zone at once', async () => {
  const modules = new ModuleSet();
  const rt = runtime([zoneOf('e.lab.', ZONE)], 1, modules);
  const engine = new Engine(rt);
  await withShapingListener(engine, async (_port, stats, ask) => {
    for (const name of ['nx1.e.lab.', 'nx2.e.lab.', 'nx3.e.lab.']) {
      const q = query(name, RRType.A, 10, undefined);
      assert.deepEqual(await ask(q), new Engine(rt).handle(q, info));
    }
    assert.ok(stats().shaped >= 2, 'templates in use before the swap');
    const rt2 = runtime([zoneOf('e.lab.', `${ZONE}new A 203.0.113.8\n`)], 2, modules);
    engine.swap(rt2);
    const q = query('new.e.lab.', RRType.A, 11, undefined);
    const r = await ask(q);
    assert.deepEqual(r, new Engine(rt2).handle(q, info));
    assert.deepEqual([...r.subarray(r.length - 4)], [203, 0, 113, 8], 'the new address');
    for (const name of ['nx4.e.lab.', 'nx5.e.lab.']) {
      const q2 = query(name, RRType.A, 12, undefined);
      assert.deepEqual(await ask(q2), new Engine(rt2).handle(q2, info));
    }
  });
});

test('a burst: template replies, mirror hits and engine answers in the same batches, each the engine answer to its own query', async () => {
  const rt = runtime([zoneOf('e.lab.', ZONE)]);
  const engine = new Engine(rt);
  const ref = new Engine(rt);
  await withShapingListener(engine, async (port, stats, ask) => {
    // Learn: one name per encloser and type.
    for (const name of ['seed.e.lab.', 'seed.w.e.lab.', 'seed.c.e.lab.', 'www.e.lab.']) for (let i = 0; i < 3; i++) await ask(query(name, RRType.A, 1 + i, undefined));
    const before = stats();
    const c = await udpAsker();
    try {
      const sent = new Map<number, Uint8Array>();
      const pick = ['r%.e.lab.', 'r%.w.e.lab.', 'r%.c.e.lab.', 'www.e.lab.', 'Www.E.lab.'];
      for (let j = 0; j < 200; j++) sent.set(1000 + j, query(pick[j % pick.length]!.replace('%', String(j)), RRType.A, 1000 + j, undefined, j % 2 === 0));
      const replies = await c.askAll(port, sent);
      for (const [id, q] of sent) assert.deepEqual(replies.get(id), ref.handle(q, info), `query ${id}`);
      const after = stats();
      assert.ok(after.shaped - before.shaped >= 100, `shaped ${after.shaped - before.shaped}`);
      assert.equal(after.replayed - before.replayed, 200, 'every query answered in C');
    } finally {
      c.sock.close();
    }
  });
});

test('rrl on: a template reply spends its bucket (the zone\'s NXDOMAIN bucket) as the rrl unit would; without credit the engine limits', async () => {
  needNative();
  // The listener as the server runs it: the engine marks encloser-determined replies itself (Engine.lastShape).
  const loaded = parseConfigText('limits: { udpPayload: 1232 }\nrrl: { responsesPerSecond: 2, slip: 2 }', 't.yaml');
  const set = new ZoneSet([zoneOf('e.lab.', ZONE)]);
  const { authorities, chain } = new ModuleSet().load(loaded, set);
  const rt: Runtime = { config: loaded.config, zones: set, generation: 51, authorities, chain };
  const engine = new Engine(rt);
  const counters = attackCounters.rrl!;
  const l = listenUdpBatch(native!, engine, '127.0.0.1', 0, { udp: { batchSize: 16 }, reusePort: false, onError: (e) => assert.fail(e) });
  const c = await udpAsker();
  try {
    // Three NXDOMAINs half a second apart (within the bucket's credit): the first is learnt as a template,
    // the next two come from it; a second more fills the bucket (two credits) again.
    for (let i = 0; i < 3; i++) {
      const q = query(`learn${i}.e.lab.`, RRType.A, 1 + i, undefined);
      assert.equal((await c.ask(l.port, q))[3]! & 0xf, 3, 'NXDOMAIN');
      await new Promise((r) => setTimeout(r, 550));
    }
    assert.ok(l.stats!().shaped >= 1, 'templates in use');
    await new Promise((r) => setTimeout(r, 500));
    const before = { ...counters };
    const shaped = l.stats!().shaped;
    const got: Uint8Array[] = [];
    const on = (m: Buffer) => got.push(new Uint8Array(m));
    c.sock.on('message', on);
    for (let i = 0; i < 20; i++) c.sock.send(query(`burst${i}.E.lab.`, RRType.A, 100 + i, undefined), l.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 400));
    c.sock.off('message', on);
    const truncated = got.filter((m) => (m[2]! & 2) !== 0).length;
    // Two credits: two template replies; the 18 others go to the engine, whose rrl unit limits them (slip 2).
    assert.deepEqual({ answered: got.length - truncated, truncated, dropped: 20 - got.length }, { answered: 2, truncated: 9, dropped: 9 });
    assert.equal(l.stats!().shaped - shaped, 2, 'the two answers were made from the template');
    assert.deepEqual({ ok: counters.ok - before.ok, slipped: counters.slipped - before.slipped, dropped: counters.dropped - before.dropped }, { ok: 2, slipped: 9, dropped: 9 });
  } finally {
    c.sock.close();
    await l.close();
  }
});
