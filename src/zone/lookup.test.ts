// Lookup tests: one case per rule of RFC 1034 §4.3.2, RFC 2308, RFC 4592, RFC 6672 and RFC 8482.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode, RRType, type ResourceRecord } from '../wire/types.js';
import { formatRecord } from './format.js';
import { lookup, svcbTarget, type LookupResult } from './lookup.js';
import { parseZone } from './parser.js';
import { Zone, ZoneSet } from './tree.js';

const ZONE = `
$ORIGIN example.lab.
$TTL 3600
@        SOA   ns1 hostmaster 1 7200 3600 1209600 300
         NS    ns1
         NS    ns.outside.lab.
         MX    10 mail
ns1      A     198.51.100.1
mail     A     198.51.100.2
         AAAA  2001:db8::2
www      A     198.51.100.3
Mixed    A     198.51.100.4
alias    CNAME www
chain1   CNAME chain2
chain2   CNAME chain3
chain3   CNAME www
dangling CNAME nothing
out      CNAME www.elsewhere.lab.
loop1    CNAME loop2
loop2    CNAME loop1
*.wild   A     203.0.113.1
         TXT   "wild"
x.y.wild A     203.0.113.2
*.cwild  CNAME www
dn       DNAME target.lab.
long.dn  A     198.51.100.9
child    NS    ns.child
         NS    ns.outside.lab.
ns.child A     198.51.100.53
_sip._udp SRV  0 5 5060 www
two      A     198.51.100.20
         TXT   "t"
         MX    5 mail
tocut    CNAME host.child
`;

function zones(...texts: [string, string][]): ZoneSet {
  return new ZoneSet(texts.map(([origin, text]) => Zone.build(origin, parseZone(text, { origin, file: 'test.zone' }).records)));
}

const set = zones(['example.lab.', ZONE]);
const q = (name: string, type: number, minimalAny = true): LookupResult => lookup(set, name, type, { minimalAny });
const text = (rrs: ResourceRecord[]) => rrs.map((r) => formatRecord(r).replace(/\s+/g, ' ')).sort();

test('positive answer is authoritative with no authority section', () => {
  const r = q('www.example.lab.', RRType.A);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.aa, true);
  assert.deepEqual(text(r.answer), ['www.example.lab. 3600 IN A 198.51.100.3']);
  assert.deepEqual(r.authority, []);
});

test('names compare case-insensitively and answers keep the question case', () => {
  const r = q('MIXED.Example.LAB.', RRType.A);
  assert.equal(r.answer.length, 1);
  assert.equal(r.answer[0]!.name, 'MIXED.Example.LAB.');
});

test('NXDOMAIN carries the SOA with TTL min(SOA TTL, minimum) (RFC 2308 §3, §5)', () => {
  const r = q('nope.example.lab.', RRType.A);
  assert.equal(r.rcode, Rcode.NXDOMAIN);
  assert.equal(r.aa, true);
  assert.equal(r.answer.length, 0);
  assert.equal(r.authority.length, 1);
  assert.equal(r.authority[0]!.type, RRType.SOA);
  assert.equal(r.authority[0]!.ttl, 300);
});

test('NODATA: NOERROR, empty answer, SOA in authority (RFC 2308 §2.2)', () => {
  const r = q('www.example.lab.', RRType.AAAA);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.kind, 'nodata');
  assert.equal(r.answer.length, 0);
  assert.equal(r.authority[0]!.type, RRType.SOA);
});

test('an empty non-terminal exists: NODATA, not NXDOMAIN (RFC 4592 §2.2.2)', () => {
  const r = q('y.wild.example.lab.', RRType.A);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.kind, 'nodata');
});

test('wildcard synthesizes the answer with the query name as owner (RFC 4592 §3.3.1)', () => {
  const r = q('anything.wild.example.lab.', RRType.TXT);
  assert.equal(r.kind, 'answer');
  assert.equal(r.wildcard, true);
  assert.deepEqual(text(r.answer), ['anything.wild.example.lab. 3600 IN TXT "wild"']);
});

test('wildcard matches several labels deep', () => {
  assert.deepEqual(text(q('a.b.c.wild.example.lab.', RRType.A).answer), ['a.b.c.wild.example.lab. 3600 IN A 203.0.113.1']);
});

test('wildcard owner without the type: NODATA', () => {
  const r = q('zz.wild.example.lab.', RRType.MX);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.answer.length, 0);
  assert.equal(r.authority[0]!.type, RRType.SOA);
});

