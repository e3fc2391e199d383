import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZone } from '../../zone/parser.js';
import { Zone } from '../../zone/tree.js';
import { RRType, type ResourceRecord } from '../../wire/types.js';
import { nsec3Label, base32hex } from '../nsec3-hash.js';
import { DnssecIndex } from './index.js';
import { denialProof, type Denial } from './proofs.js';
import { rawRdata, readNsec3 } from './rdata.js';
import { viewOfZone } from './zone-view.js';
import { wireName } from '../../zone/compiled.js';

function indexOf(origin: string, text: string): DnssecIndex {
  return new DnssecIndex(viewOfZone(Zone.build(origin, parseZone(text, { origin, file: 'test.zone' }).records)));
}

const owners = (rs: ResourceRecord[]): string[] => rs.map((r) => r.name.toLowerCase());

// RFC 4035 Appendix A's zone (signatures left out: proof selection does not read them), its NSEC chain
// written out as the RFC lists it.
const NSEC_ZONE = `
$TTL 3600
@ SOA ns1 bugs.x.w 1081539377 3600 300 3600000 3600
@ NS ns1
@ NS ns2
@ MX 1 xx.example.
@ NSEC a.example. NS SOA MX RRSIG NSEC DNSKEY
a NS ns1.a
a NS ns2.a
a DS 57855 5 1 B6DCD485719ADCA18E5F3D48A2331627FDD3636B
a NSEC ai.example. NS DS RRSIG NSEC
ns1.a A 198.51.100.5
ns2.a A 198.51.100.6
ai A 198.51.100.9
ai NSEC b.example. A HINFO AAAA RRSIG NSEC
b NS ns1.b
b NS ns2.b
b NSEC ns1.example. NS RRSIG NSEC
ns1.b A 198.51.100.7
ns2.b A 198.51.100.8
ns1 A 198.51.100.1
ns1 NSEC ns2.example. A RRSIG NSEC
ns2 A 198.51.100.2
ns2 NSEC *.w.example. A RRSIG NSEC
*.w MX 1 ai.example.
*.w NSEC x.w.example. MX RRSIG NSEC
x.w MX 1 xx.example.
x.w NSEC x.y.w.example. MX RRSIG NSEC
x.y.w MX 1 xx.example.
x.y.w NSEC xx.example. MX RRSIG NSEC
xx A 198.51.100.10
xx NSEC example. A HINFO AAAA RRSIG NSEC
`;

test('RFC 4035 §3.1.3 / Appendix B: NSEC proofs for each case', () => {
  const idx = indexOf('example.', NSEC_ZONE);
  assert.equal(idx.denial, 'nsec');
  const cases: [string, Denial, string[]][] = [
    // §3.1.3.2, B.2: the NSEC covering the name and the one covering the wildcard at the closest encloser.
    ['name error ml.example', { kind: 'nxdomain', sname: 'ml.example.' }, ['b.example.', 'example.']],
    // Both at once: one NSEC covers the name and the source of synthesis.
    ['name error below x.w', { kind: 'nxdomain', sname: 'a.b.x.w.example.' }, ['x.w.example.']],
    // §3.1.3.1, B.3: the name's own NSEC.
    ['no data ns1.example MX', { kind: 'nodata', sname: 'ns1.example.', qtype: RRType.MX }, ['ns1.example.']],
    // An empty non-terminal has no NSEC: the one whose next name lies below it.
    ['no data at the empty non-terminal y.w.example', { kind: 'nodata', sname: 'y.w.example.', qtype: RRType.A }, ['x.w.example.']],
    // §3.1.3.3, B.6: the NSEC that proves no closer name than the wildcard exists.
    ['wildcard answer a.z.w.example MX', { kind: 'wildcard-answer', sname: 'a.z.w.example.', source: '*.w.example.' }, ['x.y.w.example.']],
    // §3.1.3.4, B.7: that one plus the wildcard's own NSEC (no AAAA).
    ['wildcard no data a.z.w.example AAAA', { kind: 'wildcard-nodata', sname: 'a.z.w.example.', source: '*.w.example.' }, ['x.y.w.example.', '*.w.example.']],
    // §3.1.4, B.9 (referral to an unsigned zone): the cut's NSEC shows NS without DS.
    ['referral to the unsigned b.example', { kind: 'no-ds', cut: 'b.example.' }, ['b.example.']],
    // DS query at the unsigned cut, answered by the parent (§3.1.4.1).
    ['no DS at b.example', { kind: 'nodata', sname: 'b.example.', qtype: RRType.DS }, ['b.example.']],
  ];
  for (const [what, d, expected] of cases) assert.deepEqual(owners(denialProof(idx, d)), expected, what);
  // The chain wraps: a name after the last owner is covered by it.
  assert.equal(idx.nsecCovering('zz.example.')!.name, 'xx.example.');
});

