// DNS Cookies: SipHash-2-4 reference vectors, RFC 9018 Appendix A vectors, and the guard and finisher
// decisions of every mode, driven through the real pipeline with the arrival time injected.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../config/load.js';
import { parseQuery } from '../../wire/fastpath.js';
import { decodeMessage, encodeMessage, getRcode } from '../../wire/message.js';
import { EdnsOptionCode, Rcode, RRType, type EdnsOption, type Message } from '../../wire/types.js';
import { ZoneSet } from '../../zone/tree.js';
import { QueryContext, type TransportProto } from '../../answer/context.js';
import { encodeResponse } from '../../answer/encode.js';
import { Pipeline } from '../../answer/pipeline.js';
import type { Runtime } from '../../answer/runtime.js';
import { createUnits } from '../../answer/units.js';
import { checkServerCookie, clientIpBytes, makeServerCookie } from './server-cookie.js';
import { siphash24, sipKey } from './siphash.js';
import { COOKIE_STATUS } from './index.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('SipHash-2-4', () => {
  // The reference implementation's vectors.h: key 00..0f, message 00..(n-1).
  const key = sipKey(Uint8Array.from({ length: 16 }, (_, i) => i));
  const vectors: [number, string][] = [
    [0, '310e0edd47db6f72'],
    [1, 'fd67dc93c539f874'],
    [7, '37d1018bf50002ab'],
    [8, '6224939a79f5f593'],
    [15, 'e545be4961ca29a1'],
    [63, '724506eb4c328a95'],
  ];
  for (const [n, want] of vectors) {
    test(`message of ${n} bytes`, () => {
      assert.equal(toHex(siphash24(key, Uint8Array.from({ length: n }, (_, i) => i))), want);
    });
  }
  test('a key that is not 16 bytes is rejected', () => {
    assert.throws(() => sipKey(new Uint8Array(15)), /16/);
  });
});

// RFC 9018 Appendix A (times in seconds since the epoch).
const SECRET = 'e5e973e5a6b2a43f48e7dc849e37bfcf';
const A1 = { ip: '198.51.100.100', client: '2464c4abcf10c957', at: 1559731985, reply: '2464c4abcf10c957010000005cf79f111f8130c3eee29480' };
const A2 = { ip: '198.51.100.100', sent: A1.reply, at: 1559734385, reply: '2464c4abcf10c957010000005cf7a871d4a564a1442aca77' };
const A3 = { ip: '203.0.113.203', sent: 'fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5', at: 1559734700, reply: 'fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e' };
const A4 = {
  ip: '2001:db8:220:1:59de:d0f4:8769:82b8',
  old: 'dd3bdf9344b678b185a6f5cb60fca715',
  secret: '445536bcd2513298075a5d379663c962',
  sent: '22681ab97d52c298010000005cf7c57926556bd0934c72f8',
  at: 1559741961,
  reply: '22681ab97d52c298010000005cf7c609a6bb79d16625507a',
};