test('a name below an empty non-terminal is not covered by the wildcard above it (RFC 4592 §2.2.1)', () => {
  const r = q('z.y.wild.example.lab.', RRType.A);
  assert.equal(r.rcode, Rcode.NXDOMAIN);
});

test('the wildcard owner itself can be queried literally', () => {
  assert.deepEqual(text(q('*.wild.example.lab.', RRType.A).answer), ['*.wild.example.lab. 3600 IN A 203.0.113.1']);
});

test('a wildcard CNAME is synthesized and followed', () => {
  const r = q('foo.cwild.example.lab.', RRType.A);
  assert.deepEqual(text(r.answer), ['foo.cwild.example.lab. 3600 IN CNAME www.example.lab.', 'www.example.lab. 3600 IN A 198.51.100.3']);
});

test('CNAME chains are followed inside the zone', () => {
  const r = q('chain1.example.lab.', RRType.A);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.answer.length, 4);
  assert.equal(r.answer[3]!.type, RRType.A);
});

test('a CNAME query returns the CNAME itself, not its target', () => {
  assert.deepEqual(text(q('alias.example.lab.', RRType.CNAME).answer), ['alias.example.lab. 3600 IN CNAME www.example.lab.']);
});

test('a dangling CNAME gives NXDOMAIN with the CNAME in the answer (RFC 6604 §3)', () => {
  const r = q('dangling.example.lab.', RRType.A);
  assert.equal(r.rcode, Rcode.NXDOMAIN);
  assert.equal(r.answer.length, 1);
  assert.equal(r.authority[0]!.type, RRType.SOA);
});

test('a CNAME leaving the zone ends the answer there', () => {
  const r = q('out.example.lab.', RRType.A);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.deepEqual(text(r.answer), ['out.example.lab. 3600 IN CNAME www.elsewhere.lab.']);
  assert.equal(r.authority.length, 0);
});

test('a CNAME loop ends without looping forever', () => {
  const r = q('loop1.example.lab.', RRType.A);
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.equal(r.answer.length, 2);
});

test('DNAME: the DNAME and a synthesized CNAME with the DNAME TTL (RFC 6672 §3.1)', () => {
  const r = q('a.b.dn.example.lab.', RRType.A);
  assert.deepEqual(text(r.answer), ['a.b.dn.example.lab. 3600 IN CNAME a.b.target.lab.', 'dn.example.lab. 3600 IN DNAME target.lab.']);
  assert.equal(r.answer[0]!.type, RRType.DNAME);
});

test('a CNAME query below a DNAME is answered by the synthesized CNAME alone', () => {
  const s2 = zones(['example.lab.', ZONE + 'a.target2 CNAME www\ndn2 DNAME target2.example.lab.\n']);
  const r = lookup(s2, 'a.dn2.example.lab.', RRType.CNAME, { minimalAny: true });
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.deepEqual(text(r.answer), ['a.dn2.example.lab. 3600 IN CNAME a.target2.example.lab.', 'dn2.example.lab. 3600 IN DNAME target2.example.lab.']);
  assert.equal(r.authority.length, 0);
});

test('DNAME does not apply to its owner, and occludes names below it', () => {
  assert.deepEqual(text(q('dn.example.lab.', RRType.DNAME).answer), ['dn.example.lab. 3600 IN DNAME target.lab.']);
  assert.equal(q('dn.example.lab.', RRType.A).kind, 'nodata');
  assert.equal(q('long.dn.example.lab.', RRType.A).answer[0]!.type, RRType.DNAME);
});

test('DNAME substitution that overflows 255 bytes is YXDOMAIN (RFC 6672 §2.2)', () => {
  const long = 'a'.repeat(60);
  const r = q(`${long}.${long}.${long}.${long.slice(0, 40)}.dn.example.lab.`, RRType.A);
  const s2 = zones(['example.lab.', ZONE.replace('dn       DNAME target.lab.', `dn       DNAME ${'b'.repeat(60)}.${'c'.repeat(60)}.lab.`)]);
  const r2 = lookup(s2, `${long}.${long}.${long.slice(0, 50)}.dn.example.lab.`, RRType.A, { minimalAny: true });
  assert.equal(r.rcode === Rcode.NOERROR || r.rcode === Rcode.YXDOMAIN, true);
  assert.equal(r2.rcode, Rcode.YXDOMAIN);
  assert.equal(r2.answer[0]!.type, RRType.DNAME);
});

