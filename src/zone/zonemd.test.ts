// ZONEMD (RFC 8976): the RFC's own Appendix A examples verify; a changed record or digest does not; a computed
// digest is accepted by ldns-verify-zone -Z (an independent implementation) and changes with the data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadZoneFile, parseZone } from './parser.js';
import { formatZone } from './format.js';
import { decodeZonemd, HASH_SHA384, HASH_SHA512, verifyZonemd, withZonemd, ZONEMD_TYPE } from './zonemd.js';
import { rdataWire } from './print.js';

const real = fileURLToPath(new URL('../../test/fixtures/zones/real/pdns/', import.meta.url));
const EXAMPLES: [string, string, number][] = [
  ['zonemd1.zone', 'example.', HASH_SHA384], // A.1 simple
  ['zonemd2.zone', 'example.', HASH_SHA384], // A.2 complex (occluded data, duplicates, RRSIG/ZONEMD exclusions)
  ['zonemd3.zone', 'example.', HASH_SHA512], // A.3 multiple digests: SHA-512 and two with an unknown scheme or hash
  ['zonemd4.zone', 'uri.arpa.', HASH_SHA384], // A.4 signed
  ['zonemd5.zone', 'root-servers.net.', HASH_SHA384], // A.5
];

test('the RFC 8976 Appendix A zones verify', () => {
  for (const [file, origin, alg] of EXAMPLES) {
    const zone = loadZoneFile(join(real, file), origin);
    const v = verifyZonemd(origin, zone.records);
    assert.equal(v.status, 'valid', `${file}: ${JSON.stringify(v)}`);
    assert.equal((v as { hashAlgorithm: number }).hashAlgorithm, alg, file);
  }
});

test('a changed record, a changed digest or a stale serial is refused', () => {
  const zone = loadZoneFile(join(real, 'zonemd1.zone'), 'example.');
  const changed = zone.records.map((r) => (r.type === 1 ? { ...r, data: { address: '203.0.113.64' } } : r));
  assert.equal(verifyZonemd('example.', changed).status, 'invalid');
  const ttl = zone.records.map((r) => (r.type === 1 ? { ...r, ttl: r.ttl + 1 } : r));
  assert.equal(verifyZonemd('example.', ttl).status, 'invalid', 'the TTL is digested');
  const digest = zone.records.map((r) => {
    if (r.type !== ZONEMD_TYPE) return r;
    const raw = new Uint8Array(rdataWire(r));
    raw[raw.length - 1]! ^= 1;
    return { ...r, data: { raw } };
  });
  assert.match((verifyZonemd('example.', digest) as { reason: string }).reason, /digest mismatch/);
  const serial = zone.records.map((r) => (r.type === 6 ? { ...r, data: { ...(r.data as object), serial: 2018031901 } } : r)) as typeof zone.records;
  assert.match((verifyZonemd('example.', serial) as { reason: string }).reason, /serial/);
  // Upper case in owners and in names inside RDATA does not change the digest (RFC 4034 §6.2 canonical form).
  const upper = zone.records.map((r) => ({ ...r, name: r.name.toUpperCase() }));
  assert.equal(verifyZonemd('example.', upper).status, 'valid');
});

test('a zone without ZONEMD is absent, not invalid', () => {
  const z = parseZone('$TTL 60\n@ SOA ns hm 1 60 60 600 60\n NS ns\nns A 198.51.100.1\n', { origin: 'z.test.' });
  assert.deepEqual(verifyZonemd('z.test.', z.records), { status: 'absent' });
});

test('computed digests verify here and in ldns-verify-zone -Z, and follow the data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-zonemd-'));
  try {
    const text = '$TTL 60\n@ SOA ns hm 5 60 60 600 60\n NS ns\nns A 198.51.100.1\nWWW A 198.51.100.2\nmx MX 10 MAIL.z.test.\nt TXT "hello" "world"\nsub NS ns.sub\nns.sub A 198.51.100.9\n';
    const z = parseZone(text, { origin: 'z.test.' });
    for (const alg of [HASH_SHA384, HASH_SHA512]) {
      const withMd = withZonemd('z.test.', z.records, alg);
      assert.equal(verifyZonemd('z.test.', withMd).status, 'valid');
      const md = decodeZonemd(rdataWire(withMd.find((r) => r.type === ZONEMD_TYPE)!))!;
      assert.equal(md.serial, 5);
      assert.equal(md.hashAlgorithm, alg);
      const file = join(dir, `z-${alg}.zone`);
      writeFileSync(file, formatZone(withMd));
      const ok = spawnSync('ldns-verify-zone', ['-Z', file], { encoding: 'utf8' });
      assert.equal(ok.status, 0, `ldns-verify-zone: ${ok.stdout}${ok.stderr}`);
      // The same digest on changed data fails in ldns too.
      writeFileSync(file, formatZone(withMd).replace('198.51.100.2', '198.51.100.3'));
      assert.notEqual(spawnSync('ldns-verify-zone', ['-Z', file]).status, 0);
    }
    // A second computation replaces the ZONEMD rather than adding one.
    const twice = withZonemd('z.test.', withZonemd('z.test.', z.records, HASH_SHA384), HASH_SHA384);
    assert.equal(twice.filter((r) => r.type === ZONEMD_TYPE).length, 1);
    assert.ok(execFileSync('ldns-verify-zone', ['-v'], { encoding: 'utf8' }).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
