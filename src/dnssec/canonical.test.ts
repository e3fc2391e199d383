import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalNameWire, compareCanonical } from './canonical.js';

test('RFC 4034 §6.1: the example names sort in the RFC order', () => {
  // The list of §6.1, already in canonical order.
  const ordered = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
  const shuffled = [...ordered].reverse();
  shuffled.sort(compareCanonical);
  assert.deepEqual(shuffled, ordered);
  for (let i = 0; i + 1 < ordered.length; i++) assert.ok(compareCanonical(ordered[i]!, ordered[i + 1]!) < 0, `${ordered[i]} < ${ordered[i + 1]}`);
});

test('case does not matter; a prefix label sorts first; the root sorts before everything', () => {
  assert.equal(compareCanonical('WWW.Example.', 'www.example.'), 0);
  assert.ok(compareCanonical('a.example.', 'ab.example.') < 0);
  assert.ok(compareCanonical('.', 'com.') < 0);
  assert.ok(compareCanonical('b.example.', 'a.b.example.') < 0);
  // Bytes compare unsigned: "-" (0x2d) sorts before "0" (0x30) and "a" before "\200".
  assert.ok(compareCanonical('-.example.', '0.example.') < 0);
});

test('RFC 4034 §6.2: the canonical wire form is lower case and uncompressed', () => {
  assert.deepEqual([...canonicalNameWire('WwW.Ex.')], [3, 0x77, 0x77, 0x77, 2, 0x65, 0x78, 0]);
  assert.deepEqual([...canonicalNameWire('.')], [0]);
  // Only A–Z fold (RFC 4343): a byte above 0x7f stays.
  assert.deepEqual([...canonicalNameWire('\\200A.')], [2, 200, 0x61, 0]);
});

test('canonicalKey: plain string order is the canonical order, with and without a skipped origin', async () => {
  const { canonicalKey, canonicalKeyPrefix } = await import('./canonical.js');
  const ordered = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.', '\\000.\\200.z.example.', 'zz.example.'];
  for (const skip of [0, 1]) {
    const keys = ordered.map((n) => canonicalKey(n, skip));
    for (let i = 0; i + 1 < ordered.length; i++) {
      assert.ok(keys[i]! < keys[i + 1]!, `${ordered[i]} < ${ordered[i + 1]} (skip ${skip})`);
      assert.ok(canonicalKeyPrefix(keys[i]!) <= canonicalKeyPrefix(keys[i + 1]!), `prefix of ${ordered[i]}`);
      assert.equal(Math.sign(compareCanonical(ordered[i]!, ordered[i + 1]!)), -1);
    }
  }
  // Escaped and plain spellings of the same name give the same key; case does not matter.
  assert.equal(canonicalKey('\\097b.Example.', 1), canonicalKey('AB.example.', 1));
  // A label that is a prefix of another sorts first, also when more labels follow below it.
  assert.ok(canonicalKey('x.a.example.', 1) < canonicalKey('ab.example.', 1));
  assert.ok(canonicalKey('a\\000.example.', 1) > canonicalKey('z.a.example.', 1));
  assert.equal(canonicalKey('example.', 1), '');
});

test('canonicalNameWire: the plain-text path gives the bytes nameToWire gives, lower-cased', async () => {
  const { nameToWire } = await import('../wire/name.js');
  for (const name of ['a.', 'WwW.Example.LAB.', `${'x'.repeat(63)}.example.`, 'a-b_c.*.example.', '0123456789abcdefghijklmnopqrstuv.bench.lab.']) {
    const want = nameToWire(name.toLowerCase());
    assert.deepEqual([...canonicalNameWire(name)], [...want], name);
  }
  // Not plain: escapes, a 64-byte label (an error from nameToWire, not a silent wrong answer).
  assert.deepEqual([...canonicalNameWire('a\\.b.c.')], [3, 0x61, 0x2e, 0x62, 1, 0x63, 0]);
  assert.throws(() => canonicalNameWire(`${'x'.repeat(64)}.example.`));
});
