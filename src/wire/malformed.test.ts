// Malformed input table: decodeMessage throws WireError, parseQuery reports FORMERR instead.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode, WireError } from './types.js';
import { decodeMessage } from './message.js';
import { parseQuery } from './fastpath.js';
import { decodeClientSubnet, decodeCookie, encodeClientSubnet, encodeCookie } from './edns.js';
import { Reader, readNameAt } from './reader.js';

const u16 = (v: number): number[] => [v >>> 8, v & 0xff];
const hdr = (qd: number, an: number, ns: number, ar: number, flags = 0x0100): number[] => [0x12, 0x34, ...u16(flags), ...u16(qd), ...u16(an), ...u16(ns), ...u16(ar)];
/** "example.com." uncompressed (13 bytes). */
const EXAMPLE = [7, ...'example'.split('').map((c) => c.charCodeAt(0)), 3, 0x63, 0x6f, 0x6d, 0];
const question = [...EXAMPLE, ...u16(1), ...u16(1)];
const opt = (options: number[] = [], owner: number[] = [0], udp = 1232): number[] => [...owner, ...u16(41), ...u16(udp), 0, 0, 0, 0, ...u16(options.length), ...options];
const option = (code: number, data: number[]): number[] => [...u16(code), ...u16(data.length), ...data];
const aRecord = (rdata: number[] = [198, 51, 100, 1], rdlength = rdata.length): number[] => [0xc0, 12, ...u16(1), ...u16(1), 0, 0, 0, 60, ...u16(rdlength), ...rdata];
const ecs = (family: number, source: number, scope: number, addr: number[]): number[] => option(8, [...u16(family), source, scope, ...addr]);
const cookieOf = (n: number): number[] => option(10, Array.from({ length: n }, (_, i) => i));

interface Bad {
  what: string;
  bytes: number[];
  /** parseQuery sees the problem too (it does not decode rdata of non-OPT records). */
  fast: boolean;
}

const BAD: Bad[] = [
  { what: 'truncated header', bytes: hdr(1, 0, 0, 0).slice(0, 11), fast: true },
  { what: 'empty message', bytes: [], fast: true },
  { what: 'pointer loop', bytes: [...hdr(1, 0, 0, 0), 1, 0x61, 0xc0, 12, 0, 1, 0, 1], fast: true },
  { what: 'self pointer', bytes: [...hdr(1, 0, 0, 0), 0xc0, 12, 0, 1, 0, 1], fast: true },
  { what: 'forward pointer', bytes: [...hdr(1, 0, 0, 0), 0xc0, 14, 0, 0, 1, 0, 1], fast: true },
  {
    what: 'two-pointer loop in a record owner',
    // Answer owner at 29 points at 31, a pointer back to 29.
    bytes: [...hdr(1, 1, 0, 0), ...question, 0xc0, 31, 0xc0, 29, ...u16(1), ...u16(1), 0, 0, 0, 1, 0, 4, 1, 2, 3, 4],
    fast: true,
  },
  { what: 'pointer into the header', bytes: [...hdr(1, 0, 0, 0), 0xc0, 0, 0, 1, 0, 1], fast: true },
  { what: '64-byte label', bytes: [...hdr(1, 0, 0, 0), 64, ...new Array<number>(64).fill(0x61), 0, 0, 1, 0, 1], fast: true },
  { what: 'reserved label type 0x80', bytes: [...hdr(1, 0, 0, 0), 0x81, 0x61, 0, 0, 1, 0, 1], fast: true },
  {
    what: '256-byte name',
    bytes: [...hdr(1, 0, 0, 0), ...[63, 63, 63].flatMap((n) => [n, ...new Array<number>(n).fill(0x61)]), 62, ...new Array<number>(62).fill(0x62), 0, 0, 1, 0, 1],
    fast: true,
  },
  { what: 'truncated name', bytes: [...hdr(1, 0, 0, 0), 7, 0x65, 0x78], fast: true },
  { what: 'truncated question', bytes: [...hdr(1, 0, 0, 0), ...EXAMPLE, 0, 1], fast: true },
  { what: 'RDLENGTH overrun', bytes: [...hdr(1, 1, 0, 0), ...question, ...aRecord([1, 2, 3, 4], 100)], fast: true },
  { what: 'truncated record header', bytes: [...hdr(1, 1, 0, 0), ...question, 0xc0, 12, 0, 1, 0], fast: true },
  { what: 'A with RDLENGTH 5', bytes: [...hdr(1, 1, 0, 0), ...question, ...aRecord([1, 2, 3, 4, 5])], fast: false },
  { what: 'NS whose name overruns RDLENGTH', bytes: [...hdr(1, 1, 0, 0), ...question, 0xc0, 12, ...u16(2), ...u16(1), 0, 0, 0, 1, ...u16(2), 1, 0x61, 0], fast: false },
  { what: 'QDCOUNT larger than the questions', bytes: [...hdr(2, 0, 0, 0), ...question], fast: true },
  { what: 'ANCOUNT larger than the records', bytes: [...hdr(1, 2, 0, 0), ...question, ...aRecord()], fast: true },
  { what: 'ANCOUNT smaller than the records', bytes: [...hdr(1, 0, 0, 0), ...question, ...aRecord()], fast: true },
  { what: 'trailing garbage', bytes: [...hdr(1, 0, 0, 1), ...question, ...opt(), 0xde, 0xad], fast: true },
  { what: 'two OPT records', bytes: [...hdr(1, 0, 0, 2), ...question, ...opt(), ...opt()], fast: true },
  { what: 'OPT not at the root', bytes: [...hdr(1, 0, 0, 1), ...question, ...opt([], [0xc0, 12])], fast: true },
  { what: 'OPT in the answer section', bytes: [...hdr(1, 1, 0, 0), ...question, ...opt()], fast: false },
  { what: 'option overrunning the OPT rdata', bytes: [...hdr(1, 0, 0, 1), ...question, ...opt([0, 10, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8])], fast: true },
  { what: 'option header cut short', bytes: [...hdr(1, 0, 0, 1), ...question, ...opt([0, 10, 0])], fast: true },
  { what: 'ECS with bits set past the prefix', bytes: [...hdr(1, 0, 0, 1), ...question, ...opt(ecs(1, 23, 0, [198, 51, 101]))], fast: true },
  { what: 'ECS source prefix 33 for IPv4', bytes: [...hdr(1, 0, 0, 1), ...question, ...opt(ecs(1, 33, 0, [1, 2, 3, 4, 0]))], fast: true },
  { what: 'ECS with too many address bytes', bytes: [...hdr(1, 0, 0, 1), ...question, ...opt(ecs(1, 16, 0, [10, 0, 0]))], fast: true },
  { what: 'ECS family 3', bytes: [...hdr(1, 0, 0, 1), ...question, ...opt(ecs(3, 0, 0, []))], fast: true },
  ...[0, 1, 7, 9, 10, 11, 12, 13, 14, 15, 41, 48].map((n) => ({ what: `cookie of ${n} bytes`, bytes: [...hdr(1, 0, 0, 1), ...question, ...opt(cookieOf(n))], fast: true })),
];