test('referral: AA clear, NS in authority, glue in additional (RFC 1034 §4.3.2 3b)', () => {
  for (const name of ['child.example.lab.', 'deep.host.child.example.lab.']) {
    const r = q(name, RRType.A);
    assert.equal(r.kind, 'referral', name);
    assert.equal(r.aa, false);
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.equal(r.answer.length, 0);
    assert.deepEqual(text(r.authority), ['child.example.lab. 3600 IN NS ns.child.example.lab.', 'child.example.lab. 3600 IN NS ns.outside.lab.']);
    assert.deepEqual(text(r.additional), ['ns.child.example.lab. 3600 IN A 198.51.100.53']);
  }
});

test('glue below a cut is never an authoritative answer', () => {
  const r = q('ns.child.example.lab.', RRType.A);
  assert.equal(r.kind, 'referral');
  assert.equal(r.aa, false);
});

test('DS at a delegation point is answered by the parent: authoritative NODATA', () => {
  const r = q('child.example.lab.', RRType.DS);
  assert.equal(r.aa, true);
  assert.equal(r.kind, 'nodata');
});

test('a CNAME into a delegation gives the CNAME and the referral', () => {
  const r = q('tocut.example.lab.', RRType.A);
  assert.equal(r.answer.length, 1);
  assert.equal(r.authority[0]!.type, RRType.NS);
  assert.equal(r.aa, true);
});

test('additional section: addresses of in-zone MX, SRV and NS targets', () => {
  assert.deepEqual(text(q('example.lab.', RRType.MX).additional), ['mail.example.lab. 3600 IN A 198.51.100.2', 'mail.example.lab. 3600 IN AAAA 2001:db8::2']);
  assert.deepEqual(text(q('_sip._udp.example.lab.', RRType.SRV).additional), ['www.example.lab. 3600 IN A 198.51.100.3']);
  assert.deepEqual(text(q('example.lab.', RRType.NS).additional), ['ns1.example.lab. 3600 IN A 198.51.100.1']);
});

test('ANY: one RRset when minimal (RFC 8482 §4.1), every RRset otherwise', () => {
  const minimal = q('two.example.lab.', RRType.ANY, true);
  assert.equal(minimal.answer.length, 1);
  assert.equal(minimal.aa, true);
  const full = q('two.example.lab.', RRType.ANY, false);
  assert.deepEqual(new Set(full.answer.map((r) => r.type)), new Set([RRType.A, RRType.TXT, RRType.MX]));
  assert.equal(q('nope.example.lab.', RRType.ANY).rcode, Rcode.NXDOMAIN);
});

test('unknown types get NODATA at existing names', () => {
  const r = q('www.example.lab.', 65280);
  assert.equal(r.kind, 'nodata');
});

test('names outside every zone are REFUSED without AA', () => {
  const r = q('www.example.com.', RRType.A);
  assert.equal(r.rcode, Rcode.REFUSED);
  assert.equal(r.aa, false);
  assert.equal(q('lab.', RRType.SOA).rcode, Rcode.REFUSED);
});

test('the deepest zone is authoritative when parent and child are both served', () => {
  const both = zones(
    ['example.lab.', ZONE],
    ['child.example.lab.', '$TTL 60\n@ SOA ns hm 1 1 1 1 1\n NS ns\nns A 198.51.100.53\nhost A 198.51.100.99\n'],
  );
  const r = lookup(both, 'host.child.example.lab.', RRType.A, { minimalAny: true });
  assert.equal(r.aa, true);
  assert.deepEqual(text(r.answer), ['host.child.example.lab. 60 IN A 198.51.100.99']);
});

test('a DNAME at the apex rewrites every name below it', () => {
  const s = zones(['moved.lab.', '$TTL 60\n@ SOA ns.x.lab. hm.x.lab. 1 1 1 1 1\n NS ns.x.lab.\n DNAME example.lab.\n']);
  const r = lookup(s, 'www.moved.lab.', RRType.A, { minimalAny: true });
  assert.deepEqual(text(r.answer), ['moved.lab. 60 IN DNAME example.lab.', 'www.moved.lab. 60 IN CNAME www.example.lab.']);
});

