// The descriptor budget: reading the limit, splitting it, and the gateway's per-source caps and oldest-first eviction.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_RESERVE, FdBudget, planDescriptors, raiseNofile, readNofile } from './descriptors.js';

describe('descriptor limit', () => {
  test('reads /proc/self/limits, unlimited included', () => {
    assert.deepEqual(readNofile('Max cpu time  unlimited  unlimited  seconds\nMax open files            1024                 524288               files\n'), { soft: 1024, hard: 524288 });
    assert.equal(readNofile('Max open files  unlimited  unlimited  files\n')!.soft, 1 << 30);
    assert.equal(readNofile('nothing here'), undefined);
  });

  test('raiseNofile leaves the soft limit at the hard one (this process)', () => {
    const r = raiseNofile();
    const now = readNofile()!;
    assert.equal(now.soft, r.soft);
    assert.equal(now.soft, now.hard, `raised by ${r.how}`);
  });
});

describe('planDescriptors', () => {
  test('1024 with the defaults and a gateway: the DNS connections are lowered to half of what is left, with a warning', () => {
    const p = planDescriptors(1024, { listeners: 4, tcpMaxConnections: 1000, gateway: true, udpMaxFlows: 10000 });
    assert.equal(p.reserve, BASE_RESERVE + 4);
    assert.equal(p.streamConnections, Math.floor((1024 - p.reserve) / 2));
    assert.equal(p.gateway, 1024 - p.reserve - p.streamConnections);
    assert.equal(p.warnings.length, 2);
    assert.match(p.warnings[0]!, /tcpMaxConnections 1000 does not fit the descriptor limit 1024/);
    assert.match(p.warnings[1]!, /udpMaxFlows 10000 does not fit/);
  });

  test('a large limit fits everything without warnings; no gateway gets no share', () => {
    const p = planDescriptors(65536, { listeners: 4, tcpMaxConnections: 1000, gateway: true, udpMaxFlows: 10000 });
    assert.deepEqual([p.streamConnections, p.warnings], [1000, []]);
    assert.equal(p.gateway, 65536 - p.reserve - 1000);
    assert.equal(planDescriptors(1024, { listeners: 2, tcpMaxConnections: 900, gateway: false }).gateway, 0);
    assert.equal(planDescriptors(1024, { listeners: 2, tcpMaxConnections: 900, gateway: false }).streamConnections, 900);
  });
});

describe('FdBudget', () => {
  test('per-source cap, then oldest-first eviction when spent; releases give descriptors back', () => {
    const b = new FdBudget(10, 4);
    const closed: string[] = [];
    const take = (src: string, n: number, name: string) => b.acquire(src, n, () => closed.push(name));
    const a1 = take('198.51.100.1', 2, 'a1')!;
    assert.ok(take('198.51.100.1', 2, 'a2'));
    assert.equal(take('198.51.100.1', 1, 'a3'), undefined, 'the source holds its share');
    assert.equal(b.counters.refusedPerSource, 1);
    for (let i = 0; i < 6; i++) assert.ok(take(`203.0.113.${i}`, 1, `s${i}`));
    assert.equal(b.counters.inUse, 10);
    // Spent: the oldest (a1, two descriptors) makes room for the newcomer.
    assert.ok(take('203.0.113.50', 1, 'n1'));
    assert.deepEqual(closed, ['a1']);
    assert.equal(b.counters.evicted, 1);
    assert.equal(b.counters.inUse, 9);
    a1.release(); // already evicted: harmless
    assert.equal(b.counters.inUse, 9);
    assert.ok(take('198.51.100.1', 2, 'a4'), 'the evicted source has room again');
    // 9 + 2 > 10: the next oldest (a2) went for it.
    assert.deepEqual(closed, ['a1', 'a2']);
    assert.equal(b.counters.inUse, 9);
  });
});
