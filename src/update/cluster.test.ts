// The UPDATE relay of workers: N in one process: each worker's link and the primary's coordinator joined
// by in-memory channels, so the order of messages (and what waits for what) is checked without processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode } from '../wire/types.js';
import { fromBase64, UpdateCoordinator, WorkerUpdateLink, type UpdateIpc, type UpdatePeer, type UpdateVerdict } from './cluster.js';

interface Worker extends UpdatePeer {
  link: WorkerUpdateLink;
  inbox: UpdateIpc[];
}

function cluster(ids: number[], ownerId: number, opts: { ready?: number[]; now?: () => number } = {}) {
  const ready = new Set(opts.ready ?? ids);
  const workers = new Map<number, Worker>();
  const coordinator: UpdateCoordinator = new UpdateCoordinator({
    peers: () => [...workers.values()].filter((w) => ready.has(w.id)),
    owner: () => (ready.has(ownerId) ? workers.get(ownerId) : undefined),
    log: () => {},
    syncTimeoutMs: 1000,
    forwardTimeoutMs: 10000,
    nowMs: opts.now,
  });
  for (const id of ids) {
    const w: Worker = {
      id,
      inbox: [],
      // primary → worker: kept until the test lets the worker act; update-done settles at once.
      send: (m: UpdateIpc) => (m.type === 'update-done' ? w.link.settle(m.id, m.verdict) : w.inbox.push(m)),
      link: new WorkerUpdateLink(id === ownerId, (m) => coordinator.onMessage(w, m), 5000),
    };
    workers.set(id, w);
  }
  const take = (id: number) => workers.get(id)!.inbox.splice(0);
  return { workers, coordinator, ready, take };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

test('a forwarded UPDATE reaches the owner; its answer waits until every other worker caught up', async () => {
  const { workers, coordinator, take } = cluster([1, 2, 3], 1);
  const verdict = workers.get(2)!.link.forward('uw.lab.', new Uint8Array([1, 2, 3]), '127.0.0.1');
  const [apply] = take(1);
  assert.equal(apply?.type, 'update-apply');
  assert.deepEqual(apply?.type === 'update-apply' ? [...fromBase64(apply.raw)] : [], [1, 2, 3]);
  coordinator.onMessage(workers.get(1)!, { type: 'update-applied', id: apply!.id, zone: 'uw.lab.', verdict: { rcode: Rcode.NOERROR, serial: 5 } });
  // The owner is not asked to catch up; the two others are, and the answer waits for both.
  assert.deepEqual(take(1), []);
  const s2 = take(2);
  const s3 = take(3);
  assert.deepEqual([s2[0]?.type, s3[0]?.type], ['update-sync', 'update-sync']);
  coordinator.onMessage(workers.get(2)!, { type: 'update-synced', id: s2[0]!.id });
  assert.equal(await settled(verdict), false, 'answered before worker 3 caught up');
  coordinator.onMessage(workers.get(3)!, { type: 'update-synced', id: s3[0]!.id });
  assert.deepEqual(await verdict, { rcode: Rcode.NOERROR, serial: 5 });
});

test('a refused UPDATE is answered at once, nobody catches up; the owner\'s own UPDATE is spread the same way', async () => {
  const { workers, coordinator, take } = cluster([1, 2], 1);
  const refused = workers.get(2)!.link.forward('uw.lab.', new Uint8Array([0]), '127.0.0.1');
  const [apply] = take(1);
  coordinator.onMessage(workers.get(1)!, { type: 'update-applied', id: apply!.id, zone: 'uw.lab.', verdict: { rcode: Rcode.REFUSED, reason: 'CNAME beside data' } });
  assert.deepEqual(await refused, { rcode: Rcode.REFUSED, reason: 'CNAME beside data' });
  assert.deepEqual(take(2), []);
  const spread = workers.get(1)!.link.spread('uw.lab.');
  const [sync] = take(2);
  assert.equal(sync?.type, 'update-sync');
  assert.equal(await settled(spread), false);
  coordinator.onMessage(workers.get(2)!, { type: 'update-synced', id: sync!.id });
  await spread;
});

test('while the owner restarts, UPDATEs wait for it; one its receiver gave up on is not applied late', async () => {
  let now = 0;
  const { workers, coordinator, ready, take } = cluster([2, 3], 3, { ready: [2], now: () => now });
  const early = workers.get(2)!.link.forward('uw.lab.', new Uint8Array([1]), '127.0.0.1');
  now = 9000; // past forwardTimeoutMs - 2 s
  const late = workers.get(2)!.link.forward('uw.lab.', new Uint8Array([2]), '127.0.0.1');
  now = 9500;
  ready.add(3);
  coordinator.onReady(workers.get(3)!);
  const inbox = take(3);
  // Every worker catches up when one becomes ready; only the recent UPDATE goes to the owner.
  assert.deepEqual(inbox.map((m) => m.type), ['update-sync', 'update-apply']);
  assert.deepEqual(take(2).map((m) => m.type), ['update-sync']);
  assert.equal((await early).rcode, Rcode.SERVFAIL);
  const apply = inbox[1]!;
  coordinator.onMessage(workers.get(3)!, { type: 'update-applied', id: apply.id, zone: 'uw.lab.', verdict: { rcode: Rcode.NOERROR } });
  assert.deepEqual(await late, { rcode: Rcode.NOERROR });
});

test('the owner dies while applying: SERVFAIL; a worker that dies is not waited for', async () => {
  const { workers, coordinator, ready, take } = cluster([1, 2, 3], 1);
  const lost = workers.get(2)!.link.forward('uw.lab.', new Uint8Array([1]), '127.0.0.1');
  take(1);
  ready.delete(1);
  coordinator.onExit(1);
  const v: UpdateVerdict = await lost;
  assert.equal(v.rcode, Rcode.SERVFAIL);
  assert.match(v.reason ?? '', /stopped while applying/);
  // Worker 3 owns updates now (as the replacement would); worker 2 dies while 3's update spreads.
  const c2 = cluster([2, 3], 3);
  const spread = c2.workers.get(3)!.link.spread('uw.lab.');
  assert.equal(c2.take(2)[0]?.type, 'update-sync');
  c2.ready.delete(2);
  c2.coordinator.onExit(2);
  await spread;
});

test('a link answers SERVFAIL when nothing comes back in time or the primary goes away', async () => {
  const silent = new WorkerUpdateLink(false, () => {}, 20);
  assert.equal((await silent.forward('uw.lab.', new Uint8Array([1]), '127.0.0.1')).rcode, Rcode.SERVFAIL);
  const closing = new WorkerUpdateLink(false, () => {}, 5000);
  const p = closing.forward('uw.lab.', new Uint8Array([1]), '127.0.0.1');
  closing.close();
  assert.match((await p).reason ?? '', /went away/);
});
