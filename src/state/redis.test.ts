// The Redis store against a real redis-server: the StateStore contract (test/helpers/store-contract.ts),
// atomic claims from many connections, published changes, and the failure mode (Redis gone: calls
// fail within the deadline, nothing hangs; Redis back: calls work again).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { RedisStore, StoreUnavailable } from './redis.js';
import type { StateEvent, StateStore } from './store.js';
import { clock, lease, storeContract } from '../../test/helpers/store-contract.js';
import { startRedis, type RunningRedis } from '../../test/helpers/redis.js';

let redis: RunningRedis;
const stores: StateStore[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis.stop();
});

/** A store on its own key prefix, so tests do not see each other's leases. */
async function open(now: () => number = Date.now, prefix = `t${randomBytes(4).toString('hex')}:`, node = 'n1', timeoutMs = 500): Promise<RedisStore> {
  const s = await RedisStore.connect({ url: redis.url, prefix, node, timeoutMs, now });
  stores.push(s);
  return s;
}

storeContract((now) => open(now));

test('claims race from many connections: each address goes to exactly one lease', async () => {
  const prefix = `race${randomBytes(4).toString('hex')}:`;
  const nodes = await Promise.all([0, 1, 2, 3].map((i) => open(Date.now, prefix, `n${i}`)));
  // 4 nodes × 50 leases drawn from 16 addresses at once.
  const t = Date.now();
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => {
      const address = `198.18.1.${i % 16}`;
      return nodes[i % 4]!.claim(lease(`r${i}`, { grantedAt: t, address, scopeKey: `127.0.1.${i}` })).then((ok) => (ok ? address : undefined));
    }),
  );
  const won = results.filter((a): a is string => a !== undefined);
  assert.equal(won.length, 16, 'one winner per address');
  assert.equal(new Set(won).size, 16);
  const listed = await nodes[0]!.list();
  assert.equal(listed.length, 16);
  assert.equal(new Set(listed.map((l) => l.address)).size, 16);
});

test('findOrClaim: the live lease of the scope comes back and nothing is written; near its TTL end, or absent, the new lease is claimed', async () => {
  const c = clock(Date.now());
  const s = await open(c.now);
  const t = c.t;
  assert.deepEqual(await s.findOrClaim(lease('a', { grantedAt: t }), 1000), { claimed: true });
  assert.equal((await s.findLease('www.example.lab.', '127.0.0.1', 4))?.id, 'a');
  // Same scope: lease a is returned (with its times), and b's address stays free.
  const r = await s.findOrClaim(lease('b', { grantedAt: t, address: '198.18.0.8' }), 1000);
  assert.ok('existing' in r && r.existing.id === 'a' && r.existing.address === '198.18.0.7' && r.existing.ttlUntil === t + 20000, JSON.stringify(r));
  assert.equal(await s.get('b'), undefined);
  assert.deepEqual(await s.leasesAt('198.18.0.8'), []);
  // Another scope on a's address: a conflict, as claim() would say.
  assert.deepEqual(await s.findOrClaim(lease('c', { grantedAt: t, scopeKey: '127.0.0.2' }), 1000), { claimed: false });
  assert.equal(await s.get('c'), undefined);
  // Less than minRemainingMs of a's TTL left: a new lease is claimed and becomes the scope's.
  c.t = t + 19500;
  assert.deepEqual(await s.findOrClaim(lease('d', { grantedAt: c.t, address: '198.18.0.9' }), 1000), { claimed: true });
  assert.equal((await s.findLease('www.example.lab.', '127.0.0.1', 4))?.id, 'd');
  // A revoked lease is never returned.
  const rev = await s.revoke('d', 60000);
  assert.ok(rev?.revoked);
  assert.deepEqual(await s.findOrClaim(lease('e', { grantedAt: c.t, address: '198.18.0.10' }), 1000), { claimed: true });
});

