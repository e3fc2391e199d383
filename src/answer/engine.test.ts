// The engine reuses one query context (its parsed view and response draft) from query to query: no
// state of one query — TSIG, cookie, TTL jitter, EDNS, the cache's key — may reach the next. One engine
// answers a mixed sequence; each answer is checked on its own terms and against a fresh engine's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { algorithmByName } from '../tsig/algorithms.js';
import { appendTsig } from '../tsig/sign.js';
import { findTsig, verifyResponse } from '../tsig/verify.js';
import { parseTsigAt } from '../tsig/record.js';
import type { TsigKey } from '../tsig/keys.js';
import { cookieOption } from '../wire/edns.js';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { EdnsOptionCode, Rcode, RRType, type EdnsOption, type Message } from '../wire/types.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { AnswerCache } from '../modules/cache/index.js';
import type { TransportInfo } from './context.js';
import { Engine } from './engine.js';
import type { Runtime } from './runtime.js';
import { createUnits } from './units.js';

const SECRET_B64 = Buffer.from('engine-reuse-secret-0123456789abcdef').toString('base64');
const KEY: TsigKey = { name: 'k1.', algorithm: algorithmByName('hmac-sha256')!, secret: Buffer.from(SECRET_B64, 'base64') };
const PLAIN = `$ORIGIN re.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.80\n`;
const JITTERED = `$ORIGIN jit.lab.\n$TTL 3600\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.2\nwww A 198.51.100.81\n`;

function runtime(): Runtime {
  const yaml = `tsig:\n  keys:\n    - { name: k1, secret: "${SECRET_B64}" }\ncookies:\n  mode: answer\nzones:\n  - { name: re.lab., file: /nonexistent/re.zone }\n  - { name: jit.lab., file: /nonexistent/jit.zone, ttlJitter: { min: 0 } }\n`;
  const zones = [Zone.build('re.lab.', parseZone(PLAIN, { origin: 're.lab.' }).records), Zone.build('jit.lab.', parseZone(JITTERED, { origin: 'jit.lab.' }).records)];
  return { config: parseConfigText(yaml, 'test.yaml').config, zones: new ZoneSet(zones), generation: 1 };
}

const UDP: TransportInfo = { proto: 'udp', remoteAddress: '198.51.100.7', remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 };

interface Ask {
  name: string;
  type?: number;
  id?: number;
  signed?: boolean;
  cookie?: boolean;
  edns?: boolean;
  dnssecOk?: boolean;
}

function request(a: Ask): Uint8Array {
  const options: EdnsOption[] = a.cookie ? [cookieOption({ client: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) })] : [];
  const m: Message = {
    id: a.id ?? 0x4242,
    flags: { qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: a.name, type: a.type ?? RRType.A, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: a.edns === false && !a.cookie ? undefined : { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: a.dnssecOk ?? false, z: 0, options },
  };
  const raw = encodeMessage(m);
  return a.signed ? appendTsig(raw, { keyName: KEY.name, algorithm: KEY.algorithm.name, key: KEY, macSize: KEY.algorithm.size, fudge: 300, error: 0 }, Math.floor(Date.now() / 1000)) : raw;
}

function send(engine: Engine, raw: Uint8Array): Uint8Array {
  const reply = engine.handle(raw, UDP);
  assert.ok(reply instanceof Uint8Array, 'a synchronous reply');
  return reply.slice();
}

const hasCookie = (m: Message) => (m.edns?.options ?? []).some((o) => o.code === EdnsOptionCode.COOKIE);

describe('engine: one reused context, no state carried between queries', () => {
  const SEQUENCE: Ask[] = [
    { name: 'www.re.lab.', signed: true },
    { name: 'www.re.lab.' },
    { name: 'WWW.Re.Lab.', id: 7 },
    { name: 'www.re.lab.', cookie: true },
    { name: 'www.re.lab.' },
    { name: 'www.jit.lab.' },
    { name: 'www.re.lab.', edns: false },
    { name: 'www.jit.lab.', signed: true },
    { name: 'nothere.re.lab.' },
    { name: 'www.re.lab.', dnssecOk: true },
    { name: 'outside.example.' },
    { name: 'www.re.lab.', type: RRType.AAAA },
    { name: 'www.re.lab.' },
  ];

  test('every answer is what a fresh engine gives, and only its own query shows in it', () => {
    const rt = runtime();
    // Twice through: the second round is answered from the cache where it may be.
    const shared = new Engine(rt, createUnits(new AnswerCache()));
    for (let round = 0; round < 2; round++) {
      for (const a of SEQUENCE) {
        const raw = request(a);
        const got = decodeMessage(send(shared, raw));
        const fresh = decodeMessage(send(new Engine(rt, createUnits(new AnswerCache())), raw));
        const what = `${JSON.stringify(a)} round ${round}`;
        assert.equal(got.id, a.id ?? 0x4242, what);
        assert.equal(got.questions[0]!.name, a.name, `${what}: the question's case as sent`);
        assert.equal(got.flags.rcode, fresh.flags.rcode, what);
        assert.equal(got.edns !== undefined, fresh.edns !== undefined, what);
        assert.equal(got.edns?.dnssecOk ?? false, a.dnssecOk ?? false, what);
        assert.equal(hasCookie(got), a.cookie === true, `${what}: a cookie only for a query with one`);
        const tsigAt = findTsig(send(shared, raw));
        assert.equal(tsigAt !== undefined, a.signed === true, `${what}: signed only when the query was`);
        // Records as a fresh engine gives them; the jittered zone's TTLs are drawn, so they are compared without TTL.
        const records = (m: Message) => m.answers.map((r) => ({ ...r, ttl: a.name.includes('jit') ? 0 : r.ttl }));
        assert.deepEqual(records(got), records(fresh), what);
        if (a.name.includes('jit')) for (const r of got.answers) assert.ok(r.ttl <= 3600, what);
      }
    }
    assert.equal(decodeMessage(send(shared, request({ name: 'outside.example.' }))).flags.rcode, Rcode.REFUSED);
  });

  test('a signed answer from the reused context verifies against its own request', () => {
    const engine = new Engine(runtime(), createUnits(new AnswerCache()));
    send(engine, request({ name: 'www.re.lab.', cookie: true }));
    const raw = request({ name: 'www.re.lab.', signed: true });
    const wire = send(engine, raw);
    const at = findTsig(wire)!;
    const v = verifyResponse(wire, at, KEY, parseTsigAt(raw, findTsig(raw)!).mac);
    assert.ok(v.ok, v.reason);
  });
});
