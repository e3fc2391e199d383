// A generated 100,000-record zone (the bench zone plus cuts, DNAMEs, empty non-terminals, SRV/SVCB,
// mixed case): the compiled lookup gives, for every name and several types, exactly what the lookup
// before it gave (kept as test/helpers/reference-lookup.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeZone } from '../../bench/zone.js';
import { RRType, type ResourceRecord } from '../wire/types.js';
import { parseZone } from './parser.js';
import { lookup, type LookupResult } from './lookup.js';
import { Zone, ZoneSet } from './tree.js';
import * as ref from '../../test/helpers/reference-lookup.js';

const EXTRA = `
sub IN NS ns.sub
sub IN NS h0
sub IN NS ns.elsewhere.lab.
sub IN DS 12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub IN A 198.51.100.7
ns.sub IN AAAA 2001:db8::7
deep.ns.sub IN A 198.51.100.8
nodsCut IN NS ns.nodscut
ns.nodscut IN A 198.51.100.9
dn IN DNAME h0.bench.lab.
x.dn IN A 198.51.100.10
self IN DNAME below.self.bench.lab.
out IN DNAME elsewhere.lab.
a.b.c.ent IN A 198.51.100.11
*.ent IN TXT "wild under an empty non-terminal"
*.ent IN MX 10 h0
Mixed.CaSe IN A 198.51.100.12
_sip._tcp IN SRV 0 0 5060 h0
_sip._tcp IN SRV 0 0 5060 ns.sub
_none._tcp IN SRV 0 0 0 .
svc IN HTTPS 1 . alpn=h2
svc IN A 198.51.100.13
svc2 IN SVCB 0 svc
svc3 IN SVCB 1 h0 alpn=h3
mx2 IN MX 5 ns.sub
mx2 IN MX 7 dn
chain1 IN CNAME chain2
chain2 IN CNAME x.dn
loop1 IN CNAME loop2
loop2 IN CNAME loop1
*.wc IN CNAME h0
`;

const ORIGIN = 'bench.lab.';

function plain(r: { kind: string; rcode: number; aa: boolean; wildcard: boolean; requiredAdditional: number; answer: ResourceRecord[]; authority: ResourceRecord[]; additional: ResourceRecord[]; zone?: { origin: string } }): unknown {
  const recs = (l: ResourceRecord[]) => l.map((x) => ({ name: x.name, type: x.type, class: x.class, ttl: x.ttl, data: x.data }));
  return { kind: r.kind, rcode: r.rcode, aa: r.aa, wildcard: r.wildcard, required: r.requiredAdditional, zone: r.zone?.origin, answer: recs(r.answer), authority: recs(r.authority), additional: recs(r.additional) };
}

