// Differential test: the same zones served by fluxdns, NSD and Knot must give the same answers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { dig, parseDig, type DigOptions, type DigResult, type Rec } from '../helpers/dig.js';
import { startNsd, startKnot, startFluxdns, fluxdnsAvailable, repoRoot, type RunningServer, type ZoneSpec } from '../helpers/servers.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'diff');
const zones: ZoneSpec[] = [
  { name: 'diff.test.', file: join(fixtures, 'diff.test.zone') },
  { name: 'other.test.', file: join(fixtures, 'other.test.zone') },
  { name: '100.51.198.in-addr.arpa.', file: join(fixtures, '100.51.198.in-addr.arpa.zone') },
  // Children of diff.test served by the same servers: DS at their apex is answered by diff.test.
  { name: 'sub.diff.test.', file: join(fixtures, 'sub.diff.test.zone') },
  { name: 'nods.diff.test.', file: join(fixtures, 'nods.diff.test.zone') },
];

type Mode =
  /** rcode, AA, answer and authority (order-insensitive) must equal one reference. */
  | 'full'
  /** RFC 8482: rcode and AA must match; answer non-empty and only records of the node. */
  | 'any'
  /** Truncated: rcode, AA and TC must match; sections are not compared. */
  | 'tc'
  /** Only rcode and AA are compared; question echo and OPT presence are not required. */
  | 'header';

interface Case {
  qname: string;
  qtype: string;
  tcp?: boolean;
  edns?: false | number;
  mode?: Mode;
  /** A referral: AA must be clear, NS of the cut in authority. */
  referral?: boolean;
  /** Absolute expectations checked on every server (so the test can fail even if all agree). */
  rcode: string | string[];
  aa: boolean;
  /** Each of these "type data" strings must appear in the answer section. */
  answerHas?: string[];
  /** Each of these "name type" strings must appear in the additional section. */
  additionalHas?: string[];
  /** None of these "name type" strings may appear in the additional section (data from other zones). */
  additionalLacks?: string[];
  /** Each of these "name type" strings must appear in the authority section. */
  authorityHas?: string[];
  /**
   * fluxdns's additional section must hold everything this reference's does, and its header flags
   * must equal this reference's (for what only one reference does: NSD 4.6 has no SVCB/HTTPS
   * additional processing and copies CD into some error answers).
   */
  like?: 'knot';
  tc?: boolean;
  note?: string;
  /** Extra dig arguments (e.g. +rec, +edns=1, +ednsopt=...). */
  extra?: string[];
  /** Query with kdig instead of dig (cross-checks the parser). */
  kdig?: boolean;
  /** The class to query; IN by default. */
  qclass?: string;
  /** Flags that must be set / must be clear in every response. */
  flagsSet?: string[];
  flagsClear?: string[];
}

const Z = 'diff.test.';
const n = (label: string): string => (label === '@' ? Z : `${label}.${Z}`);