// DS is the parent's record (RFC 4035 §3.1.4.1). The DS of "signed" is written in RFC 3597 form.
const PARENT = `$TTL 3600
@        SOA   ns1 hostmaster 1 7200 3600 1209600 300
         NS    ns1
ns1      A     198.51.100.1
signed   NS    ns1
signed   TYPE43 \\# 8 3039 0D 02 0A0B0C0D
unsigned NS    ns1
`;
const child = (serial: number) => `$TTL 60\n@ SOA ns1.p.lab. hm.p.lab. ${serial} 1 1 1 120\n NS ns1.p.lab.\nwww A 198.51.100.99\n`;

test('DS at a cut: the parent answers with the DS RRset, authoritatively, not as a referral', () => {
  const r = lookup(zones(['p.lab.', PARENT]), 'signed.p.lab.', RRType.DS, { minimalAny: true });
  assert.equal(r.kind, 'answer');
  assert.equal(r.aa, true);
  assert.deepEqual(r.answer.map((a) => [a.name, a.type]), [['signed.p.lab.', RRType.DS]]);
  assert.deepEqual(r.authority, []);
});

test('DS at a zone apex is answered by the parent zone when both are served', () => {
  const s = zones(['p.lab.', PARENT], ['signed.p.lab.', child(7)], ['unsigned.p.lab.', child(8)]);
  const signed = lookup(s, 'SIGNED.p.lab.', RRType.DS, { minimalAny: true });
  assert.equal(signed.kind, 'answer');
  assert.equal(signed.zone?.origin, 'p.lab.');
  assert.deepEqual(signed.answer.map((a) => a.type), [RRType.DS]);
  // No DS in the parent: NODATA with the parent's SOA, not the child's.
  const unsigned = lookup(s, 'unsigned.p.lab.', RRType.DS, { minimalAny: true });
  assert.equal(unsigned.kind, 'nodata');
  assert.equal(unsigned.aa, true);
  assert.deepEqual(unsigned.authority.map((a) => a.name), ['p.lab.']);
  // Every other type at the apex, and DS below it, stays with the child.
  assert.equal(lookup(s, 'signed.p.lab.', RRType.SOA, { minimalAny: true }).zone?.origin, 'signed.p.lab.');
  const below = lookup(s, 'www.signed.p.lab.', RRType.DS, { minimalAny: true });
  assert.equal(below.zone?.origin, 'signed.p.lab.');
  assert.deepEqual(below.authority.map((a) => a.name), ['signed.p.lab.']);
});

test('DS at the apex of a zone whose parent is not served: the zone itself answers NODATA', () => {
  const r = lookup(zones(['signed.p.lab.', child(7)]), 'signed.p.lab.', RRType.DS, { minimalAny: true });
  assert.equal(r.kind, 'nodata');
  assert.equal(r.aa, true);
  assert.deepEqual(r.authority.map((a) => a.name), ['signed.p.lab.']);
});

test('a DNAME that points below itself appears once: the chain stops where it would repeat', () => {
  const s = zones(['d.lab.', '$TTL 60\n@ SOA ns hm 1 1 1 1 1\n NS ns\nns A 198.51.100.1\nself DNAME sub.self.d.lab.\n']);
  const r = lookup(s, 'x.self.d.lab.', RRType.A, { minimalAny: true });
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.deepEqual(text(r.answer), ['self.d.lab. 60 IN DNAME sub.self.d.lab.', 'x.self.d.lab. 60 IN CNAME x.sub.self.d.lab.']);
  const all = r.answer.map((a) => formatRecord(a));
  assert.equal(new Set(all).size, all.length);
});

