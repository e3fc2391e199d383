import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { sign, verify, createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generateKey } from './keys.js';
import { nativeSign, nativeSigning } from './native-signer.js';

const built = existsSync(fileURLToPath(new URL('../../native/build/Release/fluxdns_dnssec.node', import.meta.url)));

// npm install builds the addon (scripts/build-native.mjs); these tests check it, so they need it.
test('the native signer is built and used', () => {
  assert.ok(built, 'native/build/Release/fluxdns_dnssec.node: run node scripts/build-native.mjs');
  assert.equal(nativeSigning(), process.env.FLUXDNS_NATIVE_SIGN !== '0');
});

test('native ECDSA P-256 signatures are r‖s and verify with node:crypto; each one differs (random k)', () => {
  const key = generateKey('native.lab', 13, false);
  const data = Buffer.from('the signed data of an RRSIG');
  const a = nativeSign(13, key.privateKey, data)!;
  const b = nativeSign(13, key.privateKey, data)!;
  assert.equal(a.length, 64);
  assert.notDeepEqual(a, b);
  const pub = createPublicKey(key.privateKey);
  for (const s of [a, b]) assert.ok(verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, s));
  assert.ok(!verify('sha256', Buffer.from('other data'), { key: pub, dsaEncoding: 'ieee-p1363' }, a));
});

test('native Ed25519 signatures equal node:crypto byte for byte (deterministic, RFC 8032)', () => {
  const key = generateKey('native.lab', 15, false);
  for (const data of [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(5000, 0xab)]) {
    const s = nativeSign(15, key.privateKey, data)!;
    assert.deepEqual(Buffer.from(s), sign(null, data, key.privateKey));
  }
});

test('a key of another algorithm falls back to node:crypto instead of failing', () => {
  const ec = generateKey('native.lab', 13, false);
  assert.equal(nativeSign(15, ec.privateKey, Buffer.from('x')), undefined);
});
