// The memory relief collects garbage an idle process would keep: external memory of dropped buffers comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relieveMemory } from './memory-relief.js';

test('relieveMemory frees dropped buffers at once (a full GC) and reports RSS before and after', () => {
  relieveMemory();
  const before = process.memoryUsage().external;
  let held: Buffer[] | undefined = Array.from({ length: 64 }, () => Buffer.alloc(1 << 20, 1));
  assert.ok(process.memoryUsage().external >= before + 60e6, 'the buffers count as external memory');
  held.length = 0;
  held = undefined;
  const r = relieveMemory();
  assert.ok(process.memoryUsage().external < before + 8e6, `external ${process.memoryUsage().external} vs ${before} before the buffers`);
  assert.ok(r.rssBeforeKB > 0 && r.rssAfterKB > 0);
  assert.equal(typeof r.trimmed, 'boolean');
});
