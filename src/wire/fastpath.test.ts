// parseQuery on realistic queries: dig-style EDNS, NOTIFY with an answer record, echoing the question.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EdnsOptionCode, Opcode, RRType, type EdnsOption, type Message } from './types.js';
import { parseQuery, QueryParser, type QueryView } from './fastpath.js';
import { encodeMessage } from './message.js';
import { clientSubnetOption, cookieOption, nsidOption, paddingOption } from './edns.js';

/** What `dig +cookie +subnet=198.51.100.0/24 +padding=468 +nsid www.Example.com A` sends. */
const DIG: number[] = [
  0xa1, 0xb2, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1,
  3, 0x77, 0x77, 0x77, 7, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d, 0, 0, 1, 0, 1,
  0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 35,
  0, 3, 0, 0,
  0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100,
  0, 10, 0, 8, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
  0, 12, 0, 4, 0, 0, 0, 0,
];

describe('parseQuery', () => {
  it('reads a dig-like query with cookie, ECS, NSID and padding', () => {
    const buf = Uint8Array.from(DIG);
    const v = parseQuery(buf);
    assert.equal(v.error, undefined);
    assert.equal(v.id, 0xa1b2);
    assert.equal(v.flags, 0x0120);
    assert.equal(v.rd, true);
    assert.equal(v.ad, true);
    assert.equal(v.cd, false);
    assert.equal(v.qr, false);
    assert.equal(v.opcode, Opcode.QUERY);
    assert.deepEqual([v.qdcount, v.ancount, v.nscount, v.arcount], [1, 0, 0, 1]);
    assert.deepEqual(v.question, { name: 'www.Example.com.', type: RRType.A, class: 1 });
    assert.equal(v.questionEnd, 33);
    assert.deepEqual(Array.from(buf.subarray(12, v.questionEnd)), DIG.slice(12, 33));
    const e = v.edns!;
    assert.equal(e.udpSize, 1232);
    assert.equal(e.dnssecOk, true);
    assert.equal(e.version, 0);
    assert.equal(e.z, 0);
    assert.equal(e.extendedRcode, 0);
    assert.deepEqual(e.options.map((o) => o.code), [3, 8, 10, 12]);
    assert.equal(e.nsidRequested, true);
    assert.equal(e.paddingPresent, true);
    assert.deepEqual(e.clientSubnet, { family: 1, sourcePrefix: 24, scopePrefix: 0, address: '198.51.100.0' });
    assert.deepEqual(Array.from(e.cookie!.client), [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    assert.equal(e.cookie!.server, undefined);
    // Options are views into the packet, not copies.
    assert.equal(e.options[2]!.data.buffer, buf.buffer);
  });

  it('agrees with encodeMessage output and accepts Buffers', () => {
    const msg: Message = {
      id: 7,
      flags: { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: true, rcode: 0 },
      questions: [{ name: 'a\\.b.Example.', type: RRType.TXT, class: 3 }],
      answers: [],
      authorities: [],
      additionals: [],
      edns: {
        udpSize: 512,
        extendedRcode: 0,
        version: 0,
        dnssecOk: false,
        z: 0,
        options: [
          cookieOption({ client: new Uint8Array(8).fill(5), server: new Uint8Array(16).fill(6) }),
          clientSubnetOption({ family: 2, sourcePrefix: 56, scopePrefix: 0, address: '2001:db8:1:2::' }),
          paddingOption(10),
          nsidOption(new Uint8Array(0)),
        ],
      },
    };
    const v = parseQuery(Buffer.from(encodeMessage(msg)));
    assert.equal(v.error, undefined);
    assert.deepEqual(v.question, { name: 'a\\.b.Example.', type: RRType.TXT, class: 3 });
    assert.equal(v.cd, true);
    assert.equal(v.edns?.cookie?.server?.length, 16);
    assert.deepEqual(v.edns?.clientSubnet, { family: 2, sourcePrefix: 56, scopePrefix: 0, address: '2001:db8:1::' });
    assert.equal(v.edns?.options[2]!.code, EdnsOptionCode.PADDING);
    assert.equal(v.edns?.options[2]!.data.length, 10);
  });

  it('skips records in the answer and authority sections (NOTIFY)', () => {
    const msg: Message = {
      id: 99,
      flags: { qr: false, opcode: Opcode.NOTIFY, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
      questions: [{ name: 'example.com.', type: RRType.SOA, class: 1 }],
      answers: [{ name: 'example.com.', type: RRType.SOA, class: 1, ttl: 3600, data: { mname: 'ns1.example.com.', rname: 'h.example.com.', serial: 5, refresh: 1, retry: 1, expire: 1, minimum: 1 } }],
      authorities: [{ name: 'example.com.', type: RRType.NS, class: 1, ttl: 3600, data: { target: 'ns1.example.com.' } }],
      additionals: [{ name: 'ns1.example.com.', type: RRType.A, class: 1, ttl: 3600, data: { address: '198.51.100.53' } }],
      edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options: [] },
    };
    const v = parseQuery(encodeMessage(msg));
    assert.equal(v.error, undefined);
    assert.equal(v.opcode, Opcode.NOTIFY);
    assert.deepEqual([v.ancount, v.nscount, v.arcount], [1, 1, 2]);
    assert.equal(v.question?.type, RRType.SOA);
    assert.equal(v.edns?.udpSize, 1232);
    assert.equal(v.edns?.nsidRequested, false);
    assert.equal(v.edns?.paddingPresent, false);
  });

  it('reports no EDNS for a plain query', () => {
    const v = parseQuery(Uint8Array.from([...DIG.slice(0, 10), 0, 0, ...DIG.slice(12, 33)]));
    assert.equal(v.error, undefined);
    assert.equal(v.edns, undefined);
    assert.equal(v.question?.name, 'www.Example.com.');
  });
});

describe('QueryParser (the engine reuses one view)', () => {
  /** The view's content as plain data: fields left undefined dropped, the question's lazy name read. */
  const plainView = (v: QueryView): unknown => {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = x;
    if (v.question) out.question = { name: v.question.name, type: v.question.type, class: v.question.class };
    if (v.edns) {
      const e: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v.edns)) if (x !== undefined) e[k] = x;
      e.options = v.edns.options.map((o) => ({ code: o.code, data: Array.from(o.data) }));
      out.edns = e;
    }
    return out;
  };
  const query = (name: string, type: number, extra: Partial<Message> = {}): Uint8Array =>
    encodeMessage({
      id: 0x1234,
      flags: { qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 },
      questions: [{ name, type, class: 1 }],
      answers: [],
      authorities: [],
      additionals: [],
      ...extra,
    });
  const edns = (options: EdnsOption[], dnssecOk = false) => ({ udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk, z: 0, options });
  const cases: [string, Uint8Array][] = [
    ['dig with cookie, ECS, NSID, padding', Uint8Array.from(DIG)],
    ['plain A', query('www.Example.com.', RRType.A)],
    ['EDNS with DO, no options', query('a.b.', RRType.AAAA, { edns: edns([], true) })],
    ['a cookie with a server part', query('c.example.', RRType.TXT, { edns: edns([cookieOption({ client: new Uint8Array(8).fill(1), server: new Uint8Array(16).fill(2) })]) })],
    ['ECS', query('d.example.', RRType.A, { edns: edns([clientSubnetOption({ family: 1, sourcePrefix: 24, scopePrefix: 0, address: '198.51.100.0' })]) })],
    ['NSID and padding', query('e.example.', RRType.A, { edns: edns([nsidOption(new Uint8Array(0)), paddingOption(12)]) })],
    ['root name', query('.', RRType.NS)],
    ['an escaped label', query('a\\.b.Example.', RRType.TXT)],
    ['NOTIFY with an answer', query('example.com.', RRType.SOA, { flags: { qr: false, opcode: Opcode.NOTIFY, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 } })],
    ['short', Uint8Array.from([1, 2, 3])],
    ['QDCOUNT 0', Uint8Array.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['trailing bytes', Uint8Array.from([...query('f.example.', RRType.A), 0])],
    ['truncated question', query('g.example.', RRType.A).subarray(0, 20)],
  ];

  it('gives what parseQuery gives, whatever came before', () => {
    const parser = new QueryParser();
    // Every ordered pair: no field of one query survives into the next.
    for (const [firstName, first] of cases) {
      for (const [name, raw] of cases) {
        parser.parse(first);
        assert.deepEqual(plainView(parser.parse(raw)), plainView(parseQuery(raw)), `${name} after ${firstName}`);
      }
    }
  });

  it('makes the question text only when read, from the bytes of its own query', () => {
    const parser = new QueryParser();
    const raw = query('www.Example.com.', RRType.A);
    const v = parser.parse(raw);
    assert.equal(v.question!.name, 'www.Example.com.');
    parser.parse(query('other.example.', RRType.A));
    assert.equal(v.question!.name, 'other.example.');
    // settle() fixes the text before the bytes change under it.
    const buf = query('mixed.Case.', RRType.A);
    parser.parse(buf);
    parser.settle();
    buf.fill(0x61, 13, 18);
    assert.equal(parser.view.question!.name, 'mixed.Case.');
  });
});
