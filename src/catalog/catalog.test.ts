// The catalog zone's content (RFC 9432 §4) and its configuration checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText } from '../config/load.js';
import { checkZone } from '../zone/check.js';
import { catalogMembers, catalogRecords, memberId } from './catalog.js';

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
