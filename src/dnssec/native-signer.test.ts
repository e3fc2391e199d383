import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { sign, verify, createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generateKey } from './keys.js';
import { ed25519Signer, nativeSign, nativeSignStats, nativeSigning } from './native-signer.js';

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

test('native Ed25519 signatures equal node:crypto byte for byte (deterministic, RFC 8032), with libsodium when it was built in', () => {
  // scripts/debian-packages.txt installs libsodium-dev, so the addon is built with it; without it OpenSSL signs.
  const sodium = spawnSync('pkg-config', ['--exists', 'libsodium']).status === 0;
  if (nativeSigning()) assert.equal(ed25519Signer(), sodium ? 'libsodium' : 'openssl', 'node scripts/build-native.mjs after installing libsodium-dev');
  for (let k = 0; k < 5; k++) {
    const key = generateKey('native.lab', 15, false);
    for (const data of [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(5000, 0xab), Buffer.from(`an RRSIG's signed data ${k}`)]) {
      const s = nativeSign(15, key.privateKey, data)!;
      assert.deepEqual(Buffer.from(s), sign(null, data, key.privateKey));
    }
  }
});

test('a key of another algorithm falls back to node:crypto instead of failing', () => {
  const ec = generateKey('native.lab', 13, false);
  assert.equal(nativeSign(15, ec.privateKey, Buffer.from('x')), undefined);
});

const settle = async (until: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !until(); i++) await new Promise((r) => setTimeout(r, 25));
};

test('ECDSA nonces drawn ahead of need: signatures verify and differ; an emptied pool signs inline (counted) and refills', { skip: !built || process.env.FLUXDNS_NATIVE_SIGN === '0' || process.env.FLUXDNS_DNSSEC_NONCES === '0' }, async () => {
  const key = generateKey('native.lab', 13, false);
  const pub = createPublicKey(key.privateKey);
  const data = (i: number) => Buffer.from(`signed data ${i}`);
  nativeSign(13, key.privateKey, data(0));
  await settle(() => nativeSignStats(key.privateKey).ready >= 512);
  const first = nativeSignStats(key.privateKey);
  assert.ok(first.ready >= 512, `the pool fills in the background (an addon built before the pool has none: node scripts/build-native.mjs): ${JSON.stringify(first)}`);
  // More signatures at once than the pool holds (1,024): the first ones take pooled nonces, then inline.
  const sigs: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) sigs.push(nativeSign(13, key.privateKey, data(i))!);
  const after = nativeSignStats(key.privateKey);
  assert.ok(after.pooled - first.pooled >= 500, JSON.stringify(after));
  assert.equal(after.pooled + after.inline, 3001);
  assert.ok(after.inline > first.inline, `signed inline once the pool ran dry: ${JSON.stringify(after)}`);
  for (let i = 0; i < 3000; i++) assert.ok(verify('sha256', data(i), { key: pub, dsaEncoding: 'ieee-p1363' }, sigs[i]!), `signature ${i}`);
  // No nonce used twice: r (the first half) is unique across every signature.
  assert.equal(new Set(sigs.map((s) => Buffer.from(s.subarray(0, 32)).toString('hex'))).size, sigs.length);
  await settle(() => nativeSignStats(key.privateKey).ready >= 512);
  assert.ok(nativeSignStats(key.privateKey).ready >= 512, 'the pool refills');
});
