import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { mulberry32 } from '../sim/prng.js';
import { sha1Into } from './sha1.js';

test('sha1Into equals node:crypto SHA-1 for every input length 0-200 and salts 0-40 bytes, including in place', () => {
  const rnd = mulberry32(5);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const out = new Uint8Array(24);
  for (let n = 0; n <= 200; n++) {
    for (const saltLen of [0, 1, 4, 40]) {
      const a = bytes(n + 3);
      const salt = bytes(saltLen);
      sha1Into(a, 3, n + 3, salt, out, 2);
      const ref = hash('sha1', Buffer.concat([a.subarray(3), salt]), 'buffer');
      assert.deepEqual(out.subarray(2, 22), new Uint8Array(ref), `length ${n}, salt ${saltLen}`);
    }
  }
  // The digest hashed again where it lies (the NSEC3 iterations).
  const d = new Uint8Array(20);
  const salt = Uint8Array.from([0xaa, 0xbb]);
  sha1Into(Uint8Array.from([1, 2, 3]), 0, 3, salt, d);
  const first = hash('sha1', Buffer.from([1, 2, 3, 0xaa, 0xbb]), 'buffer');
  sha1Into(d, 0, 20, salt, d);
  assert.deepEqual(d, new Uint8Array(hash('sha1', Buffer.concat([first, salt]), 'buffer')));
});
