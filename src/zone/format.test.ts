// formatRecord/formatZone output, and parseZone(formatZone(x)) deep-equals x for generated records.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatRecord, formatZone } from './format.js';
import { parseZone, MAX_TTL } from './parser.js';
import { formatIPv6, canonicalIPv6 } from './rdata-text.js';
import { nameFromLabels } from '../wire/name.js';
import { RRType, type Rdata, type ResourceRecord } from '../wire/types.js';

const enc = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'utf8'));

test('formatRecord for each type', () => {
  const rr = (type: number, data: Rdata, name = 'x.example.') => formatRecord({ name, type, class: 1, ttl: 60, data });
  assert.equal(rr(RRType.A, { address: '198.51.100.1' }), 'x.example.\t60\tIN\tA\t198.51.100.1');
  assert.equal(rr(RRType.TXT, { strings: [enc('a "q" \\ b'), Uint8Array.from([0, 9, 200])] }), 'x.example.\t60\tIN\tTXT\t"a \\"q\\" \\\\ b" "\\000\\009\\200"');
  assert.equal(rr(65280, { raw: Uint8Array.from([10, 0, 0, 1]) }), 'x.example.\t60\tIN\tTYPE65280\t\\# 4 0a000001');
  assert.equal(rr(65280, { raw: new Uint8Array(0) }), 'x.example.\t60\tIN\tTYPE65280\t\\# 0');
  assert.equal(rr(RRType.DS, { raw: Uint8Array.from([1, 2]) }), 'x.example.\t60\tIN\tDS\t\\# 2 0102');
  assert.equal(rr(RRType.HINFO, { raw: Uint8Array.from([1, 0x61, 1, 0x62]) }), 'x.example.\t60\tIN\tHINFO\t"a" "b"');
  assert.equal(rr(RRType.HINFO, { raw: Uint8Array.from([5, 0x61]) }), 'x.example.\t60\tIN\tHINFO\t\\# 2 0561');
  assert.equal(rr(RRType.CAA, { flags: 0, tag: 'issue', value: enc('ca.example') }), 'x.example.\t60\tIN\tCAA\t0 issue "ca.example"');
  assert.equal(rr(RRType.SOA, { mname: 'a.', rname: 'b.', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 }), 'x.example.\t60\tIN\tSOA\ta. b. 1 2 3 4 5');
  assert.equal(formatZone([]), '');
});

test('RFC 5952 canonical IPv6 text', () => {
  const cases: [string, string][] = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['0:0:1:0:0:0:1:0', '0:0:1::1:0'],
    ['::ffff:198.51.100.1', '::ffff:198.51.100.1'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalIPv6(input), want, input);
  assert.equal(canonicalIPv6('1:2:3:4:5:6:7:8:9'), null);
  assert.equal(canonicalIPv6('::ffff:1.2.3.04'), null);
});

const labelArb = fc.uint8Array({ minLength: 1, maxLength: 12 });
const nameArb = fc.array(labelArb, { minLength: 0, maxLength: 4 }).map(nameFromLabels);
const u16 = fc.integer({ min: 0, max: 65535 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes255 = fc.uint8Array({ maxLength: 255 });
const rdataArb: fc.Arbitrary<[number, Rdata]> = fc.oneof(
  fc.tuple(fc.constant(RRType.A), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).map((a) => ({ address: a.join('.') }))),
  fc.tuple(fc.constant(RRType.AAAA), fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ({ address: formatIPv6(b) }))),
  fc.tuple(fc.constantFrom(RRType.NS, RRType.CNAME, RRType.DNAME, RRType.PTR), nameArb.map((target) => ({ target }))),
  fc.tuple(fc.constant(RRType.SOA), fc.record({ mname: nameArb, rname: nameArb, serial: u32, refresh: u32, retry: u32, expire: u32, minimum: u32 })),
  fc.tuple(fc.constant(RRType.MX), fc.record({ preference: u16, exchange: nameArb })),
  fc.tuple(fc.constant(RRType.SRV), fc.record({ priority: u16, weight: u16, port: u16, target: nameArb })),
  fc.tuple(fc.constant(RRType.TXT), fc.array(bytes255, { minLength: 1, maxLength: 4 }).map((strings) => ({ strings }))),
  fc.tuple(fc.constant(RRType.CAA), fc.record({ flags: fc.integer({ min: 0, max: 255 }), tag: fc.stringMatching(/^[a-z0-9]{1,15}$/), value: fc.uint8Array({ maxLength: 300 }) })),
  fc.tuple(fc.constantFrom(RRType.DS, RRType.HINFO, 1234, 65535), fc.uint8Array({ maxLength: 40 }).map((raw) => ({ raw }))),
);

test('round trip: parseZone(formatZone(x)) deep-equals x', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(nameArb, fc.integer({ min: 0, max: MAX_TTL }), rdataArb), { maxLength: 20 }), (items) => {
      // A unique first label per record keeps the parser's duplicate merging out of the way.
      const records: ResourceRecord[] = items.map(([name, ttl, [type, data]], i) => ({
        // fc.record builds null-prototype objects; the parser builds plain ones.
        name: `r${i}.${name === '.' ? '' : name}`, type, class: 1, ttl, data: { ...data },
      }));
      // The root holds every name, so nothing is out of zone; every name in the text is absolute anyway.
      const back = parseZone(formatZone(records), { origin: '.' }).records;
      assert.deepEqual(back, records);
    }),
    { numRuns: Number(process.env.FLUXDNS_FUZZ_RUNS ?? 300) },
  );
});

test('the parser never throws anything but ZoneError on arbitrary text', async () => {
  const { ZoneError } = await import('./parser.js');
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'abc.@$;()"\\ \t\n019#AINSOXTaTYPE'.split('')), maxLength: 60 }), (text) => {
      try {
        parseZone(text, { origin: 'example.', defaultTtl: 1, readInclude: () => '' });
      } catch (e) {
        if (!(e instanceof ZoneError)) throw e;
      }
    }),
    { numRuns: Number(process.env.FLUXDNS_FUZZ_RUNS ?? 1000) },
  );
});