test('100,000-record zone: the compiled lookup answers every name as the reference lookup does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-compiled-'));
  try {
    const file = join(dir, 'bench.zone');
    const shape = await writeZone(file, 100_000);
    const text = readFileSync(file, 'utf8') + EXTRA;
    const records = parseZone(text, { origin: ORIGIN, file }).records;
    assert.ok(records.length > 100_000, `${records.length} records`);
    const compiled = new ZoneSet([Zone.build(ORIGIN, records)]);
    const reference = new ref.ZoneSet([ref.Zone.build(ORIGIN, records)]);
    assert.equal(compiled.zones[0]!.recordCount, reference.zones[0]!.recordCount);

    const names = new Set<string>();
    for (const r of records) names.add(r.name);
    for (let k = 0; k < shape.wildcards; k += 7) names.add(`q${k}.w${k}.${ORIGIN}`).add(`a.b.w${k}.${ORIGIN}`);
    for (let n = 0; n < shape.hosts; n += 97) names.add(`nx${n}.${ORIGIN}`).add(`below.h${n}.${ORIGIN}`).add(`H${n}.BENCH.LAB.`);
    for (const n of ['www.sub', 'deep.ns.sub', 'a.x.dn', 'x.dn', 'dn', 'a.self', 'b.a.self', 'z.out', 'c.ent', 'b.c.ent', 'zz.ent', 'q.c.ent', 'zz.b.c.ent',
      'mixed.case', 'MIXED.CASE', 'x.wc', 'nope', 'ent', 'lab.', 'ns.NODSCUT', 'x.nodscut']) names.add(n.endsWith('.') ? n : `${n}.${ORIGIN}`);
    // A name long enough that a DNAME makes it too long: YXDOMAIN (RFC 6672 §2.2).
    names.add(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(40)}.self.${ORIGIN}`);

    const types = [RRType.A, RRType.AAAA, RRType.TXT, RRType.MX, RRType.NS, RRType.DS, RRType.SRV, RRType.CNAME, RRType.SOA, RRType.ANY, RRType.HTTPS, RRType.SVCB];
    let checked = 0;
    let i = 0;
    const kinds = new Map<string, number>();
    for (const name of names) {
      // Each name with A and two more types in rotation.
      const qtypes = new Set([RRType.A, types[i % types.length]!, types[(i * 7 + 3) % types.length]!]);
      i++;
      for (const qtype of qtypes) {
        for (const minimalAny of qtype === RRType.ANY ? [true, false] : [true]) {
          const got = lookup(compiled, name, qtype, { minimalAny });
          const want = ref.lookup(reference, name, qtype, { minimalAny });
          assert.deepEqual(plain(got), plain(want), `${name} type ${qtype} minimalAny ${minimalAny}`);
          kinds.set(got.kind, (kinds.get(got.kind) ?? 0) + 1);
          checked++;
        }
      }
    }
    // Every kind of outcome was exercised (so the comparison means something).
    for (const k of ['answer', 'nodata', 'nxdomain', 'referral', 'yxdomain']) assert.ok((kinds.get(k) ?? 0) > 0, `no ${k} among ${JSON.stringify([...kinds])}`);
    assert.ok(checked > 150_000, `${checked} lookups`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every record comes back from the compiled zone (zone print, AXFR, signing iterate it)', () => {
  const records = parseZone(`$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 198.51.100.1\nWWW A 198.51.100.2\nwww A 198.51.100.3\nwww TXT "x"\n*.w MX 1 ns\nx.y.z CAA 0 issue "ca.lab"\n`, { origin: 'r.lab.' }).records;
  const z = Zone.build('r.lab.', records);
  const key = (r: ResourceRecord) => `${r.name.toLowerCase()} ${r.type} ${JSON.stringify(r.data, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))}`;
  assert.deepEqual([...z.records()].map(key).sort(), records.map(key).sort());
  assert.equal(z.recordCount, records.length);
  // The apex first, its SOA first (AXFR starts with it).
  assert.equal([...z.records()][0]!.type, RRType.SOA);
});

test('a result carries the closest encloser and the wildcard that answered (for NSEC/NSEC3 proofs)', () => {
  const records = parseZone(`$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 198.51.100.1\n*.W A 198.51.100.2\na.b.c A 198.51.100.3\n`, { origin: 'p.lab.' }).records;
  const zs = new ZoneSet([Zone.build('p.lab.', records)]);
  const wild: LookupResult = lookup(zs, 'x.y.w.p.lab.', RRType.A, { minimalAny: true });
  assert.equal(wild.wildcard, true);
  assert.equal(wild.wildcardSource, '*.W.p.lab.');
  assert.equal(wild.closestEncloser, 'W.p.lab.');
  const nodata = lookup(zs, 'x.w.p.lab.', RRType.TXT, { minimalAny: true });
  assert.equal(nodata.kind, 'nodata');
  assert.equal(nodata.wildcardSource, '*.W.p.lab.');
  const nx = lookup(zs, 'q.b.c.p.lab.', RRType.A, { minimalAny: true });
  assert.equal(nx.kind, 'nxdomain');
  assert.equal(nx.closestEncloser, 'b.c.p.lab.');
  assert.equal(nx.wildcardSource, undefined);
  const exact = lookup(zs, 'a.b.c.p.lab.', RRType.A, { minimalAny: true });
  assert.equal(exact.closestEncloser, undefined);
});

test('has, rrset, cuts and nodes answer from the compiled arrays', () => {
  const records = parseZone(`$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 198.51.100.1\nSub NS ns.sub\nns.sub A 198.51.100.2\na.b.c TXT "x"\n`, { origin: 'h.lab.' }).records;
  const z = Zone.build('h.lab.', records);
  assert.equal(z.has('B.C.h.lab.'), true, 'an empty non-terminal exists, whatever the case');
  assert.equal(z.has('x.h.lab.'), false);
  assert.equal(z.rrset('SUB.h.lab.', RRType.NS)?.name, 'Sub.h.lab.');
  assert.deepEqual(z.rrset('sub.h.lab.', RRType.NS)?.records.map((r) => r.data), [{ target: 'ns.sub.h.lab.' }]);
  assert.equal(z.rrset('sub.h.lab.', RRType.A), undefined);
  assert.equal(z.cuts.has('sub.h.lab.'), true);
  assert.equal(z.cuts.has('h.lab.'), false, 'the apex NS is no cut');
  assert.deepEqual([...z.nodes.keys()].sort(), ['a.b.c.h.lab.', 'b.c.h.lab.', 'c.h.lab.', 'h.lab.', 'ns.h.lab.', 'ns.sub.h.lab.', 'sub.h.lab.']);
});