// RFC 5155 Appendix A's zone: salt aabbccdd, 12 iterations, opt-out on every NSEC3; c.example is an
// unsigned delegation left out of the chain (opt-out). The chain is built here from the hashes.
const NSEC3_NAMES = ['example.', 'a.example.', 'ai.example.', 'ns1.example.', 'ns2.example.', 'w.example.', '*.w.example.', 'x.w.example.', 'y.w.example.', 'x.y.w.example.', 'xx.example.'];
const SALT = Uint8Array.from([0xaa, 0xbb, 0xcc, 0xdd]);
const H = (n: string): string => nsec3Label(n, SALT, 12);

function nsec3ZoneText(): string {
  const hashes = NSEC3_NAMES.map(H).sort();
  return [
    '$TTL 3600',
    '@ SOA ns1 bugs.x.w 1 3600 300 3600000 3600',
    '@ NS ns1',
    '@ NS ns2',
    '@ NSEC3PARAM 1 0 12 aabbccdd',
    'a NS ns1.a',
    'a DS 58470 5 1 3079F1593EBAD6DC121E202A8B766A6A4837206C',
    'ns1.a A 198.51.100.5',
    'ai A 198.51.100.9',
    'c NS ns1.c',
    'ns1.c A 198.51.100.7',
    'ns1 A 198.51.100.1',
    'ns2 A 198.51.100.2',
    '*.w MX 1 ai.example.',
    'x.w MX 1 xx.example.',
    'x.y.w MX 1 xx.example.',
    'xx A 198.51.100.10',
    ...hashes.map((h, i) => `${h.toUpperCase()} 3600 NSEC3 1 1 12 aabbccdd ${hashes[(i + 1) % hashes.length]} A RRSIG`),
  ].join('\n');
}

/** The NSEC3 owned by H(name). */
function matches(r: ResourceRecord, name: string): boolean {
  return r.name.split('.')[0]!.toLowerCase() === H(name);
}

/** RFC 5155 §1.3 "covers": H(name) falls strictly between the owner's hash and the next hash (the chain wraps). */
function covers(r: ResourceRecord, name: string): boolean {
  const owner = r.name.split('.')[0]!.toLowerCase();
  const next = base32hex(readNsec3(rawRdata(r)!).nextHash);
  const h = H(name);
  return owner < next ? owner < h && h < next : h > owner || h < next;
}