describe('RFC 9018 server cookies (Appendix A)', () => {
  const gen = (secret: string, client: string, ip: string, at: number) => client + toHex(makeServerCookie(sipKey(hex(secret)), hex(client), clientIpBytes(ip)!, at));
  test('A.1 learning a server cookie', () => assert.equal(gen(SECRET, A1.client, A1.ip, A1.at), A1.reply));
  test('A.2 the same client renewing it', () => assert.equal(gen(SECRET, A1.client, A2.ip, A2.at), A2.reply));
  test('A.3 another client', () => assert.equal(gen(SECRET, 'fc93fc62807ddb86', A3.ip, A3.at), A3.reply));
  test('A.4 an IPv6 client after the secret rolled over', () => assert.equal(gen(A4.secret, '22681ab97d52c298', A4.ip, A4.at), A4.reply));

  test('validation: the hash, the previous secret, and the 1 hour / 5 minute window', () => {
    const keys = [sipKey(hex(SECRET))];
    const c = hex(A1.reply);
    const ip = clientIpBytes(A1.ip)!;
    assert.deepEqual(checkServerCookie(keys, c.subarray(0, 8), c.subarray(8), ip, A1.at + 10), { valid: true, keyIndex: 0, age: 10 });
    assert.equal(checkServerCookie(keys, c.subarray(0, 8), c.subarray(8), ip, A1.at + 3600).valid, true);
    assert.equal(checkServerCookie(keys, c.subarray(0, 8), c.subarray(8), ip, A1.at + 3601).valid, false);
    assert.equal(checkServerCookie(keys, c.subarray(0, 8), c.subarray(8), ip, A1.at - 300).valid, true);
    assert.equal(checkServerCookie(keys, c.subarray(0, 8), c.subarray(8), ip, A1.at - 301).valid, false);
    // Another client address, another client cookie or one flipped hash bit: invalid.
    assert.equal(checkServerCookie(keys, c.subarray(0, 8), c.subarray(8), clientIpBytes('198.51.100.101')!, A1.at).valid, false);
    assert.equal(checkServerCookie(keys, hex('2464c4abcf10c958'), c.subarray(8), ip, A1.at).valid, false);
    const flipped = c.slice(8);
    flipped[15] ^= 1;
    assert.equal(checkServerCookie(keys, c.subarray(0, 8), flipped, ip, A1.at).valid, false);
    // A.4: made with the old secret, accepted while it is listed as previous.
    const a4 = hex(A4.sent);
    const ip6 = clientIpBytes(A4.ip)!;
    assert.equal(checkServerCookie([sipKey(hex(A4.secret))], a4.subarray(0, 8), a4.subarray(8), ip6, A4.at).valid, false);
    assert.deepEqual(checkServerCookie([sipKey(hex(A4.secret)), sipKey(hex(A4.old))], a4.subarray(0, 8), a4.subarray(8), ip6, A4.at), { valid: true, keyIndex: 1, age: 144 });
  });

  test('an IPv4-mapped IPv6 peer hashes as its IPv4 address', () => {
    assert.deepEqual(clientIpBytes('::ffff:198.51.100.100'), clientIpBytes('198.51.100.100'));
    assert.equal(clientIpBytes('not an address'), undefined);
  });
});

// --- the units in the pipeline ---

function runtimeWith(yaml: string): Runtime {
  return { config: parseConfigText(yaml, 'test.yaml').config, zones: new ZoneSet([]), generation: 1 };
}

interface Sent {
  cookie?: string;
  qdcount0?: boolean;
  edns?: boolean;
  opcode?: number;
}

