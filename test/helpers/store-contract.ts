// The StateStore contract (src/state/store.ts), run against each backend: the memory store in
// src/state/memory.test.ts, the Redis store against a real redis-server in src/state/redis.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leasePhase, type Lease, type LeasePorts, type StateStore } from '../../src/state/store.js';

const TCP80: LeasePorts[] = [{ proto: 'tcp', from: 80, to: 80 }];
const TCP25: LeasePorts[] = [{ proto: 'tcp', from: 25, to: 25 }];

export function lease(id: string, over: Partial<Lease> = {}): Lease {
  const t = over.grantedAt ?? 0;
  return {
    id,
    service: 'www.example.lab.',
    scope: 'resolver',
    scopeKey: '127.0.0.1',
    resolver: '127.0.0.1',
    address: '198.18.0.7',
    targets: ['10.0.0.1'],
    ports: TCP80,
    ttl: 20,
    grantedAt: t,
    ttlUntil: t + 20_000,
    liveUntil: t + 25_000,
    graceUntil: t + 85_000,
    quarantineUntil: t + 385_000,
    exceptions: [],
    honeypot: false,
    ...over,
  };
}

export function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

/** Registers the contract's tests; `make` opens an empty store on the given clock. */
export function storeContract(make: (now: () => number) => Promise<StateStore>): void {
  test('a claim on an address held by a lease with overlapping ports fails, port-disjoint succeeds', async () => {
    const c = clock();
    const s = await make(c.now);
    assert.equal(await s.claim(lease('a')), true);
    assert.equal(await s.claim(lease('b', { scopeKey: '127.0.0.2' })), false);
    assert.equal(await s.claim(lease('c', { service: 'mail.example.lab.', ports: TCP25 })), true);
    assert.deepEqual((await s.leasesAt('198.18.0.7')).map((l) => l.id), ['a', 'c']);
    assert.equal(await s.claim(lease('a', { address: '198.18.0.8' })), false, 'ids are unique');
  });

  test('the address stays taken through grace and quarantine, and is free once gone', async () => {
    const c = clock();
    const s = await make(c.now);
    await s.claim(lease('a'));
    for (const [t, phase] of [[24_999, 'live'], [25_000, 'grace'], [85_000, 'quarantine'], [384_999, 'quarantine']] as const) {
      c.t = t;
      assert.equal(leasePhase((await s.leasesAt('198.18.0.7'))[0]!, t), phase);
      assert.equal(await s.claim(lease(`x${t}`, { scopeKey: 'other', grantedAt: t })), false, `taken at ${t}`);
    }
    c.t = 385_000;
    assert.deepEqual(await s.leasesAt('198.18.0.7'), []);
    assert.equal(await s.claim(lease('b', { scopeKey: 'other', grantedAt: c.t })), true);
  });

  test('findLease returns the lease only while its DNS TTL runs', async () => {
    const c = clock();
    const s = await make(c.now);
    await s.claim(lease('a'));
    c.t = 19_999;
    assert.equal((await s.findLease('www.example.lab.', '127.0.0.1', 4))?.id, 'a');
    assert.equal(await s.findLease('www.example.lab.', '127.0.0.2', 4), undefined);
    c.t = 20_000;
    assert.equal(await s.findLease('www.example.lab.', '127.0.0.1', 4), undefined);
  });

  test('share admits a live lease of the same service and targets only', async () => {
    const c = clock();
    const s = await make(c.now);
    await s.claim(lease('a'));
    assert.equal(await s.claim(lease('b', { scopeKey: '127.0.0.2' }), { share: true }), true);
    assert.equal(await s.claim(lease('c', { scopeKey: '127.0.0.3', targets: ['10.0.0.2'] }), { share: true }), false);
    assert.equal(await s.claim(lease('d', { scopeKey: '127.0.0.3', service: 'other.' }), { share: true }), false);
    c.t = 25_000; // both in grace now: sharing needs a live lease
    assert.equal(await s.claim(lease('e', { scopeKey: '127.0.0.4', grantedAt: c.t }), { share: true }), false);
  });

  test('sources: maxHosts bounds distinct sources; known sources stay admitted', async () => {
    const s = await make(clock().now);
    await s.claim(lease('a'));
    assert.equal(await s.addSource('a', '127.0.0.10', 2), 'added');
    assert.equal(await s.addSource('a', '127.0.0.11', 2), 'added');
    assert.equal(await s.addSource('a', '127.0.0.12', 2), 'full');
    assert.equal(await s.addSource('a', '127.0.0.10', 2), 'known');
    assert.equal(await s.hasSource('a', '127.0.0.11'), true);
    assert.equal(await s.hasSource('a', '127.0.0.12'), false);
    assert.deepEqual((await s.sources('a')).sort(), ['127.0.0.10', '127.0.0.11']);
  });

  test('flows: maxConnections bounds concurrent flows', async () => {
    const s = await make(clock().now);
    await s.claim(lease('a'));
    assert.equal(await s.openFlow('a', 2), true);
    assert.equal(await s.openFlow('a', 2), true);
    assert.equal(await s.openFlow('a', 2), false);
    await s.closeFlow('a');
    assert.equal(await s.flows('a'), 1);
    assert.equal(await s.openFlow('a', 2), true);
  });

  test('revoke ends the lease now and quarantines the address from now', async () => {
    const c = clock();
    const s = await make(c.now);
    await s.claim(lease('a'));
    c.t = 1000;
    const r = await s.revoke('a', 5000);
    assert.equal(r?.revoked, true);
    assert.equal(leasePhase(r!, 1000), 'quarantine');
    assert.equal(await s.revoke('a', 5000), undefined, 'twice is a no-op');
    assert.equal(await s.findLease('www.example.lab.', '127.0.0.1', 4), undefined);
    assert.deepEqual((await s.sweep()).expired, [], 'the revoker told the data plane already');
    c.t = 6000;
    assert.deepEqual((await s.sweep()).purged.map((l) => l.id), ['a']);
    assert.equal(await s.claim(lease('b', { grantedAt: c.t })), true);
  });

  test('sweep reports the end of grace once, then the purge', async () => {
    const c = clock();
    const s = await make(c.now);
    await s.claim(lease('a'));
    c.t = 84_999;
    assert.deepEqual(await s.sweep(), { expired: [], purged: [] });
    c.t = 85_000;
    assert.deepEqual((await s.sweep()).expired.map((l) => l.id), ['a']);
    assert.deepEqual((await s.sweep()).expired, []);
    c.t = 385_000;
    const r = await s.sweep();
    assert.deepEqual([r.expired.length, r.purged.map((l) => l.id)], [0, ['a']]);
    assert.deepEqual(await s.list(), []);
  });

  test('release frees the address at once', async () => {
    const s = await make(clock().now);
    await s.claim(lease('a'));
    await s.release('a');
    assert.equal(await s.claim(lease('b')), true);
    assert.equal(await s.findLease('www.example.lab.', '127.0.0.1', 4).then((l) => l?.id), 'b');
  });

  test('unproductive attempts count in a window; a blocked scanner is listed until its block ends', async () => {
    const c = clock(1000);
    const s = await make(c.now);
    assert.equal(await s.countUnproductive('198.51.100.9', 1, 10_000), 1);
    assert.equal(await s.countUnproductive('198.51.100.9', 3, 10_000), 4);
    assert.equal(await s.countUnproductive('198.51.100.10', 1, 10_000), 1);
    c.t += 10_000;
    // The window ended: counting starts again.
    assert.equal(await s.countUnproductive('198.51.100.9', 2, 10_000), 2);
    assert.equal(await s.scanner('198.51.100.9'), undefined);
    const e = await s.blockScanner('198.51.100.9', 50, 60_000);
    assert.deepEqual(e, { source: '198.51.100.9', attempts: 50, since: 11_000, until: 71_000 });
    assert.equal(await s.countUnproductive('198.51.100.9', 1, 10_000), 1, 'blocking resets the count');
    c.t += 30_000;
    // A second block extends, and keeps when it started.
    assert.deepEqual(await s.blockScanner('198.51.100.9', 20, 60_000), { source: '198.51.100.9', attempts: 50, since: 11_000, until: 101_000 });
    assert.deepEqual((await s.scanners()).map((x) => x.source), ['198.51.100.9']);
    c.t = 101_000;
    assert.equal(await s.scanner('198.51.100.9'), undefined);
    assert.deepEqual(await s.scanners(), []);
  });

  test('a lease reads back as it was claimed, and revoked with its new times', async () => {
    const c = clock(5000);
    const s = await make(c.now);
    const l = lease('a', { grantedAt: 5000, ecs: '198.51.100.0/24', exceptions: ['198.51.100.7/32'], maxHosts: 3, targets: ['10.0.0.1', '10.0.0.2:8080'], ports: [...TCP80, { proto: 'udp', from: 1000, to: 1010 }] });
    await s.claim(l);
    assert.deepEqual(await s.get('a'), l);
    assert.deepEqual(await s.findLease('www.example.lab.', '127.0.0.1', 4), l);
    assert.equal(await s.findLease('www.example.lab.', '127.0.0.1', 6), undefined, 'A and AAAA hold separate leases');
    const r = await s.revoke('a', 1000);
    assert.deepEqual(r, { ...l, revoked: true, ttlUntil: 5000, liveUntil: 5000, graceUntil: 5000, quarantineUntil: 6000 });
    assert.deepEqual(await s.get('a'), r);
  });

  test('flows by node and shared token buckets', async () => {
    const c = clock(1000);
    const s = await make(c.now);
    await s.claim(lease('a', { grantedAt: 1000 }));
    assert.deepEqual(await s.flowsByNode('a'), {});
    assert.equal(await s.openFlow('a'), true);
    assert.deepEqual(await s.flowsByNode('a'), { [s.node]: 1 });
    await s.closeFlow('a');
    assert.deepEqual(await s.flowsByNode('a'), { [s.node]: 0 }, 'a node that admitted a flow stays listed');
    assert.equal(await s.takeToken('k', 1, 2), true);
    assert.equal(await s.takeToken('k', 1, 2), true);
    assert.equal(await s.takeToken('k', 1, 2), false);
    c.t += 1000;
    assert.equal(await s.takeToken('k', 1, 2), true, 'one token back after a second');
    assert.equal(await s.takeToken('other', 1, 2), true);
  });
}
