// Connection gate and timers driven by a fake clock: limits, per-client keys, and which timer runs when.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionGate, clientKey, prefixKey, type CloseReason, type GateEvent, type StreamLimits, type Timers } from './conn.js';

class FakeTimers implements Timers {
  t = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now = () => this.t;
  set = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  };
  clear = (h: unknown) => {
    this.pending.delete(h as number);
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, p]) => p.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
  get armed(): number {
    return this.pending.size;
  }
}

const LIMITS: StreamLimits = { maxConnections: 4, maxPerClient: 2, maxPerPrefix: 100, acceptRatePerPrefix: 1000, busyTimeoutMs: 500, handshakeTimeoutMs: 5000, idleTimeoutMs: 10000, queryTimeoutMs: 2000, maxInFlight: 8, maxQuerySize: 65535 };

function setup(limits: Partial<StreamLimits> = {}) {
  const timers = new FakeTimers();
  const events: GateEvent[] = [];
  const gate = new ConnectionGate(() => ({ ...LIMITS, ...limits }), timers, (e) => events.push(e));
  const closed: CloseReason[] = [];
  const closedBy = new Map<string, CloseReason[]>();
  let port = 1000;
  const open = (addr: string) =>
    gate.admit(addr, port++, 853, (r) => {
      closed.push(r);
      closedBy.set(addr, [...(closedBy.get(addr) ?? []), r]);
    });
  return { timers, gate, closed, closedBy, open, events };
}

describe('clientKey', () => {
  test('IPv4 by address, IPv4-mapped as IPv4, IPv6 by /64', () => {
    assert.equal(clientKey('198.51.100.7'), '198.51.100.7/32');
    assert.equal(clientKey('::ffff:198.51.100.7'), '198.51.100.7/32');
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8:1:2:bbbb::9'), clientKey('2001:db8:1:2::1'));
    assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'));
  });
});