function queryBytes(s: Sent): Uint8Array {
  const options: EdnsOption[] = s.cookie === undefined ? [] : [{ code: EdnsOptionCode.COOKIE, data: hex(s.cookie) }];
  const m: Message = {
    id: 7,
    flags: { qr: false, opcode: s.opcode ?? 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: s.qdcount0 ? [] : [{ name: 'www.example.lab.', type: RRType.A, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: s.edns === false ? undefined : { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options },
  };
  return encodeMessage(m);
}

interface Got {
  sent: boolean;
  rcode: number;
  tc: boolean;
  cookie?: string;
  status?: string;
}

function ask(rt: Runtime, s: Sent, at: number, ip: string, proto: TransportProto = 'udp'): Got {
  const raw = queryBytes(s);
  const ctx = new QueryContext(raw, parseQuery(raw), { proto, remoteAddress: ip, remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 }, rt, at * 1000);
  const verdict = new Pipeline(createUnits()).run(ctx);
  assert.ok(!(verdict instanceof Promise));
  if (verdict.kind === 'drop') return { sent: false, rcode: -1, tc: false };
  const m = decodeMessage(ctx.response.prebuilt ?? encodeResponse(ctx));
  const opt = m.edns?.options.find((o) => o.code === EdnsOptionCode.COOKIE);
  return { sent: true, rcode: getRcode(m), tc: m.flags.tc, cookie: opt ? toHex(opt.data) : undefined, status: ctx.get(COOKIE_STATUS) };
}

describe('cookies guard and finisher', () => {
  const answer = runtimeWith(`cookies: { mode: answer, secret: ${SECRET} }\n`);
  const enforce = runtimeWith(`cookies: { mode: enforce, secret: ${SECRET} }\n`);

  test('answer mode returns exactly the RFC 9018 cookies (A.1, A.2, A.3)', () => {
    assert.deepEqual(ask(answer, { cookie: A1.client }, A1.at, A1.ip), { sent: true, rcode: Rcode.REFUSED, tc: false, cookie: A1.reply, status: 'invalid' });
    // 40 minutes on: valid, but older than rotateEvery (30 min), so made anew.
    assert.deepEqual(ask(answer, { cookie: A2.sent }, A2.at, A2.ip), { sent: true, rcode: Rcode.REFUSED, tc: false, cookie: A2.reply, status: 'valid' });
    // Reserved bits set and older than an hour: invalid, a fresh cookie with Reserved zero.
    assert.deepEqual(ask(answer, { cookie: A3.sent }, A3.at, A3.ip), { sent: true, rcode: Rcode.REFUSED, tc: false, cookie: A3.reply, status: 'invalid' });
  });

  test('A.4: a cookie made with a previous secret is valid and replaced by one made with the current secret', () => {
    const rt = runtimeWith(`cookies: { mode: enforce, secret: ${A4.secret}, previousSecrets: [${A4.old}] }\n`);
    assert.deepEqual(ask(rt, { cookie: A4.sent }, A4.at, A4.ip), { sent: true, rcode: Rcode.REFUSED, tc: false, cookie: A4.reply, status: 'valid' });
    const without = runtimeWith(`cookies: { mode: enforce, secret: ${A4.secret} }\n`);
    assert.deepEqual(ask(without, { cookie: A4.sent }, A4.at, A4.ip), { sent: true, rcode: Rcode.BADCOOKIE, tc: false, cookie: A4.reply, status: 'invalid' });
  });

  test('a valid cookie younger than rotateEvery is returned unchanged', () => {
    assert.equal(ask(answer, { cookie: A1.reply }, A1.at + 600, A1.ip).cookie, A1.reply);
    const fast = runtimeWith(`cookies: { mode: answer, secret: ${SECRET}, rotateEvery: 300 }\n`);
    assert.notEqual(ask(fast, { cookie: A1.reply }, A1.at + 600, A1.ip).cookie, A1.reply);
  });

  test('enforce over UDP: BADCOOKIE with a fresh cookie, TC=1 without a cookie, normal with a valid one', () => {
    assert.deepEqual(ask(enforce, { cookie: A1.client }, A1.at, A1.ip), { sent: true, rcode: Rcode.BADCOOKIE, tc: false, cookie: A1.reply, status: 'invalid' });
    assert.deepEqual(ask(enforce, {}, A1.at, A1.ip), { sent: true, rcode: Rcode.NOERROR, tc: true, cookie: undefined, status: 'absent' });
    assert.deepEqual(ask(enforce, { edns: false }, A1.at, A1.ip), { sent: true, rcode: Rcode.NOERROR, tc: true, cookie: undefined, status: 'absent' });
    assert.deepEqual(ask(enforce, { cookie: A1.reply }, A1.at + 1, A1.ip), { sent: true, rcode: Rcode.REFUSED, tc: false, cookie: A1.reply, status: 'valid' });
    // Expired (over an hour), from the future (over 5 minutes), or from another address: BADCOOKIE.
    assert.equal(ask(enforce, { cookie: A1.reply }, A1.at + 3601, A1.ip).rcode, Rcode.BADCOOKIE);
    assert.equal(ask(enforce, { cookie: A1.reply }, A1.at - 301, A1.ip).rcode, Rcode.BADCOOKIE);
    assert.equal(ask(enforce, { cookie: A1.reply }, A1.at, '198.51.100.101').rcode, Rcode.BADCOOKIE);
  });

  test('enforce with onInvalid tc and onMissing allow', () => {
    const tc = runtimeWith(`cookies: { mode: enforce, secret: ${SECRET}, onInvalid: tc, onMissing: allow }\n`);
    assert.deepEqual(ask(tc, { cookie: A1.client }, A1.at, A1.ip), { sent: true, rcode: Rcode.NOERROR, tc: true, cookie: A1.reply, status: 'invalid' });
    assert.deepEqual(ask(tc, {}, A1.at, A1.ip), { sent: true, rcode: Rcode.REFUSED, tc: false, cookie: undefined, status: 'absent' });
  });

  test('TCP, TLS and HTTPS are exempt from enforcement', () => {
    for (const proto of ['tcp', 'tls', 'https'] as const) {
      assert.deepEqual(ask(enforce, {}, A1.at, A1.ip, proto), { sent: true, rcode: Rcode.REFUSED, tc: false, cookie: undefined, status: 'absent' }, proto);
      assert.deepEqual(ask(enforce, { cookie: A1.client }, A1.at, A1.ip, proto), { sent: true, rcode: Rcode.REFUSED, tc: false, cookie: A1.reply, status: 'invalid' }, proto);
    }
  });

  test('a malformed COOKIE option is FORMERR in every mode (RFC 7873 §5.2.2)', () => {
    for (const rt of [answer, enforce, runtimeWith('{}')]) {
      for (const bad of ['0102030405', '2464c4abcf10c95701', '2464c4abcf10c957' + '00'.repeat(33)]) {
        const got = ask(rt, { cookie: bad }, A1.at, A1.ip);
        assert.equal(got.rcode, Rcode.FORMERR, bad);
        assert.equal(got.cookie, undefined);
      }
    }
  });

  test('a cookie-only query (QDCOUNT 0, RFC 7873 §5.4) gets NOERROR and a server cookie; a bad server cookie in enforce mode BADCOOKIE', () => {
    assert.deepEqual(ask(answer, { cookie: A1.client, qdcount0: true }, A1.at, A1.ip), { sent: true, rcode: Rcode.NOERROR, tc: false, cookie: A1.reply, status: 'invalid' });
    assert.deepEqual(ask(enforce, { cookie: A1.client, qdcount0: true }, A1.at, A1.ip), { sent: true, rcode: Rcode.NOERROR, tc: false, cookie: A1.reply, status: 'invalid' });
    assert.equal(ask(enforce, { cookie: A1.reply, qdcount0: true }, A1.at + 1, A1.ip).rcode, Rcode.NOERROR);
    assert.equal(ask(enforce, { cookie: A3.sent, qdcount0: true }, A3.at, A3.ip).rcode, Rcode.BADCOOKIE);
    // Without cookies enabled the missing question stays FORMERR.
    assert.equal(ask(runtimeWith('{}'), { cookie: A1.client, qdcount0: true }, A1.at, A1.ip).rcode, Rcode.FORMERR);
  });

  test('header errors keep their rcode and still carry the cookie', () => {
    const notimp = ask(enforce, { cookie: A1.client, opcode: 15 }, A1.at, A1.ip);
    assert.equal(notimp.rcode, Rcode.NOTIMP);
    assert.equal(notimp.cookie, A1.reply);
  });

  test('mode off: no cookie in the response and no state for later units', () => {
    assert.deepEqual(ask(runtimeWith('{}'), { cookie: A1.client }, A1.at, A1.ip), { sent: true, rcode: Rcode.REFUSED, tc: false, cookie: undefined, status: undefined });
  });

  test('without a configured secret one is made per process, so cookies still round-trip', () => {
    const rt = runtimeWith('cookies: { mode: enforce }\n');
    const first = ask(rt, { cookie: A1.client }, A1.at, A1.ip);
    assert.equal(first.rcode, Rcode.BADCOOKIE);
    assert.notEqual(first.cookie, A1.reply);
    assert.equal(ask(rt, { cookie: first.cookie! }, A1.at + 5, A1.ip).rcode, Rcode.REFUSED);
  });

  test('configuration errors name the key and what was expected', () => {
    assert.throws(() => parseConfigText('cookies: { mode: always }\n', 'f.yaml'), /f\.yaml:1: cookies\.mode: .*"off", "answer", "enforce"/);
    assert.throws(() => parseConfigText('cookies: { secret: abcd }\n', 'f.yaml'), /cookies\.secret: expected a 16-byte secret as 32 hexadecimal digits/);
    assert.throws(() => parseConfigText('cookies: { rotateEvery: 7200 }\n', 'f.yaml'), /cookies\.rotateEvery: expected at most 3000 seconds/);
  });
});