describe('malformed messages', () => {
  for (const c of BAD) {
    it(`decodeMessage rejects: ${c.what}`, () => {
      assert.throws(() => decodeMessage(Uint8Array.from(c.bytes)), WireError);
    });
    if (c.fast) {
      it(`parseQuery reports: ${c.what}`, () => {
        const v = parseQuery(Uint8Array.from(c.bytes));
        assert.ok(v.error, 'error is set');
        assert.equal(v.error.rcode, Rcode.FORMERR);
      });
    }
  }

  it('keeps the question when only later parts are malformed', () => {
    const v = parseQuery(Uint8Array.from([...hdr(1, 0, 0, 2), ...question, ...opt(), ...opt()]));
    assert.equal(v.question?.name, 'example.com.');
    assert.equal(v.questionEnd, 12 + question.length);
    assert.ok(v.edns, 'the first OPT is still reported');
    const ecsBad = parseQuery(Uint8Array.from([...hdr(1, 0, 0, 1), ...question, ...opt(ecs(1, 33, 0, [1, 2, 3, 4, 0]))]));
    assert.equal(ecsBad.question?.type, 1);
    assert.equal(ecsBad.edns?.clientSubnet, undefined);
    assert.match(ecsBad.error!.reason, /source prefix/);
  });

  it('reports a short packet without a question and QDCOUNT ≠ 1 as FORMERR', () => {
    const short = parseQuery(Uint8Array.of(1, 2, 3));
    assert.equal(short.error?.rcode, Rcode.FORMERR);
    assert.equal(short.question, undefined);
    const two = parseQuery(Uint8Array.from([...hdr(2, 0, 0, 0), ...question, ...question]));
    assert.equal(two.error?.rcode, Rcode.FORMERR);
    assert.equal(two.question, undefined);
    const none = parseQuery(Uint8Array.from([...hdr(0, 0, 0, 1), ...opt(cookieOf(8))]));
    assert.equal(none.error?.rcode, Rcode.FORMERR);
    assert.equal(none.question, undefined);
    assert.equal(none.questionEnd, 12);
    assert.equal(none.edns?.cookie?.client.length, 8, 'a cookie-only query still shows its cookie');
  });

  it('bounds pointer chains', () => {
    // 200 labels "a" each pointing back to the previous one: every hop is legal, the name is not.
    const bytes = [...hdr(1, 0, 0, 0), 0];
    for (let i = 0; i < 200; i++) {
      const target = i === 0 ? 12 : 13 + (i - 1) * 4;
      bytes.push(1, 0x61, 0xc0 | (target >>> 8), target & 0xff);
    }
    const buf = Uint8Array.from(bytes);
    assert.equal(new Reader(buf, 13 + 100 * 4).readName(), 'a.'.repeat(101));
    assert.throws(() => new Reader(buf, bytes.length - 4).readName(), /longer than 255/);
    // Pointers to pointers add no length, so only the hop bound stops a long chain of them.
    const chain = [...hdr(1, 0, 0, 0), 0];
    for (let i = 0; i < 200; i++) {
      const target = i === 0 ? 12 : 13 + (i - 1) * 2;
      chain.push(0xc0 | (target >>> 8), target & 0xff);
    }
    const cbuf = Uint8Array.from(chain);
    assert.equal(new Reader(cbuf, 13 + 100 * 2).readName(), '.');
    assert.throws(() => new Reader(cbuf, chain.length - 2).readName(), /too many compression pointers/);
  });
});

