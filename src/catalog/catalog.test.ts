// The catalog zone's content (RFC 9432 §4) and its configuration checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText } from '../config/load.js';
import { checkZone } from '../zone/check.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogDigest, catalogMembers, catalogRecords, catalogSerialFor, memberId } from './catalog.js';

test('members are the primary zones; the catalog is a valid zone with version 2 and one PTR each', () => {
  const { config } = parseConfigText(
    'catalog: { zone: cat.example }\nzones:\n  - { name: a.example, file: a.zone }\n  - { name: B.example., file: b.zone }\n  - { name: s.example, file: s.zone, primaries: ["127.0.0.1:53"] }\n',
    '/etc/fluxdns/fluxdns.yaml',
  );
  assert.deepEqual(catalogMembers(config), ['a.example.', 'B.example.']);
  // The catalog is served like a configured zone (the primary role's keys apply to it).
  assert.equal(config.zones.at(-1)!.name, 'cat.example.');
  const records = catalogRecords('cat.example.', catalogMembers(config), 7);
  assert.deepEqual(checkZone({ records, sources: [], warnings: [] }, 'cat.example.'), []);
  const ptrs = records.filter((r) => r.type === 12);
  assert.deepEqual(ptrs.map((r) => r.name), [`${memberId('a.example.')}.zones.cat.example.`, `${memberId('b.example.')}.zones.cat.example.`]);
  // IDs ignore case and are stable.
  assert.equal(memberId('B.EXAMPLE.'), memberId('b.example.'));
  assert.match(memberId('a.example.'), /^[0-9a-f]{40}$/);
});

test('the catalog zone may not also be listed under zones; tsigKey and zonemd are checked', () => {
  const err = (yaml: string) => {
    try {
      parseConfigText(yaml, '/etc/fluxdns/fluxdns.yaml');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    assert.fail('expected a configuration error');
  };
  assert.match(err('catalog: { zone: c.example }\nzones:\n  - { name: c.example, file: c.zone }\n'), /catalog\.zone: the catalog zone c\.example\. is built by fluxdns/);
  assert.match(err('zones:\n  - { name: s.example, file: s.zone, primaries: [{ address: "127.0.0.1:53", tsigKey: nokey }] }\n'), /zones\[0\]\.primaries\[0\]\.tsigKey: expected the name of a key in tsig\.keys/);
  assert.match(err('zones:\n  - { name: s.example, file: s.zone, primaries: ["127.0.0.1:53"], zonemd: sha384 }\n'), /zonemd is computed for a primary zone/);
  assert.match(err('zones:\n  - { name: s.example, file: s.zone, primaries: ["localhost:53"] }\n'), /primaries/);
});

test('the catalog serial follows its content: kept while the data is the same, one more when it changed, never down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-catserial-'));
  try {
    const state = join(dir, 'cat.example.catalog.serial');
    const d1 = catalogDigest('cat.example.', ['a.example.']);
    // No state yet: the serial earlier versions used (the configuration's time), then kept.
    assert.deepEqual(catalogSerialFor(state, d1, 1_700_000_000), { serial: 1_700_000_000 });
    assert.deepEqual(catalogSerialFor(state, d1, 1_800_000_000), { serial: 1_700_000_000 }, 'a touched configuration changes nothing');
    // The order of the members is not content: the same catalog.
    assert.equal(catalogDigest('cat.example.', ['a.example.', 'b.example.']), catalogDigest('cat.example.', ['b.example.', 'a.example.']));
    const d2 = catalogDigest('cat.example.', ['a.example.', 'b.example.']);
    assert.notEqual(d2, d1);
    assert.deepEqual(catalogSerialFor(state, d2, 5), { serial: 1_700_000_001 }, 'a member added');
    assert.deepEqual(catalogSerialFor(state, d1, 5), { serial: 1_700_000_002 }, 'removed again: up, not back to the old serial');
    assert.deepEqual(JSON.parse(readFileSync(state, 'utf8')), { serial: 1_700_000_002, digest: d1 });
    // Past 2^32 - 1 it wraps as RFC 1982 adds.
    writeFileSync(state, JSON.stringify({ serial: 0xffffffff, digest: d2 }));
    assert.deepEqual(catalogSerialFor(state, d1, 5), { serial: 0 });
    // A state that is not one is no state.
    writeFileSync(state, 'garbage');
    assert.deepEqual(catalogSerialFor(state, d1, 42), { serial: 42 });
    // Cannot be written: served all the same, with a warning.
    const r = catalogSerialFor(join(dir, 'missing-dir', 'x.serial'), d1, 7);
    assert.equal(r.serial, 7);
    assert.match(r.warning ?? '', /not written/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