describe('ConnectionGate', () => {
  test('refuses the (N+1)th connection of one client while another client still gets in', () => {
    const { gate, open } = setup();
    assert.ok(open('198.51.100.1'));
    assert.ok(open('198.51.100.1'));
    assert.equal(open('198.51.100.1'), undefined);
    assert.ok(open('198.51.100.2'));
    assert.equal(gate.counters.refusedPerClient, 1);
    assert.equal(gate.counters.refusedTotal + gate.counters.evicted + gate.counters.refusedAcceptRate, 0);
  });

  test('IPv6 clients in one /64 share their limit', () => {
    const { open } = setup();
    assert.ok(open('2001:db8::1'));
    assert.ok(open('2001:db8::2'));
    assert.equal(open('2001:db8::3'), undefined);
    assert.ok(open('2001:db8:0:1::1'));
  });

  test('the total limit holds by eviction, and a released connection frees its slots', () => {
    const { gate, open, closed } = setup();
    const conns = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'].map((a) => open(a)!);
    assert.ok(open('203.0.113.5'));
    assert.equal(gate.connections, 4);
    assert.deepEqual(closed, ['evicted']);
    assert.equal(gate.counters.evicted, 1);
    conns[1]!.release();
    conns[1]!.release(); // twice is harmless
    assert.equal(gate.connections, 3);
    assert.ok(open('203.0.113.6'));
    assert.equal(gate.counters.evicted, 1);
  });

  test('a full table evicts the least recently active connection of the prefix holding the most slots', () => {
    const { gate, open, closedBy, timers } = setup({ maxConnections: 6, maxPerClient: 10 });
    const a = [open('198.51.100.1')!, open('198.51.100.2')!, open('198.51.100.3')!, open('198.51.100.4')!];
    const b = [open('203.0.113.1')!, open('203.0.113.2')!];
    // Past the grace new connections get (half the busy timeout), the oldest of 198.51.100.0/24 becomes
    // active again: 198.51.100.2 is now its least recently active.
    timers.advance(300);
    a[0]!.replied();
    assert.ok(open('2001:db8::1'));
    assert.deepEqual([...closedBy.keys()], ['198.51.100.2']);
    assert.ok(open('2001:db8::2'));
    assert.deepEqual([...closedBy.keys()], ['198.51.100.2', '198.51.100.3']);
    // Now 198.51.100.0/24 holds 2, 203.0.113.0/24 2, 2001:db8::/56 2: the first largest goes, never the newcomer.
    assert.deepEqual(gate.holders().map((h) => h.connections), [2, 2, 2]);
    assert.ok(open('2001:db8::3'));
    assert.equal(gate.counters.evicted, 3);
    assert.equal(gate.connections, 6);
    void b;
  });

  test('a client asking over three transports at once is not the largest holder: new connections are spared until answered or past the grace', () => {
    const { gate, open, closedBy, timers } = setup({ maxConnections: 8, maxPerClient: 10, busyTimeoutMs: 2000 });
    // Five attacking /24s with one answered connection each.
    const attackers = ['198.51.100.1', '198.18.1.1', '198.18.2.1', '198.18.3.1', '198.18.4.1'].map((a) => open(a)!);
    timers.advance(10);
    for (const c of attackers) {
      c.messageReceived(c.messageStarted());
      c.replied();
    }
    // The legitimate client: TCP, DoT and DoH connections at once from one address, none answered yet.
    const legit = [open('203.0.113.7')!, open('203.0.113.7')!, open('203.0.113.7')!];
    assert.deepEqual(gate.holders()[0], { prefix: '203.0.113.0/24', connections: 3 });
    // Two more attackers arrive: each evicts an attacker's answered connection, not the largest holder's new ones.
    assert.ok(open('198.18.5.1'));
    assert.ok(open('198.18.6.1'));
    assert.equal(gate.counters.evicted, 2);
    assert.equal(closedBy.get('203.0.113.7'), undefined);
    assert.deepEqual([...closedBy.keys()], ['198.51.100.1', '198.18.1.1']);
    // Past the grace (1 s: half the busy timeout, at most a second) an unanswered connection can go like any other.
    timers.advance(1000);
    assert.ok(open('198.18.7.1'));
    assert.deepEqual(closedBy.get('203.0.113.7'), ['evicted']);
    void legit;
  });

  test('the per-prefix limit refuses a /24 holding its share while another /24 still gets in', () => {
    const { gate, open } = setup({ maxConnections: 100, maxPerClient: 10, maxPerPrefix: 3 });
    assert.ok(open('198.51.100.1'));
    assert.ok(open('198.51.100.2'));
    assert.ok(open('198.51.100.3'));
    assert.equal(open('198.51.100.4'), undefined);
    assert.equal(gate.counters.refusedPerPrefix, 1);
    assert.ok(open('198.51.101.4'));
    assert.equal(prefixKey('2001:db8:0:ff::1'), '2001:db8::/56');
    assert.equal(prefixKey('198.51.100.77'), '198.51.100.0/24');
  });

  test('accepts per prefix are rate limited (a reconnect flood), other prefixes unaffected, the log is bounded', () => {
    const { gate, open, timers, events } = setup({ maxConnections: 1000, maxPerClient: 1000, acceptRatePerPrefix: 10 });
    let ok = 0;
    for (let i = 0; i < 50; i++) {
      const c = open('198.51.100.9');
      if (c) {
        ok++;
        c.release();
      }
    }
    assert.equal(ok, 10);
    assert.equal(gate.counters.refusedAcceptRate, 40);
    assert.ok(open('203.0.113.1'));
    timers.advance(500);
    let later = 0;
    for (let i = 0; i < 20; i++) if (open('198.51.100.9')?.release() === undefined) later++;
    assert.equal(gate.counters.refusedAcceptRate, 55, 'half a second earns 5 more');
    assert.equal(events.filter((e) => e.event === 'accept-rate').length, 1, 'one log line per 10 s');
    timers.advance(10_000);
    open('198.51.100.9');
    for (let i = 0; i < 200; i++) open('198.51.100.9');
    const logged = events.filter((e) => e.event === 'accept-rate');
    assert.equal(logged.length, 2);
    assert.equal(logged[1]!.since, 39 + 15 + 1, 'the second line counts itself and the ones suppressed since the first');
    void later;
  });

  test('idle and handshake timeouts shrink as the table fills from half to full', () => {
    const { gate, open, timers, closed } = setup({ maxConnections: 10, maxPerClient: 100, idleTimeoutMs: 10_000, handshakeTimeoutMs: 5000, busyTimeoutMs: 1000 });
    assert.deepEqual(gate.timeouts(), { idleMs: 10_000, handshakeMs: 5000 });
    const conns = [];
    for (let i = 0; i < 5; i++) conns.push(open(`198.51.100.${i}`)!);
    assert.deepEqual(gate.timeouts(), { idleMs: 10_000, handshakeMs: 5000 });
    for (let i = 5; i < 10; i++) conns.push(open(`198.51.100.${i}`)!);
    assert.deepEqual(gate.timeouts(), { idleMs: 1000, handshakeMs: 1000 });
    // The first five were armed at 5 s handshake; a newcomer at 1.2 s sweeps them out instead of evicting.
    timers.advance(1200);
    assert.ok(open('203.0.113.1'));
    assert.equal(gate.counters.evicted, 0);
    assert.ok(gate.counters.idleShortened >= 1);
    assert.ok(closed.every((r) => r === 'handshake-timeout'));
  });

  test('find returns the connection of a peer until it is released', () => {
    const { gate } = setup();
    const c = gate.admit('198.51.100.1', 4444, 853, () => {})!;
    assert.equal(gate.find('198.51.100.1', 4444, 853), c);
    assert.equal(gate.find('198.51.100.1', 4445, 853), undefined);
    c.release();
    assert.equal(gate.find('198.51.100.1', 4444, 853), undefined);
  });
});

