// Metric families, their merge into Prometheus text, the table form and the bounded top-k.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectMetrics, counter, counterBy, histogram, metricsTable, observed } from './index.js';
import { mergeTop, TopK } from './topk.js';

test('counters, labelled counters, histograms and observed families come out in Prometheus text', async () => {
  const c = counter('fluxdns_test_things_total', 'Things');
  c.value++;
  c.inc(2);
  const by = counterBy('fluxdns_test_by_total', 'By reason', ['reason', 'proto']);
  by.inc('full', 'tcp');
  by.inc('full', 'tcp');
  by.inc('idle', 'udp');
  const h = histogram('fluxdns_test_seconds', 'Durations', [0.001, 0.01]);
  h.observe(0.0005);
  h.observe(0.005);
  h.observe(5);
  let live = 7;
  observed('fluxdns_test_live', 'Live', 'gauge', ['pool'], async () => [[['web'], live]], 'max');
  live = 9;
  const s = await collectMetrics();
  assert.match(s.text, /^# TYPE fluxdns_test_things_total counter\nfluxdns_test_things_total 3$/m);
  assert.match(s.text, /^fluxdns_test_by_total\{reason="full",proto="tcp"\} 2$/m);
  assert.match(s.text, /^fluxdns_test_by_total\{reason="idle",proto="udp"\} 1$/m);
  assert.match(s.text, /^fluxdns_test_seconds_bucket\{le="0.001"\} 1$/m);
  assert.match(s.text, /^fluxdns_test_seconds_bucket\{le="0.01"\} 2$/m);
  assert.match(s.text, /^fluxdns_test_seconds_bucket\{le="\+Inf"\} 3$/m);
  assert.match(s.text, /^fluxdns_test_seconds_count 3$/m);
  assert.match(s.text, /^fluxdns_test_live\{pool="web"\} 9$/m, 'read at collection time');
  const table = metricsTable(s.families);
  assert.match(table, /^fluxdns_test_by_total reason=full proto=tcp +2$/m);
  assert.match(table, /^fluxdns_test_things_total +3$/m);
  assert.equal(s.extras.length, 1);
});

test('a metric name that is not a Prometheus name is refused', () => {
  assert.throws(() => counter('fluxdns-bad', 'x'), /not a Prometheus name/);
});

test('top-k keeps the heavy hitters in k slots and merges lists from several workers', () => {
  const t = new TopK(3, 1);
  // Space-saving (every miss admitted) keeps every key more frequent than N/k, its count overestimated by at most N/k.
  for (let i = 0; i < 100; i++) {
    t.add('a');
    if (i % 2 === 0) t.add('a');
    t.add(`noise${i}`);
  }
  const e = t.entries();
  assert.equal(e.length, 3);
  assert.equal(e[0]![0], 'a');
  assert.ok(e[0]![1] >= 150 && e[0]![1] <= 150 + 250 / 3, `a counted ${e[0]![1]}`);
  // Admitting one unknown key in 8 when full: a key that keeps coming gets in, and counts exactly from then on.
  const s = new TopK(2);
  s.add('x');
  s.add('y');
  for (let i = 0; i < 7; i++) s.add(`noise${i}`);
  assert.deepEqual(s.entries().map(([k]) => k).sort(), ['x', 'y'], 'seven unknown keys: none let in');
  for (let i = 0; i < 8; i++) s.add('hot');
  assert.ok(s.entries().some(([k]) => k === 'hot'), 'the eighth miss lets hot in');
  assert.deepEqual(mergeTop([[['x', 2], ['y', 5]], [['x', 4]]], 5), [['x', 6], ['y', 5]]);
});
