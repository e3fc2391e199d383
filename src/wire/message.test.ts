// Message-level behaviour: truncation by RRsets, OPT handling, rcode splitting, padding.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EdnsOptionCode, Rcode, RRType, type Edns, type Message, type ResourceRecord } from './types.js';
import { decodeMessage, encodeMessage, getRcode, setRcode } from './message.js';
import { paddingOption, nsidOption, findOption, cookieOption } from './edns.js';

function flags(): Message['flags'] {
  return { qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 };
}
const a = (name: string, i: number): ResourceRecord => ({ name, type: RRType.A, class: 1, ttl: 60, data: { address: `10.0.${i >> 8}.${i & 0xff}` } });
const aaaa = (name: string, i: number): ResourceRecord => ({ name, type: RRType.AAAA, class: 1, ttl: 60, data: { address: `2001:db8::${i.toString(16)}` } });
const edns = (): Edns => ({ udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options: [nsidOption(new TextEncoder().encode('ns1'))] });

function base(): Message {
  return { id: 1, flags: flags(), questions: [{ name: 'big.example.', type: RRType.ANY, class: 1 }], answers: [], authorities: [], additionals: [] };
}

describe('encodeMessage truncation', () => {
  it('drops the answer RRset that does not fit and everything after it, sets TC, keeps OPT', () => {
    const msg = base();
    msg.answers = [
      ...Array.from({ length: 5 }, (_, i) => a('big.example.', i)),
      ...Array.from({ length: 40 }, (_, i) => aaaa('big.example.', i)),
      a('other.example.', 1),
    ];
    msg.authorities = [{ name: 'example.', type: RRType.NS, class: 1, ttl: 60, data: { target: 'ns.example.' } }];
    msg.additionals = [a('ns.example.', 9)];
    msg.edns = edns();
    const full = encodeMessage(msg);
    assert.equal(decodeMessage(full).flags.tc, false);
    const wire = encodeMessage(msg, { maxSize: 512 });
    assert.ok(wire.length <= 512, `${wire.length} bytes`);
    const m = decodeMessage(wire);
    assert.equal(m.flags.tc, true);
    assert.equal(m.answers.length, 5, 'only the whole A RRset');
    assert.ok(m.answers.every((r) => r.type === RRType.A));
    assert.equal(m.authorities.length, 0);
    assert.equal(m.additionals.length, 0);
    assert.deepEqual(m.edns, edns(), 'OPT survives truncation');
  });

  it('reserves room for OPT first', () => {
    const msg = base();
    msg.answers = Array.from({ length: 4 }, (_, i) => a(`n${i}.example.`, i));
    const sizeWithout = encodeMessage(msg).length;
    msg.edns = edns();
    const optBytes = encodeMessage(msg).length - sizeWithout;
    // Exactly enough for everything but the OPT: the last answer RRset must go.
    const m = decodeMessage(encodeMessage(msg, { maxSize: sizeWithout + optBytes - 1 }));
    assert.equal(m.flags.tc, true);
    assert.equal(m.answers.length, 3);
    assert.ok(m.edns);
    assert.equal(decodeMessage(encodeMessage(msg, { maxSize: sizeWithout + optBytes })).answers.length, 4);
  });

  it('drops additional RRsets that do not fit without setting TC', () => {
    const msg = base();
    msg.answers = [a('big.example.', 1)];
    msg.additionals = [...Array.from({ length: 40 }, (_, i) => aaaa('glue.example.', i)), a('small.example.', 2)];
    msg.edns = edns();
    const m = decodeMessage(encodeMessage(msg, { maxSize: 512 }));
    assert.equal(m.flags.tc, false);
    assert.equal(m.answers.length, 1);
    assert.deepEqual(m.additionals, [a('small.example.', 2)], 'a later RRset that fits is kept');
    assert.ok(m.edns);
  });

  it('treats differently cased owners as one RRset', () => {
    const msg = base();
    msg.answers = [a('Big.Example.', 1), a('big.example.', 2), a('BIG.EXAMPLE.', 3)];
    const limit = encodeMessage(msg).length - 1;
    const m = decodeMessage(encodeMessage(msg, { maxSize: limit }));
    assert.equal(m.answers.length, 0);
    assert.equal(m.flags.tc, true);
  });

  it('keeps a TC bit the caller set', () => {
    const msg = base();
    msg.flags.tc = true;
    assert.equal(decodeMessage(encodeMessage(msg)).flags.tc, true);
  });
});

describe('rcode and EDNS', () => {
  it('splits extended rcodes between header and OPT', () => {
    const msg = base();
    msg.edns = edns();
    setRcode(msg, Rcode.BADCOOKIE);
    assert.equal(msg.flags.rcode, 23 & 0xf);
    assert.equal(msg.edns.extendedRcode, 1);
    const back = decodeMessage(encodeMessage(msg));
    assert.equal(getRcode(back), Rcode.BADCOOKIE);
    assert.equal(back.flags.rcode, 7);
    assert.equal(back.edns?.extendedRcode, 1);
    const plain = base();
    setRcode(plain, Rcode.NXDOMAIN);
    assert.equal(getRcode(decodeMessage(encodeMessage(plain))), Rcode.NXDOMAIN);
    assert.throws(() => setRcode(base(), Rcode.BADVERS), RangeError);
  });

  it('round-trips the OPT TTL fields and option order', () => {
    const msg = base();
    msg.edns = {
      udpSize: 4096,
      extendedRcode: 0xab,
      version: 1,
      dnssecOk: true,
      z: 0x1234,
      options: [cookieOption({ client: new Uint8Array(8).fill(1), server: new Uint8Array(16).fill(2) }), nsidOption(new Uint8Array(0)), { code: 65001, data: Uint8Array.of(9) }],
    };
    const back = decodeMessage(encodeMessage(msg));
    assert.deepEqual(back.edns, msg.edns);
    assert.equal(findOption(back.edns, EdnsOptionCode.NSID)?.data.length, 0);
    assert.equal(findOption(back.edns, 999), undefined);
  });

  it('pads to a block size (RFC 8467)', () => {
    const msg = base();
    msg.answers = [a('big.example.', 1)];
    msg.edns = { ...edns(), options: [paddingOption(0), nsidOption(Uint8Array.of(1, 2, 3))] };
    for (const block of [128, 468]) {
      const wire = encodeMessage(msg, { padBlock: block });
      assert.equal(wire.length % block, 0, `block ${block}`);
      const back = decodeMessage(wire);
      assert.equal(back.edns?.options[0]!.code, EdnsOptionCode.PADDING);
      assert.ok(back.edns!.options[0]!.data.every((b) => b === 0));
      assert.deepEqual(Array.from(back.edns!.options[1]!.data), [1, 2, 3]);
    }
    // Never beyond maxSize.
    const capped = encodeMessage(msg, { padBlock: 468, maxSize: 300 });
    assert.equal(capped.length, 300);
  });

  it('refuses OPT records in the sections', () => {
    const msg = base();
    msg.additionals = [{ name: '.', type: RRType.OPT, class: 512, ttl: 0, data: { raw: new Uint8Array(0) } }];
    assert.throws(() => encodeMessage(msg));
  });
});
