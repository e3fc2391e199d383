// Translation-table replay on tiny logs whose sizes are worked out by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TableSim, type SimOptions } from './table.js';
import type { Connection } from './csv.js';

type Row = [number, string, string, string];

function run(opts: SimOptions, rows: Row[]) {
  const sim = new TableSim(opts);
  for (const [time, client, resolver, server] of rows) sim.add({ time, client, resolver, server } satisfies Connection);
  return sim.finish();
}

const rep = (v: number, n: number): number[] => Array<number>(n).fill(v);

test('TTL expiry, resolver scope: a translation lives [lookup, lookup + ttl), then a connection needs a new lookup', () => {
  const r = run({ ttl: 10, grace: 0, scope: 'resolver' }, [
    [0, '198.51.100.1', 'r1', 's1'], // lookup: r1|s1 alive [0, 10)
    [5, '198.51.100.2', 'r1', 's1'], // the resolver's cache answers: no lookup
    [10, '198.51.100.1', 'r1', 's1'], // expired at 10 exactly: lookup, alive [10, 20)
    [12, '198.51.100.3', 'r2', 's1'], // another resolver: its own pair, alive [12, 22)
    [25, '198.51.100.1', 'r1', 's2'], // alive [25, 35)
  ]);
  assert.equal(r.start, 0);
  // s0..9: 1; s10..11: 1 (gone at 10, recreated at 10); s12..19: 2; s20..21: 1; s22..24: 0; s25: 1.
  assert.deepEqual(r.sizes, [...rep(1, 10), 1, 1, ...rep(2, 8), 1, 1, 0, 0, 0, 1]);
  assert.equal(r.connections, 5);
  assert.equal(r.lookups, 4);
  assert.equal(r.graceHits, 0);
  assert.equal(r.servers, 2);
});

test('a second counts the most translations alive at any instant in it, not at its start', () => {
  // ttl 0.5: s1 alive [0.1, 0.6), s2 alive [0.7, 1.2): never two at once.
  assert.deepEqual(run({ ttl: 0.5, grace: 0, scope: 'resolver' }, [[0.1, '198.51.100.1', 'r', 's1'], [0.7, '198.51.100.1', 'r', 's2'], [1.9, '198.51.100.1', 'r', 's3']]).sizes, [1, 1]);
  // ttl 1: s1 alive [0.1, 1.1) overlaps s2 from 0.7; in second 1, s1 leaves at 1.1, s2 stays until 1.7, s3 from 1.9.
  assert.deepEqual(run({ ttl: 1, grace: 0, scope: 'resolver' }, [[0.1, '198.51.100.1', 'r', 's1'], [0.7, '198.51.100.1', 'r', 's2'], [1.9, '198.51.100.1', 'r', 's3']]).sizes, [2, 2]);
  // Times need not start at 0: the series starts at the first connection's second.
  const late = run({ ttl: 2, grace: 0, scope: 'resolver' }, [[1000.5, '198.51.100.1', 'r', 's1'], [1003, '198.51.100.1', 'r', 's1']]);
  assert.equal(late.start, 1000);
  assert.deepEqual(late.sizes, [1, 1, 1, 1]); // [1000.5, 1002.5) then [1003, 1005)
  assert.deepEqual(late.sizes.length, 4);
});

test('grace keeps a translation for clients already seen; a new client in grace implies a lookup', () => {
  const rows: Row[] = [
    [0, 'c1', 'r1', 's1'], // lookup: live [0, 10), kept for seen clients until 30; seen {c1}
    [5, 'c2', 'r1', 's1'], // live; seen {c1, c2}
    [15, 'c1', 'r1', 's1'], // grace, c1 seen: admitted, no refresh
    [16, 'c3', 'r1', 's1'], // grace, c3 new: lookup, live [16, 26), kept until 46
    [40, 'c2', 'r1', 's1'], // grace, c2 seen: admitted
    [50, 'c2', 'r1', 's1'], // gone at 46: lookup
  ].map(([t, c, r, s]) => [t as number, `198.51.100.${String(c).slice(1)}`, r as string, s as string]);
  const g = run({ ttl: 10, grace: 20, scope: 'resolver' }, rows);
  assert.deepEqual(g.sizes, [...rep(1, 46), 0, 0, 0, 0, 1]);
  assert.equal(g.lookups, 3);
  assert.equal(g.graceHits, 2);
  // The same log without grace: lookups at 0 ([0,10)), 15 ([15,25)), 40 ([40,50)) and 50 ([50,60)).
  const n = run({ ttl: 10, grace: 0, scope: 'resolver' }, rows);
  assert.deepEqual(n.sizes, [...rep(1, 10), ...rep(0, 5), ...rep(1, 10), ...rep(0, 15), ...rep(1, 10), 1]);
  assert.equal(n.lookups, 4);
  assert.equal(n.graceHits, 0);
});

test('scope resolver keys by resolver, scope subnet24 by the client /24 (IPv6: /56)', () => {
  const rows: Row[] = [
    [0, '198.51.100.1', '203.0.113.1', 's1'],
    [1, '198.51.100.2', '203.0.113.2', 's1'], // other resolver, same /24
    [2, '198.18.0.5', '203.0.113.1', 's1'], // same resolver, other /24
  ];
  const byResolver = run({ ttl: 10, grace: 0, scope: 'resolver' }, rows);
  assert.deepEqual(byResolver.sizes, [1, 2, 2]);
  assert.equal(byResolver.lookups, 2);
  const bySubnet = run({ ttl: 10, grace: 0, scope: 'subnet24' }, rows);
  assert.deepEqual(bySubnet.sizes, [1, 1, 2]);
  assert.equal(bySubnet.lookups, 2);
  const v6 = run({ ttl: 10, grace: 0, scope: 'subnet24' }, [
    [0, '2001:db8:0:1::5', 'r', 's1'],
    [1, '2001:db8:0:ff::9', 'r', 's1'], // same /56 (2001:db8::/56)
    [2, '2001:db8:0:100::1', 'r', 's1'], // 2001:db8:0:100::/56
  ]);
  assert.deepEqual(v6.sizes, [1, 1, 2]);
});

test('the same pair counts once however many servers and clients share a key', () => {
  const rows: Row[] = [];
  for (let i = 0; i < 100; i++) rows.push([i / 100, `198.51.100.${1 + (i % 50)}`, 'r', `s${i % 3}`]);
  const r = run({ ttl: 5, grace: 5, scope: 'resolver' }, rows);
  assert.deepEqual(r.sizes, [3]);
  assert.equal(r.lookups, 3);
});

test('refuses time going backwards across seconds and spans beyond 31 days; empty replay is empty', () => {
  const sim = new TableSim({ ttl: 1, grace: 0, scope: 'resolver' });
  sim.add({ time: 5, client: '198.51.100.1', resolver: 'r', server: 's' });
  assert.throws(() => sim.add({ time: 3, client: '198.51.100.1', resolver: 'r', server: 's' }), /before the previous/);
  assert.throws(() => sim.add({ time: 5 + 32 * 86400, client: '198.51.100.1', resolver: 'r', server: 's' }), /31 days/);
  assert.deepEqual(new TableSim({ ttl: 1, grace: 0, scope: 'resolver' }).finish().sizes, []);
});