// SVCB and HTTPS in RFC 3597 form: priority, TargetName, SvcParams (RFC 9460 §2.2).
const SVC = `$TTL 300
@          SOA   ns hm 1 3600 600 86400 60
           NS    ns
ns         A     198.51.100.1
; SVCB 1 svc-host.s.lab. alpn=h2 and SVCB 2 out.other.lab.
_svc       TYPE64 \\# 25 0001 087376632D686F7374 01 73 03 6C6162 00 0001 0003 026832
_svc       TYPE64 \\# 17 0002 036F7574 056F74686572 036C6162 00
svc-host   A     198.51.100.80
svc-host   AAAA  2001:db8::80
; HTTPS 1 . (the owner) and HTTPS 0 . (no service)
self       TYPE65 \\# 3 0001 00
self       A     198.51.100.81
none       TYPE65 \\# 3 0000 00
none       A     198.51.100.82
; HTTPS 0 svc-host.s.lab. (AliasMode)
alias      TYPE65 \\# 18 0000 087376632D686F7374 01 73 03 6C6162 00
; HTTPS 0 alias.s.lab. (an alias to an alias: the next step's HTTPS, no further)
alias2     TYPE65 \\# 15 0000 05616C696173 01 73 03 6C6162 00
; HTTPS 0 self.s.lab. (a target holding HTTPS and an address)
toself     TYPE65 \\# 14 0000 0473656C66 01 73 03 6C6162 00
; an SRV whose target is "." (RFC 2782: no service) and one into another zone
_none._tcp SRV   0 0 0 .
_x._tcp    SRV   0 0 443 svc-host
           SRV   1 0 443 host.other.lab.
`;
const svc = zones(['s.lab.', SVC], ['other.lab.', '$TTL 60\n@ SOA ns hm 1 1 1 1 1\n NS ns\nns A 198.51.100.2\nhost A 198.51.100.3\n']);
const add = (name: string, type: number) => lookup(svc, name, type, { minimalAny: true }).additional.map((a) => `${a.name} ${a.type}`);

test('additional section: SVCB and HTTPS targets (RFC 9460 §4.1), "." meaning the owner in ServiceMode', () => {
  assert.deepEqual(add('_svc.s.lab.', RRType.SVCB), ['svc-host.s.lab. 1', 'svc-host.s.lab. 28']);
  assert.deepEqual(add('alias.s.lab.', RRType.HTTPS), ['svc-host.s.lab. 1', 'svc-host.s.lab. 28']);
  assert.deepEqual(add('self.s.lab.', RRType.HTTPS), ['self.s.lab. 1']);
  assert.deepEqual(add('none.s.lab.', RRType.HTTPS), []);
  // The target's own RRset of the queried type follows its addresses (as Knot adds it).
  assert.deepEqual(add('toself.s.lab.', RRType.HTTPS), ['self.s.lab. 1', 'self.s.lab. 65']);
  assert.deepEqual(add('alias2.s.lab.', RRType.HTTPS), ['alias.s.lab. 65']);
  assert.deepEqual(add('alias.s.lab.', RRType.SVCB), [], 'no SVCB at alias');
});

test('additional section: SRV targets in this zone only, "." for no service', () => {
  assert.deepEqual(add('_x._tcp.s.lab.', RRType.SRV), ['svc-host.s.lab. 1', 'svc-host.s.lab. 28']);
  assert.deepEqual(add('_none._tcp.s.lab.', RRType.SRV), []);
});

test('svcbTarget reads the TargetName at offset 2 and rejects what is not a name', () => {
  assert.equal(svcbTarget('o.lab.', Uint8Array.of(0, 1, 1, 0x61, 0)), 'a.');
  assert.equal(svcbTarget('o.lab.', Uint8Array.of(0, 1, 0)), 'o.lab.');
  assert.equal(svcbTarget('o.lab.', Uint8Array.of(0, 0, 0)), undefined);
  assert.equal(svcbTarget('o.lab.', Uint8Array.of(0, 1, 5, 0x61)), undefined);
  assert.equal(svcbTarget('o.lab.', Uint8Array.of(0, 1)), undefined);
});

test('SVCB, HTTPS and DS written in their text forms answer as the RFC 3597 forms do', () => {
  const s = zones(['t.lab.', '$TTL 60\n@ SOA ns hm 1 1 1 1 1\n NS ns\nns A 198.51.100.1\n_s SVCB 1 h alpn=h2\nh A 198.51.100.2\nw HTTPS 1 . alpn=h3\nw AAAA 2001:db8::1\nc NS ns\nc DS 12345 13 2 0A0B0C0D\n']);
  const look = (name: string, type: number) => lookup(s, name, type, { minimalAny: true });
  assert.deepEqual(look('_s.t.lab.', RRType.SVCB).additional.map((a) => `${a.name} ${a.type}`), ['h.t.lab. 1']);
  assert.deepEqual(look('w.t.lab.', RRType.HTTPS).additional.map((a) => `${a.name} ${a.type}`), ['w.t.lab. 28']);
  const ds = look('c.t.lab.', RRType.DS);
  assert.equal(ds.aa, true);
  assert.deepEqual(ds.answer.map((a) => a.type), [RRType.DS]);
});