test('RFC 5155 §7.2 / Appendix B: NSEC3 proofs for each case', () => {
  const idx = indexOf('example.', nsec3ZoneText());
  assert.equal(idx.denial, 'nsec3');
  const check = (what: string, d: Denial, expected: ((r: ResourceRecord) => boolean)[]): void => {
    const got = denialProof(idx, d);
    assert.equal(got.length, expected.length, `${what}: ${owners(got).join(' ')}`);
    expected.forEach((ok, i) => assert.ok(ok(got[i]!), `${what}: record ${i} (${got[i]!.name})`));
  };
  // §7.2.2, B.1: closest encloser x.w.example matches, next closer c.x.w.example and *.x.w.example are covered.
  check('name error a.c.x.w.example', { kind: 'nxdomain', sname: 'a.c.x.w.example.' }, [
    (r) => matches(r, 'x.w.example.'),
    (r) => covers(r, 'c.x.w.example.'),
    (r) => covers(r, '*.x.w.example.'),
  ]);
  // §7.2.3, B.2: the matching NSEC3.
  check('no data ns1.example MX', { kind: 'nodata', sname: 'ns1.example.', qtype: RRType.MX }, [(r) => matches(r, 'ns1.example.')]);
  // B.2.1: an empty non-terminal has its own NSEC3.
  check('no data at the empty non-terminal y.w.example', { kind: 'nodata', sname: 'y.w.example.', qtype: RRType.A }, [(r) => matches(r, 'y.w.example.')]);
  // §7.2.7, B.3: referral to the opt-out c.example: closest provable encloser example. matches, c.example is covered (opt-out).
  check('referral to the opt-out c.example', { kind: 'no-ds', cut: 'c.example.' }, [(r) => matches(r, 'example.'), (r) => covers(r, 'c.example.') && (readNsec3(rawRdata(r)!).flags & 1) === 1]);
  // §7.2.4: DS query at c.example, no matching NSEC3: the same closest provable encloser proof.
  check('no DS at the opt-out c.example', { kind: 'nodata', sname: 'c.example.', qtype: RRType.DS }, [(r) => matches(r, 'example.'), (r) => covers(r, 'c.example.')]);
  // §7.2.7: a signed delegation's DS query has the matching NSEC3 (a.example has DS here; its NSEC3 exists).
  check('referral to a.example whose NSEC3 exists', { kind: 'no-ds', cut: 'a.example.' }, [(r) => matches(r, 'a.example.')]);
  // §7.2.6, B.4: wildcard answer: the next closer name z.w.example is covered.
  check('wildcard answer a.z.w.example MX', { kind: 'wildcard-answer', sname: 'a.z.w.example.', source: '*.w.example.' }, [(r) => covers(r, 'z.w.example.')]);
  // §7.2.5, B.5: wildcard no data: closest encloser w.example matches, z.w.example covered, *.w.example matches.
  check('wildcard no data a.z.w.example AAAA', { kind: 'wildcard-nodata', sname: 'a.z.w.example.', source: '*.w.example.' }, [
    (r) => matches(r, 'w.example.'),
    (r) => covers(r, 'z.w.example.'),
    (r) => matches(r, '*.w.example.'),
  ]);
  // §7.2.8: the NSEC3 owners are known as such.
  assert.ok(idx.isNsec3Owner(`${H('ns1.example.')}.example.`));
  assert.ok(!idx.isNsec3Owner('ns1.example.'));
});

test('covering records: the key and prefix searches agree with the canonical order and the hash text, ties included', async () => {
  const { compareCanonical } = await import('../canonical.js');
  // NSEC: every name against a brute-force walk of the chain in canonical order (RFC 4034 §6.1).
  const idx = indexOf('example.', NSEC_ZONE);
  const chain = ['example.', 'a.example.', 'ai.example.', 'b.example.', 'ns1.example.', 'ns2.example.', '*.w.example.', 'x.w.example.', 'x.y.w.example.', 'xx.example.'];
  const probes = ['A.example.', 'aa.example.', 'a\\000.example.', 'zz.a.example.', '\\200.example.', '-.example.', 'B.Example.', 'c.b.example.', 'ns10.example.', '*.example.', 'w.example.', 'z.w.example.', 'xy.example.', 'x.x.w.example.'];
  for (const name of probes) {
    let want = chain[chain.length - 1]!;
    for (const owner of chain) if (compareCanonical(owner, name) <= 0) want = owner;
    assert.equal(idx.nsecCovering(name)!.name.toLowerCase(), want, name);
    assert.equal(idx.nsecCovering(name, true)!.name.toLowerCase(), want, `${name} (remembered)`);
  }
  // NSEC3: owners sharing the first six base32hex digits (30 bits) of H(target) on both sides of it.
  const target = 'target.example.';
  const h = H(target);
  const below = `${h.slice(0, 6)}${'0'.repeat(26)}`;
  const above = `${h.slice(0, 6)}${'v'.repeat(26)}`;
  const others = [H('example.'), below, above].sort();
  const text = [
    '$TTL 3600',
    '@ SOA ns1 bugs.x.w 1 3600 300 3600000 3600',
    '@ NS ns1',
    '@ NSEC3PARAM 1 0 12 aabbccdd',
    'ns1 A 198.51.100.1',
    ...others.map((o, i) => `${o} NSEC3 1 0 12 aabbccdd ${others[(i + 1) % others.length]} A`),
  ].join('\n');
  const idx3 = indexOf('example.', text);
  for (const memo of [false, true]) assert.equal(idx3.nsec3Covering(target, memo)!.record.name.split('.')[0], below, `memo ${memo}`);
  for (let i = 0; i < 200; i++) {
    const name = `n${i}.example.`;
    const a = idx3.nsec3Covering(name, false)!.record;
    assert.equal(a, idx3.nsec3Covering(name, true)!.record, name);
    const hn = H(name);
    const owner = a.name.split('.')[0]!;
    const sorted = [...others];
    const want = [...sorted].reverse().find((o) => o < hn) ?? sorted[sorted.length - 1];
    assert.equal(owner, want, name);
  }
});