const cases: Case[] = [
  // apex
  { qname: n('@'), qtype: 'SOA', rcode: 'NOERROR', aa: true, answerHas: ['SOA ns1.diff.test. hostmaster.diff.test. 2026112401 7200 3600 1209600 300'] },
  { qname: n('@'), qtype: 'NS', rcode: 'NOERROR', aa: true, answerHas: ['NS ns1.diff.test.', 'NS ns2.diff.test.'], additionalHas: ['ns1.diff.test. A', 'ns2.diff.test. A', 'ns1.diff.test. AAAA', 'ns2.diff.test. AAAA'] },
  { qname: n('@'), qtype: 'MX', rcode: 'NOERROR', aa: true, answerHas: ['MX 10 mail.diff.test.', 'MX 20 mail2.diff.test.'], additionalHas: ['mail.diff.test. A', 'mail.diff.test. AAAA', 'mail2.diff.test. A'] },
  { qname: n('@'), qtype: 'TXT', rcode: 'NOERROR', aa: true, answerHas: ['TXT "v=spf1 -all"'] },
  { qname: n('@'), qtype: 'CAA', rcode: 'NOERROR', aa: true, answerHas: ['CAA 0 issue "ca.diff.test"'] },
  { qname: n('@'), qtype: 'A', rcode: 'NOERROR', aa: true, note: 'NODATA at apex' },
  { qname: n('@'), qtype: 'DS', rcode: 'NOERROR', aa: true, note: 'DS at apex of an unsigned zone' },
  { qname: n('@'), qtype: 'DNSKEY', rcode: 'NOERROR', aa: true },
  { qname: 'DIFF.TEST.', qtype: 'SOA', rcode: 'NOERROR', aa: true },
  { qname: n('@'), qtype: 'SOA', tcp: true, rcode: 'NOERROR', aa: true },
  // hosts, case
  { qname: n('host'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 203.0.113.10', 'A 203.0.113.11'] },
  { qname: n('host'), qtype: 'AAAA', rcode: 'NOERROR', aa: true, answerHas: ['AAAA 2001:db8::10'] },
  { qname: 'HoSt.DiFf.TeSt.', qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 203.0.113.10'] },
  { qname: n('host'), qtype: 'A', tcp: true, rcode: 'NOERROR', aa: true, answerHas: ['A 203.0.113.10'] },
  { qname: n('mixed'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.51.100.77'], note: 'owner MiXeD in the file' },
  { qname: 'mIxEd.diff.test.', qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.51.100.77'] },
  { qname: 'UPPER.case.diff.test.', qtype: 'TXT', rcode: 'NOERROR', aa: true, answerHas: ['TXT "owner written in mixed case"'] },
  { qname: n('case'), qtype: 'TXT', rcode: 'NOERROR', aa: true, note: 'ENT created by Upper.CASE' },
  { qname: n('v6only'), qtype: 'A', rcode: 'NOERROR', aa: true, note: 'NODATA' },
  { qname: n('host'), qtype: 'MX', rcode: 'NOERROR', aa: true, note: 'NODATA' },
  { qname: n('hinfo'), qtype: 'HINFO', rcode: 'NOERROR', aa: true, answerHas: ['HINFO "PDP-11" "UNIX"'] },
  { qname: n('ptr'), qtype: 'PTR', rcode: 'NOERROR', aa: true, answerHas: ['PTR host.diff.test.'] },
  // NXDOMAIN
  { qname: n('nope'), qtype: 'A', rcode: 'NXDOMAIN', aa: true },
  { qname: n('deep.below.nope'), qtype: 'AAAA', rcode: 'NXDOMAIN', aa: true },
  { qname: 'NoPe.DIFF.test.', qtype: 'TXT', rcode: 'NXDOMAIN', aa: true },
  { qname: n('nope.host'), qtype: 'A', rcode: 'NXDOMAIN', aa: true, note: 'below an existing leaf' },
  // wildcards (RFC 4592)
  { qname: n('foo.wild'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.18.0.1'] },
  { qname: 'FoO.WiLd.diff.test.', qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.18.0.1'] },
  { qname: n('foo.wild'), qtype: 'TXT', rcode: 'NOERROR', aa: true, answerHas: ['TXT "wildcard"'] },
  { qname: n('foo.wild'), qtype: 'AAAA', rcode: 'NOERROR', aa: true, note: 'NODATA at the wildcard' },
  { qname: n('a.b.wild'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.18.0.1'], note: 'wildcard matches several labels' },
  { qname: n('sub.wild'), qtype: 'A', rcode: 'NOERROR', aa: true, note: 'explicit name blocks the wildcard: NODATA' },
  { qname: n('sub.wild'), qtype: 'TXT', rcode: 'NOERROR', aa: true, answerHas: ['TXT "explicit"'] },
  { qname: n('below.sub.wild'), qtype: 'A', rcode: 'NXDOMAIN', aa: true, note: 'closest encloser sub.wild has no *.sub.wild' },
  { qname: n('y.wild'), qtype: 'A', rcode: 'NOERROR', aa: true, note: 'ENT: NODATA, the wildcard does not apply' },
  { qname: n('z.y.wild'), qtype: 'A', rcode: 'NXDOMAIN', aa: true, note: 'closest encloser is the ENT y.wild: no *.y.wild' },
  { qname: n('x.y.wild'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.18.0.2'] },
  { qname: n('wild'), qtype: 'A', rcode: 'NOERROR', aa: true, note: 'ENT parent of the wildcard' },
  { qname: n('*.wild'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.18.0.1'], note: 'the wildcard owner queried literally' },
  { qname: n('foo.wild'), qtype: 'ANY', mode: 'any', rcode: 'NOERROR', aa: true },
  { qname: n('foo.cwild'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['CNAME host.diff.test.', 'A 203.0.113.10'], note: 'wildcard CNAME' },
  { qname: n('foo.cwild'), qtype: 'CNAME', rcode: 'NOERROR', aa: true, answerHas: ['CNAME host.diff.test.'] },
  { qname: n('foo.cwild'), qtype: 'AAAA', rcode: 'NOERROR', aa: true, answerHas: ['AAAA 2001:db8::10'] },
  { qname: n('b.wdeep'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.18.0.3'] },
  { qname: n('a.*.wdeep'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.18.0.4'], note: 'child of a wildcard' },
  { qname: n('b.*.wdeep'), qtype: 'A', rcode: 'NXDOMAIN', aa: true, note: 'closest encloser *.wdeep, no *.*.wdeep' },
  { qname: n('x.a.wdeep'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.18.0.3'] },
  // CNAME
  { qname: n('c1'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['CNAME c2.diff.test.', 'CNAME c3.diff.test.', 'CNAME host.diff.test.', 'A 203.0.113.10'] },
  { qname: 'C1.Diff.Test.', qtype: 'AAAA', rcode: 'NOERROR', aa: true, answerHas: ['AAAA 2001:db8::10'] },
  { qname: n('c1'), qtype: 'CNAME', rcode: 'NOERROR', aa: true, answerHas: ['CNAME c2.diff.test.'] },
  { qname: n('c2'), qtype: 'MX', rcode: 'NOERROR', aa: true, answerHas: ['CNAME c3.diff.test.', 'CNAME host.diff.test.'], note: 'chain ending in NODATA' },
  { qname: n('c1'), qtype: 'A', tcp: true, rcode: 'NOERROR', aa: true, answerHas: ['A 203.0.113.11'] },
  { qname: n('ext'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['CNAME target.elsewhere.invalid.'], note: 'CNAME out of every zone' },
  { qname: n('other'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['CNAME host.other.test.'], note: 'CNAME into another served zone' },
  { qname: n('dangling'), qtype: 'A', rcode: 'NXDOMAIN', aa: true, answerHas: ['CNAME nowhere.diff.test.'], note: 'RFC 6604: rcode of the last name' },
  { qname: n('cw'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['CNAME foo.wild.diff.test.', 'A 198.18.0.1'] },
  { qname: n('cdeleg'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['CNAME www.child.diff.test.'], note: 'CNAME into a delegation' },
  // DNAME
  { qname: n('a.dn'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['DNAME dtarget.diff.test.', 'CNAME a.dtarget.diff.test.', 'A 198.51.100.50'] },
  { qname: 'A.DN.diff.test.', qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['DNAME dtarget.diff.test.', 'A 198.51.100.50'] },
  { qname: n('b.dn'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['DNAME dtarget.diff.test.', 'CNAME b.dtarget.diff.test.', 'CNAME host.diff.test.', 'A 203.0.113.10'] },
  { qname: n('nx.dn'), qtype: 'A', rcode: 'NXDOMAIN', aa: true, answerHas: ['DNAME dtarget.diff.test.', 'CNAME nx.dtarget.diff.test.'] },
  { qname: n('deep.er.dn'), qtype: 'TXT', rcode: 'NXDOMAIN', aa: true, answerHas: ['DNAME dtarget.diff.test.'] },
  { qname: n('dn'), qtype: 'DNAME', rcode: 'NOERROR', aa: true, answerHas: ['DNAME dtarget.diff.test.'] },
  { qname: n('dn'), qtype: 'TXT', rcode: 'NOERROR', aa: true, answerHas: ['TXT "dname owner"'], note: 'the DNAME owner itself is not redirected' },
  { qname: n('dn'), qtype: 'A', rcode: 'NOERROR', aa: true, note: 'NODATA at the DNAME owner' },
  { qname: n('x.dnx'), qtype: 'A', rcode: ['NOERROR', 'NXDOMAIN'], aa: true, answerHas: ['DNAME other.test.', 'CNAME x.other.test.'], note: 'DNAME into another served zone' },
  { qname: n('dtarget'), qtype: 'A', rcode: 'NOERROR', aa: true, note: 'ENT' },
  // delegation
  { qname: n('child'), qtype: 'A', referral: true, rcode: 'NOERROR', aa: false, additionalHas: ['ns1.child.diff.test. A', 'ns1.child.diff.test. AAAA'] },
  { qname: n('child'), qtype: 'NS', referral: true, rcode: 'NOERROR', aa: false, additionalHas: ['ns1.child.diff.test. A'] },
  { qname: n('www.child'), qtype: 'A', referral: true, rcode: 'NOERROR', aa: false, additionalHas: ['ns1.child.diff.test. A'] },
  { qname: 'WWW.Child.Diff.Test.', qtype: 'AAAA', referral: true, rcode: 'NOERROR', aa: false },
  { qname: n('deep.www.child'), qtype: 'MX', referral: true, rcode: 'NOERROR', aa: false },
  { qname: n('ns1.child'), qtype: 'A', referral: true, rcode: 'NOERROR', aa: false, note: 'glue is not authoritative data' },
  { qname: n('child'), qtype: 'DS', rcode: 'NOERROR', aa: true, note: 'DS is answered by the parent: NODATA' },
  { qname: n('www.child'), qtype: 'DS', referral: true, rcode: 'NOERROR', aa: false },
  { qname: n('child'), qtype: 'A', tcp: true, referral: true, rcode: 'NOERROR', aa: false },
  { qname: n('child2'), qtype: 'A', referral: true, rcode: 'NOERROR', aa: false, additionalHas: ['ns1.diff.test. A'] },
  { qname: n('child3'), qtype: 'A', referral: true, rcode: 'NOERROR', aa: false, additionalLacks: ['ns1.other.test. A'], note: 'NS in another served zone: no glue from it' },
  // DS is the parent's record (RFC 4035 §3.1.4.1), whether the child is served here or not
  { qname: n('secure'), qtype: 'DS', rcode: 'NOERROR', aa: true, answerHas: ['DS 12345 13 2 101112131415161718191A1B1C1D1E1F202122232425262728292A2B 2C2D2E2F'], note: 'DS at a cut, child not served: answered, not referred' },
  { qname: 'SeCuRe.diff.test.', qtype: 'DS', tcp: true, rcode: 'NOERROR', aa: true, answerHas: ['DS 12345 13 2 101112131415161718191A1B1C1D1E1F202122232425262728292A2B 2C2D2E2F'] },
  { qname: n('secure'), qtype: 'A', referral: true, rcode: 'NOERROR', aa: false },
  { qname: n('secure2'), qtype: 'DS', rcode: 'NOERROR', aa: true, answerHas: ['DS 54321 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE9BD2A8E6C0F0AF1A 2F4B0C1D'], note: 'DS in text form' },
  { qname: n('www.secure'), qtype: 'DS', referral: true, rcode: 'NOERROR', aa: false, note: 'below the cut: a referral' },
  { qname: n('sub'), qtype: 'DS', rcode: 'NOERROR', aa: true, answerHas: ['DS 23456 13 2 404142434445464748494A4B4C4D4E4F505152535455565758595A5B 5C5D5E5F'], note: 'child served too: the parent answers' },
  { qname: n('sub'), qtype: 'DS', edns: false, rcode: 'NOERROR', aa: true, answerHas: ['DS 23456 13 2 404142434445464748494A4B4C4D4E4F505152535455565758595A5B 5C5D5E5F'] },
  { qname: n('nods'), qtype: 'DS', rcode: 'NOERROR', aa: true, authorityHas: ['diff.test. SOA'], note: 'child served, no DS in the parent: NODATA with the parent SOA' },
  { qname: n('sub'), qtype: 'SOA', rcode: 'NOERROR', aa: true, answerHas: ['SOA ns1.diff.test. hostmaster.diff.test. 2026120201 7200 3600 1209600 120'], note: 'every other type at the apex: the child' },
  { qname: n('sub'), qtype: 'NS', rcode: 'NOERROR', aa: true, answerHas: ['NS ns1.diff.test.'] },
  { qname: n('sub'), qtype: 'A', rcode: 'NOERROR', aa: true, authorityHas: ['sub.diff.test. SOA'] },
  { qname: n('www.sub'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 198.51.100.90'] },
  { qname: n('www.sub'), qtype: 'DS', rcode: 'NOERROR', aa: true, authorityHas: ['sub.diff.test. SOA'], note: 'DS below the child apex: the child' },
  { qname: n('nods'), qtype: 'SOA', rcode: 'NOERROR', aa: true, answerHas: ['SOA ns1.diff.test. hostmaster.diff.test. 2026120201 7200 3600 1209600 180'] },
  { qname: 'other.test.', qtype: 'DS', rcode: 'NOERROR', aa: true, authorityHas: ['other.test. SOA'], note: 'parent (test.) not served: the child answers NODATA' },
  // other zones and out of zone
  { qname: 'host.other.test.', qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['A 203.0.113.99'] },
  { qname: 'other.test.', qtype: 'NS', rcode: 'NOERROR', aa: true, answerHas: ['NS ns1.other.test.'] },
  { qname: 'nope.other.test.', qtype: 'A', rcode: 'NXDOMAIN', aa: true },
  { qname: '1.100.51.198.in-addr.arpa.', qtype: 'PTR', rcode: 'NOERROR', aa: true, answerHas: ['PTR ns1.diff.test.'] },
  { qname: '2.100.51.198.in-addr.arpa.', qtype: 'PTR', rcode: 'NXDOMAIN', aa: true },
  { qname: 'www.example.net.', qtype: 'A', rcode: 'REFUSED', aa: false },
  { qname: 'test.', qtype: 'SOA', rcode: 'REFUSED', aa: false, note: 'parent of served zones' },
  { qname: '.', qtype: 'NS', rcode: 'REFUSED', aa: false },
  { qname: 'xdiff.test.', qtype: 'A', rcode: 'REFUSED', aa: false, note: 'suffix match that is not a label boundary' },
  // unknown types
  { qname: n('unk'), qtype: 'TYPE65280', rcode: 'NOERROR', aa: true, answerHas: ['TYPE65280 \\# 4 0A0B0C0D'] },
  { qname: n('unk'), qtype: 'A', rcode: 'NOERROR', aa: true },
  { qname: n('host'), qtype: 'TYPE65280', rcode: 'NOERROR', aa: true },
  { qname: n('host'), qtype: 'TYPE4000', rcode: 'NOERROR', aa: true },
  // services and additional section processing
  { qname: n('_sip._tcp'), qtype: 'SRV', rcode: 'NOERROR', aa: true, answerHas: ['SRV 10 60 5060 host.diff.test.'], additionalHas: ['host.diff.test. A'] },
  { qname: n('_ldap._tcp'), qtype: 'SRV', rcode: 'NOERROR', aa: true, answerHas: ['SRV 0 0 389 mail.diff.test.'] },
  { qname: n('_tcp'), qtype: 'SRV', rcode: 'NOERROR', aa: true, note: 'ENT' },
  { qname: n('_srv-other._tcp'), qtype: 'SRV', rcode: 'NOERROR', aa: true, additionalLacks: ['host.other.test. A'], note: 'target in another served zone' },
  { qname: n('mx-other'), qtype: 'MX', rcode: 'NOERROR', aa: true, additionalHas: ['mail.diff.test. A', 'mail.diff.test. AAAA'], additionalLacks: ['host.other.test. A'] },
  { qname: n('_svc'), qtype: 'SVCB', like: 'knot', rcode: 'NOERROR', aa: true, answerHas: ['SVCB 1 svc-host.diff.test. alpn="h2"', 'SVCB 2 svc.elsewhere.invalid.'], note: 'RFC 9460 §4.1: addresses of in-zone targets' },
  { qname: n('_svc2'), qtype: 'SVCB', like: 'knot', rcode: 'NOERROR', aa: true, answerHas: ['SVCB 1 svc-host.diff.test. alpn="h2,h3" port=8443 ipv4hint=198.51.100.80'], note: 'SVCB in text form' },
  { qname: n('_svc'), qtype: 'SVCB', tcp: true, like: 'knot', rcode: 'NOERROR', aa: true },
  { qname: n('https-alias'), qtype: 'HTTPS', like: 'knot', rcode: 'NOERROR', aa: true, answerHas: ['HTTPS 0 host.diff.test.'], note: 'AliasMode target' },
  { qname: n('https-self'), qtype: 'HTTPS', like: 'knot', rcode: 'NOERROR', aa: true, answerHas: ['HTTPS 1 . alpn="h2,h3"'], note: '"." is the owner in ServiceMode (Knot adds nothing for it, fluxdns the owner\'s address)' },
  { qname: n('https-chain'), qtype: 'HTTPS', like: 'knot', rcode: 'NOERROR', aa: true, answerHas: ['HTTPS 0 https-self.diff.test.'], note: 'the target\'s address and its HTTPS RRset (RFC 9460 §4.1)' },
  { qname: n('https-none'), qtype: 'HTTPS', like: 'knot', rcode: 'NOERROR', aa: true, answerHas: ['HTTPS 0 .'], additionalLacks: ['https-none.diff.test. A'], note: '"." in AliasMode: no service' },
  { qname: n('_big'), qtype: 'SVCB', edns: false, rcode: 'NOERROR', aa: true, tc: false, note: 'additional data that does not fit is left out, without TC' },
  // ANY (RFC 8482)
  { qname: n('@'), qtype: 'ANY', mode: 'any', rcode: 'NOERROR', aa: true },
  { qname: n('host'), qtype: 'ANY', mode: 'any', rcode: 'NOERROR', aa: true },
  { qname: n('host'), qtype: 'ANY', tcp: true, mode: 'any', rcode: 'NOERROR', aa: true },
  { qname: n('nope'), qtype: 'ANY', rcode: 'NXDOMAIN', aa: true },
  // large answers
  { qname: n('long'), qtype: 'TXT', edns: false, mode: 'tc', tc: true, rcode: 'NOERROR', aa: true, note: '~1 KB over UDP without EDNS' },
  { qname: n('long'), qtype: 'TXT', edns: 1232, rcode: 'NOERROR', aa: true, tc: false },
  { qname: n('long'), qtype: 'TXT', tcp: true, rcode: 'NOERROR', aa: true, tc: false },
  { qname: n('huge'), qtype: 'TXT', edns: 1232, mode: 'tc', tc: true, rcode: 'NOERROR', aa: true, note: '~1.5 KB over UDP with EDNS 1232' },
  { qname: n('huge'), qtype: 'TXT', edns: false, mode: 'tc', tc: true, rcode: 'NOERROR', aa: true },
  { qname: n('huge'), qtype: 'TXT', edns: 4096, rcode: 'NOERROR', aa: true, note: 'a server may cap its UDP size at 1232 (DNS flag day 2020)' },
  { qname: n('huge'), qtype: 'TXT', tcp: true, rcode: 'NOERROR', aa: true, tc: false },
  { qname: n('@'), qtype: 'NS', edns: false, rcode: 'NOERROR', aa: true, answerHas: ['NS ns1.diff.test.'] },
  // header bits, EDNS, other tools and classes
  { qname: n('host'), qtype: 'A', extra: ['+rec'], rcode: 'NOERROR', aa: true, flagsSet: ['rd'], flagsClear: ['ra'], note: 'RD is copied, RA stays clear' },
  { qname: n('host'), qtype: 'A', extra: ['+cd'], rcode: 'NOERROR', aa: true, note: 'CD set in the query (neither NSD nor Knot copies it)' },
  { qname: n('host'), qtype: 'A', extra: ['+dnssec'], rcode: 'NOERROR', aa: true, answerHas: ['A 203.0.113.10'], note: 'DO bit on an unsigned zone' },
  { qname: n('host'), qtype: 'A', extra: ['+edns=1', '+noednsnegotiation'], rcode: 'BADVERS', aa: false, note: 'EDNS version 1' },
  { qname: n('host'), qtype: 'A', extra: ['+ednsopt=65001:abcd'], rcode: 'NOERROR', aa: true, answerHas: ['A 203.0.113.10'], note: 'unknown EDNS option is ignored' },
  { qname: n('host'), qtype: 'A', extra: ['+ednsflags=0x20'], rcode: 'NOERROR', aa: true, note: 'unknown EDNS flag' },
  { qname: n('@'), qtype: 'SOA', extra: ['+opcode=status'], rcode: 'NOTIMP', aa: false, mode: 'header', note: 'NSD answers with a bare header, Knot echoes question and OPT' },
  { qname: n('@'), qtype: 'SOA', extra: ['+opcode=15', '+rec', '+cd', '+adflag'], rcode: 'NOTIMP', aa: false, mode: 'header', like: 'knot', flagsSet: ['rd'], flagsClear: ['aa', 'ad', 'ra'], note: 'RFC 8906 §8.1.4: RD copied and no other flag (NSD also copies CD)' },
  { qname: 'www.example.net.', qtype: 'A', extra: ['+rec', '+cd', '+adflag'], rcode: 'REFUSED', aa: false, flagsSet: ['rd'], flagsClear: ['cd', 'ad', 'ra'], note: 'error answers copy RD alone' },
  { qname: n('@'), qtype: 'SOA', qclass: 'CH', extra: ['+rec', '+cd'], rcode: 'REFUSED', aa: false, flagsSet: ['rd'], flagsClear: ['cd'] },
  { qname: n('host'), qtype: 'A', extra: ['+tcflag', '+aaflag', '+raflag', '+adflag', '+zflag'], rcode: 'NOERROR', aa: true, like: 'knot', flagsClear: ['tc', 'ra', 'ad'], answerHas: ['A 203.0.113.10'], note: 'header bits a query should not set: answered, none of them copied' },
  { qname: n('host'), qtype: 'A', extra: ['+edns=1', '+noednsnegotiation', '+rec', '+cd'], rcode: 'BADVERS', aa: false, like: 'knot', flagsSet: ['rd'], note: 'NSD copies CD here, Knot does not' },
  { qname: n('@'), qtype: 'SOA', qclass: 'CH', rcode: 'REFUSED', aa: false, note: 'zone served in class IN only' },
  { qname: n('host'), qtype: 'A', kdig: true, rcode: 'NOERROR', aa: true, answerHas: ['A 203.0.113.10'] },
  { qname: n('www.child'), qtype: 'A', kdig: true, tcp: true, referral: true, rcode: 'NOERROR', aa: false },
  { qname: n('long'), qtype: 'TXT', kdig: true, mode: 'tc', tc: true, rcode: 'NOERROR', aa: true },
  // more edge cases
  { qname: n('long'), qtype: 'TXT', edns: 600, mode: 'tc', tc: true, rcode: 'NOERROR', aa: true, note: 'EDNS size below the answer size' },
  { qname: n('long'), qtype: 'TXT', edns: 100, mode: 'tc', tc: true, rcode: 'NOERROR', aa: true, note: 'EDNS size below 512 is treated as 512' },
  { qname: n('host'), qtype: 'RRSIG', rcode: 'NOERROR', aa: true, note: 'unsigned zone' },
  { qname: n('host'), qtype: 'NSEC', rcode: 'NOERROR', aa: true },
  { qname: n('dn'), qtype: 'CNAME', rcode: 'NOERROR', aa: true },
  { qname: n('ext'), qtype: 'CNAME', rcode: 'NOERROR', aa: true, answerHas: ['CNAME target.elsewhere.invalid.'] },
  { qname: n('dangling'), qtype: 'TXT', tcp: true, rcode: 'NXDOMAIN', aa: true },
  { qname: n('*.wild'), qtype: 'TXT', rcode: 'NOERROR', aa: true, answerHas: ['TXT "wildcard"'] },
  { qname: n('*.y.wild'), qtype: 'A', rcode: 'NXDOMAIN', aa: true },
  { qname: n('foo.*.wild'), qtype: 'A', rcode: 'NXDOMAIN', aa: true, note: 'RFC 4592: closest encloser is *.wild itself, no *.*.wild' },
  { qname: n('a.b.c.d.e.f.g.h.wild'), qtype: 'TXT', rcode: 'NOERROR', aa: true },
  { qname: n('x.foo.cwild'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['CNAME host.diff.test.'] },
  { qname: n('child'), qtype: 'NS', tcp: true, referral: true, rcode: 'NOERROR', aa: false },
  { qname: n('child'), qtype: 'ANY', referral: true, rcode: 'NOERROR', aa: false },
  { qname: n('child'), qtype: 'SOA', referral: true, rcode: 'NOERROR', aa: false },
  { qname: n('x.dn'), qtype: 'DNAME', rcode: 'NXDOMAIN', aa: true, answerHas: ['DNAME dtarget.diff.test.'] },
  { qname: n('a.dn'), qtype: 'CNAME', rcode: 'NOERROR', aa: true, answerHas: ['DNAME dtarget.diff.test.', 'CNAME a.dtarget.diff.test.'] },
  { qname: n('b.dn'), qtype: 'CNAME', rcode: 'NOERROR', aa: true, answerHas: ['DNAME dtarget.diff.test.', 'CNAME b.dtarget.diff.test.'] },
  { qname: n('x.dnx'), qtype: 'CNAME', rcode: 'NOERROR', aa: true, answerHas: ['DNAME other.test.', 'CNAME x.other.test.'] },
  { qname: n('a.dn'), qtype: 'DNAME', rcode: 'NOERROR', aa: true, answerHas: ['DNAME dtarget.diff.test.'] },
  { qname: 'a\\.b.diff.test.', qtype: 'A', rcode: 'NXDOMAIN', aa: true, note: 'label containing a dot' },
  { qname: 'a\\000b.diff.test.', qtype: 'A', rcode: 'NXDOMAIN', aa: true, note: 'label containing a NUL byte' },
  { qname: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(51)}.diff.test.`, qtype: 'A', rcode: 'NXDOMAIN', aa: true, note: '255-octet name' },
  { qname: n('ns1'), qtype: 'ANY', mode: 'any', rcode: 'NOERROR', aa: true },
  { qname: n('mail2'), qtype: 'AAAA', rcode: 'NOERROR', aa: true },
  { qname: n('foo.cwild'), qtype: 'AAAA', kdig: true, rcode: 'NOERROR', aa: true, answerHas: ['CNAME host.diff.test.', 'AAAA 2001:db8::10'] },
  // a DNAME that points below itself: never the same record twice in a section
  { qname: n('x.dself'), qtype: 'A', rcode: 'NOERROR', aa: true, answerHas: ['DNAME sub.dself.diff.test.', 'CNAME x.sub.dself.diff.test.'] },
  { qname: n('x.dself'), qtype: 'A', tcp: true, rcode: 'NOERROR', aa: true, answerHas: ['DNAME sub.dself.diff.test.'] },
  { qname: n('x.dself'), qtype: 'CNAME', rcode: 'NOERROR', aa: true, answerHas: ['DNAME sub.dself.diff.test.', 'CNAME x.sub.dself.diff.test.'] },
  { qname: n('dself'), qtype: 'DNAME', rcode: 'NOERROR', aa: true, answerHas: ['DNAME sub.dself.diff.test.'] },
];

/** Cases on which NSD and Knot are known to give different (both acceptable) answers. */
const knownReferenceDisagreements = new Map<string, string>([
  ['other.diff.test. A (udp)', 'NSD follows the CNAME into other.test (another zone it serves) and adds host.other.test A plus other.test NS; Knot stops at the zone boundary'],
  ['x.dnx.diff.test. A (udp)', 'NSD follows the synthesized CNAME into other.test and answers NXDOMAIN with other.test SOA; Knot stops after the CNAME with NOERROR'],
  ['x.dself.diff.test. A (udp)', 'the DNAME points below itself: NSD stops before the DNAME would repeat (DNAME + 1 CNAME); Knot keeps the one DNAME and synthesizes CNAMEs to its chain limit'],
  ['x.dself.diff.test. A (tcp)', 'as over UDP: NSD stops before the DNAME would repeat, Knot synthesizes CNAMEs to its chain limit'],
]);

function caseId(c: Case): string {
  const via = c.tcp ? 'tcp' : c.edns === false ? 'udp,noedns' : typeof c.edns === 'number' ? `udp,edns${c.edns}` : 'udp';
  const more = [c.qclass ?? '', c.kdig ? 'kdig' : '', ...(c.extra ?? [])].filter((x) => x).join(' ');
  return `${c.qname} ${c.qtype} (${via}${more ? ` ${more}` : ''})`;
}

function digOpts(c: Case): DigOptions {
  const o: DigOptions = {};
  if (c.tcp) o.tcp = true;
  if (c.edns !== undefined) o.edns = c.edns;
  if (c.extra) o.extra = c.extra;
  if (c.kdig) o.tool = 'kdig';
  if (c.qclass) o.class = c.qclass;
  return o;
}

const recLine = (r: Rec): string => `${r.name} ${r.ttl} ${r.class} ${r.type} ${r.data}`;
const sortedLines = (rs: Rec[]): string[] => rs.map(recLine).sort();

interface Comparable {
  rcode: string;
  aa: boolean;
  tc?: boolean;
  answer?: string[];
  authority?: string[];
}

function comparable(c: Case, r: DigResult): Comparable {
  const mode = c.mode ?? 'full';
  const base: Comparable = { rcode: r.rcode, aa: r.flags.has('aa') };
  if (mode === 'tc') return { ...base, tc: r.flags.has('tc') };
  if (mode === 'any' || mode === 'header') return base;
  return { ...base, tc: r.flags.has('tc'), answer: sortedLines(r.answer), authority: sortedLines(r.authority) };
}

const apexes = new Set(zones.map((z) => z.name));

/**
 * For comparing the two references with each other only: NSD puts the zone's apex NS RRset in
 * the authority section of positive answers, Knot does not (minimal responses). Both are fine,
 * so drop that RRset from positive answers before comparing NSD with Knot.
 */
function referenceComparable(c: Case, r: DigResult): Comparable {
  const cmp = comparable(c, r);
  if (cmp.authority && r.rcode === 'NOERROR' && r.answer.length > 0) {
    cmp.authority = sortedLines(r.authority.filter((a) => !(a.type === 'NS' && apexes.has(a.name))));
  }
  return cmp;
}

function show(label: string, r: DigResult | Error | undefined): string {
  if (r === undefined) return `===== ${label}: not run`;
  if (r instanceof Error) return `===== ${label}: ERROR ${r.message}`;
  return `===== ${label} (${r.rcode}, flags: ${[...r.flags].join(' ')}):\n${r.raw.trim()}`;
}

/** Absolute expectations from the case definition; returns problems found. */
function checkExpectations(c: Case, r: DigResult): string[] {
  const problems: string[] = [];
  const rcodes = Array.isArray(c.rcode) ? c.rcode : [c.rcode];
  if (!rcodes.includes(r.rcode)) problems.push(`rcode ${r.rcode}, expected ${rcodes.join(' or ')}`);
  if (r.flags.has('aa') !== c.aa) problems.push(`AA ${r.flags.has('aa')}, expected ${c.aa}`);
  if (!r.flags.has('qr')) problems.push('QR flag missing');
  for (const f of c.flagsSet ?? []) if (!r.flags.has(f)) problems.push(`flag ${f} not set`);
  for (const f of c.flagsClear ?? []) if (r.flags.has(f)) problems.push(`flag ${f} set`);
  if (c.mode !== 'header' && r.edns !== (c.edns !== false && !(c.kdig && c.edns === undefined))) problems.push(`response ${r.edns ? 'has' : 'lacks'} OPT, query ${c.edns === false ? 'had none' : 'had one'}`);
  if (c.tc !== undefined && r.flags.has('tc') !== c.tc) problems.push(`TC ${r.flags.has('tc')}, expected ${c.tc}`);
  const ans = new Set(r.answer.map((a) => `${a.type} ${a.data}`));
  for (const want of c.answerHas ?? []) {
    const w = want.replace(/\s+/g, ' ');
    const wType = w.split(' ')[0]!;
    const norm = ['CNAME', 'DNAME', 'NS', 'MX', 'SRV', 'PTR', 'SOA'].includes(wType) ? w.toLowerCase().replace(/^\S+/, wType) : w;
    if (!ans.has(norm)) problems.push(`answer lacks "${want}"`);
  }
  const add = new Set(r.additional.map((a) => `${a.name} ${a.type}`));
  for (const want of c.additionalHas ?? []) if (!add.has(want)) problems.push(`additional lacks "${want}"`);
  for (const unwanted of c.additionalLacks ?? []) if (add.has(unwanted)) problems.push(`additional has "${unwanted}"`);
  const auth = new Set(r.authority.map((a) => `${a.name} ${a.type}`));
  for (const want of c.authorityHas ?? []) if (!auth.has(want)) problems.push(`authority lacks "${want}"`);
  // No record twice in one section (a DNAME pointing below itself must not repeat).
  for (const [label, sec] of [['answer', r.answer], ['authority', r.authority], ['additional', r.additional]] as const) {
    const lines = sec.map(recLine);
    if (new Set(lines).size !== lines.length) problems.push(`the ${label} section holds a record twice`);
  }
  if (c.referral) {
    const cut = r.authority.filter((a) => a.type === 'NS');
    if (cut.length === 0) problems.push('referral without NS in authority');
    if (r.answer.length !== 0) problems.push('referral with a non-empty answer section');
  }
  if ((c.mode ?? 'full') === 'any' && c.rcode === 'NOERROR' && r.answer.length === 0) problems.push('ANY answer is empty');
  // The question is echoed exactly as sent (case included).
  const q = parseDig(r.raw, true).question;
  if (c.mode === 'header' && !q) return problems;
  if (!q || q.name !== c.qname) problems.push(`question echoed as ${q ? q.name : '(none)'}, sent ${c.qname}`);
  return problems;
}

interface Servers {
  nsd?: RunningServer;
  knot?: RunningServer;
  flux?: RunningServer;
  fluxError?: Error;
}

const servers: Servers = {};
const refCache = new Map<string, Promise<{ nsd: DigResult; knot: DigResult }>>();

function references(c: Case): Promise<{ nsd: DigResult; knot: DigResult }> {
  const id = caseId(c);
  let p = refCache.get(id);
  if (!p) {
    p = Promise.all([dig(servers.nsd!.port, c.qname, c.qtype, digOpts(c)), dig(servers.knot!.port, c.qname, c.qtype, digOpts(c))]).then(([nsd, knot]) => ({ nsd, knot }));
    refCache.set(id, p);
  }
  return p;
}

/** The records that exist at a node, from the references' answers over TCP for ANY and common types. */
async function nodeRecords(c: Case): Promise<Set<string>> {
  const types = ['ANY', 'SOA', 'NS', 'MX', 'TXT', 'CAA', 'A', 'AAAA', 'HINFO', 'PTR', 'SRV', 'CNAME', 'DNAME', 'DS', 'SVCB', 'HTTPS', 'TYPE65280'];
  const out = new Set<string>();
  for (const t of types) {
    for (const s of [servers.nsd!, servers.knot!]) {
      const r = await dig(s.port, c.qname, t, { tcp: true });
      for (const a of r.answer) if (a.name === c.qname.toLowerCase()) out.add(`${a.type} ${a.data}`);
    }
  }
  return out;
}

describe('differential: fluxdns vs NSD vs Knot', () => {
  before(async () => {
    const [pn, pk] = [await freePort(), await freePort()];
    [servers.nsd, servers.knot] = await Promise.all([startNsd(zones, pn), startKnot(zones, pk)]);
    if (fluxdnsAvailable()) {
      try {
        servers.flux = await startFluxdns(zones, await freePort());
      } catch (e) {
        servers.fluxError = e instanceof Error ? e : new Error(String(e));
      }
    }
  });

  after(async () => {
    await Promise.all([servers.nsd?.stop(), servers.knot?.stop(), servers.flux?.stop()]);
    await stopAll();
  });

  describe('reference servers (NSD vs Knot) agree: validates the harness and the fixtures', () => {
    for (const c of cases) {
      it(caseId(c), async () => {
        const { nsd, knot } = await references(c);
        const problems = [...checkExpectations(c, nsd).map((p) => `NSD: ${p}`), ...checkExpectations(c, knot).map((p) => `Knot: ${p}`)];
        const same = JSON.stringify(referenceComparable(c, nsd)) === JSON.stringify(referenceComparable(c, knot));
        const known = knownReferenceDisagreements.get(caseId(c));
        if (!same && !known) problems.push('NSD and Knot disagree (not a documented disagreement)');
        if (same && known) problems.push(`documented disagreement no longer seen: ${known}`);
        assert.ok(problems.length === 0, `${problems.join('\n')}\n${show('NSD', nsd)}\n${show('Knot', knot)}`);
      });
    }
  });

  describe('fluxdns matches NSD or Knot', () => {
    for (const c of cases) {
      it(caseId(c), async (t) => {
        if (!fluxdnsAvailable()) {
          t.skip('src/cli/main.ts does not exist yet');
          return;
        }
        if (servers.fluxError) throw servers.fluxError;
        const { nsd, knot } = await references(c);
        let flux: DigResult | Error;
        try {
          flux = await dig(servers.flux!.port, c.qname, c.qtype, digOpts(c));
        } catch (e) {
          flux = e instanceof Error ? e : new Error(String(e));
        }
        const dump = `query: dig ${c.qname} ${c.qtype} ${JSON.stringify(digOpts(c))}${c.note ? ` (${c.note})` : ''}\n${show('fluxdns', flux)}\n${show('NSD', nsd)}\n${show('Knot', knot)}`;
        if (flux instanceof Error) assert.fail(`fluxdns gave no response\n${dump}`);
        const problems = checkExpectations(c, flux);
        const fc = JSON.stringify(comparable(c, flux));
        if (fc !== JSON.stringify(comparable(c, nsd)) && fc !== JSON.stringify(comparable(c, knot))) {
          problems.push('rcode/AA/TC/answer/authority equal to neither NSD nor Knot');
        }
        // Everything both references put in the additional section, fluxdns must too.
        if ((c.mode ?? 'full') === 'full') {
          const knotAdd = new Set(sortedLines(knot.additional));
          const fluxAdd = new Set(sortedLines(flux.additional));
          for (const line of sortedLines(nsd.additional)) if (knotAdd.has(line) && !fluxAdd.has(line)) problems.push(`additional lacks ${line} (NSD and Knot have it)`);
        }
        if (c.like === 'knot') {
          const fluxAdd = new Set(sortedLines(flux.additional));
          for (const line of sortedLines(knot.additional)) if (!fluxAdd.has(line)) problems.push(`additional lacks ${line} (Knot has it)`);
          const flags = (r: DigResult): string => [...r.flags].sort().join(' ');
          if (flags(flux) !== flags(knot)) problems.push(`flags "${flags(flux)}", Knot's are "${flags(knot)}"`);
        }
        if ((c.mode ?? 'full') === 'any' && flux.answer.length > 0) {
          const node = await nodeRecords(c);
          for (const a of flux.answer) {
            if (a.name !== c.qname.toLowerCase() || !node.has(`${a.type} ${a.data}`)) problems.push(`ANY answer has a record not in the zone: ${recLine(a)}`);
          }
        }
        assert.ok(problems.length === 0, `${problems.join('\n')}\n${dump}`);
      });
    }
  });
});
