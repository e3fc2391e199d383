// pooledBytes: views never overlap, large requests get their own memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pooledBytes } from './pool.js';

test('pooled arrays are disjoint, also across slabs, and keep their contents', () => {
  const arrays: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) {
    const a = pooledBytes(1 + (i % 97));
    a.fill(i & 0xff);
    arrays.push(a);
  }
  arrays.forEach((a, i) => {
    assert.equal(a.length, 1 + (i % 97));
    assert.ok(a.every((b) => b === (i & 0xff)), `array ${i} was overwritten`);
    assert.ok(a instanceof Uint8Array && !(a instanceof Buffer));
  });
  const big = pooledBytes(5000);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 5000);
});
