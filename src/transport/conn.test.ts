// Connection gate and timers driven by a fake clock: limits, per-client keys, and which timer runs when.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionGate, clientKey, type CloseReason, type StreamLimits, type Timers } from './conn.js';

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

const LIMITS: StreamLimits = { maxConnections: 4, maxPerClient: 2, handshakeTimeoutMs: 5000, idleTimeoutMs: 10000, queryTimeoutMs: 2000, maxInFlight: 8, maxQuerySize: 65535 };

function setup(limits: Partial<StreamLimits> = {}) {
  const timers = new FakeTimers();
  const gate = new ConnectionGate(() => ({ ...LIMITS, ...limits }), timers);
  const closed: CloseReason[] = [];
  let port = 1000;
  const open = (addr: string) => gate.admit(addr, port++, 853, (r) => closed.push(r));
  return { timers, gate, closed, open };
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
    assert.deepEqual(gate.counters, { refusedTotal: 0, refusedPerClient: 1, timedOut: 0 });
  });

  test('IPv6 clients in one /64 share their limit', () => {
    const { open } = setup();
    assert.ok(open('2001:db8::1'));
    assert.ok(open('2001:db8::2'));
    assert.equal(open('2001:db8::3'), undefined);
    assert.ok(open('2001:db8:0:1::1'));
  });

  test('the total limit holds, and a released connection frees its slots', () => {
    const { gate, open } = setup();
    const conns = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'].map((a) => open(a)!);
    assert.equal(open('198.51.100.5'), undefined);
    assert.equal(gate.counters.refusedTotal, 1);
    conns[0]!.release();
    conns[0]!.release(); // twice is harmless
    assert.equal(gate.connections, 3);
    assert.ok(open('198.51.100.5'));
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
