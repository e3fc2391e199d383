// zoneBuffer: large zone columns come back zeroed, transferable, and (with the addon and THP) in huge pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { i32, zoneBuffer } from './huge-pages.js';

const addonBuilt = existsSync(fileURLToPath(new URL('../../native/build/Release/fluxdns_udp.node', import.meta.url)));
const thp = (() => {
  try {
    return /\[(always|madvise)\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
  } catch {
    return false;
  }
})();

/** AnonHugePages of this process, in KiB. */
function hugeKiB(): number {
  return Number(/AnonHugePages:\s+(\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0);
}

test('a large zone buffer is zeroed and survives a transfer', () => {
  const a = i32(4 << 20);
  assert.equal(a.length, 4 << 20);
  assert.equal(a.every((v) => v === 0), true);
  a[12345] = 7;
  const moved = structuredClone(a, { transfer: [a.buffer] });
  assert.equal(moved[12345], 7);
  assert.equal(a.length, 0, 'the buffer was transferred, not copied');
});

test('a small zone buffer is plain', () => {
  assert.equal(zoneBuffer(4096).byteLength, 4096);
});

test('a large zone buffer faults in huge pages', { skip: !addonBuilt || !thp || process.platform !== 'linux' ? 'needs the native addon and THP' : false }, () => {
  const before = hugeKiB();
  const b = new Uint8Array(zoneBuffer(32 << 20));
  for (let i = 0; i < b.length; i += 4096) b[i] = 1;
  const after = hugeKiB();
  // At least the whole 2 MiB pages inside 32 MiB but one at each end (what the kernel could find).
  assert.ok(after - before >= 16 << 10, `AnonHugePages grew by ${after - before} KiB only`);
  assert.equal(b[4096], 1);
});
