// The refusal lines' rate limit: a burst per client prefix, a cap over all prefixes, the dropped ones counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RefusalLogLimit } from './acl.js';

test('refusal lines: 5 at once per /24, then 1 a second; the next line logged counts the dropped ones', () => {
  const l = new RefusalLogLimit();
  const t = 1_000_000;
  const got = Array.from({ length: 50 }, (_, i) => l.admit(`198.51.100.${i % 200}`, t));
  assert.deepEqual(got.slice(0, 5), [0, 0, 0, 0, 0]);
  assert.ok(got.slice(5).every((x) => x === undefined));
  // Another prefix has its own burst; the first line after the drops says how many went.
  assert.equal(l.admit('203.0.113.9', t), 45);
  assert.equal(l.admit('203.0.113.9', t), 0);
  // One second later the flooding prefix may log one more.
  assert.equal(l.admit('198.51.100.1', t + 1000), 0);
  assert.equal(l.admit('198.51.100.1', t + 1000), undefined);
  assert.equal(l.admit('2001:db8::1', t + 1000), 1);
});

test('refusal lines from forged addresses all over the space: at most 20 at once and 10 a second in all', () => {
  const l = new RefusalLogLimit();
  const t = 5_000_000;
  let logged = 0;
  for (let i = 0; i < 10_000; i++) if (l.admit(`10.${i >> 8 & 255}.${i & 255}.1`, t) !== undefined) logged++;
  assert.equal(logged, 20);
  for (let i = 0; i < 10_000; i++) if (l.admit(`172.16.${i & 255}.${i >> 8}`, t + 1000) !== undefined) logged++;
  assert.equal(logged, 30);
});
