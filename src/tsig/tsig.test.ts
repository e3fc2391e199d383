// TSIG codec, MAC rules, request verification (key, MAC, truncation, time) and response signing, with
// the clock given as an argument so every time check is exact.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery } from '../wire/fastpath.js';
import { encodeMessage } from '../wire/message.js';
import { RRType, type Message } from '../wire/types.js';
import { ALGORITHMS, algorithmByName, macSizeAcceptable } from './algorithms.js';
import { keyRingOf, type TsigKey } from './keys.js';
import { encodeTsigRecord, parseTsigAt, read48, write48 } from './record.js';
import { appendTsig, signedOverhead, type SignPlan } from './sign.js';
import { tsigSchema } from './schema.js';
import { findTsig, verifyRequest, verifyResponse } from './verify.js';

const SECRET = Buffer.from('fluxdns-tsig-test-secret-0123456789');
const T = 1_795_000_000;

function keyOf(name: string, alg: string): TsigKey {
  return { name, algorithm: algorithmByName(alg)!, secret: SECRET };
}

function query(id = 0x1234, name = 'www.example.lab.'): Uint8Array {
  const m: Message = {
    id,
    flags: { qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name, type: RRType.A, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options: [] },
  };
  return encodeMessage(m);
}

function signRequest(raw: Uint8Array, key: TsigKey, at: number, macSize = key.algorithm.size, fudge = 300): Uint8Array {
  return appendTsig(raw, { keyName: key.name, algorithm: key.algorithm.name, key, macSize, fudge, error: 0 }, at);
}

const ring = (...keys: TsigKey[]) => new Map(keys.map((k) => [k.name, k]));

describe('TSIG record', () => {
  test('48-bit time round trip, above 2^32', () => {
    const b = new Uint8Array(6);
    for (const v of [0, 1, T, 2 ** 32 + 5, 2 ** 48 - 1]) {
      write48(b, 0, v);
      assert.equal(read48(b, 0), v);
    }
  });

  test('encode → parse keeps every field; names go out in lower case, uncompressed', () => {
    const rec = { keyName: 'Key.Lab.', algorithm: 'hmac-sha256.', timeSigned: T, fudge: 300, mac: Uint8Array.from([1, 2, 3]), originalId: 77, error: 18, other: Uint8Array.from([0, 0, 1, 2, 3, 4]) };
    const wire = encodeTsigRecord(rec);
    const back = parseTsigAt(wire, 0);
    assert.deepEqual({ ...back, mac: [...back.mac], other: [...back.other] }, { ...rec, keyName: 'key.lab.', mac: [1, 2, 3], other: [0, 0, 1, 2, 3, 4] });
    assert.equal(wire[1], 'k'.charCodeAt(0));
  });

  test('class other than ANY, TTL other than 0, or rdata not ending the message is malformed', () => {
    const wire = encodeTsigRecord({ keyName: 'k.', algorithm: 'hmac-sha256.', timeSigned: T, fudge: 300, mac: new Uint8Array(32), originalId: 1, error: 0, other: new Uint8Array(0) });
    const cls = wire.slice();
    cls[5] = 1; // class IN (owner "k." is 3 bytes, then type)
    assert.throws(() => parseTsigAt(cls, 0), /class is not ANY/);
    const ttl = wire.slice();
    ttl[9] = 1;
    assert.throws(() => parseTsigAt(ttl, 0), /TTL is not 0/);
    assert.throws(() => parseTsigAt(Uint8Array.from([...wire, 0]), 0), /does not end the message/);
    const other = wire.slice();
    other[other.length - 1] = 4; // Other Len 4 with nothing after it
    assert.throws(() => parseTsigAt(other, 0), /Other Len/);
  });
});

describe('MAC size rules (RFC 8945 §5.2.2.1)', () => {
  const cases: [string, number, boolean][] = [
    ['hmac-sha256', 32, true],
    ['hmac-sha256', 16, true],
    ['hmac-sha256', 15, false],
    ['hmac-sha256', 33, false],
    ['hmac-sha1', 10, true],
    ['hmac-sha1', 9, false],
    ['hmac-sha512', 32, true],
    ['hmac-sha512', 31, false],
    ['hmac-sha224', 14, true],
    ['hmac-sha224', 13, false],
  ];
  for (const [alg, size, ok] of cases) test(`${alg} with ${size} bytes: ${ok ? 'accepted' : 'FORMERR'}`, () => assert.equal(macSizeAcceptable(algorithmByName(alg)!, size), ok));
});