describe('Conn timers', () => {
  test('a connection that never sends a query is cut at the handshake timeout', () => {
    const { timers, open, closed, gate } = setup();
    open('198.51.100.1');
    timers.advance(4999);
    assert.deepEqual(closed, []);
    timers.advance(1);
    assert.deepEqual(closed, ['handshake-timeout']);
    assert.equal(gate.connections, 0);
    assert.equal(gate.counters.timedOut, 1);
  });

  test('a query that does not complete within the query timeout cuts the connection (slowloris)', () => {
    const { timers, open, closed } = setup();
    const c = open('198.51.100.1')!;
    timers.advance(1000);
    c.messageStarted();
    // More bytes of the same query do not reset anything: only completion does.
    timers.advance(1999);
    assert.deepEqual(closed, []);
    timers.advance(1);
    assert.deepEqual(closed, ['query-timeout']);
  });

  test('after a reply the idle timeout runs; a completed query in time keeps the connection', () => {
    const { timers, open, closed } = setup();
    const c = open('198.51.100.1')!;
    const q = c.messageStarted();
    timers.advance(500);
    c.messageReceived(q);
    // While the pipeline works there is no timer.
    timers.advance(60000);
    assert.deepEqual(closed, []);
    c.replied();
    timers.advance(9999);
    const q2 = c.messageStarted();
    c.messageReceived(q2);
    c.replied();
    timers.advance(9999);
    assert.deepEqual(closed, []);
    timers.advance(1);
    assert.deepEqual(closed, ['idle-timeout']);
  });

  test('with several queries arriving at once, the oldest bounds the deadline', () => {
    const { timers, open, closed } = setup();
    const c = open('198.51.100.1')!;
    const a = c.messageStarted();
    timers.advance(1500);
    const b = c.messageStarted();
    timers.advance(400);
    c.messageReceived(b);
    c.replied();
    assert.deepEqual(closed, []);
    timers.advance(100);
    assert.deepEqual(closed, ['query-timeout']);
    c.messageReceived(a); // too late: nothing happens
  });

  test('an abandoned query stops its timer; reject closes at once; release clears the timer', () => {
    const { timers, open, closed } = setup();
    const c = open('198.51.100.1')!;
    const a = c.messageStarted();
    c.messageAbandoned(a);
    timers.advance(4999);
    assert.deepEqual(closed, []);
    c.reject('too-large');
    assert.deepEqual(closed, ['too-large']);
    assert.equal(timers.armed, 0);
  });
});
