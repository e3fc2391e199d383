// The encoder's short cuts give the bytes of the long way: pre-encoded RDATA against the codecs, owners
// written as pointers into the question against the compression table, the question copied from the query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RRType, type Message, type Rdata, type ResourceRecord } from './types.js';
import { decodeMessage, encodeMessage } from './message.js';
import { rdataCodec } from './rdata/index.js';
import { Writer } from './writer.js';
import { withWire, wireOf } from './pre-encoded.js';

/** Uncompressed RDATA of `data` as the codec writes it (names in full, case kept). */
function plainWire(type: number, data: Rdata): Uint8Array {
  const w = new (class extends Writer {
    override writeName(name: string, _c: boolean, keepCase = false): void {
      super.writeName(name, false, keepCase);
    }
  })();
  rdataCodec(type).encode(w, data);
  return w.finish().slice();
}

const DATA: [number, Rdata][] = [
  [RRType.SOA, { mname: 'NS1.Zone.lab.', rname: 'hostmaster.zone.lab.', serial: 7, refresh: 3600, retry: 600, expire: 86400, minimum: 300 }],
  [RRType.NS, { target: 'ns1.zone.lab.' }],
  [RRType.CNAME, { target: 'www.zone.lab.' }],
  [RRType.MX, { preference: 10, exchange: 'Mail.zone.lab.' }],
  [RRType.PTR, { target: 'host.other.lab.' }],
  [RRType.A, { address: '198.51.100.7' }],
  [RRType.AAAA, { address: '2001:db8::7' }],
  [RRType.TXT, { strings: [new TextEncoder().encode('v=spf1 -all'), Uint8Array.of(0x22, 0)] }],
  [RRType.DNAME, { target: 'zone.lab.' }],
  [RRType.SRV, { priority: 1, weight: 2, port: 53, target: 'ns1.zone.lab.' }],
  [RRType.CAA, { flags: 0, tag: 'issue', value: new TextEncoder().encode('ca.lab') }],
  [65280, { raw: Uint8Array.of(1, 2, 3) }],
];

function message(qname: string, pre: boolean): Message {
  const records: ResourceRecord[] = DATA.map(([type, data], i) => {
    // A fresh object per message: the codec path sees no wire, the other path sees only the wire.
    const copy = { ...data } as Rdata;
    return { name: i % 3 === 0 ? qname : i % 3 === 1 ? 'zone.lab.' : 'x.zone.lab.', type, class: 1, ttl: 60, data: pre ? withWire(copy, plainWire(type, data)) : copy };
  });
  return {
    id: 9,
    flags: { qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: qname, type: RRType.ANY, class: 1 }],
    answers: records.slice(0, 6),
    authorities: records.slice(6, 9),
    additionals: records.slice(9),
  };
}

test('pre-encoded RDATA is written byte for byte as the codecs write the data', () => {
  for (const q of ['a.b.zone.lab.', 'zone.lab.', 'other.lab.']) {
    const slow = encodeMessage(message(q, false));
    const fast = encodeMessage(message(q, true));
    assert.deepEqual(fast, slow, q);
    // And it reads back as the data.
    assert.deepEqual(decodeMessage(fast).answers.map((r) => r.type), DATA.slice(0, 6).map(([t]) => t));
  }
});

test('the wire travels hidden: records compare and serialize as before', () => {
  const d = withWire({ address: '198.51.100.7' } as Rdata, Uint8Array.of(198, 51, 100, 7));
  assert.deepStrictEqual(d, { address: '198.51.100.7' });
  assert.equal(JSON.stringify(d), '{"address":"198.51.100.7"}');
  assert.deepEqual(wireOf(d), Uint8Array.of(198, 51, 100, 7));
  assert.equal(wireOf({ address: '198.51.100.7' } as Rdata), undefined);
});

