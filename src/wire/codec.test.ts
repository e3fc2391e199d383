// Round trips for every rdata codec, name compression and the IP text forms.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RRType, WireError, type Message, type Rdata, type ResourceRecord } from './types.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { rdataCodec, hasKnownCodec } from './rdata/index.js';
import { decodeMessage, encodeMessage } from './message.js';
import { formatIPv6, parseIPv6, parseIPv4 } from './rdata/ip.js';
import { nameFromLabels, nameToWire } from './name.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One sample (or more) per type, covering every codec including the opaque one. */
const SAMPLES: Array<[number, Rdata]> = [
  [RRType.A, { address: '198.51.100.1' }],
  [RRType.A, { address: '0.0.0.0' }],
  [RRType.A, { address: '255.255.255.255' }],
  [RRType.AAAA, { address: '2001:db8::1' }],
  [RRType.AAAA, { address: '::' }],
  [RRType.AAAA, { address: '::1' }],
  [RRType.AAAA, { address: 'fe80:0:0:1::1' }],
  [RRType.AAAA, { address: '2001:db8:1:2:3:4:5:6' }],
  [RRType.AAAA, { address: '::ffff:198.51.100.1' }],
  [RRType.NS, { target: 'ns1.Example.com.' }],
  [RRType.CNAME, { target: 'target.example.net.' }],
  [RRType.CNAME, { target: '.' }],
  [RRType.DNAME, { target: 'example.org.' }],
  [RRType.PTR, { target: 'host.example.com.' }],
  [RRType.SOA, { mname: 'ns1.example.com.', rname: 'host\\.master.example.com.', serial: 2024010101, refresh: 3600, retry: 600, expire: 4294967295, minimum: 0 }],
  [RRType.MX, { preference: 10, exchange: 'mail.example.com.' }],
  [RRType.MX, { preference: 0, exchange: '.' }],
  [RRType.TXT, { strings: [bytes('v=spf1 -all')] }],
  [RRType.TXT, { strings: [new Uint8Array(0), new Uint8Array(255).fill(0x41), Uint8Array.of(0, 1, 0xff)] }],
  [RRType.SRV, { priority: 1, weight: 2, port: 5060, target: 'sip.example.com.' }],
  [RRType.CAA, { flags: 128, tag: 'issue', value: bytes('letsencrypt.org') }],
  [RRType.CAA, { flags: 0, tag: 'iodef', value: new Uint8Array(0) }],
  [RRType.HINFO, { raw: Uint8Array.of(3, 0x41, 0x42, 0x43, 0) }],
  [RRType.DS, { raw: Uint8Array.of(0x30, 0x39, 8, 2, 1, 2, 3, 4) }],
  [65280, { raw: new Uint8Array(0) }],
];

const names: Record<number, string> = { 13: 'HINFO', 43: 'DS', 65280: 'TYPE65280' };
function label(type: number): string {
  for (const [k, v] of Object.entries(RRType)) if (v === type) return k;
  return names[type] ?? `TYPE${type}`;
}

function flags(): Message['flags'] {
  return { qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 };
}

/**
 * The generic round trip: (a) rdata alone at offset 0; (b) rdata at a non-zero offset in a
 * writer that already knows names, decoded with a reader over the whole buffer (so pointers into
 * the earlier part resolve); (c) inside a full message, through encodeMessage/decodeMessage.
 */
function roundTrip(type: number, data: Rdata): void {
  const codec = rdataCodec(type);
  const w = new Writer();
  codec.encode(w, data);
  const alone = w.finish().slice();
  const r = new Reader(alone);
  assert.deepEqual(codec.decode(r, alone.length), data);
  assert.equal(r.pos, alone.length);

  const w2 = new Writer();
  w2.bytes(new Uint8Array(12));
  w2.writeName('example.com.', true);
  w2.writeName('mail.EXAMPLE.com.', true);
  w2.writeName('sip.example.com.', true);
  const at = w2.pos;
  codec.encode(w2, data);
  const buf = w2.finish().slice();
  const r2 = new Reader(buf, at);
  assert.deepEqual(folded(codec.decode(r2, buf.length - at)), folded(data));
  assert.equal(r2.pos, buf.length);

  const rr: ResourceRecord = { name: 'owner.example.com.', type, class: 1, ttl: 300, data };
  const msg: Message = { id: 4660, flags: flags(), questions: [{ name: 'owner.example.com.', type, class: 1 }], answers: [rr, { ...rr, name: 'OWNER.example.com.' }], authorities: [], additionals: [] };
  const back = decodeMessage(encodeMessage(msg));
  assert.deepEqual({ ...back.answers[0]!, data: folded(back.answers[0]!.data) }, { ...rr, data: folded(data) });
  // The second owner compresses onto the first, whose case wins (RFC 4343 makes them equal).
  assert.equal(back.answers[1]!.name, 'owner.example.com.');
  assert.deepEqual(folded(back.answers[1]!.data), folded(data));
}