test('nsecCoverIndexBelow: the covering NSEC from the per-node tables is the one the search by name finds', () => {
  // h is a leaf; *.w is w's one child; v has a wildcard and another child. Labels before "*" in canonical
  // order ("!a", "#") are covered by the encloser's own NSEC, labels after it by the wildcard's.
  const zone = Zone.build(
    'example.',
    parseZone(
      `$TTL 3600
@ SOA ns1 bugs.x.w 1 3600 300 3600000 3600
@ NS ns1
@ NSEC h.example. NS SOA RRSIG NSEC
h A 198.51.100.1
h NSEC ns1.example. A RRSIG NSEC
ns1 A 198.51.100.2
ns1 NSEC v.example. A RRSIG NSEC
v A 198.51.100.3
v NSEC *.v.example. A RRSIG NSEC
*.v A 198.51.100.4
*.v NSEC m.v.example. A RRSIG NSEC
m.v A 198.51.100.5
m.v NSEC w.example. A RRSIG NSEC
w A 198.51.100.6
w NSEC *.w.example. A RRSIG NSEC
*.w TXT "w"
*.w NSEC example. TXT RRSIG NSEC
`,
      { origin: 'example.', file: 'test.zone' },
    ).records,
  );
  const idx = new DnssecIndex(viewOfZone(zone));
  const node = (n: string): number => zone.store.findNode(n);
  const owner = (i: number): string => idx.nsecRecordAt(i).name;
  const cases: [string, string, string, string][] = [
    // name, encloser, wildcard ('' for none), the owner of the covering NSEC
    ['x.h.example.', 'h.example.', '', 'h.example.'],
    ['a.b.h.example.', 'h.example.', '', 'h.example.'],
    ['a.w.example.', 'w.example.', '*.w.example.', '*.w.example.'],
    ['zz.y.w.example.', 'w.example.', '*.w.example.', '*.w.example.'],
    ['*a.w.example.', 'w.example.', '*.w.example.', '*.w.example.'],
    ['!a.w.example.', 'w.example.', '*.w.example.', 'w.example.'],
    ['#.w.example.', 'w.example.', '*.w.example.', 'w.example.'],
    ['a.v.example.', 'v.example.', '*.v.example.', '*.v.example.'],
    ['z.v.example.', 'v.example.', '*.v.example.', 'm.v.example.'],
    ['zz.example.', 'example.', '', '*.w.example.'],
  ];
  for (const [name, enc, wild, expected] of cases) {
    const w = wireName(name);
    const got = idx.nsecCoverIndexBelow(w, node(enc), wild === '' ? -1 : node(wild));
    assert.equal(got, idx.nsecCoverIndexWire(w), `${name}: as the search by name`);
    assert.equal(owner(got), expected, name);
  }
});