describe('EDNS option codecs', () => {
  it('decodes and encodes client subnets (RFC 7871)', () => {
    assert.deepEqual(decodeClientSubnet(Uint8Array.of(0, 1, 24, 0, 198, 51, 100)), { family: 1, sourcePrefix: 24, scopePrefix: 0, address: '198.51.100.0' });
    assert.deepEqual(decodeClientSubnet(Uint8Array.of(0, 1, 0, 0)), { family: 1, sourcePrefix: 0, scopePrefix: 0, address: '0.0.0.0' });
    assert.deepEqual(decodeClientSubnet(Uint8Array.of(0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1)), { family: 2, sourcePrefix: 48, scopePrefix: 0, address: '2001:db8:1::' });
    assert.deepEqual(decodeClientSubnet(Uint8Array.of(0, 1, 25, 0, 10, 0, 0, 0x80)).address, '10.0.0.128');
    for (const bad of [[0, 1, 25, 0, 10, 0, 0, 0x40], [0, 1, 24, 0, 10, 0], [0, 2, 129, 0], [0, 1, 8, 33, 10], [0, 1, 8], [0, 1, 23, 0, 10, 0, 1]]) {
      assert.throws(() => decodeClientSubnet(Uint8Array.from(bad)), WireError, String(bad));
    }
    // Encoding clears the bits past the source prefix.
    assert.deepEqual(Array.from(encodeClientSubnet({ family: 1, sourcePrefix: 20, scopePrefix: 0, address: '198.51.100.77' })), [0, 1, 20, 0, 198, 51, 96]);
    assert.deepEqual(Array.from(encodeClientSubnet({ family: 2, sourcePrefix: 56, scopePrefix: 48, address: '2001:db8:aa:bbff::1' })), [0, 2, 56, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 0xaa, 0xbb]);
    assert.throws(() => encodeClientSubnet({ family: 1, sourcePrefix: 33, scopePrefix: 0, address: '1.2.3.4' }), WireError);
    assert.throws(() => encodeClientSubnet({ family: 1, sourcePrefix: 8, scopePrefix: 0, address: '::1' }), WireError);
  });

  it('decodes and encodes cookies (RFC 7873)', () => {
    const c8 = decodeCookie(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    assert.deepEqual(Array.from(c8.client), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(c8.server, undefined);
    for (const n of [16, 24, 40]) {
      const c = decodeCookie(new Uint8Array(n).fill(7));
      assert.equal(c.server?.length, n - 8);
      assert.deepEqual(Array.from(encodeCookie(c)), new Array<number>(n).fill(7));
    }
    for (const n of [0, 7, 9, 15, 41]) assert.throws(() => decodeCookie(new Uint8Array(n)), WireError, String(n));
    assert.throws(() => encodeCookie({ client: new Uint8Array(7) }), WireError);
    assert.throws(() => encodeCookie({ client: new Uint8Array(8), server: new Uint8Array(33) }), WireError);
  });
});

describe('readNameAt guards its offset', () => {
  it('rejects an offset that is not a byte position instead of looping', () => {
    const buf = Uint8Array.of(1, 0x61, 0);
    assert.throws(() => readNameAt(buf, undefined as unknown as number), WireError);
    assert.throws(() => readNameAt(buf, 0.5), WireError);
    assert.throws(() => readNameAt(buf, -1), WireError);
    assert.equal(readNameAt(buf, 0).name, 'a.');
  });
});