/**
 * Compression is case-insensitive, so a name that points at an earlier spelling decodes in that
 * spelling: compare names by their key (RFC 4343), everything else exactly.
 */
function folded(data: Rdata): unknown {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) out[k] = typeof v === 'string' && v.endsWith('.') ? v.toLowerCase() : v;
  return out;
}

describe('rdata codecs', () => {
  for (const [type, data] of SAMPLES) {
    it(`round-trips ${label(type)} ${JSON.stringify(data, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))}`, () => roundTrip(type, data));
  }

  it('has a structured codec for every listed type and opaque for others', () => {
    for (const t of [1, 2, 5, 6, 12, 15, 16, 28, 33, 39, 257]) assert.ok(hasKnownCodec(t), String(t));
    assert.equal(hasKnownCodec(13), false);
    assert.equal(rdataCodec(999).code, 999);
    assert.equal(rdataCodec(999), rdataCodec(999));
  });

  it('compresses names in NS, CNAME, SOA, PTR, MX rdata but not in DNAME or SRV', () => {
    const cases: Array<[number, Rdata, boolean]> = [
      [RRType.NS, { target: 'a.example.com.' }, true],
      [RRType.CNAME, { target: 'a.example.com.' }, true],
      [RRType.PTR, { target: 'a.example.com.' }, true],
      [RRType.MX, { preference: 1, exchange: 'a.example.com.' }, true],
      [RRType.SOA, { mname: 'a.example.com.', rname: 'b.example.com.', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 }, true],
      [RRType.DNAME, { target: 'a.example.com.' }, false],
      [RRType.SRV, { priority: 1, weight: 1, port: 1, target: 'a.example.com.' }, false],
    ];
    for (const [type, data, compress] of cases) {
      const w = new Writer();
      w.bytes(new Uint8Array(12));
      w.writeName('example.com.', true);
      const before = w.pos;
      rdataCodec(type).encode(w, data);
      const hasPointer = w.finish().subarray(before).some((b) => (b & 0xc0) === 0xc0);
      assert.equal(hasPointer, compress, label(type));
    }
  });

  it('rejects rdata whose length does not match RDLENGTH', () => {
    const cases: Array<[number, number[]]> = [
      [RRType.A, [1, 2, 3, 4, 5]],
      [RRType.A, [1, 2, 3]],
      [RRType.AAAA, new Array<number>(15).fill(0)],
      [RRType.NS, [1, 0x61, 0, 9]],
      [RRType.MX, [0, 1, 0, 7]],
      [RRType.MX, [0]],
      [RRType.SRV, [0, 1, 0, 1, 0, 1]],
      [RRType.SOA, [0, 0, 1, 2, 3]],
      [RRType.TXT, [5, 0x61]],
      [RRType.CAA, [0, 0]],
      [RRType.CAA, [0, 9, 0x61]],
      [RRType.CAA, [0, 1, 0x2d]],
    ];
    for (const [type, raw] of cases) {
      const buf = Uint8Array.from(raw);
      assert.throws(() => rdataCodec(type).decode(new Reader(buf), buf.length), WireError, `${label(type)} ${raw}`);
    }
  });

  it('rejects bad rdata values on encode', () => {
    const w = new Writer();
    assert.throws(() => rdataCodec(RRType.A).encode(w, { address: '1.2.3' }), WireError);
    assert.throws(() => rdataCodec(RRType.A).encode(w, { address: '1.2.3.256' }), WireError);
    assert.throws(() => rdataCodec(RRType.A).encode(w, { address: '01.2.3.4' }), WireError);
    assert.throws(() => rdataCodec(RRType.AAAA).encode(w, { address: '1::2::3' }), WireError);
    assert.throws(() => rdataCodec(RRType.TXT).encode(w, { strings: [new Uint8Array(256)] }), WireError);
    assert.throws(() => rdataCodec(RRType.CAA).encode(w, { flags: 0, tag: 'is-sue', value: new Uint8Array(0) }), WireError);
    assert.throws(() => rdataCodec(RRType.MX).encode(w, { preference: 70000, exchange: '.' }), RangeError);
    assert.equal(w.pos, 0 + 0, 'failed A/AAAA writes leave nothing behind');
  });
});

