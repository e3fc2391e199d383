// Online signing units: compact denial (RFC 9824) shapes, the TTL signed is the TTL sent, the signature cache per (RRset, TTL) and its reset on reload, key errors at configuration load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, writeKeyFiles } from '../keys.js';
import { parseRrsig, verifyRRset } from '../rrsig.js';
import { bitmapTypes, NXNAME } from '../nsec.js';
import { buildSignerTable, signersOf, type SignClock } from './signers.js';
import { signResponse, type SignableResponse } from './sign-response.js';
import { parseConfigText, ConfigError } from '../../config/load.js';
import { nameToWire } from '../../wire/name.js';
import { Rcode, RRType, type OpaqueRdata, type ResourceRecord } from '../../wire/types.js';

const clock: SignClock = { now: () => 1_800_000_000, jitter: () => 0 };

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-online-'));
  const key = generateKey('z.test', 13, true);
  const file = writeKeyFiles(dir, key).privateFile;
  const dnssec = { sign: 'online' as const, keys: [file], expiry: 86400, expiryJitter: 0, dnskeyTtl: 3600, cds: true };
  const sources = { zones: [{ name: 'z.test.', dnssec }], echo: [], policies: [], services: [] };
  return { dir, key, file, table: buildSignerTable(sources, clock), sources };
}

const soa: ResourceRecord = { name: 'z.test.', type: RRType.SOA, class: 1, ttl: 300, data: { mname: 'ns.z.test.', rname: 'h.z.test.', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } };

test('a positive answer gets one RRSIG per RRset, over the TTL as sent, valid for the configured expiry from an hour back', () => {
  const { dir, key, table } = setup();
  try {
    const a: ResourceRecord = { name: 'WWW.z.test.', type: RRType.A, class: 1, ttl: 123, data: { address: '198.51.100.1' } };
    const r: SignableResponse = { rcode: 0, aa: true, answer: [a], authority: [], additional: [] };
    assert.ok(signResponse(r, 'WWW.z.test.', RRType.A, table));
    assert.equal(r.answer.length, 2);
    const sig = r.answer[1]!;
    assert.equal(sig.type, RRType.RRSIG);
    assert.equal(sig.ttl, 123);
    const f = parseRrsig((sig.data as OpaqueRdata).raw);
    assert.equal(f.originalTtl, 123);
    assert.equal(f.inception, 1_800_000_000 - 3600);
    assert.equal(f.expiration, 1_800_000_000 + 86400);
    assert.ok(verifyRRset([a], sig, key.dnskeyRdata));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NXDOMAIN becomes NOERROR with an NSEC to the immediate successor holding NXNAME (RFC 9824); NODATA lists no asked type', () => {
  const { dir, key, table } = setup();
  try {
    const r: SignableResponse = { rcode: Rcode.NXDOMAIN, aa: true, answer: [], authority: [soa], additional: [] };
    signResponse(r, 'nope.z.test.', RRType.A, table);
    assert.equal(r.rcode, Rcode.NOERROR);
    const types = r.authority.map((x) => x.type);
    assert.deepEqual(types, [RRType.SOA, RRType.RRSIG, RRType.NSEC, RRType.RRSIG]);
    const nsec = r.authority[2]!;
    assert.equal(nsec.name, 'nope.z.test.');
    assert.equal(nsec.ttl, 60, 'min(SOA TTL, minimum) (RFC 9077)');
    const raw = (nsec.data as OpaqueRdata).raw;
    const next = nameToWire('\\000.nope.z.test.');
    assert.deepEqual(Buffer.from(raw.subarray(0, next.length)), Buffer.from(next));
    assert.deepEqual(bitmapTypes(raw.subarray(next.length)), [RRType.RRSIG, RRType.NSEC, NXNAME]);
    assert.ok(verifyRRset([nsec], r.authority[3]!, key.dnskeyRdata));

    const apex: SignableResponse = { rcode: 0, aa: true, answer: [], authority: [soa], additional: [] };
    signResponse(apex, 'z.test.', RRType.TXT, table);
    const bits = bitmapTypes((apex.authority[2]!.data as OpaqueRdata).raw.subarray(nameToWire('\\000.z.test.').length));
    assert.ok(bits.includes(RRType.DNSKEY) && bits.includes(59) && bits.includes(60), 'the apex bitmap shows the key sets served there');
    assert.ok(!bits.includes(RRType.TXT) && !bits.includes(RRType.CNAME) && !bits.includes(NXNAME));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a query for NSEC or RRSIG is answered with it, signed: a NODATA whose NSEC holds the type asked would prove nothing', () => {
  const { dir, key, table } = setup();
  try {
    for (const [qname, rcode, bits] of [
      ['www.z.test.', Rcode.NOERROR, [RRType.RRSIG, RRType.NSEC]],
      ['nope.z.test.', Rcode.NXDOMAIN, [RRType.RRSIG, RRType.NSEC, NXNAME]],
    ] as const) {
      const r: SignableResponse = { rcode, aa: true, answer: [], authority: [soa], additional: [] };
      signResponse(r, qname, RRType.NSEC, table);
      assert.equal(r.rcode, Rcode.NOERROR);
      assert.deepEqual(r.answer.map((x) => x.type), [RRType.NSEC, RRType.RRSIG], qname);
      assert.deepEqual(r.authority, [], qname);
      const nsec = r.answer[0]!;
      assert.equal(nsec.name, qname);
      assert.deepEqual(bitmapTypes((nsec.data as OpaqueRdata).raw.subarray(nameToWire(`\\000.${qname}`).length)), [...bits]);
      assert.ok(verifyRRset([nsec], r.answer[1]!, key.dnskeyRdata), qname);

      const q: SignableResponse = { rcode, aa: true, answer: [], authority: [soa], additional: [] };
      signResponse(q, qname, RRType.RRSIG, table);
      assert.equal(q.rcode, Rcode.NOERROR);
      // No zone data here: the name's one RRSIG is its NSEC's.
      assert.deepEqual(q.answer.map((x) => x.type), [RRType.RRSIG], qname);
      assert.equal(parseRrsig((q.answer[0]!.data as OpaqueRdata).raw).typeCovered, RRType.NSEC);
      assert.deepEqual(q.authority, [], qname);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('signatures are cached per (RRset, TTL), renewed after half their validity, and a reload starts a new cache', () => {
  const { dir, table, sources } = setup();
  try {
    const z = table.find('a.z.test.')!;
    const set = (ttl: number): ResourceRecord[] => [{ name: 'a.z.test.', type: RRType.A, class: 1, ttl, data: { address: '198.51.100.1' } }];
    const s1 = z.sign(set(60));
    assert.equal(z.sign(set(60))[0], s1[0], 'same RRset and TTL: the cached signature');
    assert.notEqual(z.sign(set(59))[0], s1[0], 'another TTL: another signature');
    assert.equal(z.signed, 2);
    assert.equal(z.hits, 1);
    // Half the validity later the signature is made again.
    let t = clock.now();
    const moving = buildSignerTable(sources, { now: () => t, jitter: () => 0 }).find('a.z.test.')!;
    const m1 = moving.sign(set(60));
    t += 86400 / 2 + 1;
    assert.notEqual(moving.sign(set(60))[0], m1[0]);
    // perConfig: a configuration object (a reload makes a new one) gets its own table and cache.
    const a = signersOf({ ...sources });
    const b = signersOf({ ...sources });
    assert.notEqual(a, b);
    a.find('a.z.test.')!.sign(set(60));
    assert.equal(b.find('a.z.test.')!.signed, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an online NSEC\'s next name is in lower case whatever the question\'s case (RFC 4034 §6.2 and RFC 6840 §5.1 then agree)', () => {
  const { dir, key, table } = setup();
  try {
    const r: SignableResponse = { rcode: Rcode.NXDOMAIN, aa: true, answer: [], authority: [soa], additional: [] };
    signResponse(r, 'NoPe.Z.test.', RRType.A, table);
    const nsec = r.authority[2]!;
    assert.equal(nsec.type, RRType.NSEC);
    const next = nameToWire('\\000.nope.z.test.');
    assert.deepEqual(Buffer.from((nsec.data as OpaqueRdata).raw.subarray(0, next.length)), Buffer.from(next));
    assert.ok(verifyRRset([nsec], r.authority[3]!, key.dnskeyRdata));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a referral from a signed zone to an unsigned child carries a signed NSEC proving no DS', () => {
  const { dir, key, table } = setup();
  try {
    const ns: ResourceRecord = { name: 'child.z.test.', type: RRType.NS, class: 1, ttl: 300, data: { target: 'ns.child.z.test.' } };
    const r: SignableResponse = { rcode: 0, aa: false, answer: [], authority: [ns], additional: [] };
    signResponse(r, 'www.child.z.test.', RRType.A, table);
    assert.deepEqual(r.authority.map((x) => x.type), [RRType.NS, RRType.NSEC, RRType.RRSIG]);
    const nsec = r.authority[1]!;
    assert.deepEqual(bitmapTypes((nsec.data as OpaqueRdata).raw.subarray(nameToWire('\\000.child.z.test.').length)), [RRType.NS, RRType.RRSIG, RRType.NSEC]);
    assert.ok(verifyRRset([nsec], r.authority[2]!, key.dnskeyRdata));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing, mismatched or foreign key file is a configuration error naming the file, line and key; the key never appears', () => {
  const { dir, file, key } = setup();
  try {
    const zone = join(dir, 'z.zone');
    writeFileSync(zone, '@ 300 SOA ns h 1 1 1 1 1\n');
    const conf = (keys: string) => `zones:\n  - name: z.test\n    file: ${zone}\n    dnssec:\n      sign: online\n      keys: [${keys}]\n`;
    assert.throws(() => parseConfigText(conf(join(dir, 'Kmissing')), join(dir, 'f.yaml')), (e: unknown) => e instanceof ConfigError && /f\.yaml:6: zones\[0\]\.dnssec\.keys\[0\]: .*Kmissing\.key: cannot read: ENOENT/.test(e.message));
    const other = writeKeyFiles(dir, generateKey('other.test', 15, true)).privateFile;
    assert.throws(() => parseConfigText(conf(other), join(dir, 'f.yaml')), (e: unknown) => e instanceof ConfigError && /the key is for other\.test\., not z\.test\./.test(e.message));
    const ok = parseConfigText(conf(file), join(dir, 'f.yaml'));
    assert.equal(signersOf(ok.config).find('x.z.test.')?.keys[0]?.keyTag, key.keyTag);
    // A broken .private: the error has the line, never the value.
    writeFileSync(file, 'Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: c2VjcmV0LXZhbHVl\n');
    assert.throws(() => parseConfigText(conf(file), join(dir, 'f.yaml')), (e: unknown) => e instanceof ConfigError && /private:3: unusable PrivateKey/.test(e.message) && !e.message.includes('c2VjcmV0LXZhbHVl'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
