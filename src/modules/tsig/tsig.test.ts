// The tsig guard and finisher through the real pipeline, with the arrival time injected: signed answers
// verify, failures get the RFC 8945 §5.3.2 error TSIGs, oversize UDP answers shrink to question + TSIG
// (§5.3), signed queries bypass the answer cache, and policies can match on the signature.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../config/load.js';
import { algorithmByName } from '../../tsig/algorithms.js';
import { parseTsigAt, read48, encodeTsigRecord } from '../../tsig/record.js';
import { appendTsig } from '../../tsig/sign.js';
import { findTsig, verifyResponse } from '../../tsig/verify.js';
import type { TsigKey } from '../../tsig/keys.js';
import { parseQuery } from '../../wire/fastpath.js';
import { decodeMessage, encodeMessage, getRcode } from '../../wire/message.js';
import { Opcode, Rcode, RRType, type Message, type TXTRdata } from '../../wire/types.js';
import { parseZone } from '../../zone/parser.js';
import { Zone, ZoneSet } from '../../zone/tree.js';
import { QueryContext, type TransportProto } from '../../answer/context.js';
import { encodeResponse } from '../../answer/encode.js';
import { Pipeline } from '../../answer/pipeline.js';
import type { Runtime } from '../../answer/runtime.js';
import { AnswerCache } from '../cache/index.js';
import { createUnits } from '../../answer/units.js';
import { TSIG_STATUS, type TsigStatus } from './index.js';

const SECRET_B64 = Buffer.from('pipeline-tsig-secret-0123456789abcdef').toString('base64');
const T = 1_795_000_000;
const ZONE = `$ORIGIN ts.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.80\n${Array.from({ length: 12 }, (_, i) => `big TXT "${String(i).padStart(2, '0')}${'x'.repeat(60)}"`).join('\n')}\n`;

function runtime(extra = ''): Runtime {
  const yaml = `tsig:\n  keys:\n    - { name: k1, secret: "${SECRET_B64}" }\n    - { name: k2, algorithm: hmac-sha512, secret: "${SECRET_B64}" }\n${extra}`;
  const zone = Zone.build('ts.lab.', parseZone(ZONE, { origin: 'ts.lab.' }).records);
  return { config: parseConfigText(yaml, 'test.yaml').config, zones: new ZoneSet([zone]), generation: 1 };
}

const K1: TsigKey = { name: 'k1.', algorithm: algorithmByName('hmac-sha256')!, secret: Buffer.from(SECRET_B64, 'base64') };
const K2: TsigKey = { name: 'k2.', algorithm: algorithmByName('hmac-sha512')!, secret: Buffer.from(SECRET_B64, 'base64') };

interface Ask {
  name?: string;
  type?: number;
  key?: TsigKey;
  signedAt?: number;
  edns?: boolean;
  opcode?: number;
}

