// The serial policies fluxdns applies itself when a zone's data changed without a raised serial.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoPolicy, nextSerial, serialGt } from './serial.js';

const NOW = Date.UTC(2026, 11, 2, 20, 0, 0) / 1000; // 2026-12-02 20:00 UTC

test('increment and unixtime', () => {
  assert.equal(nextSerial(7, 'increment', NOW), 8);
  assert.equal(nextSerial(0xffffffff, 'increment', NOW), 0); // RFC 1982 wrap
  assert.equal(nextSerial(7, 'unixtime', NOW), NOW);
  assert.equal(nextSerial(NOW + 5, 'unixtime', NOW), NOW + 6); // the clock is behind: one more
});

test('auto keeps the convention the serial already follows', () => {
  assert.equal(autoPolicy(1, NOW), 'increment');
  assert.equal(autoPolicy(2024, NOW), 'increment');
  assert.equal(autoPolicy(NOW - 86400 * 400, NOW), 'unixtime');
  assert.equal(autoPolicy(2020010105, NOW), 'date');
  assert.equal(autoPolicy(2026120299, NOW), 'date');
  assert.equal(autoPolicy(2026130101, NOW), 'increment'); // month 13: not a date
  // A unix time stays one; a date serial becomes today's first, or +1 when today's is not above it.
  assert.equal(nextSerial(NOW - 1000, 'auto', NOW), NOW);
  assert.equal(nextSerial(2020010105, 'auto', NOW), 2026120200);
  assert.equal(nextSerial(2026120200, 'auto', NOW), 2026120201);
  assert.equal(nextSerial(2026120299, 'auto', NOW), 2026120300); // 99 changes today: it runs into tomorrow
  assert.equal(nextSerial(41, 'auto', NOW), 42);
  for (const old of [1, 2024, NOW - 5, 2020010105, 2026120299]) assert.ok(serialGt(nextSerial(old, 'auto', NOW), old), String(old));
});
