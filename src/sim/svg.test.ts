// SVG plot: the series as a polyline, the pool as a line, axes with readable ticks, bounded size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { niceStep, renderSvg, timeStep } from './svg.js';
import { sizeStats } from './stats.js';

test('ticks are 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(2200, 6), 500);
  assert.equal(niceStep(100, 5), 20);
  assert.equal(niceStep(7, 6), 2);
  assert.equal(niceStep(0, 6), 0.2);
});

test('the plot has the series, the pool line and its label, and escapes the title', () => {
  const sizes = [0, 5, 10, 5, 0];
  const svg = renderSvg({ sizes, stats: sizeStats(sizes, 8), title: 'a <b> & "c"' });
  assert.match(svg, /^<\?xml version="1.0"/);
  assert.match(svg, /<polyline [^>]*points="70\.0,[0-9.]+ /);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 1);
  assert.match(svg, /stroke-dasharray="6 4"/);
  assert.match(svg, />pool 8 \(1 s above\)</);
  assert.match(svg, />a &lt;b&gt; &amp; &quot;c&quot;</);
  assert.match(svg, />peak 10, median 5, p99 10</);
  assert.doesNotMatch(renderSvg({ sizes, stats: sizeStats(sizes, null), title: 't' }), /dasharray/);
});

test('a day of seconds is bucketed: the polyline stays small and keeps the peak', () => {
  const sizes = Array.from({ length: 86400 }, (_, i) => (i === 43210 ? 999 : 100));
  const svg = renderSvg({ sizes, stats: sizeStats(sizes, null), title: 't' });
  const pts = /points="([^"]+)"/.exec(svg)![1]!.split(' ');
  assert.ok(pts.length <= 2 * 1800, `${pts.length} points`);
  const ys = pts.map((p) => Number(p.split(',')[1]));
  // y of 999 is the top of the data: the smallest y in the polyline.
  assert.equal(Math.min(...ys), Number((56 + 314 - (999 / (999 * 1.08)) * 314).toFixed(1)));
  assert.match(svg, />12 h</);
  assert.match(svg, /largest of 48 s/);
});

test('time ticks are whole seconds, minutes or hours', () => {
  assert.equal(timeStep(26), 5);
  assert.equal(timeStep(3600), 600);
  assert.equal(timeStep(86400), 10800);
  assert.equal(timeStep(30 * 3600), 21600);
});
