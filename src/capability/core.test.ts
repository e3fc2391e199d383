// The capability core with a state store that fails (Redis unreachable): the grant fails closed, or
// with failOpen answers an address installed in this process's data plane only; nothing throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { MemoryStore } from '../state/memory.js';
import type { Lease } from '../state/store.js';
import { MemoryAudit } from './audit.js';
import { Capabilities, STORE_ONLY } from './core.js';
import { serviceTableOf } from './services.js';

/** A memory store whose every call fails, as the Redis store's do when Redis does not answer. */
class DownStore extends MemoryStore {
  override async findLease(): Promise<Lease | undefined> {
    throw new Error('state store: no reply within 500 ms');
  }
  override async claim(): Promise<boolean> {
    throw new Error('state store: no reply within 500 ms');
  }
}

function setup(failOpen: boolean) {
  const { config } = parseConfigText(
    `pools: [{ name: p, prefixes: [198.18.0.0/24] }]
services: [{ name: svc.lab, target: 10.0.0.1, ports: [tcp/80], pool: p }]
capabilities: { failOpen: ${failOpen} }
`,
    'core.test.yaml',
  );
  const installed: Lease[] = [];
  const audit = new MemoryAudit();
  const caps = new Capabilities({ store: new DownStore(), audit, dataPlane: { ...STORE_ONLY, install: async (l) => void installed.push(l) } });
  caps.bind(() => config);
  const svc = serviceTableOf(config).byKey.get('svc.lab.')!;
  const req = { svc, family: 4 as const, resolver: '127.0.0.1', exceptions: [], honeypot: false, config };
  return { caps, req, installed, audit };
}

test('store down, failOpen false: the grant fails closed (store-failed, counted), nothing installed', async () => {
  const { caps, req, installed } = setup(false);
  const r = await caps.lease(req);
  assert.equal(r.kind, 'store-failed');
  assert.match((r as { error: string }).error, /no reply within 500 ms/);
  assert.equal(caps.counters.storeFailures, 1);
  assert.equal(caps.counters.grants, 0);
  assert.deepEqual(installed, []);
});

test('store down, failOpen true: an address of the pool, installed here, audited as unrecorded', async () => {
  const { caps, req, installed, audit } = setup(true);
  const r = await caps.lease(req);
  assert.equal(r.kind, 'granted');
  const l = (r as { lease: Lease }).lease;
  assert.match(l.address, /^198\.18\.0\.\d+$/);
  assert.deepEqual(installed.map((x) => x.id), [l.id]);
  assert.equal(caps.counters.storeFailures, 1);
  const grant = audit.events.find((e) => e.event === 'grant') as { unrecorded?: string } | undefined;
  assert.match(grant?.unrecorded ?? '', /no reply/);
});
