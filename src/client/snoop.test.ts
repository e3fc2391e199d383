// TTL snoop inference on exact, scripted observations: lines per cache, earlier use, the 1 s rounding bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../wire/message.js';
import { RRType, Rcode, type Message } from '../wire/types.js';
import { inferFromTtls } from './snoop-analysis.js';
import { snoop } from './snoop.js';
import { StubTimeoutError, type ServerAddress, type Transport } from './stub.js';
import { decodeMessage } from '../wire/message.js';

test('one cache loaded 100 s before we asked: one line, earlier use, dated', () => {
  const r = inferFromTtls([{ at: 0, ttl: 200 }, { at: 1000, ttl: 199 }, { at: 2000, ttl: 198 }], 300, 0);
  assert.equal(r.caches, 1);
  assert.equal(r.cachedBefore, true);
  assert.equal(r.sinceCached, 100);
  assert.deepEqual(r.lines[0]!.samples, [0, 1, 2]);
});

test('two caches behind a load balancer: two lines, told apart by their load times (seed 001 fig. 2)', () => {
  // Cache A loaded 100 s ago, cache B 40 s ago; a balancer alternates between them.
  const obs = [0, 1, 2, 3, 4, 5].map((k) => ({ at: k * 1000, ttl: 300 - (k % 2 === 0 ? 100 : 40) - k }));
  const r = inferFromTtls(obs, 300, 0);
  assert.equal(r.caches, 2);
  assert.equal(r.cachesBefore, 2);
  assert.deepEqual(r.lines.map((l) => l.samples), [[0, 2, 4], [1, 3, 5]]);
  assert.equal(r.sinceCached, 100);
});

test('our own load (the full TTL at our first query) is not an earlier use', () => {
  const r = inferFromTtls([{ at: 0, ttl: 300 }, { at: 1000, ttl: 299 }], 300, 0);
  assert.equal(r.cachedBefore, false);
  assert.equal(r.caches, 1);
  // Rounding: asked 0.9 s after a load in the resolver's same second, the TTL can read one less.
  assert.equal(inferFromTtls([{ at: 900, ttl: 299 }], 300, 0).cachedBefore, false);
  // Two seconds less at the first query is certain: loaded before we asked.
  assert.equal(inferFromTtls([{ at: 0, ttl: 298 }], 300, 0).cachedBefore, true);
});

test('a cache-only miss is "not cached"; no observation at all is unknown', () => {
  assert.equal(inferFromTtls([{ at: 0 }], 300, 0).cachedBefore, false);
  assert.equal(inferFromTtls([], 300, 0).cachedBefore, null);
});

/** A scripted resolver and authoritative server on a scripted clock. */
function world(resolverTtl: (rd: boolean, t: number) => number | 'refuse' | 'miss', authTtl: number, authDrops = (_n: number) => false) {
  let t = 0;
  let authDatagrams = 0;
  const resolver: ServerAddress = { host: '127.0.0.1', port: 1 };
  const exchange = async (server: ServerAddress, packet: Uint8Array): Promise<Uint8Array | null> => {
    // A datagram the authoritative server drops (its rrl, say): the stub's try times out.
    if (server.port !== resolver.port && authDrops(authDatagrams++)) return null;
    const q = decodeMessage(packet);
    const reply: Message = { ...q, flags: { ...q.flags, qr: true }, answers: [], authorities: [], additionals: [] };
    const ttl = server.port === resolver.port ? resolverTtl(q.flags.rd, t) : authTtl;
    if (ttl === 'refuse') reply.flags.rcode = Rcode.REFUSED;
    else if (ttl !== 'miss') reply.answers.push({ name: q.questions[0]!.name, type: RRType.A, class: 1, ttl, data: { address: '198.51.100.7' } });
    return encodeMessage(reply);
  };
  const transport: Transport = { udp: exchange, tcp: exchange };
  return { resolver, transport, now: () => t, sleep: async (ms: number) => void (t += ms) };
}

test('auto mode: RD=0 refused, so RD=1; the authoritative TTL is the largest of its answers', async () => {
  const w = world((rd, t) => (rd ? 250 - t / 1000 : 'refuse'), 300);
  const r = await snoop({ ...w, name: 'x.lab.', auth: { host: '127.0.0.1', port: 2 }, samples: 3, intervalMs: 1000 });
  assert.equal(r.mode, 'rec');
  assert.deepEqual(r.samples.map((s) => [s.at, s.rd, s.rcode, s.ttl]), [[0, false, 'REFUSED', undefined], [0, true, 'NOERROR', 250], [1000, true, 'NOERROR', 249], [2000, true, 'NOERROR', 248]]);
  assert.equal(r.authTtl, 300);
  assert.equal(r.cachedBefore, true);
  assert.equal(r.sinceCached, 50);
});

test('auto mode with a resolver that answers RD=0: a miss means not cached, and nothing is loaded', async () => {
  let rdSeen = false;
  const w = world((rd) => {
    rdSeen ||= rd;
    return 'miss';
  }, 300);
  const r = await snoop({ ...w, name: 'x.lab.', auth: { host: '127.0.0.1', port: 2 }, samples: 2 });
  assert.equal(r.mode, 'norec');
  assert.equal(rdSeen, false);
  assert.equal(r.cachedBefore, false);
  assert.equal(r.caches, 0);
});

test("the authoritative server drops some samples (rrl): they are skipped; it drops them all: the stub's timeout", async () => {
  // Both tries of the first sample are dropped, then every other datagram.
  const w = world((rd, t) => (rd ? 250 - t / 1000 : 'refuse'), 300, (n) => n < 2 || n % 2 === 1);
  const r = await snoop({ ...w, name: 'x.lab.', auth: { host: '127.0.0.1', port: 2 }, authSamples: 5, samples: 2 });
  assert.equal(r.authTtl, 300);
  assert.equal(r.cachedBefore, true);
  const dead = world((rd, t) => (rd ? 250 - t / 1000 : 'refuse'), 300, () => true);
  await assert.rejects(snoop({ ...dead, name: 'x.lab.', auth: { host: '127.0.0.1', port: 2 }, authSamples: 3, samples: 2 }), StubTimeoutError);
});

test('without --auth the largest TTL seen stands in for the zone TTL', async () => {
  const w = world((rd, t) => (t < 1000 ? 300 : 299), 0);
  const r = await snoop({ ...w, name: 'x.lab.', mode: 'rec', samples: 2 });
  assert.equal(r.authTtl, 300);
  assert.equal(r.authTtlFrom, 'resolver');
  assert.equal(r.cachedBefore, false);
});
