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

/**
 * A memory store answering findOrClaim (as the Redis store does, in one call) and recording when each
 * call starts and ends; `refuse` makes the next claims lose as if another server took the address.
 */
class RoundTripStore extends MemoryStore {
  readonly log: string[] = [];
  refuse = 0;
  async findOrClaim(lease: Lease, minRemainingMs: number): Promise<{ existing: Lease } | { claimed: boolean }> {
    this.log.push(`claim ${lease.id}`);
    await new Promise((r) => setTimeout(r, 5));
    this.log.push(`answer ${lease.id}`);
    const existing = await this.findLease(lease.service, lease.scopeKey, 4);
    if (existing && existing.ttlUntil - Date.now() >= minRemainingMs) return { existing };
    if (this.refuse > 0) {
      this.refuse--;
      return { claimed: false };
    }
    return { claimed: await this.claim(lease) };
  }
}

/** A data plane whose install is a round trip (as nftables' is): it may install ahead of the claim. */
function aheadSetup() {
  const { config } = parseConfigText(
    `pools: [{ name: p, prefixes: [198.18.0.0/24] }]
services: [{ name: svc.lab, target: 10.0.0.1, ports: [tcp/80], pool: p }]
`,
    'core.test.yaml',
  );
  const store = new RoundTripStore();
  const kernel = new Set<string>();
  const log = store.log;
  const dataPlane = {
    ...STORE_ONLY,
    canInstallAhead: (l: Lease) => !kernel.has(l.id),
    install: async (l: Lease) => {
      log.push(`install ${l.id}`);
      await new Promise((r) => setTimeout(r, 1));
      kernel.add(l.id);
    },
    expire: async (l: Lease) => {
      log.push(`expire ${l.id}`);
      kernel.delete(l.id);
    },
  };
  const caps = new Capabilities({ store, dataPlane });
  caps.bind(() => config);
  const svc = serviceTableOf(config).byKey.get('svc.lab.')!;
  const req = (resolver: string) => ({ svc, family: 4 as const, resolver, exceptions: [], honeypot: false, config });
  return { caps, req, store, kernel, log };
}

test('install ahead: a new lease is installed while its claim is in flight, once', async () => {
  const { caps, req, kernel, log } = aheadSetup();
  const r = await caps.lease(req('127.0.0.1'));
  assert.equal(r.kind, 'granted');
  const id = (r as { lease: Lease }).lease.id;
  // The claim goes out first (to a Redis sharing the CPU, its script and fsync come before the kernel commit).
  assert.deepEqual(log, [`claim ${id}`, `install ${id}`, `answer ${id}`], 'the install started after the claim was asked, before it answered, and is not repeated');
  assert.deepEqual([...kernel], [id]);
});

test('install ahead: a refused claim takes its install back before the grant goes on', async () => {
  const { caps, req, store, kernel, log } = aheadSetup();
  store.refuse = 1;
  const r = await caps.lease(req('127.0.0.1'));
  assert.equal(r.kind, 'granted');
  const granted = (r as { lease: Lease }).lease.id;
  const refused = log.find((l) => l.startsWith('install '))!.slice('install '.length);
  assert.notEqual(refused, granted);
  assert.ok(log.indexOf(`expire ${refused}`) < log.indexOf(`install ${granted}`), 'withdrawn before the granted lease is installed');
  assert.deepEqual([...kernel], [granted], 'only the lease the store granted is in the data plane');
});

test('install ahead: not for a scope with a live lease here (the store hands that one back)', async () => {
  const { caps, req, kernel, log } = aheadSetup();
  const first = await caps.lease(req('127.0.0.1'));
  log.length = 0;
  const again = await caps.lease(req('127.0.0.1'));
  assert.equal(again.kind, 'granted');
  assert.equal((again as { reused: boolean }).reused, true);
  assert.equal((again as { lease: Lease }).lease.id, (first as { lease: Lease }).lease.id);
  assert.deepEqual(log.filter((l) => !l.startsWith('claim') && !l.startsWith('answer')), [], 'nothing installed or withdrawn');
  assert.equal(kernel.size, 1);
});

test('install ahead: a scope another node granted is handed back and the install taken back', async () => {
  const { caps, req, store, kernel } = aheadSetup();
  // Another server's grant, not announced to this node: the store finds it, the install ahead goes.
  const other = new Capabilities({ store });
  other.bind(() => caps.config());
  const theirs = await other.lease(req('127.0.0.1'));
  const r = await caps.lease(req('127.0.0.1'));
  assert.equal((r as { reused: boolean }).reused, true);
  assert.equal((r as { lease: Lease }).lease.id, (theirs as { lease: Lease }).lease.id);
  assert.equal(kernel.size, 0, 'the install made ahead is withdrawn');
});