describe('request verification', () => {
  for (const alg of ALGORITHMS) {
    test(`${alg.name} signed request verifies; the fast path finds the TSIG last`, () => {
      const key = keyOf('k1.', alg.name);
      const raw = signRequest(query(), key, T);
      const q = parseQuery(raw);
      assert.equal(q.error, undefined);
      assert.equal(q.arcount, 2);
      assert.equal(q.tsigAt, findTsig(raw));
      const v = verifyRequest(raw, q.tsigAt!, ring(key), 300, T);
      assert.equal(v.kind, 'valid');
    });
  }

  test('a truncated MAC (16 of 32 bytes) verifies; one bit off in it is BADSIG', () => {
    const key = keyOf('k1.', 'hmac-sha256');
    const raw = signRequest(query(), key, T, 16);
    const at = parseQuery(raw).tsigAt!;
    assert.equal(verifyRequest(raw, at, ring(key), 300, T).kind, 'valid');
    const bad = raw.slice();
    bad[bad.length - 7] ^= 1; // last MAC byte (then Original ID, Error, Other Len)
    assert.equal(verifyRequest(bad, at, ring(key), 300, T).kind, 'badsig');
  });

  test('MAC sizes the RFC forbids are FORMERR, not BADSIG', () => {
    const key = keyOf('k1.', 'hmac-sha256');
    const raw = signRequest(query(), key, T, 8);
    const v = verifyRequest(raw, parseQuery(raw).tsigAt!, ring(key), 300, T);
    assert.equal(v.kind, 'formerr');
  });

  test('a changed message byte is BADSIG; another secret is BADSIG', () => {
    const key = keyOf('k1.', 'hmac-sha256');
    const raw = signRequest(query(), key, T);
    const at = parseQuery(raw).tsigAt!;
    const flipped = raw.slice();
    flipped[3] ^= 0x10; // CD bit
    assert.equal(verifyRequest(flipped, at, ring(key), 300, T).kind, 'badsig');
    assert.equal(verifyRequest(raw, at, ring({ ...key, secret: Buffer.from('another') }), 300, T).kind, 'badsig');
  });

  test('the ID may change on the way (Original ID is digested instead)', () => {
    const key = keyOf('k1.', 'hmac-sha256');
    const raw = signRequest(query(0x1111), key, T);
    raw[0] = 0x22;
    raw[1] = 0x22;
    assert.equal(verifyRequest(raw, parseQuery(raw).tsigAt!, ring(key), 300, T).kind, 'valid');
  });

  test('unknown key, or a known key with another algorithm, is BADKEY', () => {
    const key = keyOf('k1.', 'hmac-sha256');
    const raw = signRequest(query(), key, T);
    const at = parseQuery(raw).tsigAt!;
    assert.equal(verifyRequest(raw, at, ring(keyOf('k2.', 'hmac-sha256')), 300, T).kind, 'badkey');
    assert.equal(verifyRequest(raw, at, ring(keyOf('k1.', 'hmac-sha512')), 300, T).kind, 'badkey');
    assert.equal(verifyRequest(raw, at, new Map(), 300, T).kind, 'badkey');
  });

  test('key names compare case-insensitively', () => {
    const raw = signRequest(query(), keyOf('K1.', 'hmac-sha256'), T);
    assert.equal(verifyRequest(raw, parseQuery(raw).tsigAt!, ring(keyOf('k1.', 'hmac-sha256')), 300, T).kind, 'valid');
  });

  test('time: within the fudge either way is valid, one second beyond is BADTIME; the smaller fudge wins', () => {
    const key = keyOf('k1.', 'hmac-sha256');
    const raw = signRequest(query(), key, T);
    const at = parseQuery(raw).tsigAt!;
    assert.equal(verifyRequest(raw, at, ring(key), 300, T + 300).kind, 'valid');
    assert.equal(verifyRequest(raw, at, ring(key), 300, T - 300).kind, 'valid');
    assert.equal(verifyRequest(raw, at, ring(key), 300, T + 301).kind, 'badtime');
    assert.equal(verifyRequest(raw, at, ring(key), 300, T - 301).kind, 'badtime');
    assert.equal(verifyRequest(raw, at, ring(key), 60, T + 61).kind, 'badtime');
    const wide = signRequest(query(), key, T, 32, 3600);
    assert.equal(verifyRequest(wide, parseQuery(wide).tsigAt!, ring(key), 300, T + 301).kind, 'badtime');
  });

  test('BADSIG is reported before BADTIME (the MAC is checked first, §5.2)', () => {
    const key = keyOf('k1.', 'hmac-sha256');
    const raw = signRequest(query(), key, T);
    assert.equal(verifyRequest(raw, parseQuery(raw).tsigAt!, ring({ ...key, secret: Buffer.from('x') }), 300, T + 9999).kind, 'badsig');
  });
});

