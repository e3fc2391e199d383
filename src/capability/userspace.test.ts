// Userspace admission: live leases admit and record sources, grace admits only seen sources, then
// nothing; OBO subnets, exceptions, maxHosts and maxConnections; unleased pool addresses refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../net/cidr.js';
import { AddressPool } from '../pool/pool.js';
import { MemoryStore } from '../state/memory.js';
import type { Lease } from '../state/store.js';
import type { Flow, Verdict } from '../gateway/types.js';
import { MemoryAudit } from './audit.js';
import { UserspaceDataPlane } from './userspace.js';

function setup(honeypot?: string) {
  const clock = { t: 0 };
  const store = new MemoryStore(() => clock.t);
  const audit = new MemoryAudit();
  const dp = new UserspaceDataPlane({
    store,
    audit,
    now: () => clock.t,
    pools: () => [new AddressPool('p', [parseCidr('198.18.0.0/24')!])],
    honeypot: () => honeypot,
    proxyProtocol: () => false,
  });
  return { clock, store, audit, dp };
}

function lease(over: Partial<Lease> = {}): Lease {
  return {
    id: 'L1',
    service: 'www.example.lab.',
    scope: 'resolver',
    scopeKey: '127.0.0.1',
    resolver: '127.0.0.1',
    address: '198.18.0.7',
    targets: ['10.0.0.1', '10.0.0.2:8080'],
    ports: [{ proto: 'tcp', from: 80, to: 80 }],
    ttl: 20,
    grantedAt: 0,
    ttlUntil: 20_000,
    liveUntil: 25_000,
    graceUntil: 85_000,
    quarantineUntil: 385_000,
    exceptions: [],
    honeypot: false,
    ...over,
  };
}

let port = 40000;
const flow = (src: string, dst = '198.18.0.7', dstPort = 80): Flow => ({ proto: 'tcp', src, srcPort: port++, dst, dstPort });
const kind = (v: Verdict | undefined) => (v === undefined ? 'table' : 'backend' in v ? 'backend' : 'honeypot' in v ? 'honeypot' : `refuse: ${v.refuse}`);

test('live: any source is admitted and recorded; grace: only those; after grace: nobody', async () => {
  const { clock, store, dp } = setup();
  await store.claim(lease());
  assert.equal(kind(await dp.admit(flow('127.0.0.10'))), 'backend');
  clock.t = 24_999;
  assert.equal(kind(await dp.admit(flow('127.0.0.11'))), 'backend', 'the slack after the TTL is still live');
  clock.t = 25_000;
  assert.equal(kind(await dp.admit(flow('127.0.0.12'))), 'refuse: grace: source not seen while live');
  assert.equal(kind(await dp.admit(flow('127.0.0.10'))), 'backend');
  clock.t = 85_000;
  assert.equal(kind(await dp.admit(flow('127.0.0.10'))), 'refuse: expired');
});

test('targets take turns, and a target without a port keeps the dialled one', async () => {
  const { store, dp } = setup();
  await store.claim(lease());
  const backends = [];
  for (let i = 0; i < 3; i++) {
    const v = (await dp.admit(flow('127.0.0.10'))) as { backend: { host: string; port: number } };
    backends.push(`${v.backend.host}:${v.backend.port}`);
  }
  assert.deepEqual(backends, ['10.0.0.1:80', '10.0.0.2:8080', '10.0.0.1:80']);
});

test('unleased pool addresses and other ports are refused (or go to the honeypot); other addresses fall through', async () => {
  const { store, dp, audit } = setup();
  await store.claim(lease());
  assert.equal(kind(await dp.admit(flow('127.0.0.10', '198.18.0.8'))), 'refuse: no lease');
  assert.equal(kind(await dp.admit(flow('127.0.0.10', '198.18.0.7', 443))), 'refuse: no lease');
  assert.equal(kind(await dp.admit(flow('127.0.0.10', '127.77.0.1'))), 'table');
  assert.deepEqual(audit.events.map((e) => e.event), ['flow-denied', 'flow-denied']);
  const hp = setup('10.9.9.9');
  const v = await hp.dp.admit(flow('127.0.0.10', '198.18.0.9', 22));
  assert.deepEqual(v, { honeypot: { host: '10.9.9.9', port: 22, proxyProtocol: false } });
});

test('OBO subnet and exceptions (seed 000 §2.2, §2.3)', async () => {
  const { store, dp } = setup();
  await store.claim(lease({ sourceSubnet: '198.51.100.0/24', exceptions: ['198.51.100.9/32'] }));
  assert.equal(kind(await dp.admit(flow('198.51.100.1'))), 'backend');
  assert.equal(kind(await dp.admit(flow('198.51.100.9'))), 'refuse: exception');
  assert.equal(kind(await dp.admit(flow('203.0.113.1'))), 'refuse: outside OBO subnet');
});

test('maxHosts bounds distinct sources; maxConnections bounds concurrent flows until one closes', async () => {
  const { store, dp } = setup();
  await store.claim(lease({ maxHosts: 2, maxConnections: 2 }));
  const f1 = flow('127.0.0.10');
  assert.equal(kind(await dp.admit(f1)), 'backend');
  assert.equal(kind(await dp.admit(flow('127.0.0.11'))), 'backend');
  assert.equal(kind(await dp.admit(flow('127.0.0.12'))), 'refuse: maxHosts');
  assert.equal(kind(await dp.admit(flow('127.0.0.10'))), 'refuse: maxConnections');
  dp.hooks().onFlow!({ type: 'close', flow: f1, bytesIn: 0, bytesOut: 0 });
  await new Promise((r) => setImmediate(r));
  assert.equal(kind(await dp.admit(flow('127.0.0.10'))), 'backend');
});

test('a newer lease at a shared address is tried first; a revoked one admits nothing', async () => {
  const { store, dp, clock } = setup();
  await store.claim(lease({ id: 'old', maxHosts: 1 }));
  await store.addSource('old', '127.0.0.99');
  clock.t = 1000;
  await store.claim(lease({ id: 'new', scopeKey: '127.0.0.2', grantedAt: 1000 }), { share: true });
  assert.equal(kind(await dp.admit(flow('127.0.0.10'))), 'backend');
  assert.deepEqual(await store.sources('new'), ['127.0.0.10']);
  await store.revoke('new', 1000);
  await store.revoke('old', 1000);
  assert.equal(kind(await dp.admit(flow('127.0.0.99'))), 'refuse: revoked');
});
