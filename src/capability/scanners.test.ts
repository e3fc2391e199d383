// Scanner detection in the capability core (seed 000 §4): counting to the threshold, the block in the
// store, the audit event and the data plane's block; blocks in force are re-applied on start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { MemoryStore } from '../state/memory.js';
import { MemoryAudit } from './audit.js';
import { Capabilities, STORE_ONLY } from './core.js';
import type { DataPlane } from './dataplane.js';

const CONFIG = `
pools: [{ name: caps, prefixes: [198.18.64.0/24] }]
services:
  - { name: app.caps.lab, target: 198.18.2.1, ports: [tcp/80], pool: caps }
capabilities:
  scanners: { threshold: 5, window: 10, blockFor: 60 }
`;

function setup(config = CONFIG) {
  const clock = { t: 1_000_000 };
  const store = new MemoryStore(() => clock.t);
  const audit = new MemoryAudit();
  const blocks: Array<[string, number]> = [];
  const plane: DataPlane = { ...STORE_ONLY, blockScanner: async (s, until) => void blocks.push([s, until]) };
  const caps = new Capabilities({ store, audit, dataPlane: plane, now: () => clock.t });
  const loaded = parseConfigText(config, '/tmp/fluxdns-scanners-test.yaml').config;
  caps.bind(() => loaded);
  return { clock, store, audit, blocks, caps };
}

test('a source reaching the threshold within the window is blocked, audited and blocked in the data plane', async () => {
  const { clock, store, audit, blocks, caps } = setup();
  await caps.unproductive('198.18.1.66', 3);
  clock.t += 11_000;
  // The window ended: the count starts again, so 3 + 3 across two windows is no scan.
  await caps.unproductive('198.18.1.66', 3);
  assert.equal(await store.scanner('198.18.1.66'), undefined);
  await caps.unproductive('198.18.1.66', 2);
  const e = await store.scanner('198.18.1.66');
  assert.deepEqual(e, { source: '198.18.1.66', attempts: 5, since: clock.t, until: clock.t + 60_000 });
  assert.deepEqual(blocks, [['198.18.1.66', clock.t + 60_000]]);
  assert.deepEqual(audit.events.filter((x) => x.event === 'scanner'), [{ event: 'scanner', source: '198.18.1.66', attempts: 5, since: clock.t, until: clock.t + 60_000 }]);
  assert.equal(caps.counters.scanners, 1);
  // Another source is counted on its own.
  await caps.unproductive('198.18.1.10', 4);
  assert.equal(await store.scanner('198.18.1.10'), undefined);
});

test('without capabilities.scanners nothing is counted', async () => {
  const { store, blocks, caps } = setup(CONFIG.replace(/capabilities:\n.*\n/, ''));
  await caps.unproductive('198.18.1.66', 100);
  assert.deepEqual(await store.scanners(), []);
  assert.deepEqual(blocks, []);
});

test('start() gives the data plane the blocks already in the store', async () => {
  const { clock, store, blocks, caps } = setup();
  await store.blockScanner('198.18.1.77', 30, 60_000);
  await caps.start(60_000);
  assert.deepEqual(blocks, [['198.18.1.77', clock.t + 60_000]]);
  await caps.close();
});