describe('IP text forms', () => {
  it('formats IPv6 per RFC 5952', () => {
    const cases: Array<[string, string]> = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:DB8::A', '2001:db8::a'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['::ffff:c633:6401', '::ffff:198.51.100.1'],
      ['::198.51.100.1', '::c633:6401'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ];
    for (const [input, want] of cases) {
      const b = parseIPv6(input);
      assert.ok(b, input);
      assert.equal(formatIPv6(b), want, input);
    }
  });

  it('rejects malformed addresses', () => {
    for (const s of ['', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::', '1:', ':1', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4']) {
      assert.equal(parseIPv6(s), undefined, s);
    }
    for (const s of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '', '1.2.3.4 ', '00.1.2.3']) assert.equal(parseIPv4(s), undefined, s);
  });
});

describe('name compression', () => {
  it('shrinks a response with three records under one name', () => {
    const owner = 'www.example.com.';
    const msg: Message = {
      id: 1,
      flags: flags(),
      questions: [{ name: owner, type: RRType.A, class: 1 }],
      answers: [1, 2, 3].map((i) => ({ name: owner, type: RRType.A, class: 1, ttl: 60, data: { address: `198.51.100.${i}` } })),
      authorities: [],
      additionals: [],
    };
    const wire = encodeMessage(msg);
    const plain = nameToWire(owner).length;
    // Header + question (name + 4) + 3 × (pointer 2 + 10 + 4).
    assert.equal(wire.length, 12 + plain + 4 + 3 * 16);
    assert.ok(wire.length < 12 + 4 * (plain + 4) + 3 * 14);
  });

  it('compresses case-insensitively and decodes the earlier spelling', () => {
    const w = new Writer();
    w.bytes(new Uint8Array(12));
    w.writeName('www.Example.COM.', true);
    const at = w.pos;
    w.writeName('mail.example.com.', true);
    const buf = w.finish();
    assert.deepEqual(Array.from(buf.subarray(at)), [4, 0x6d, 0x61, 0x69, 0x6c, 0xc0, 16]);
    const r = new Reader(buf, at);
    assert.equal(r.readName(), 'mail.Example.COM.');
  });

  it('only registers targets below 0x4000', () => {
    const w = new Writer();
    w.bytes(new Uint8Array(0x4000));
    w.writeName('far.example.', true);
    const at = w.pos;
    w.writeName('far.example.', true);
    assert.equal(w.pos - at, nameToWire('far.example.').length);
  });

  it('rolls back compression targets with the bytes', () => {
    const w = new Writer();
    w.bytes(new Uint8Array(12));
    const m = w.mark();
    w.writeName('gone.example.', true);
    w.rollback(m);
    w.writeName('x.', true);
    const at = w.pos;
    w.writeName('gone.example.', true);
    assert.equal(w.pos - at, nameToWire('gone.example.').length, 'no pointer to rolled-back bytes');
  });

  it('handles escapes and rejects invalid names', () => {
    const w = new Writer();
    w.writeName('a\\.b\\032\\\\.example.', true);
    const r = new Reader(w.finish().slice());
    assert.equal(r.readName(), 'a\\.b\\032\\\\.example.');
    const bad = ['', 'relative', 'a..b.', '..', 'a\\.', `${'a'.repeat(64)}.`, `${('a'.repeat(63) + '.').repeat(4)}`, 'a\\25.', 'a\\256.', 'é\u0100.'];
    for (const n of bad) {
      const ww = new Writer();
      ww.writeName('keep.', true);
      const pos = ww.pos;
      assert.throws(() => ww.writeName(n, true), WireError, JSON.stringify(n));
      assert.equal(ww.pos, pos);
    }
    // A long name whose tail compresses is still checked against 255 bytes.
    const ww = new Writer();
    const tail = `${'b'.repeat(63)}.${'c'.repeat(63)}.`;
    ww.writeName(tail, true);
    assert.throws(() => ww.writeName(`${'a'.repeat(63)}.${'d'.repeat(63)}.${tail}`, true), WireError);
  });

  it('decodes names needing escapes exactly like nameFromLabels', () => {
    const labels = [Uint8Array.of(0x2e, 0x20, 0x41, 0xff), Uint8Array.of(0x5c, 0x22, 0x28, 0x29, 0x3b, 0x40, 0x24), Uint8Array.of(0x7f, 0x00)];
    const text = nameFromLabels(labels);
    const w = new Writer();
    w.writeName(text, false);
    assert.equal(new Reader(w.finish()).readName(), text);
  });
});
