// The compiled-zone file the primary hands its workers: the arrays come back equal, aligned views on one
// buffer; a cut-short or foreign file is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileZoneFile } from '../zone/load.js';
import { Zone } from '../zone/tree.js';
import { readCompiledZone, writeCompiledZone } from './compiled-file.js';

test('a compiled zone written and read back is the same zone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-cf-'));
  const file = join(dir, 'c.lab.zone');
  const hosts = Array.from({ length: 300 }, (_, i) => `h${i} A 198.51.100.${i % 250}\nh${i} TXT "t${i}"`).join('\n');
  writeFileSync(file, `$ORIGIN c.lab.\n$TTL 60\n@ SOA ns hm 42 3600 600 86400 60\n  NS ns\nns A 203.0.113.1\n*.w AAAA 2001:db8::1\n${hosts}\n`);
  const c = compileZoneFile('c.lab.', file);
  assert.ok(c.ok);
  const w = writeCompiledZone(c);
  try {
    const back = readCompiledZone(w.path);
    assert.equal(back.serial, 42);
    assert.equal(back.records, c.records);
    for (const [k, v] of Object.entries(c.buffers)) {
      const got = (back.buffers as unknown as Record<string, unknown>)[k];
      if (ArrayBuffer.isView(v)) {
        assert.ok(ArrayBuffer.isView(got) && got.constructor === v.constructor, k);
        assert.deepEqual(Array.from(got as Uint8Array), Array.from(v as Uint8Array), k);
      } else assert.equal(got, v, k);
    }
    const z = Zone.fromBuffers(back.buffers);
    assert.equal(z.serial, 42);
    assert.ok(z.has('h299.c.lab.'));
    assert.ok(!z.has('h300.c.lab.'));
    // Cut short: refused with the file named, not read out of bounds.
    const bytes = readFileSync(w.path);
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 64));
    assert.throws(() => readCompiledZone(cut), /cut short/);
    const foreign = join(dir, 'foreign.bin');
    const header = Buffer.from(JSON.stringify({ magic: 'something else', arrays: [] }));
    const lead = Buffer.alloc(8);
    lead.writeUInt32LE(header.length, 0);
    writeFileSync(foreign, Buffer.concat([lead, header]));
    assert.throws(() => readCompiledZone(foreign), /not a compiled zone/);
  } finally {
    w.remove();
  }
});