test('grants and expiries are published to other nodes; a revocation collects their replies', async () => {
  const prefix = `ev${randomBytes(4).toString('hex')}:`;
  const c = clock(Date.now());
  const a = await open(c.now, prefix, 'A');
  const b = await open(c.now, prefix, 'B');
  const seen: StateEvent[] = [];
  const cuts: { ref: string; cut: number; origin: string }[] = [];
  await b.subscribe((e) => seen.push(e));
  const seenByA: StateEvent[] = [];
  await a.subscribe((e) => seenByA.push(e), (r) => cuts.push(r));
  const waitFor = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cond());
  };
  const l = lease('g1', { grantedAt: c.t, ttlUntil: c.t + 20_000, liveUntil: c.t + 25_000, graceUntil: c.t + 85_000, quarantineUntil: c.t + 385_000 });
  assert.equal(await a.claim(l), true);
  await waitFor(() => seen.length === 1);
  assert.deepEqual(seen[0], { type: 'grant', origin: 'A', ref: undefined, leases: [l] });
  c.t += 85_000;
  const swept = await a.sweep();
  assert.deepEqual(swept.expired.map((x) => x.id), ['g1']);
  assert.deepEqual((await b.sweep()).expired, [], 'each expiry is reported to one sweeper only');
  await waitFor(() => seen.length === 2);
  assert.equal(seen[1]!.type, 'expire');
  assert.equal(seen[1]!.leases[0]!.id, 'g1');
  // A revocation: B receives it and replies with its cut count.
  const l2 = lease('g2', { grantedAt: c.t, address: '198.18.0.8', ttlUntil: c.t + 20_000, liveUntil: c.t + 25_000, graceUntil: c.t + 85_000, quarantineUntil: c.t + 385_000 });
  await a.claim(l2);
  const r = await a.revoke('g2', 1000);
  const n = await a.announceRevoke([r!], 'A#x1');
  assert.equal(n, 1, 'one other node listens');
  await waitFor(() => seen.some((e) => e.type === 'revoke'));
  const ev = seen.find((e) => e.type === 'revoke')!;
  assert.equal(ev.ref, 'A#x1');
  assert.equal(ev.leases[0]!.revoked, true);
  await b.replyCut('A#x1', 3);
  await waitFor(() => cuts.length === 1);
  assert.deepEqual(cuts[0], { ref: 'A#x1', origin: 'B', cut: 3 });
  assert.deepEqual(seenByA, [], 'a node does not receive its own grants, expiries and revocations');
});

test('Redis gone: calls fail within the deadline with StoreUnavailable; back: they work again', async () => {
  const own = await startRedis({ aof: false });
  try {
    const s = await RedisStore.connect({ url: own.url, prefix: 'f:', node: 'n', timeoutMs: 300 });
    stores.push(s);
    assert.equal(await s.claim(lease('a', { grantedAt: Date.now(), quarantineUntil: Date.now() + 60_000 })), true);
    await own.kill();
    const t0 = Date.now();
    await assert.rejects(s.findLease('www.example.lab.', '127.0.0.1', 4), StoreUnavailable);
    await assert.rejects(s.claim(lease('b')), StoreUnavailable);
    assert.ok(Date.now() - t0 < 5000, 'no call hangs');
    await own.restart();
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await s.list().then(() => true, () => false);
      if (!ok) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ok, 'reconnected');
  } finally {
    await own.stop();
  }
});

test('Sentinel at start: a sentinel slower than one command deadline (but within the start-up allowance of 4) still names the primary', async () => {
  // A sentinel on a busy machine, played by a RESP responder that names the real redis-server after 2.5 ×
  // the deadline: a real sentinel cannot be made slow on purpose. At 1 × (before) the start failed.
  const timeoutMs = 200;
  const slow = net.createServer((sock) => {
    // Each command's name (RESP arrays of bulk strings): the client's set-up (CLIENT SETINFO) gets +OK at once.
    sock.on('data', (d) => {
      for (const m of d.toString('latin1').matchAll(/\*\d+\r\n\$\d+\r\n(\w+)\r\n/g)) {
        if (m[1]!.toUpperCase() !== 'SENTINEL') sock.write('+OK\r\n');
        else setTimeout(() => sock.write(`*2\r\n$9\r\n127.0.0.1\r\n$${String(redis.port).length}\r\n${redis.port}\r\n`), timeoutMs * 2.5);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  try {
    const port = (slow.address() as net.AddressInfo).port;
    const s = await RedisStore.connect({ url: 'redis://127.0.0.1:1', prefix: `slow${randomBytes(4).toString('hex')}:`, node: 'n1', timeoutMs, sentinel: { sentinels: [{ host: '127.0.0.1', port }], name: 'mymaster' } });
    stores.push(s);
    assert.equal(await s.get('none'), undefined, 'connected to the primary the slow sentinel named');
  } finally {
    slow.close();
  }
});