function request(a: Ask): { raw: Uint8Array; mac?: Uint8Array } {
  const m: Message = {
    id: 0x5151,
    flags: { qr: false, opcode: a.opcode ?? Opcode.QUERY, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: a.name ?? 'www.ts.lab.', type: a.type ?? RRType.A, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: a.edns === false ? undefined : { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options: [] },
  };
  const raw = encodeMessage(m);
  if (!a.key) return { raw };
  const signed = appendTsig(raw, { keyName: a.key.name, algorithm: a.key.algorithm.name, key: a.key, macSize: a.key.algorithm.size, fudge: 300, error: 0 }, a.signedAt ?? T);
  return { raw: signed, mac: parseTsigAt(signed, findTsig(signed)!).mac };
}

interface Got {
  wire: Uint8Array;
  msg: Message;
  status: TsigStatus | undefined;
  prebuilt: boolean;
}

function ask(rt: Runtime, raw: Uint8Array, at = T, proto: TransportProto = 'udp', cache = new AnswerCache()): Got {
  const ctx = new QueryContext(raw, parseQuery(raw), { proto, remoteAddress: '127.0.0.1', remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 }, rt, at * 1000);
  const verdict = new Pipeline(createUnits(cache)).run(ctx);
  assert.ok(!(verdict instanceof Promise));
  assert.equal(verdict.kind, 'send');
  const wire = ctx.response.prebuilt ?? encodeResponse(ctx);
  return { wire, msg: decodeMessage(wire), status: ctx.get(TSIG_STATUS), prebuilt: ctx.response.prebuilt !== undefined };
}

/** The response's TSIG, which must be the last record. */
function tsigOf(g: Got) {
  const at = findTsig(g.wire);
  assert.notEqual(at, undefined, 'the response ends with a TSIG');
  return { at: at!, rec: parseTsigAt(g.wire, at!) };
}

describe('tsig guard and finisher', () => {
  const rt = runtime();

  test('a signed query gets its answer signed; the response MAC covers the request MAC', () => {
    for (const key of [K1, K2]) {
      const { raw, mac } = request({ key });
      const g = ask(rt, raw);
      assert.equal(getRcode(g.msg), Rcode.NOERROR);
      assert.equal(g.msg.answers[0]?.type, RRType.A);
      assert.deepEqual(g.status, { status: 'valid', keyName: key.name });
      const { at, rec } = tsigOf(g);
      assert.deepEqual([rec.error, rec.timeSigned, rec.fudge, rec.originalId, rec.mac.length], [0, T, 300, 0x5151, key.algorithm.size]);
      const v = verifyResponse(g.wire, at, key, mac!);
      assert.ok(v.ok, v.reason);
    }
  });

  test('an unsigned query: status absent, no TSIG', () => {
    const g = ask(rt, request({}).raw);
    assert.deepEqual(g.status, { status: 'absent' });
    assert.equal(findTsig(g.wire), undefined);
  });

  test('a wrong secret: NOTAUTH with an unsigned BADSIG TSIG (MAC size 0)', () => {
    const { raw } = request({ key: { ...K1, secret: Buffer.from('wrong') } });
    const g = ask(rt, raw);
    assert.equal(getRcode(g.msg), Rcode.NOTAUTH);
    assert.deepEqual(g.msg.answers, []);
    assert.equal(g.msg.questions[0]?.name, 'www.ts.lab.');
    const { rec } = tsigOf(g);
    assert.deepEqual([rec.error, rec.mac.length, rec.keyName], [16, 0, 'k1.']);
    assert.deepEqual(g.status, { status: 'bad', keyName: 'k1.', error: 'BADSIG' });
  });

  test('an unknown key: NOTAUTH, BADKEY', () => {
    const g = ask(rt, request({ key: { ...K1, name: 'nokey.' } }).raw);
    assert.equal(getRcode(g.msg), Rcode.NOTAUTH);
    assert.deepEqual([tsigOf(g).rec.error, tsigOf(g).rec.mac.length], [17, 0]);
    assert.equal(g.status?.error, 'BADKEY');
  });

  test('a stale query: NOTAUTH, BADTIME, signed, with the request time and ours in Other Data (§5.2.3)', () => {
    const { raw, mac } = request({ key: K1, signedAt: T - 301 });
    const g = ask(rt, raw, T);
    assert.equal(getRcode(g.msg), Rcode.NOTAUTH);
    const { at, rec } = tsigOf(g);
    assert.equal(rec.error, 18);
    assert.equal(rec.timeSigned, T - 301);
    assert.equal(rec.other.length, 6);
    assert.equal(read48(rec.other, 0), T);
    assert.ok(verifyResponse(g.wire, at, K1, mac!).ok);
    // 300 s off is still in time.
    assert.equal(getRcode(ask(rt, request({ key: K1, signedAt: T - 300 }).raw, T).msg), Rcode.NOERROR);
  });

  test('a malformed TSIG (class IN) is FORMERR without a TSIG', () => {
    const { raw } = request({ key: K1 });
    const at = findTsig(raw)!;
    // Owner "k1." takes 4 bytes: TYPE at +4, CLASS at +6.
    raw[at + 6] = 0;
    raw[at + 7] = 1;
    const g = ask(rt, raw);
    assert.equal(getRcode(g.msg), Rcode.FORMERR);
    assert.equal(findTsig(g.wire), undefined);
    assert.deepEqual(g.status, { status: 'bad', error: 'FORMERR' });
  });

  test('errors from other units are signed too: REFUSED outside the zones, NOTIMP for STATUS', () => {
    for (const [ask1, rcode] of [[{ name: 'www.elsewhere.lab.' }, Rcode.REFUSED], [{ opcode: Opcode.STATUS }, Rcode.NOTIMP]] as const) {
      const { raw, mac } = request({ key: K1, ...ask1 });
      const g = ask(rt, raw);
      assert.equal(getRcode(g.msg), rcode);
      const { at } = tsigOf(g);
      assert.ok(verifyResponse(g.wire, at, K1, mac!).ok);
    }
  });

  test('over UDP without EDNS, an answer that does not fit with its TSIG becomes question + TSIG, TC, NOERROR (§5.3)', () => {
    const { raw, mac } = request({ key: K1, name: 'big.ts.lab.', type: RRType.TXT, edns: false });
    const g = ask(rt, raw);
    assert.ok(g.wire.length <= 512, `${g.wire.length} bytes`);
    assert.equal(g.msg.flags.tc, true);
    assert.equal(getRcode(g.msg), Rcode.NOERROR);
    assert.deepEqual([g.msg.answers.length, g.msg.authorities.length, g.msg.questions.length], [0, 0, 1]);
    assert.ok(verifyResponse(g.wire, tsigOf(g).at, K1, mac!).ok);
    // Over TCP the whole RRset comes, signed.
    const t = ask(rt, request({ key: K1, name: 'big.ts.lab.', type: RRType.TXT, edns: false }).raw, T, 'tcp');
    assert.equal(t.msg.answers.length, 12);
    assert.equal(t.msg.flags.tc, false);
    // Unsigned, the same query gets TC with no TSIG (nothing changed for unsigned queries).
    const u = ask(rt, request({ name: 'big.ts.lab.', type: RRType.TXT, edns: false }).raw);
    assert.equal(u.msg.flags.tc, true);
    assert.equal(findTsig(u.wire), undefined);
  });

  test('a signed query is never answered from the answer cache, nor stored in it', () => {
    const cache = new AnswerCache();
    ask(rt, request({}).raw, T, 'udp', cache);
    assert.equal(ask(rt, request({}).raw, T, 'udp', cache).prebuilt, true, 'the unsigned answer is cached');
    const hits = cache.hits;
    const { raw, mac } = request({ key: K1 });
    const g = ask(rt, raw, T, 'udp', cache);
    assert.equal(cache.hits, hits);
    assert.ok(verifyResponse(g.wire, tsigOf(g).at, K1, mac!).ok);
    // And the next unsigned query gets the unsigned cached answer, not a signed one.
    const u = ask(rt, request({}).raw, T, 'udp', cache);
    assert.equal(u.prebuilt, true);
    assert.equal(findTsig(u.wire), undefined);
  });

  test('a TSIG record built by hand with the wrong Other Len is FORMERR', () => {
    const { raw: plain } = request({});
    const rr = encodeTsigRecord({ keyName: 'k1.', algorithm: 'hmac-sha256.', timeSigned: T, fudge: 300, mac: new Uint8Array(32), originalId: 0x5151, error: 0, other: new Uint8Array(0) });
    rr[rr.length - 1] = 2;
    const raw = new Uint8Array(plain.length + rr.length + 2);
    raw.set(plain, 0);
    raw.set(rr, plain.length);
    raw[11] = 2;
    assert.equal(getRcode(ask(rt, raw).msg), Rcode.FORMERR);
  });
});

describe('policies matching on TSIG', () => {
  const rt = runtime(`policies:
  - { name: k2-only, match: { qname: www.ts.lab, tsigKey: k2 }, action: { records: ['TXT "k2"'] } }
  - { name: signed, match: { qname: www.ts.lab, tsig: valid }, action: { records: ['TXT "signed"'] } }
  - { name: unsigned, match: { qname: www.ts.lab, tsig: absent, qtype: TXT }, action: { records: ['TXT "unsigned"'] } }
`);
  const txt = (g: Got) => Buffer.from((g.msg.answers[0]?.data as TXTRdata | undefined)?.strings[0] ?? []).toString();

  test('tsig: valid, tsigKey and tsig: absent pick different policies; the signed answers are signed', () => {
    const s1 = request({ key: K1, type: RRType.TXT });
    const g1 = ask(rt, s1.raw);
    assert.equal(txt(g1), 'signed');
    assert.ok(verifyResponse(g1.wire, tsigOf(g1).at, K1, s1.mac!).ok);
    assert.equal(txt(ask(rt, request({ key: K2, type: RRType.TXT }).raw)), 'k2');
    assert.equal(txt(ask(rt, request({ type: RRType.TXT }).raw)), 'unsigned');
    // An unsigned A query matches no policy and the zone answers.
    assert.equal(ask(rt, request({}).raw).msg.answers[0]?.type, RRType.A);
  });
});

describe('TSIG abuse limits', () => {
  /** Asks through one long-lived set of units (one process's abuse state), from a chosen address. */
  function asker(rt: Runtime) {
    const pipeline = new Pipeline(createUnits(new AnswerCache()));
    return (raw: Uint8Array, from: string, at = T): Got | 'dropped' => {
      const ctx = new QueryContext(raw, parseQuery(raw), { proto: 'udp', remoteAddress: from, remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 }, rt, at * 1000);
      const verdict = pipeline.run(ctx);
      assert.ok(!(verdict instanceof Promise));
      if (verdict.kind !== 'send') return 'dropped';
      const wire = ctx.response.prebuilt ?? encodeResponse(ctx);
      return { wire, msg: decodeMessage(wire), status: ctx.get(TSIG_STATUS), prebuilt: ctx.response.prebuilt !== undefined };
    };
  }

  test('BADSIG answers are limited per /24: 10 a second answered, the rest dropped; another /24 still gets its errors', () => {
    const ask1 = asker(runtime());
    const { raw } = request({ key: { ...K1, secret: Buffer.from('guess') } });
    const got = Array.from({ length: 50 }, () => ask1(raw, '198.51.100.7'));
    assert.equal(got.filter((g) => g !== 'dropped').length, 10);
    for (const g of got) if (g !== 'dropped') assert.equal(getRcode(g.msg), Rcode.NOTAUTH);
    assert.equal(ask1(raw, '198.51.100.99'), 'dropped', 'the same /24 is still limited');
    assert.notEqual(ask1(raw, '203.0.113.1'), 'dropped', 'another /24 gets its errors');
    assert.notEqual(ask1(raw, '198.51.100.7', T + 1), 'dropped', 'a second later the /24 earns more');
  });

  test('replays from another address within the fudge are refused with a signed BADTIME when a policy matches on tsig; the sender may retransmit', () => {
    const rt = runtime(`policies:\n  - { name: signed, match: { qname: www.ts.lab, tsig: valid }, action: { records: ['TXT "signed"'] } }\n`);
    const ask1 = asker(rt);
    const { raw, mac } = request({ key: K1, type: RRType.TXT });
    const first = ask1(raw, '198.51.100.7') as Got;
    assert.deepEqual(first.status, { status: 'valid', keyName: 'k1.' });
    const again = ask1(raw, '198.51.100.7', T + 1) as Got;
    assert.deepEqual(again.status, { status: 'valid', keyName: 'k1.' }, 'a retransmission from the same address is answered');
    const replay = ask1(raw, '203.0.113.9', T + 2) as Got;
    assert.equal(getRcode(replay.msg), Rcode.NOTAUTH);
    assert.deepEqual(replay.status, { status: 'bad', keyName: 'k1.', error: 'BADTIME' });
    assert.equal(replay.msg.answers.length, 0);
    const { at, rec } = tsigOf(replay);
    assert.equal(rec.error, 18);
    assert.ok(verifyResponse(replay.wire, at, K1, mac!).ok, 'the refusal is signed: the MAC verified');
    // A fresh signature (another time signed) is a new query.
    assert.deepEqual((ask1(request({ key: K1, type: RRType.TXT, signedAt: T + 3 }).raw, '203.0.113.9', T + 3) as Got).status, { status: 'valid', keyName: 'k1.' });
  });

  test('replay: allow turns it off; auto without tsig-granting services or policies allows replays', () => {
    const policy = `policies:\n  - { name: signed, match: { qname: www.ts.lab, tsig: valid }, action: { records: ['TXT "signed"'] } }\n`;
    for (const extra of ['', `  replay: allow\n${policy}`]) {
      const ask1 = asker(runtime(extra));
      const { raw } = request({ key: K1 });
      ask1(raw, '198.51.100.7');
      assert.deepEqual((ask1(raw, '203.0.113.9') as Got).status, { status: 'valid', keyName: 'k1.' }, extra || 'auto');
    }
    const ask2 = asker(runtime('  replay: refuse\n'));
    const { raw } = request({ key: K1 });
    ask2(raw, '198.51.100.7');
    assert.equal((ask2(raw, '203.0.113.9') as Got).status?.error, 'BADTIME');
  });
});