test('owners equal to the question or a suffix of it point into the question, as the compression table would', () => {
  // Lower case: the short cut applies (suffix "zone.lab." at a label boundary). Mixed case: it does not
  // (the text differs), so the compression table decides. Both must give the same layout.
  const lower = encodeMessage(message('a.b.zone.lab.', false));
  const mixed = encodeMessage(message('A.B.Zone.Lab.', false));
  assert.equal(lower.length, mixed.length);
  // Only the question's letters differ.
  const diff: number[] = [];
  for (let i = 0; i < lower.length; i++) if (lower[i] !== mixed[i]) diff.push(i);
  assert.ok(diff.length > 0 && diff.every((i) => i >= 12 && i < 12 + 14), `differences at ${diff.join(',')}`);
  // The first answer is owned by the question: 0xC00C; the second by zone.lab.: a pointer to offset 12 + 4.
  // The question a.b.zone.lab. is 14 bytes, then QTYPE and QCLASS; an A record takes 2 + 10 + 4 bytes…
  const first = 12 + 14 + 4;
  assert.deepEqual([lower[first], lower[first + 1]], [0xc0, 12]);
  // …but the first record is an SOA: find the second record's owner by decoding offsets instead.
  const decoded = decodeMessage(lower);
  assert.equal(decoded.answers[0]!.name, 'a.b.zone.lab.');
  assert.equal(decoded.answers[1]!.name, 'zone.lab.');
  // Not a suffix at a label boundary ("b.zone.lab." ends with "zone.lab." but "ab.zone.lab." is no owner
  // here): an owner "b.zone.lab." against the question "ab.zone.lab." is compressed by the table.
  const m = message('ab.zone.lab.', false);
  m.answers = [{ name: 'b.zone.lab.', type: RRType.A, class: 1, ttl: 1, data: { address: '198.51.100.1' } }];
  m.authorities = [];
  m.additionals = [];
  assert.equal(decodeMessage(encodeMessage(m)).answers[0]!.name, 'b.zone.lab.');
});

test('the question is copied from the query bytes, compressed or escaped names fall back to the text', () => {
  const msg = message('Esc\\.aped.zone.lab.', false);
  const query = encodeMessage({ ...msg, answers: [], authorities: [], additionals: [] });
  assert.deepEqual(encodeMessage(msg, { query }), encodeMessage(msg));
  const plain = message('www.zone.lab.', true);
  const q2 = encodeMessage({ ...plain, answers: [], authorities: [], additionals: [] });
  assert.deepEqual(encodeMessage(plain, { query: q2 }), encodeMessage(plain));
  // A compressed question name in the query (a pointer into the header) is not copied.
  const bad = Uint8Array.of(0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x02, 0, 1, 0, 1);
  assert.deepEqual(encodeMessage(plain, { query: bad }), encodeMessage(plain));
});

test('names compressed after answers that never compress still point into the question copied from the query', () => {
  // An A answer owned by the question (a pointer, no compression), then names that compress against the
  // question's suffixes: the question's suffixes are registered late (writeNameWireLater) but the bytes
  // are those of the long way. The MX that does not fit is rolled back; the names after it still compress.
  const qname = 'Host.Zone.lab.';
  const records = (pre: boolean): ResourceRecord[] =>
    ([
      [qname, RRType.A, { address: '198.51.100.7' }],
      [qname, RRType.TXT, { strings: [new TextEncoder().encode('x'.repeat(40))] }],
      ['zone.lab.', RRType.MX, { preference: 10, exchange: 'mail.ZONE.lab.' }],
      ['host.zone.lab.', RRType.NS, { target: 'ns.host.zone.lab.' }],
    ] as [string, number, Rdata][]).map(([name, type, data]) => ({ name, type, class: 1, ttl: 60, data: pre ? withWire({ ...data } as Rdata, plainWire(type, data)) : data }));
  for (const pre of [false, true]) {
    const msg: Message = {
      id: 9,
      flags: { qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
      questions: [{ name: qname, type: RRType.A, class: 1 }],
      answers: records(pre).slice(0, 2),
      authorities: records(pre).slice(3),
      additionals: records(pre).slice(2, 3),
    };
    const query = encodeMessage({ ...msg, answers: [], authorities: [], additionals: [] });
    const fast = encodeMessage(msg, { query });
    assert.deepEqual(fast, encodeMessage(msg));
    const d = decodeMessage(fast);
    // Pointers into the question read back in its case (RFC 4343: the same names).
    assert.deepEqual([d.answers.length, d.authorities[0]!.name, (d.authorities[0]!.data as { target: string }).target], [2, 'Host.Zone.lab.', 'ns.Host.Zone.lab.']);
    // The NS target is written as its first label and a pointer to the question (offset 12).
    const hex = Buffer.from(fast).toString('hex');
    assert.ok(hex.includes('026e73c00c'), hex);
    // Too small for the additional MX: it is dropped (rolled back) and the message is still the long way's.
    const small = encodeMessage(msg, { query, maxSize: fast.length - 5 });
    assert.deepEqual(small, encodeMessage(msg, { maxSize: fast.length - 5 }));
    assert.equal(decodeMessage(small).additionals.length, 0);
  }
});
