// Statistics over per-second sizes: nearest-rank percentiles, peak, seconds above the pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, sizeStats } from './stats.js';

test('nearest-rank percentiles', () => {
  const s = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(percentile(s, 50), 50);
  assert.equal(percentile(s, 99), 99);
  assert.equal(percentile(s, 100), 100);
  assert.equal(percentile([7], 50), 7);
  assert.equal(percentile([], 50), 0);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
});

test('peak, median, p99, mean and seconds above the pool, worked out by hand', () => {
  // The sizes of the TTL-expiry test in table.test.ts: 3 zeros, 15 ones, 8 twos (26 seconds).
  const sizes = [...Array<number>(12).fill(1), ...Array<number>(8).fill(2), 1, 1, 0, 0, 0, 1];
  const s = sizeStats(sizes, 1);
  assert.equal(s.seconds, 26);
  assert.equal(s.peak, 2);
  assert.equal(s.peakAt, 12);
  assert.equal(s.median, 1); // rank ceil(13) = 13: the 13th smallest is a one
  assert.equal(s.p99, 2); // rank ceil(25.74) = 26
  assert.equal(s.mean, 31 / 26);
  assert.equal(s.secondsAbove, 8);
  assert.equal(sizeStats(sizes, 2).secondsAbove, 0); // strictly above
  assert.equal(sizeStats(sizes, 0).secondsAbove, 23);
  assert.equal(sizeStats(sizes, null).secondsAbove, null);
  // Sorting is numeric, not lexicographic.
  assert.equal(sizeStats([10, 9, 100, 2, 1000], null).median, 10);
});
