// The zone loader's threads (relay and compiler) hand a compiled zone over in parts, one per
// ArrayBuffer, as the serving thread asks for them: the zone put back together is the one compiled in
// this thread, loads in flight at once each get their own zone, and a failure between them does not
// shift the parts of the next one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileZoneFile } from './load.js';
import { ZoneLoader } from './loader.js';
import { splitZone } from './zone-parts.js';
import type { CompiledZoneBuffers } from './compiled.js';

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-loader-test-'));
const loader = new ZoneLoader();
test.after(async () => {
  await loader.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A zone file of `hosts` A hosts (and an AAAA every third), serial `serial`. */
function zoneFile(origin: string, hosts: number, serial: number): string {
  const lines = [`$TTL 300`, `@ SOA ns1 hostmaster ${serial} 3600 600 86400 60`, `@ NS ns1`, `ns1 A 198.51.100.1`];
  for (let i = 0; i < hosts; i++) {
    lines.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    if (i % 3 === 0) lines.push(`h${i} AAAA 2001:db8::${i.toString(16)}`);
  }
  const f = join(dir, `${origin}${serial}.zone`);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

/** Every field of two compiled zones equal, arrays by content. */
function assertSameBuffers(got: CompiledZoneBuffers, want: CompiledZoneBuffers): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const k of Object.keys(want) as (keyof CompiledZoneBuffers)[]) {
    const g = got[k];
    const w = want[k];
    if (ArrayBuffer.isView(w)) {
      assert.ok(ArrayBuffer.isView(g), `${k} is an array`);
      assert.equal(g.constructor, w.constructor, `${k}'s type`);
      assert.deepEqual(Buffer.from(g.buffer, g.byteOffset, g.byteLength), Buffer.from(w.buffer, w.byteOffset, w.byteLength), `${k}'s content`);
    } else assert.equal(g, w, k);
  }
}

test('splitZone puts views of one ArrayBuffer in one part, and every array in some part', () => {
  const r = compileZoneFile('split.test.', zoneFile('split.test.', 3000, 1));
  assert.ok(r.ok);
  const { head, parts } = splitZone(r.buffers);
  assert.deepEqual(head, { origin: 'split.test.', nodeCount: r.buffers.nodeCount, setCount: r.buffers.setCount, rrCount: r.buffers.rrCount });
  const buffers = parts.map((p) => new Set(Object.values(p).map((v) => (v as ArrayBufferView).buffer)));
  for (const b of buffers) assert.equal(b.size, 1, 'one buffer per part');
  assert.equal(new Set(buffers.map((b) => [...b][0])).size, parts.length, 'no buffer in two parts');
  assert.equal(parts.reduce((n, p) => n + Object.keys(p).length, 0), 16);
});

test('a zone loaded by the loader threads has the arrays compiled here, its serial, records and file hash', async () => {
  const file = zoneFile('big.test.', 20_000, 7);
  const here = compileZoneFile('big.test.', file);
  assert.ok(here.ok);
  const r = await loader.load('big.test.', file);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.serial, 7);
  assert.equal(r.records, here.records);
  assert.equal(r.zone.fileHash, createHash('sha256').update(readFileSync(file)).digest('hex'));
  assertSameBuffers(r.zone.buffers, here.buffers);
  // Answers from the arrays that crossed the threads (h19998 owns an AAAA too, h19997 none).
  assert.deepEqual(r.zone.rrset('h19997.big.test.', 1)?.records.map((x) => x.data), [{ address: '10.0.78.29' }]);
  assert.equal(r.zone.rrset('h19997.big.test.', 28), undefined);
  assert.deepEqual(r.zone.rrset('H19998.BIG.test.', 28)?.records.map((x) => x.data), [{ address: '2001:db8::4e1e' }]);

  const raw = await loader.compile('big.test.', file);
  assert.ok(raw.ok);
  assert.equal(raw.fileHash, r.zone.fileHash);
  assertSameBuffers(raw.buffers, here.buffers);
});

test('loads in flight together each get their own zone, with a failed one between them', async () => {
  const a = zoneFile('a.test.', 5000, 11);
  const b = zoneFile('b.test.', 9000, 12);
  const bad = join(dir, 'bad.zone');
  writeFileSync(bad, '$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nx A not-an-address\n');
  const missing = join(dir, 'missing.zone');
  const [ra, rbad, rmissing, rb, ra2] = await Promise.all([
    loader.load('a.test.', a),
    loader.load('bad.test.', bad),
    loader.load('missing.test.', missing),
    loader.load('b.test.', b),
    loader.load('a.test.', a),
  ]);
  assert.ok(ra.ok && rb.ok && ra2.ok);
  assert.equal(ra.zone.origin, 'a.test.');
  assert.equal(ra.serial, 11);
  assert.equal(rb.zone.origin, 'b.test.');
  assert.equal(rb.serial, 12);
  assert.equal(rb.zone.recordCount, 3 + 9000 + 3000);
  assert.ok(rb.zone.has('h8999.b.test.'));
  assert.ok(!ra.zone.has('h8999.a.test.'));
  const hereA = compileZoneFile('a.test.', a);
  const hereB = compileZoneFile('b.test.', b);
  assert.ok(hereA.ok && hereB.ok);
  assertSameBuffers(ra.zone.buffers, hereA.buffers);
  assertSameBuffers(ra2.zone.buffers, hereA.buffers);
  assertSameBuffers(rb.zone.buffers, hereB.buffers);
  assert.ok(!rbad.ok && 'problems' in rbad);
  assert.match(rbad.problems.join('\n'), /bad\.zone:4/);
  assert.ok(!rmissing.ok && 'unreadable' in rmissing);
  assert.equal(rmissing.unreadable.code, 'ENOENT');
});
