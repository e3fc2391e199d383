// The batching UDP listener through real loopback sockets: batches, large and late replies, IPv6,
// a peer that goes away, and the dgram fallback chosen by configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { parseConfigText } from '../config/load.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { decodeMessage, encodeMessage, queryMessage } from '../wire/message.js';
import { RRType, type Message } from '../wire/types.js';
import { Engine } from '../answer/engine.js';
import { createUnits } from '../answer/units.js';
import { CONTINUE, type Unit } from '../answer/unit.js';
import type { TransportInfo } from '../answer/context.js';
import { formatV6, listenUdpAuto, listenUdpBatch, type BatchUdpListener } from './udp-batch.js';
import { loadNativeUdp } from './udp-native.js';
import { addonWith } from '../../test/helpers/addon-spy.js';

const big = Array.from({ length: 12 }, (_, i) => `big TXT "${String(i).padStart(2, '0')}${'x'.repeat(240)}"`).join('\n');
const ZONE = `$TTL 60\n@ SOA ns hm 1 1 1 1 1\n NS ns\nns A 198.51.100.1\n${Array.from({ length: 300 }, (_, i) => `h${i} A 198.51.100.${i % 250}\nlate${i} A 203.0.113.${i % 250}`).join('\n')}\n${big}\nslow A 203.0.113.9\n`;
const config = parseConfigText('limits: { udpPayload: 4096 }', 't.yaml').config;
const runtime = { config, zones: new ZoneSet([Zone.build('t.lab.', parseZone(ZONE, { origin: 't.lab.' }).records)]), generation: 1 };

/** For each late query: were its bytes unchanged when the unit resumed? */
const kept: boolean[] = [];

/**
 * A name starting with "slow" is answered only once `after` other queries have been handled, as a
 * unit that awaits a store would be: its query bytes must outlive the batches read meanwhile.
 */
function slowGuard(seen: TransportInfo[], after: number): Unit {
  return {
    name: 'test-slow',
    stage: 'guard',
    handle(ctx) {
      seen.push(ctx.transport);
      if (!ctx.query.question?.name.toLowerCase().startsWith('slow')) return CONTINUE;
      const base = seen.length;
      const before = Array.from(ctx.raw);
      return new Promise((resolve) => {
        const t = setInterval(() => {
          if (seen.length - base < after) return;
          clearInterval(t);
          kept.push(before.every((b, i) => ctx.raw[i] === b) && ctx.raw.length === before.length);
          resolve(CONTINUE);
        }, 2);
      });
    },
  };
}

/** A name starting with "late" is answered after a timer (a store round trip): its bytes must survive buffer reuse. */
const lateGuard: Unit = {
  name: 'test-late',
  stage: 'guard',
  handle(ctx) {
    if (!ctx.query.question?.name.toLowerCase().startsWith('late')) return CONTINUE;
    const before = Array.from(ctx.raw);
    return new Promise((resolve) =>
      setTimeout(() => {
        kept.push(before.every((b, i) => ctx.raw[i] === b) && ctx.raw.length === before.length);
        resolve(CONTINUE);
      }, 1 + (ctx.query.id % 3)),
    );
  },
};

function engine(seen: TransportInfo[] = [], slowAfter = 0): Engine {
  return new Engine(runtime, [slowGuard(seen, slowAfter), lateGuard, ...createUnits()]);
}

const native = loadNativeUdp().addon;
const needNative = () => assert.ok(native, `the UDP batching addon did not load (${loadNativeUdp().error}); build it with node scripts/build-native.mjs`);

