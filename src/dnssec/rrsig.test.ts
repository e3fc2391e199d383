// RRSIG computation against the RFC 6605 §6.1 (ECDSA P-256) and RFC 8080 §6.1 (Ed25519) examples, key tags and DS digests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { dsRdata, generateKey, keyTag, readKeyFiles, writeKeyFiles, dnskeyRdataOf, KeyFileError } from './keys.js';
import { canonicalRdata, parseRrsig, signRRset, verifyRRset } from './rrsig.js';
import { RRClass, RRType, type ResourceRecord } from '../wire/types.js';

const b64 = (s: string): Uint8Array => Buffer.from(s, 'base64');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function keyPair(dir: string, stem: string, keyLine: string, priv: string): string {
  writeFileSync(join(dir, `${stem}.key`), `; test key\n${keyLine}\n`);
  writeFileSync(join(dir, `${stem}.private`), priv);
  return join(dir, stem);
}

const when = (s: string): number => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(8, 10), +s.slice(10, 12), +s.slice(12, 14)) / 1000;

test('RFC 6605 §6.1: key tag 55648, DS digest, the RFC signature verifies and ours verifies and differs only in the signature', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-rrsig-'));
  try {
    const stem = keyPair(
      dir,
      'Kexample.net.+013+55648',
      'example.net. 3600 IN DNSKEY 257 3 13 ( GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA== )',
      'Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=\n',
    );
    const key = readKeyFiles(stem);
    assert.equal(key.keyTag, 55648);
    assert.equal(key.zone, 'example.net.');
    assert.equal(hex(dsRdata('example.net.', key.dnskeyRdata).subarray(4)), 'b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17');
    const a: ResourceRecord = { name: 'www.example.net.', type: RRType.A, class: RRClass.IN, ttl: 3600, data: { address: '192.0.2.1' } };
    const theirs = Buffer.concat([
      Buffer.from([0, 1, 13, 3, 0, 0, 0x0e, 0x10]),
      u32(when('20100909100439')),
      u32(when('20100812100439')),
      Buffer.from([55648 >> 8, 55648 & 0xff]),
      Buffer.from('076578616d706c65036e657400', 'hex'),
      b64('qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw=='),
    ]);
    const rfcSig: ResourceRecord = { name: 'www.example.net.', type: RRType.RRSIG, class: 1, ttl: 3600, data: { raw: theirs } };
    assert.ok(verifyRRset([a], rfcSig, key.dnskeyRdata), 'the RFC 6605 example signature verifies');
    const ours = signRRset([a], key, { inception: when('20100812100439'), expiration: when('20100909100439') });
    assert.ok(verifyRRset([a], ours, key.dnskeyRdata), 'our signature verifies');
    const f = parseRrsig((ours.data as { raw: Uint8Array }).raw);
    assert.equal(f.signature.length, 64, 'r‖s, 32 bytes each');
    // ECDSA is randomized: everything but the signature equals the RFC's record.
    assert.equal(hex((ours.data as { raw: Uint8Array }).raw.subarray(0, f.signatureAt)), hex(theirs.subarray(0, f.signatureAt)));
    // A changed record does not verify.
    assert.ok(!verifyRRset([{ ...a, data: { address: '192.0.2.2' } }], ours, key.dnskeyRdata));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RFC 8080 §6.1: Ed25519 key tag 3613, DS digest and the MX signature byte for byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-rrsig-'));
  try {
    const stem = keyPair(
      dir,
      'Kexample.com.+015+03613',
      'example.com. 3600 IN DNSKEY 257 3 15 ( l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4= )',
      'Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\nPrivateKey: ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=\n',
    );
    const key = readKeyFiles(stem + '.private');
    assert.equal(key.keyTag, 3613);
    assert.equal(hex(dsRdata('example.com.', key.dnskeyRdata).subarray(4)), '3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b');
    const mx: ResourceRecord = { name: 'example.com.', type: RRType.MX, class: 1, ttl: 3600, data: { preference: 10, exchange: 'mail.example.com.' } };
    const sig = signRRset([mx], key, { inception: 1438207200, expiration: 1440021600 });
    const f = parseRrsig((sig.data as { raw: Uint8Array }).raw);
    assert.equal(f.labels, 2);
    assert.equal(f.keyTag, 3613);
    // The signature RFC 8080 §6.1 prints as corrected by its erratum 4935 (Ed25519 is deterministic).
    assert.equal(Buffer.from(f.signature).toString('base64'), 'oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==');
    assert.ok(verifyRRset([mx], sig, key.dnskeyRdata));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RFC 4034 Appendix B key tag of the RFC 4034 §5.4 example DNSKEY', () => {
  const rdata = dnskeyRdataOf(256, 5, b64('AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw=='));
  assert.equal(keyTag(rdata), 60485);
});

test('canonical RDATA: names lower-cased and uncompressed for SOA, kept for TXT', () => {
  const soa: ResourceRecord = {
    name: 'Example.', type: RRType.SOA, class: 1, ttl: 60,
    data: { mname: 'NS.Example.', rname: 'Host.Example.', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 },
  };
  const w = canonicalRdata(soa);
  assert.equal(hex(w.subarray(0, 26)), Buffer.from('\x02ns\x07example\x00\x04host\x07example\x00').toString('hex'));
  assert.equal(w.length, 26 + 20);
  const txt: ResourceRecord = { name: 'a.', type: RRType.TXT, class: 1, ttl: 60, data: { strings: [Buffer.from('MiXed')] } };
  assert.equal(Buffer.from(canonicalRdata(txt)).toString('latin1'), '\x05MiXed');
});

test('RRset order and duplicates: the signature does not depend on record order; a wildcard owner has one label less', () => {
  const key = generateKey('example.', 15, false);
  const rrs: ResourceRecord[] = ['198.51.100.2', '198.51.100.1', '198.51.100.1'].map((address) => ({ name: 'x.example.', type: RRType.A, class: 1, ttl: 60, data: { address } }));
  const s1 = signRRset(rrs, key, { inception: 1, expiration: 2 });
  assert.ok(verifyRRset([rrs[1]!, rrs[0]!], s1, key.dnskeyRdata));
  const w = signRRset([{ ...rrs[0]!, name: '*.example.' }], key, { inception: 1, expiration: 2 });
  assert.equal(parseRrsig((w.data as { raw: Uint8Array }).raw).labels, 1);
  // A pre-signed wildcard answer: signed over "*.example.", received as a longer name (RFC 4035 §5.3.2).
  assert.ok(verifyRRset([{ ...rrs[0]!, name: 'a.b.example.' }], w, key.dnskeyRdata));
  assert.ok(!verifyRRset([{ ...rrs[0]!, name: 'a.b.other.' }], w, key.dnskeyRdata));
  // The TTL sent is the one signed: the same records with another TTL do not verify against it.
  const t = signRRset(rrs, key, { inception: 1, expiration: 2, ttl: 37 });
  assert.equal(t.ttl, 37);
  assert.equal(parseRrsig((t.data as { raw: Uint8Array }).raw).originalTtl, 37);
});

test('key files: generated keys round-trip; errors name the file and line and never print the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-keys-'));
  try {
    for (const alg of [13, 15] as const) {
      const k = generateKey('Zone.Example', alg, true);
      const { privateFile } = writeKeyFiles(dir, k);
      const back = readKeyFiles(privateFile);
      assert.equal(back.keyTag, k.keyTag);
      assert.equal(back.zone, 'zone.example.');
      assert.equal(hex(back.dnskeyRdata), hex(k.dnskeyRdata));
      const sig = signRRset([{ name: 'zone.example.', type: RRType.TXT, class: 1, ttl: 5, data: { strings: [Buffer.from('x')] } }], back, { inception: 0, expiration: 10 });
      assert.ok(verifyRRset([{ name: 'zone.example.', type: RRType.TXT, class: 1, ttl: 5, data: { strings: [Buffer.from('x')] } }], sig, k.dnskeyRdata));
    }
    assert.throws(() => readKeyFiles(join(dir, 'Knope.+013+00001')), (e: unknown) => e instanceof KeyFileError && /Knope\.\+013\+00001\.key: cannot read: ENOENT/.test(e.message));
    const secret = 'GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=';
    const stem = keyPair(dir, 'Kbad.+013+00002', 'bad. IN DNSKEY 257 3 13 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=', `Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: ${secret}\n`);
    assert.throws(() => readKeyFiles(stem), (e: unknown) => e instanceof KeyFileError && e.line === 3 && /does not match the public key/.test(e.message) && !e.message.includes(secret));
    const stem2 = keyPair(dir, 'Krsa.+008+00003', 'rsa. IN DNSKEY 257 3 8 AwEAAQ==', 'Private-key-format: v1.3\nAlgorithm: 8 (RSASHA256)\nModulus: AAAA\n');
    assert.throws(() => readKeyFiles(stem2), (e: unknown) => e instanceof KeyFileError && /Krsa.*private:2: algorithm 8 \(RSASHA256\) is not supported/.test(e.message));
    const stem3 = keyPair(dir, 'Kshort.+015+00004', 'short. IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=', 'Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: AAAA\n');
    assert.throws(() => readKeyFiles(stem3), (e: unknown) => e instanceof KeyFileError && e.line === 3 && /32-byte/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

test('parseRrsig: RDATA off the wire that is short or whose signer name runs past the end is an error, not a hang', () => {
  assert.throws(() => parseRrsig(new Uint8Array(18)), /shorter than its fixed fields/);
  const bad = new Uint8Array(22);
  bad[18] = 9; // a label of 9 bytes where 3 are left
  assert.throws(() => parseRrsig(bad));
  const ok = new Uint8Array([0, 1, 13, 2, 0, 0, 0, 60, 0, 0, 0, 2, 0, 0, 0, 1, 0, 7, 1, 0x41, 0, 0xaa, 0xbb]);
  const f = parseRrsig(ok);
  assert.equal(f.signer, 'A.');
  assert.equal(f.signatureAt, 21);
  assert.deepEqual([...f.signature], [0xaa, 0xbb]);
});

test('canonical RDATA held as bytes: names lower-cased for RP, NAPTR, KX … (RFC 4034 §6.2), not for NSEC (RFC 6840 §5.1)', () => {
  const w = (s: string): Buffer => Buffer.from(s, 'latin1');
  const raw = (type: number, bytes: Buffer): ResourceRecord => ({ name: 'x.example.', type, class: 1, ttl: 60, data: { raw: new Uint8Array(bytes) } });
  const text = (rr: ResourceRecord): string => Buffer.from(canonicalRdata(rr)).toString('latin1');
  // RP (17): two names.
  assert.equal(text(raw(17, w('\x05Admin\x07Example\x00\x03TXT\x07example\x00'))), '\x05admin\x07example\x00\x03txt\x07example\x00');
  // NAPTR (35): order, preference, three character-strings kept as written, then the replacement name.
  const naptr = w('\x00\x0a\x00\x64\x01U\x07E2U+sip\x00\x03SIP\x07Example\x00');
  assert.equal(text(raw(35, naptr)), '\x00\x0a\x00\x64\x01U\x07E2U+sip\x00\x03sip\x07example\x00');
  // KX (36) and AFSDB (18): a 16-bit field, then a name.
  assert.equal(text(raw(36, w('\x00\x01\x02KX\x07EXAMPLE\x00'))), '\x00\x01\x02kx\x07example\x00');
  // NSEC (47): the next name keeps its case; a name that runs past the end is left as it is.
  assert.equal(text(raw(47, w('\x04Next\x07Example\x00\x00\x01\x40'))), '\x04Next\x07Example\x00\x00\x01\x40');
  assert.equal(text(raw(17, w('\x09Short'))), '\x09Short');
  // A signature over the mixed-case RDATA verifies against the lower-cased RDATA (what a validator computes).
  const key = generateKey('example.', 13, false);
  const sig = signRRset([raw(17, w('\x05Admin\x07Example\x00\x03TXT\x07example\x00'))], key, { inception: 1, expiration: 2 });
  assert.ok(verifyRRset([raw(17, w('\x05admin\x07example\x00\x03txt\x07example\x00'))], sig, key.dnskeyRdata));
  assert.ok(!verifyRRset([raw(17, w('\x05other\x07example\x00\x03txt\x07example\x00'))], sig, key.dnskeyRdata));
});

test('generateKey in a loop with a tiny young generation never deadlocks (Node 20: a freed keygen job locked the mutex a JWK export of its key held)', () => {
  // The old generateKey hung in about half of such runs (and once in CI for 17 minutes); each
  // generation now re-imports the key, so the collector never waits on a mutex the export holds.
  const script = `import { generateKey } from ${JSON.stringify(new URL('./keys.ts', import.meta.url).pathname)};\nfor (let i = 0; i < 1500; i++) generateKey('loop.example.', i % 2 ? 13 : 15, false);\nconsole.log('done');`;
  const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.signal, null, `killed after 90 s: deadlocked? ${r.stderr}`);
  assert.equal(r.stdout.trim(), 'done', r.stderr);
});
