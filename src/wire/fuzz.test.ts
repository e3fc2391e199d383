// Property tests: the decoders survive arbitrary and mutated input, and names round-trip.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RRType, WireError, type Message } from './types.js';
import { decodeMessage, encodeMessage } from './message.js';
import { parseQuery } from './fastpath.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { nameFromLabels } from './name.js';
import { clientSubnetOption, cookieOption, paddingOption } from './edns.js';

const RUNS = Number(process.env.FLUXDNS_FUZZ_RUNS ?? 1000);

function decodeOrWireError(buf: Uint8Array): Message | undefined {
  try {
    return decodeMessage(buf);
  } catch (err) {
    if (err instanceof WireError) return undefined;
    throw err;
  }
}

const response: Message = {
  id: 0x4242,
  flags: { qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 },
  questions: [{ name: 'www.example.com.', type: RRType.MX, class: 1 }],
  answers: [
    { name: 'www.example.com.', type: RRType.CNAME, class: 1, ttl: 60, data: { target: 'web.example.com.' } },
    { name: 'web.example.com.', type: RRType.MX, class: 1, ttl: 60, data: { preference: 5, exchange: 'mx.example.com.' } },
    { name: 'web.example.com.', type: RRType.TXT, class: 1, ttl: 60, data: { strings: [Uint8Array.of(1, 2, 3)] } },
    { name: 'web.example.com.', type: RRType.CAA, class: 1, ttl: 60, data: { flags: 0, tag: 'issue', value: Uint8Array.of(0x61) } },
  ],
  authorities: [{ name: 'example.com.', type: RRType.SOA, class: 1, ttl: 60, data: { mname: 'ns.example.com.', rname: 'h.example.com.', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 } }],
  additionals: [
    { name: 'mx.example.com.', type: RRType.AAAA, class: 1, ttl: 60, data: { address: '2001:db8::25' } },
    { name: '_sip._udp.example.com.', type: RRType.SRV, class: 1, ttl: 60, data: { priority: 1, weight: 1, port: 5060, target: 'mx.example.com.' } },
  ],
  edns: {
    udpSize: 1232,
    extendedRcode: 0,
    version: 0,
    dnssecOk: true,
    z: 0,
    options: [
      cookieOption({ client: new Uint8Array(8).fill(3) }),
      clientSubnetOption({ family: 1, sourcePrefix: 24, scopePrefix: 0, address: '198.51.100.0' }),
      paddingOption(4),
    ],
  },
};
const query: Message = { ...response, flags: { ...response.flags, qr: false, aa: false }, answers: [], authorities: [], additionals: [] };
const SEEDS = [encodeMessage(response), encodeMessage(query)];

/** Random byte replacements, insertions, deletions and a truncation point applied to a seed. */
const mutated = fc
  .record({
    seed: fc.integer({ min: 0, max: SEEDS.length - 1 }),
    edits: fc.array(fc.record({ kind: fc.integer({ min: 0, max: 2 }), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ seed, edits, cut }) => {
    const bytes = Array.from(SEEDS[seed]!);
    for (const e of edits) {
      const at = e.at % (bytes.length + 1);
      if (e.kind === 0 && at < bytes.length) bytes[at] = e.value;
      else if (e.kind === 1) bytes.splice(at, 0, e.value);
      else bytes.splice(at, 1);
    }
    return Uint8Array.from(cut === undefined ? bytes : bytes.slice(0, cut % (bytes.length + 1)));
  });

function check(buf: Uint8Array): void {
  const v = parseQuery(buf);
  const m = decodeOrWireError(buf);
  // Whatever the strict decoder accepts, the fast path must accept and read the same way.
  if (m && m.questions.length === 1) {
    assert.equal(v.error, undefined, v.error?.reason);
    assert.equal(v.question?.name, m.questions[0]!.name);
    assert.equal(v.question?.type, m.questions[0]!.type);
    assert.equal(v.edns?.udpSize, m.edns?.udpSize);
    assert.equal(v.edns?.options.length, m.edns?.options.length);
  }
}

describe('robustness properties', () => {
  it('never throws (parseQuery) / throws only WireError (decodeMessage) on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), check), { numRuns: RUNS });
  });

  it('same on arbitrary bytes behind a valid header and question', () => {
    const prefix = SEEDS[1]!.subarray(0, 12 + 17 + 4);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), (tail, an, ar) => {
        const buf = new Uint8Array(prefix.length + tail.length);
        buf.set(prefix);
        buf.set(tail, prefix.length);
        buf[7] = an;
        buf[11] = ar;
        check(buf);
      }),
      { numRuns: RUNS },
    );
  });

  it('same on mutated valid messages', () => {
    for (const s of SEEDS) check(s);
    fc.assert(fc.property(mutated, check), { numRuns: RUNS });
  });

  it('round-trips arbitrary label bytes through writeName/readName', () => {
    const labelArb = fc.uint8Array({ minLength: 1, maxLength: 63 });
    const nameArb = fc.array(labelArb, { maxLength: 6 }).filter((ls) => ls.reduce((n, l) => n + l.length + 1, 1) <= 255);
    fc.assert(
      fc.property(fc.array(nameArb, { minLength: 1, maxLength: 5 }), (names) => {
        const texts = names.map((ls) => nameFromLabels(ls));
        const w = new Writer();
        w.bytes(new Uint8Array(12));
        const starts: number[] = [];
        for (const t of texts) {
          starts.push(w.pos);
          w.writeName(t, true);
        }
        const buf = w.finish();
        texts.forEach((t, i) => {
          const r = new Reader(buf, starts[i]);
          assert.equal(r.readName().toLowerCase(), t.toLowerCase());
        });
        // The first name is never compressed, so it keeps its case exactly.
        assert.equal(new Reader(buf, 12).readName(), texts[0]);
      }),
      { numRuns: RUNS },
    );
  });
});