async function client(type: 'udp4' | 'udp6'): Promise<{ sock: Socket; replies: Message[]; waitFor(n: number, ms?: number): Promise<void> }> {
  // A burst of replies arrives faster than this process (which also runs the server) reads them.
  const sock = createSocket({ type, recvBufferSize: 1 << 21 });
  const replies: Message[] = [];
  sock.on('message', (m) => replies.push(decodeMessage(m)));
  await new Promise<void>((r) => sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', r));
  return {
    sock,
    replies,
    async waitFor(n, ms = 5000) {
      const deadline = Date.now() + ms;
      while (replies.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

const query = (name: string, type: number, id: number, edns: number | false = false) => encodeMessage(queryMessage(name, type, { id, edns }));
/** The address of a reply's first answer. */
const addr = (m: Message | undefined) => (m?.answers[0]?.data as { address: string } | undefined)?.address;

test('a burst of queries is answered, each reply to its own ID and question', async () => {
  needNative();
  const l = listenUdpBatch(native!, engine(), '127.0.0.1', 0, { udp: { batchSize: 64 }, reusePort: false, onError: (e) => assert.fail(e) });
  const c = await client('udp4');
  try {
    // 300 datagrams sent without waiting: the kernel queues them, the listener reads them in batches.
    for (let i = 0; i < 300; i++) c.sock.send(query(`h${i}.t.lab.`, RRType.A, i + 1), l.port, '127.0.0.1');
    await c.waitFor(300);
    assert.equal(c.replies.length, 300);
    for (const m of c.replies) {
      const i = m.id - 1;
      assert.equal(m.questions[0]!.name.toLowerCase(), `h${i}.t.lab.`);
      assert.equal(addr(m), `198.51.100.${i % 250}`, `reply ${m.id}`);
    }
    const s = l.stats!();
    assert.equal(s.received, 300);
    assert.equal(s.sent, 300);
    assert.ok(s.recv_calls < 300, `recvmmsg calls ${s.recv_calls}: datagrams were batched`);
  } finally {
    c.sock.close();
    await l.close();
  }
});

test('a large reply (EDNS 4096) goes out whole, beside small ones in the same batch', async () => {
  needNative();
  const l = listenUdpBatch(native!, engine(), '127.0.0.1', 0, { udp: { batchSize: 8 }, reusePort: false, onError: (e) => assert.fail(e) });
  const c = await client('udp4');
  try {
    for (let i = 0; i < 20; i++) c.sock.send(i % 2 ? query('big.t.lab.', RRType.TXT, 1000 + i, 4096) : query(`h${i}.t.lab.`, RRType.A, 1000 + i), l.port, '127.0.0.1');
    await c.waitFor(20);
    assert.equal(c.replies.length, 20);
    const large = c.replies.filter((r) => r.id % 2);
    assert.equal(large.length, 10);
    for (const m of large) {
      assert.equal(m.flags.tc, false);
      assert.equal(m.answers.length, 12);
    }
  } finally {
    c.sock.close();
    await l.close();
  }
});

test('IPv6: answered on ::1, the engine sees the peer as "::1" and its port', async () => {
  needNative();
  const seen: TransportInfo[] = [];
  const l = listenUdpBatch(native!, engine(seen), '::1', 0, { udp: { batchSize: 16 }, reusePort: false, onError: (e) => assert.fail(e) });
  const c = await client('udp6');
  try {
    c.sock.send(query('h7.t.lab.', RRType.A, 77), l.port, '::1');
    await c.waitFor(1);
    assert.equal(addr(c.replies[0]), '198.51.100.7');
    assert.deepEqual(seen[0], { proto: 'udp', remoteAddress: '::1', remotePort: c.sock.address().port, localAddress: '::1', localPort: l.port });
  } finally {
    c.sock.close();
    await l.close();
  }
});

test('a late reply (a unit that awaits) keeps its query bytes while later batches arrive', async () => {
  needNative();
  const l = listenUdpBatch(native!, engine([], 40), '127.0.0.1', 0, { udp: { batchSize: 4 }, reusePort: false, onError: (e) => assert.fail(e) });
  const c = await client('udp4');
  try {
    // Once answered, the answer is cached: the second time, the ID and question are copied from the query's bytes.
    c.sock.send(query('slow.t.lab.', RRType.A, 4241), l.port, '127.0.0.1');
    for (let i = 100; i < 140; i++) c.sock.send(query(`h${i}.t.lab.`, RRType.A, i + 1), l.port, '127.0.0.1');
    await c.waitFor(41);
    c.replies.length = 0;
    c.sock.send(query('SlOw.t.lab.', RRType.A, 4242), l.port, '127.0.0.1');
    for (let i = 0; i < 40; i++) c.sock.send(query(`h${i}.t.lab.`, RRType.A, i + 1), l.port, '127.0.0.1');
    await c.waitFor(41);
    const late = c.replies.find((m) => m.id === 4242);
    assert.ok(late, 'the late reply arrived');
    assert.equal(late.questions[0]!.name, 'SlOw.t.lab.', 'question echoed with its case, from bytes not overwritten');
    assert.equal(addr(late), '203.0.113.9');
    assert.equal(c.replies.at(-1)!.id, 4242, 'answered after the 40 quick ones, read in 10 later batches');
    assert.deepEqual(kept.splice(0), [true, true], 'the query bytes were not overwritten by later batches');
  } finally {
    c.sock.close();
    await l.close();
  }
});

test('late replies: receive buffers are handed back to the addon once their replies went out, and no pending query is overwritten', async () => {
  needNative();
  // The addon as the listener sees it, counting detaches that hand a buffer back and the buffers batches arrive in.
  let recycled = 0;
  let detaches = 0;
  const buffers = new Set<ArrayBuffer>();
  const n = native!;
  const spy = addonWith(n, {
    open: (h, p, b, r, cb) =>
      n.open(h, p, b, r, (count, recv) => {
        buffers.add(recv);
        return cb(count, recv);
      }),
    detach: (s, next) => {
      detaches++;
      if (next) recycled++;
      n.detach(s, next);
    },
  });
  const l = listenUdpBatch(spy, engine(), '127.0.0.1', 0, { udp: { batchSize: 8 }, reusePort: false, onError: (e) => assert.fail(e) });
  const c = await client('udp4');
  kept.length = 0;
  try {
    // One at a time, as sequential grants arrive: each batch holds one pending reply.
    for (let i = 0; i < 60; i++) {
      c.sock.send(query(`late${i}.t.lab.`, RRType.A, 1000 + i), l.port, '127.0.0.1');
      await c.waitFor(i + 1);
    }
    // Each reply went out before the next query came: its buffer was free for the next detach.
    const sequentialBuffers = buffers.size;
    // Then a burst mixing late and immediate answers, several batches pending at once.
    for (let i = 0; i < 120; i++) c.sock.send(query(i % 2 ? `late${i}.t.lab.` : `h${i}.t.lab.`, RRType.A, 2000 + i), l.port, '127.0.0.1');
    await c.waitFor(180);
    assert.equal(c.replies.length, 180);
    for (const m of c.replies) {
      const i = m.id >= 2000 ? m.id - 2000 : m.id - 1000;
      const late = m.id < 2000 || i % 2 === 1;
      assert.equal(m.questions[0]!.name, late ? `late${i}.t.lab.` : `h${i}.t.lab.`, `reply ${m.id} answers its own question`);
      assert.equal(addr(m), late ? `203.0.113.${i % 250}` : `198.51.100.${i % 250}`);
    }
    assert.equal(kept.length, 120);
    assert.ok(kept.every(Boolean), 'no pending query\'s bytes were overwritten by a recycled buffer');
    assert.ok(detaches >= 60, `every batch with a late reply detached its buffer (${detaches})`);
    assert.ok(recycled >= 50, `most detaches handed back a buffer whose replies had gone out (${recycled} of ${detaches})`);
    assert.ok(sequentialBuffers <= 3, `60 late replies one at a time used ${sequentialBuffers} receive buffers, not one new buffer each`);
    // In the burst, a buffer is held while any of its batch's replies is pending (a loaded machine runs the timers late).
    assert.ok(buffers.size * 2 < detaches, `batches arrived in recycled buffers (${buffers.size} buffers for ${detaches} detaches)`);
  } finally {
    c.sock.close();
    await l.close();
  }
});

test('peers on one address and several ports: each query sees its own port, interleaved and repeated', async () => {
  needNative();
  const seen: TransportInfo[] = [];
  const l = listenUdpBatch(native!, engine(seen), '127.0.0.1', 0, { udp: { batchSize: 64 }, reusePort: false, onError: (e) => assert.fail(e) });
  const cs = [await client('udp4'), await client('udp4'), await client('udp4')];
  try {
    // Three rounds over three source ports: the listener keeps one TransportInfo per (address, port).
    for (let round = 0; round < 3; round++) cs.forEach((c, k) => c.sock.send(query(`h${k}.t.lab.`, RRType.A, 100 * round + k + 1), l.port, '127.0.0.1'));
    for (const c of cs) await c.waitFor(3);
    const ports = cs.map((c) => c.sock.address().port);
    for (const [k, c] of cs.entries()) {
      assert.equal(c.replies.length, 3, `client ${k}`);
      for (const m of c.replies) assert.equal((m.id - 1) % 100, k, `client ${k} got the reply to its own query`);
    }
    assert.equal(seen.length, 9);
    for (const info of seen) {
      assert.equal(info.remoteAddress, '127.0.0.1');
      assert.equal(info.proto, 'udp');
      assert.equal(info.localPort, l.port);
      assert.ok(ports.includes(info.remotePort), `port ${info.remotePort}`);
    }
    for (const port of ports) assert.equal(seen.filter((i) => i.remotePort === port).length, 3, `port ${port}`);
  } finally {
    for (const c of cs) c.sock.close();
    await l.close();
  }
});

test('a peer that disappears costs nothing: the next client is answered', async () => {
  needNative();
  const errors: Error[] = [];
  const l = listenUdpBatch(native!, engine(), '127.0.0.1', 0, { udp: { batchSize: 64 }, reusePort: false, onError: (e) => errors.push(e) });
  try {
    const gone = await client('udp4');
    // Queries sit in the listener's queue while the client closes: the replies hit a closed port (ICMP).
    for (let i = 0; i < 50; i++) gone.sock.send(query(`h${i}.t.lab.`, RRType.A, i + 1), l.port, '127.0.0.1');
    await new Promise<void>((r) => gone.sock.close(r));
    await new Promise((r) => setTimeout(r, 100));
    const c = await client('udp4');
    for (let i = 0; i < 20; i++) c.sock.send(query(`h${i}.t.lab.`, RRType.A, 500 + i), l.port, '127.0.0.1');
    await c.waitFor(20);
    assert.equal(c.replies.length, 20);
    assert.deepEqual(errors, []);
    c.sock.close();
  } finally {
    await l.close();
  }
});

test('close stops answering and frees the port', async () => {
  needNative();
  const l = listenUdpBatch(native!, engine(), '127.0.0.1', 0, { udp: { batchSize: 64 }, reusePort: false, onError: (e) => assert.fail(e) });
  await l.close();
  await l.close();
  const again = listenUdpBatch(native!, engine(), '127.0.0.1', l.port, { udp: { batchSize: 64 }, reusePort: false, onError: (e) => assert.fail(e) });
  const c = await client('udp4');
  try {
    c.sock.send(query('h1.t.lab.', RRType.A, 9), again.port, '127.0.0.1');
    await c.waitFor(1);
    assert.equal(c.replies.length, 1);
  } finally {
    c.sock.close();
    await again.close();
  }
});

test('a taken port is an error naming the address; with reusePort two sockets share it', async () => {
  needNative();
  const a = listenUdpBatch(native!, engine(), '127.0.0.1', 0, { udp: { batchSize: 8 }, reusePort: false, onError: (e) => assert.fail(e) });
  try {
    assert.throws(() => listenUdpBatch(native!, engine(), '127.0.0.1', a.port, { udp: { batchSize: 8 }, reusePort: false, onError: () => {} }), (e: Error & { code?: string }) => e.code === 'EADDRINUSE' && e.message.includes(`127.0.0.1:${a.port}`));
  } finally {
    await a.close();
  }
  const x = listenUdpBatch(native!, engine(), '127.0.0.1', 0, { udp: { batchSize: 8 }, reusePort: true, onError: (e) => assert.fail(e) });
  const y = listenUdpBatch(native!, engine(), '127.0.0.1', x.port, { udp: { batchSize: 8 }, reusePort: true, onError: (e) => assert.fail(e) });
  const c = await client('udp4');
  try {
    c.sock.send(query('h3.t.lab.', RRType.A, 3), x.port, '127.0.0.1');
    await c.waitFor(1);
    assert.equal(addr(c.replies[0]), '198.51.100.3');
  } finally {
    c.sock.close();
    await Promise.all([x.close(), y.close()]);
  }
});

test('udp.batching picks the path: auto uses the addon, off uses node:dgram', async () => {
  needNative();
  const modes: string[] = [];
  const listeners: BatchUdpListener[] = [];
  const c = await client('udp4');
  try {
    for (const batching of ['auto', 'off'] as const) {
      const l = await listenUdpAuto(engine(), '127.0.0.1', 0, { udp: { batching, batchSize: 32 }, reusePort: false, onError: (e) => assert.fail(e), onMode: (m) => modes.push(m) });
      listeners.push(l);
      c.sock.send(query('h5.t.lab.', RRType.A, listeners.length), l.port, '127.0.0.1');
    }
    await c.waitFor(2);
    assert.deepEqual(listeners.map((l) => l.mode), ['recvmmsg', 'dgram']);
    assert.deepEqual(c.replies.map(addr), ['198.51.100.5', '198.51.100.5']);
    assert.ok(modes.length <= 1, 'the mode is told once per process');
  } finally {
    c.sock.close();
    await Promise.all(listeners.map((l) => l.close()));
  }
});

test('formatV6 writes the RFC 5952 form', () => {
  const v6 = (s: string) => {
    const b = new Uint8Array(16);
    const [head, tail] = s.split('::') as [string, string | undefined];
    const hs = head ? head.split(':') : [];
    const ts = tail ? tail.split(':') : [];
    const groups = [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
    groups.forEach((g, i) => {
      b[2 * i] = parseInt(g, 16) >> 8;
      b[2 * i + 1] = parseInt(g, 16) & 0xff;
    });
    return b;
  };
  for (const s of ['::1', '::', '2001:db8::1', '2001:db8:0:1:1:1:1:1', '2001:db8::1:0:0:1', 'fe80::1:2', '2001:db8:1:2:3:4:5:6']) assert.equal(formatV6(v6(s), 0), s);
  assert.equal(formatV6(v6('2001:0:0:1:0:0:0:1'), 0), '2001:0:0:1::1', 'the longest run of zeros');
});

test('an addon that fails after binding (a stale native build) leaves no socket open behind the error', async () => {
  needNative();
  const n = native!;
  let opened: ReturnType<typeof n.open> | undefined;
  let closed = false;
  // `mirror` is what an old build lacks.
  const stale = addonWith(n, {
    close: (s) => {
      closed = true;
      n.close(s);
    },
    open: (h, p, b, r, cb) => (opened = n.open(h, p, b, r, cb)),
    mirror: () => {
      throw new TypeError('addon.mirror is not a function');
    },
  });
  try {
    assert.throws(() => listenUdpBatch(stale, engine(), '127.0.0.1', 0, { udp: { batchSize: 8 }, reusePort: false, onError: (e) => assert.fail(e) }), /mirror is not a function/);
    assert.ok(opened, 'the socket was bound before the failure');
    // The port is free again: the same listener binds it at once (EADDRINUSE if the failed one kept it).
    const again = listenUdpBatch(n, engine(), '127.0.0.1', opened.port, { udp: { batchSize: 8 }, reusePort: false, onError: (e) => assert.fail(e) });
    await again.close();
  } finally {
    // Without the fix this is what lets the test process exit.
    if (opened && !closed) n.close(opened);
  }
});
