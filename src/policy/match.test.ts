// Match attributes that depend on time, rate-limit buckets with an injected clock, the qname test's free
// labels, and whether a miss was decided by the question alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policySchema, timeWindowSchema } from './schema.js';
import { compileMatch, inWindow } from './match.js';
import { PolicySet } from './compile.js';
import { parseAddress } from '../net/cidr.js';
import type { QueryFacts } from './facts.js';
import { TokenBuckets } from './ratelimit.js';

const w = (x: object) => timeWindowSchema.parse(x);

test('days and hours in UTC by default; the end of a range is exclusive', () => {
  const win = w({ days: ['mon', 'tue'], from: '08:00', to: '18:00' });
  assert.equal(inWindow(win, new Date('2026-11-23T08:00:00Z')), true, 'Monday 08:00');
  assert.equal(inWindow(win, new Date('2026-11-23T17:59:00Z')), true);
  assert.equal(inWindow(win, new Date('2026-11-23T18:00:00Z')), false);
  assert.equal(inWindow(win, new Date('2026-11-25T12:00:00Z')), false, 'Wednesday');
});

test('a range past midnight wraps', () => {
  const night = w({ from: '22:00', to: '06:00' });
  assert.equal(inWindow(night, new Date('2026-11-23T23:30:00Z')), true);
  assert.equal(inWindow(night, new Date('2026-11-24T05:59:00Z')), true);
  assert.equal(inWindow(night, new Date('2026-11-24T12:00:00Z')), false);
});

test('an IANA time zone shifts days and hours', () => {
  // 2026-11-23T23:30Z is Tuesday 08:30 in Tokyo (UTC+9).
  const tokyo = w({ days: ['tue'], from: '08:00', to: '09:00', tz: 'Asia/Tokyo' });
  assert.equal(inWindow(tokyo, new Date('2026-11-23T23:30:00Z')), true);
  assert.equal(inWindow(tokyo, new Date('2026-11-24T23:30:00Z')), false, 'Wednesday in Tokyo');
});

test('absolute bounds', () => {
  const win = w({ after: '2026-12-01T00:00:00Z', before: '2026-12-02T00:00:00+00:00' });
  assert.equal(inWindow(win, new Date('2026-11-30T23:59:59Z')), false);
  assert.equal(inWindow(win, new Date('2026-12-01T00:00:00Z')), true);
  assert.equal(inWindow(win, new Date('2026-12-02T00:00:00Z')), false);
});

test('bad windows are rejected with what was expected', () => {
  assert.throws(() => w({ from: '25:00' }), /HH:MM/);
  assert.throws(() => w({ tz: 'Mars/Olympus' }), /IANA time zone/);
  assert.throws(() => w({ days: ['funday'] }), /Expected/);
});

test('token buckets: burst, then the rate, per key', () => {
  const b = new TokenBuckets(2, 3);
  const t0 = 1_000_000;
  assert.deepEqual([1, 2, 3, 4].map(() => b.take('a', t0)), [true, true, true, false]);
  assert.equal(b.take('b', t0), true, 'another key has its own bucket');
  assert.equal(b.take('a', t0 + 499), false, 'under one token refilled after 0.499 s at 2/s');
  assert.equal(b.take('a', t0 + 500), true);
  assert.equal(b.take('a', t0 + 10_000), true);
  assert.deepEqual([1, 2, 3].map(() => b.take('a', t0 + 10_000)), [true, true, false], 'refill caps at the burst');
});

test('token buckets forget the oldest keys beyond their bound', () => {
  const b = new TokenBuckets(1, 1, 2);
  b.take('a', 0);
  b.take('b', 0);
  b.take('c', 0);
  assert.equal(b.take('a', 0), true, '"a" was forgotten and starts full');
});

test("the qname test's free labels: 0 for an exact name, all but the longest matching *.S's, none known for a regex", () => {
  const [t] = compileMatch({ qname: ['*.dyn.lab', '*.in.dyn.lab', 'fixed.dyn.lab', '/^re-/'] });
  const f = (name: string) => ({ qname: `${name}.`, qnameMatch: name.toLowerCase() }) as QueryFacts;
  assert.equal(t!.freeLabels!(f('a.b.dyn.lab'), 4), 2);
  assert.equal(t!.freeLabels!(f('x.In.dyn.lab'), 4), 1);
  assert.equal(t!.freeLabels!(f('fixed.dyn.lab'), 3), 0);
  assert.equal(t!.freeLabels!(f('re-1.other.lab'), 3), undefined);
  // Only the qname test has them.
  assert.equal(compileMatch({ qtype: ['A'] })[0]!.freeLabels, undefined);
});

test('no match: byQuestion says whether every policy failed on its qname or qtype test (the same for any client)', () => {
  const set = (...policies: object[]) => new PolicySet([], policies.map((p) => policySchema.parse(p)));
  const f = (name: string, qtype = 1, source = '127.0.0.1') =>
    ({ qname: `${name}.`, qnameMatch: name, qtype, source: parseAddress(source), transport: 'udp', cookie: 'absent', tsig: { status: 'absent' }, now: new Date(), ecsBitsUsed: 0 }) as unknown as QueryFacts;
  const s = set(
    { match: { qname: ['pol.t.lab'] }, action: { rcode: 'NXDOMAIN' } },
    { match: { qname: ['www.t.lab'], qtype: ['AAAA'] }, action: { rcode: 'NXDOMAIN' } },
    { match: { qname: ['*.near.t.lab'], resolver: ['127.0.0.2/32'] }, action: { rcode: 'NXDOMAIN' } },
  );
  const www = f('www.t.lab');
  assert.equal(s.match(www), undefined);
  assert.equal(www.byQuestion, true, 'qname fails, qtype fails, qname fails');
  const near = f('x.near.t.lab');
  assert.equal(s.match(near), undefined);
  assert.equal(near.byQuestion, false, 'the resolver test failed: 127.0.0.2 would match');
  const timed = set({ match: { time: { after: '2099-01-01T00:00:00Z' } }, action: { rcode: 'NXDOMAIN' } });
  const any = f('www.t.lab');
  assert.equal(timed.match(any), undefined);
  assert.equal(any.byQuestion, false, 'no qname test: any name may match at another time');
});