describe('fast path: TSIG placement (RFC 8945 §5.1)', () => {
  const key = keyOf('k1.', 'hmac-sha256');
  const tsigRR = () => {
    const signed = signRequest(query(), key, T);
    return signed.subarray(parseQuery(signed).tsigAt!);
  };
  /** A query with its additional section replaced by `records` (raw RRs) and ARCOUNT set to match. */
  function withAdditional(records: Uint8Array[]): Uint8Array {
    const base = query();
    const q = parseQuery(base);
    const head = base.slice(0, q.questionEnd);
    const opt = base.subarray(q.questionEnd);
    const parts = records.map((r) => (r === OPT ? opt : r));
    const out = new Uint8Array(head.length + parts.reduce((n, p) => n + p.length, 0));
    out.set(head, 0);
    let p = head.length;
    for (const part of parts) {
      out.set(part, p);
      p += part.length;
    }
    out[11] = records.length;
    return out;
  }
  const OPT = new Uint8Array(0);

  test('a TSIG before the OPT is FORMERR', () => {
    const q = parseQuery(withAdditional([tsigRR(), OPT]));
    assert.match(q.error?.reason ?? '', /TSIG is not the last record/);
  });
  test('two TSIGs are FORMERR', () => {
    const q = parseQuery(withAdditional([OPT, tsigRR(), tsigRR()]));
    assert.match(q.error?.reason ?? '', /TSIG is not the last record/);
  });
  test('no TSIG: tsigAt stays unset', () => {
    assert.equal(parseQuery(query()).tsigAt, undefined);
  });
});

describe('response signing', () => {
  const key = keyOf('k1.', 'hmac-sha256');
  const reqMac = Uint8Array.from({ length: 32 }, (_, i) => i);
  const plan: SignPlan = { keyName: 'k1.', algorithm: 'hmac-sha256.', key, requestMac: reqMac, macSize: 32, fudge: 300, error: 0 };

  test('the appended record is counted, is last, verifies against the request MAC, and has the predicted size', () => {
    const wire = query(0x4242);
    const signed = appendTsig(wire, plan, T);
    assert.equal(signed.length, wire.length + signedOverhead(plan));
    assert.equal(signed[11], 2);
    const at = findTsig(signed)!;
    assert.equal(at, wire.length);
    const v = verifyResponse(signed, at, key, reqMac);
    assert.ok(v.ok, v.reason);
    assert.equal(v.record!.timeSigned, T);
    assert.equal(v.record!.originalId, 0x4242);
    // Another request MAC (a response to some other query) does not verify.
    assert.equal(verifyResponse(signed, at, key, new Uint8Array(32)).ok, false);
  });

  test('an unsigned error TSIG has MAC size 0 and never verifies', () => {
    const signed = appendTsig(query(), { keyName: 'k1.', algorithm: 'hmac-sha256.', macSize: 0, fudge: 300, error: 16 }, T);
    const rec = parseTsigAt(signed, findTsig(signed)!);
    assert.equal(rec.mac.length, 0);
    assert.equal(rec.error, 16);
    assert.equal(verifyResponse(signed, findTsig(signed)!, key, reqMac).ok, false);
  });
});

describe('tsig configuration', () => {
  test('defaults: hmac-sha256, fudge 300; names lower case and absolute', () => {
    const c = tsigSchema.parse({ keys: [{ name: 'Demo-Key', secret: 'c2VjcmV0' }] });
    assert.equal(c.fudge, 300);
    assert.deepEqual(c.keys[0], { name: 'demo-key.', algorithm: 'hmac-sha256', secret: 'c2VjcmV0' });
    assert.deepEqual([...keyRingOf(c).get('demo-key.')!.secret], [...Buffer.from('secret')]);
  });
  test('a secret that is not base64, both or neither of secret/secretFile, a duplicate key: errors that say what was expected', () => {
    const issues = (v: unknown) => {
      const r = tsigSchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.deepEqual(issues({ keys: [{ name: 'k', secret: 'not base64!' }] }), ['keys.0.secret: expected the secret in base64 (as tsig-keygen prints it)']);
    assert.deepEqual(issues({ keys: [{ name: 'k' }] }), ['keys.0.secret: expected exactly one of "secret" (base64) or "secretFile" (a path)']);
    assert.deepEqual(issues({ keys: [{ name: 'k', secret: 'c2VjcmV0', secretFile: 'k.key' }] }), ['keys.0.secret: expected exactly one of "secret" (base64) or "secretFile" (a path)']);
    assert.deepEqual(issues({ keys: [{ name: 'k', secret: 'c2VjcmV0' }, { name: 'K.', secret: 'c2VjcmV0' }] }), ['keys.1.name: key "k." is defined twice; expected unique key names']);
    assert.match(issues({ keys: [{ name: 'k', algorithm: 'hmac-md5', secret: 'c2VjcmV0' }] })[0]!, /keys\.0\.algorithm/);
  });
});
