// Stream framing: the 2-byte length, and a message too long for it refused instead of wrapped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_STREAM_MESSAGE, streamFrame } from './frame.js';

test('a message follows its 2-byte big-endian length, up to 65,535 bytes', () => {
  for (const n of [0, 1, 255, 256, 0x1234, MAX_STREAM_MESSAGE]) {
    const wire = new Uint8Array(n).map((_, i) => i * 7);
    const f = streamFrame(wire);
    assert.equal(f.length, n + 2);
    assert.equal(f.readUInt16BE(0), n);
    assert.deepEqual(new Uint8Array(f.subarray(2)), wire);
  }
});

test('a message of 65,536 bytes or more is a RangeError, not a frame whose length wrapped', () => {
  assert.throws(() => streamFrame(new Uint8Array(MAX_STREAM_MESSAGE + 1)), RangeError);
  assert.throws(() => streamFrame(new Uint8Array(70_000)), /70000-byte message does not fit/);
});
