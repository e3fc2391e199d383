// The `udp` block: defaults, and errors that name the key and what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';

test('udp defaults to batching auto with 64 datagrams per call', () => {
  assert.deepEqual(parseConfigText('{}', 'f.yaml').config.udp, { batching: 'auto', batchSize: 64 });
  assert.deepEqual(parseConfigText('udp: { batching: off, batchSize: 8 }', 'f.yaml').config.udp, { batching: 'off', batchSize: 8 });
});

test('bad udp values name the key and what was expected', () => {
  const cases: [string, string][] = [
    ['udp: { batching: maybe }', 'f.yaml:1: udp.batching: expected one of "auto", "off", found "maybe"'],
    ['udp: { batchSize: 0 }', 'f.yaml:1: udp.batchSize: expected a whole number from 1 to 1024'],
    ['udp: { batchSize: 2000 }', 'f.yaml:1: udp.batchSize: expected a whole number from 1 to 1024'],
    ['udp: { foo: 1 }', 'f.yaml:1: udp: unknown key "foo"'],
  ];
  for (const [text, message] of cases) assert.throws(() => parseConfigText(text, 'f.yaml'), { message }, text);
});
