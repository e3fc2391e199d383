// The RR type codecs: a generic round trip over every type (text → wire → text → wire), and each edge
// case of issue #10 checked against wire bytes written out by hand from the RFCs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Lexer } from '../../zone/lexer.js';
import { parseZone } from '../../zone/parser.js';
import { formatRecord } from '../../zone/format.js';
import { parseLabels } from '../name.js';
import { Writer } from '../writer.js';
import { rdataCodec } from '../rdata/index.js';
import { decodeMessage, encodeMessage } from '../message.js';
import { RRType, typeName, type ResourceRecord } from '../types.js';
import {
  RRTYPE_CODECS, RdataTextError, expandRdata, formatRdata, formatRdataStrict, hasTextForm, parseRdataText,
  typeFromMnemonic, typesWithTextForm, type RdataWarning,
} from './index.js';

const origin = parseLabels('example.com.');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

/** Parses the rdata text of `type` (what follows the type in a zone file). */
function wire(type: number | string, text: string, warnings?: RdataWarning[]): Uint8Array {
  const code = typeof type === 'number' ? type : typeFromMnemonic(type)!;
  const e = new Lexer(text, 't').next();
  const t = { tokens: e?.tokens ?? [], pos: 0, origin, warnings };
  return parseRdataText(code, t).wire;
}

function fails(type: string, text: string, expected: RegExp): void {
  assert.throws(() => wire(type, text), (e: unknown) => {
    assert.ok(e instanceof RdataTextError, String(e));
    assert.match(e.message, expected);
    return true;
  }, `${type} ${text}`);
}

/** The uncompressed wire rdata of a parsed record, typed or not. */
function rdataOf(rr: ResourceRecord): Uint8Array {
  if ('raw' in rr.data) return rr.data.raw;
  const w = new Writer();
  rdataCodec(rr.type).encode(w, rr.data);
  const b = w.finish();
  return expandRdata(rr.type, b, 0, b.length);
}

const fixtures = ['common.zone', 'knot-only.zone', 'bind-only.zone'].map((f) => fileURLToPath(new URL(`../../../test/fixtures/rrtypes/${f}`, import.meta.url)));
const origins = ['example.com.', 'example.net.', 'example.org.'];
/** Types only the round trip covers (no oracle reads them), written here. */
const extra = `$TTL 60
md MD madname
mf MF MaDnAmE.example.
o SVCB 1 doh.example.net. alpn=h2 dohpath=/dns-query{?dns} ohttp
o2 HTTPS 1 . ohttp key65535 no-default-alpn alpn=h3
`;

test('round trip over every type: text → wire → text → wire is stable, and every type with a text form is covered', () => {
  const seen = new Set<number>();
  const zones = fixtures.map((f, i) => parseZone(readFileSync(f, 'utf8'), { origin: origins[i]!, file: f }));
  zones.push(parseZone(extra, { origin: 'example.com.', file: 'extra' }));
  for (const z of zones) {
    for (const rr of z.records) {
      const w1 = rdataOf(rr);
      const line = formatRecord(rr);
      const again = parseZone(line + '\n', { origin: '.', file: 'line' }).records;
      assert.equal(again.length, 1, line);
      const w2 = rdataOf(again[0]!);
      assert.equal(hex(w2), hex(w1), line);
      assert.equal(formatRecord(again[0]!), line);
      // Types with a text form print it, not RFC 3597, for data that came from text.
      if (hasTextForm(rr.type) && !line.includes('\\#')) seen.add(rr.type);
    }
  }
  const missing = typesWithTextForm().filter((t) => !seen.has(t));
  assert.deepEqual(missing.map(typeName), []);
});

test('RFC 3597: \\# for any type, length 0, TYPEnnn in the type and in bitmaps', () => {
  assert.equal(hex(wire(65281, '\\# 0')), '');
  assert.equal(hex(wire('NULL', '\\# 0')), '');
  assert.equal(hex(wire('APL', '\\# 0')), '');
  assert.equal(hex(wire('NAPTR', '\\# 3 414243')), '414243');
  assert.equal(hex(wire(35, '\\# 3 41 42 43')), '414243');
  assert.equal(hex(wire('TYPE1', '198.51.100.5')), 'c6336405');
  assert.equal(typeFromMnemonic('type65535'), 65535);
  assert.equal(typeFromMnemonic('TYPE65536'), undefined);
  assert.equal(typeFromMnemonic('nsap-ptr'), 23);
  assert.equal(formatRdata(65280, unhex('0a000001')), '\\# 4 0a000001');
  assert.equal(formatRdata(RRType.A, new Uint8Array(3)), '\\# 3 000000');
  assert.throws(() => formatRdataStrict(RRType.A, new Uint8Array(3)));
  fails('NULL', '1 2', /RFC 3597 form .* for NULL/);
});

test('LOC with and without precision (RFC 1876)', () => {
  // RFC 1876 §4 defaults: size 1m (0x12), horizontal 10000m (0x16), vertical 10m (0x13).
  assert.equal(hex(wire('LOC', '42 21 54 N 71 06 18 W -24m')), '00121613' + '89172dd0' + '70be15f0' + '00988d20');
  assert.equal(hex(wire('LOC', '42 21 54.000 N 71 6 18 W -24.00m 30m')), '00331613' + '89172dd0' + '70be15f0' + '00988d20');
  assert.equal(hex(wire('LOC', '42 21 54 N 71 06 18 W -24m 30m 1m 0.5m')), '00331251' + '89172dd0' + '70be15f0' + '00988d20');
  assert.equal(formatRdata(29, wire('LOC', '42 21 54 N 71 06 18 W -24m 30m')), '42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m');
  assert.equal(formatRdata(29, wire('LOC', '60 N 1 E 0')), '60 0 0.000 N 1 0 0.000 E 0.00m 1m 10000m 10m');
  fails('LOC', '91 N 1 E 0', /latitude/);
  fails('LOC', '42 60 N 1 E 0', /minutes of at most 59/);
  fails('LOC', '42 N 1 X 0', /E or W/);
});

test('APL with negation and trailing zero bytes dropped (RFC 3123 §4)', () => {
  assert.equal(hex(wire('APL', '1:192.168.32.0/21 !1:192.168.38.0/28')), '000115' + '03c0a820' + '00011c' + '83c0a826');
  assert.equal(hex(wire('APL', '2:ff00::/8')), '000208' + '01ff');
  assert.equal(hex(wire('APL', '1:0.0.0.0/0')), '00010000');
  assert.equal(hex(wire('APL', '')), '');
  assert.equal(formatRdata(42, unhex('00011c83c0a826')), '!1:192.168.38.0/28');
  fails('APL', '3:1.2.3.4/8', /family/);
  fails('APL', '1:1.2.3.4/33', /prefix/);
});

test('NSEC type bitmap over several windows (RFC 4034 §4.1.2)', () => {
  const w = wire('NSEC', 'host.example.com. A MX RRSIG NSEC TYPE1234 CAA TYPE65535');
  // Window 0: A(1) MX(15) RRSIG(46) NSEC(47); window 1: CAA(257); window 4: 1234 = 4*256+210; window 255: 65535.
  assert.equal(
    hex(w),
    '04686f7374076578616d706c6503636f6d00' + '0006400100000003' + '010140' + '041b' + '00'.repeat(26) + '20' + 'ff20' + '00'.repeat(31) + '01',
  );
  assert.equal(formatRdata(47, w), 'host.example.com. A MX RRSIG NSEC CAA TYPE1234 TYPE65535');
  // Malformed bitmaps print as RFC 3597: a window twice, an empty window, a trailing zero byte.
  assert.match(formatRdata(47, unhex('00' + '000140' + '000140')), /^\\# /);
  assert.match(formatRdata(47, unhex('00' + '0000')), /^\\# /);
  assert.match(formatRdata(47, unhex('00' + '00024000')), /^\\# /);
  fails('NSEC', 'host. A BOGUS', /type mnemonics/);
});

test('NSEC3 next owner in base32hex, any case in, lower case out; salt "-" (RFC 5155 §3.3)', () => {
  const w = wire('NSEC3', '1 1 12 aabbccdd 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG');
  assert.equal(hex(w), '0101000c04aabbccdd14' + '174eb2409fe28bcb4887a1836f957f0a8425e27b' + '000640000000' + '0002');
  assert.equal(formatRdata(50, w), '1 1 12 AABBCCDD 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG');
  assert.equal(hex(wire('NSEC3PARAM', '1 0 0 -')), '0100000000');
  assert.equal(formatRdata(51, unhex('0100000000')), '1 0 0 -');
  fails('NSEC3', '1 1 12 - 2t7b4g4vsa5smi47k61mv5bv1a22boj A', /base32hex/);
  fails('NSEC3', '1 1 12 - 2t7b4g4vsa5smi47k61mv5bv1a22bojw A', /base32hex/);
});

test('TXT escapes and strings over 255 bytes split into pieces with a warning', () => {
  assert.equal(hex(wire('TXT', '"a\\"b" "c\\\\d" "\\000\\255" x\\ y')), '03612262' + '03635c64' + '0200ff' + '03782079');
  assert.equal(hex(wire('TXT', 'x\\ y')), '03782079');
  assert.equal(hex(wire('TXT', '"\\195\\133LAND"')), '06c3854c414e44');
  assert.equal(formatRdata(16, unhex('03612262' + '0200ff')), '"a\\"b" "\\000\\255"');
  const warnings: RdataWarning[] = [];
  const w = wire('TXT', `"${'x'.repeat(300)}" "y"`, warnings);
  assert.deepEqual([w[0], w[256], w[302]], [255, 45, 1]);
  assert.equal(w.length, 1 + 255 + 1 + 45 + 1 + 1);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.token, 0);
  assert.match(warnings[0]!.message, /300 bytes split into 2 strings/);
  // Exactly 255 bytes is one string, no warning.
  const none: RdataWarning[] = [];
  assert.equal(wire('TXT', `"${'z'.repeat(255)}"`, none).length, 256);
  assert.deepEqual(none, []);
  fails('TXT', '"\\256"', /valid escapes/);
  fails('HINFO', `"${'a'.repeat(256)}" os`, /at most 255 bytes/);
});

test('SVCB/HTTPS: every SvcParam, sorted keys, value lists, empty params (RFC 9460)', () => {
  // §2.1/Appendix D.1: AliasMode and ServiceMode without params.
  assert.equal(hex(wire('SVCB', '0 foo.example.com.')), '0000' + '03666f6f076578616d706c6503636f6d00');
  assert.equal(hex(wire('SVCB', '1 .')), '000100');
  // Appendix D.2 figure 8: alpn with escaped comma and backslash.
  assert.equal(
    hex(wire('SVCB', '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"')),
    '0010' + '03666f6f076578616d706c65036f726700' + '0001000c' + '08665c6f6f2c626172' + '026832',
  );
  assert.equal(hex(wire('SVCB', '16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2')), hex(wire('SVCB', '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"')));
  // Appendix D.2 figure 7 (keys out of order in the text, sorted on the wire).
  assert.equal(
    hex(wire('SVCB', '16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1')),
    '0010' + '03666f6f076578616d706c65036f726700' + '000000040001' + '0004' + '0001000902683205' + '6833' + '2d3139' + '00040004c0000201',
  );
  assert.equal(hex(wire('HTTPS', '1 . port=443 no-default-alpn alpn=h3')), '000100' + '00010003026833' + '00020000' + '0003000201bb');
  assert.equal(hex(wire('SVCB', '1 . ech=AEj+ ipv6hint=2001:db8::1,::ffff:198.51.100.100')), '000100' + '0005000300' + '48fe' + '0006002020010db8000000000000000000000001' + '00000000000000000000ffffc6336464');
  assert.equal(hex(wire('SVCB', '1 . dohpath=/q{?dns} ohttp key667="hello\\210qoo" key65535')), '000100' + '00070008' + '2f717b3f646e737d' + '00080000' + '029b0009' + '68656c6c6fd2716f6f' + 'ffff0000');
  // keyNNNNN is opaque, even for a number with a name (Knot: key7 with no value loads).
  assert.equal(hex(wire('SVCB', '1 . key7 mandatory=key7')), '000100' + '000000020007' + '00070000');
  assert.equal(formatRdata(64, wire('SVCB', '1 . key7 mandatory=key7')), '1 . mandatory=dohpath key7');
  assert.equal(formatRdata(64, wire('SVCB', '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"')), '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"');
  assert.equal(formatRdata(65, wire('HTTPS', '1 . alpn=h3 port=443 ipv4hint=198.51.100.1,198.51.100.2')), '1 . alpn="h3" port=443 ipv4hint=198.51.100.1,198.51.100.2');
  // Wire not in increasing key order, or mandatory naming a missing key, has no text form.
  assert.match(formatRdata(64, unhex('000100' + '0003000201bb' + '00010003026833')), /^\\# /);
  assert.match(formatRdata(64, unhex('000100' + '000000020003')), /^\\# /);
});

test('SVCB errors: duplicate keys, mandatory rules, bad values (RFC 9460 §2.1, §8)', () => {
  fails('SVCB', '1 . key123=abc key123=def', /each SvcParam key once/);
  fails('SVCB', '1 . mandatory=key123', /key key123 that mandatory lists/);
  fails('SVCB', '1 . mandatory=mandatory', /"mandatory" in its own list/);
  fails('SVCB', '1 . mandatory=alpn,alpn alpn=h2', /once in mandatory/);
  fails('SVCB', '1 . mandatory', /a value for mandatory/);
  fails('SVCB', '1 . alpn', /a value for alpn/);
  fails('SVCB', '1 . alpn=a,,b', /alpn ids of 1 to 255 bytes/);
  fails('SVCB', '1 . alpn=a\\\\b', /comma-separated list/);
  fails('SVCB', '1 . no-default-alpn=', /no value for no-default-alpn/);
  fails('SVCB', '1 . ohttp=x', /no value for ohttp/);
  fails('SVCB', '1 . port=65536', /port number/);
  fails('SVCB', '1 . port', /port number/);
  fails('SVCB', '1 . ipv4hint=1.2.3', /ipv4hint addresses/);
  fails('SVCB', '1 . ipv6hint=::1,,::2', /ipv6hint addresses/);
  fails('SVCB', '1 . ech=W', /base64/);
  fails('SVCB', '1 . ech=', /base64/);
  fails('SVCB', '1 . dohpath=', /dohpath value/);
  fails('SVCB', '1 . PORT=0', /SvcParam key/);
  fails('SVCB', '1 . bogus', /SvcParam key/);
  fails('SVCB', '65536 .', /SvcPriority of at most 65535/);
  fails('SVCB', '1', /TargetName/);
});

test('DNSSEC types: base64 with blanks, algorithm mnemonics, signature times', () => {
  const a = wire('DNSKEY', '256 3 8 AwEAAbdx yhNuSutc ( 5EMzxTs9\n LBPC )');
  const b = wire('DNSKEY', '256 3 RSASHA256 AwEAAbdxyhNuSutc5EMzxTs9LBPC');
  assert.equal(hex(a), hex(b));
  assert.equal(formatRdata(48, b), '256 3 8 AwEAAbdxyhNuSutc5EMzxTs9LBPC');
  const sig = wire('RRSIG', 'A 5 3 86400 20030322173103 20030220173103 2642 example.com. AAAA');
  assert.equal(hex(sig).slice(0, 36), '0001' + '05' + '03' + '00015180' + '3e7c9dd7' + '3e5510d7' + '0a52');
  assert.equal(hex(wire('RRSIG', 'A 5 3 86400 1048354263 1045762263 2642 example.com. AAAA')), hex(sig));
  assert.equal(formatRdata(46, sig), 'A 5 3 86400 20030322173103 20030220173103 2642 example.com. AAAA');
  assert.equal(hex(wire('DS', '60485 5 1 ( 2BB183AF5F22588179A53B0A9863 1FAD1A292118 )')), 'ec450501' + '2bb183af5f22588179a53b0a98631fad1a292118');
  fails('DS', '60485 5 1 2BB', /digest/);
  fails('RRSIG', 'A 5 3 86400 20031322173103 20030220173103 2642 example.com. AAAA', /valid date/);
  fails('DNSKEY', '256 3 8 AwEA=AAA', /base64/);
});

test('the other types against their RFC examples', () => {
  assert.equal(hex(wire('WKS', '198.51.100.2 tcp 21 25')), 'c6336402' + '06' + '00000440');
  assert.equal(formatRdata(11, unhex('c633640206' + '00000440')), '198.51.100.2 6 21 25');
  assert.equal(hex(wire('WKS', '198.51.100.2 6 0 7')), 'c633640206' + '81');
  assert.equal(hex(wire('EUI48', '00-00-5e-00-53-2a')), '00005e00532a');
  assert.equal(hex(wire('EUI64', '00-00-5E-EF-10-00-00-2A')), '00005eef1000002a');
  assert.equal(hex(wire('NID', '10 0014:4fff:ff20:ee64')), '000a00144fffff20ee64');
  assert.equal(hex(wire('L64', '10 2001:db8:1140:1000')), '000a20010db811401000');
  assert.equal(formatRdata(106, unhex('000a20010db811401000')), '10 2001:0db8:1140:1000');
  assert.equal(hex(wire('AMTRELAY', '10 1 3 amtrelays.example.com.')), '0a83' + '09616d7472656c617973076578616d706c6503636f6d00');
  assert.equal(hex(wire('AMTRELAY', '128 0 0 .')), '8000');
  assert.equal(hex(wire('IPSECKEY', '10 0 2 . AQID')), '0a0002010203');
  assert.equal(hex(wire('NSAP', '0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00')), '47000580005a0000000001e133ffffff00016100');
  assert.equal(hex(wire('URI', `10 1 "ftp://ftp1.example.com/public"`)).slice(0, 8), '000a0001');
  assert.equal(hex(wire('CAA', '0 issue "ca.example.net"')), '0005697373756563612e6578616d706c652e6e6574');
  assert.equal(
    hex(wire('HIP', '2 200100107B1A74DF365639CC39F1D578 AwEAAQ== rvs.example.com.')),
    '10' + '02' + '0004' + '200100107b1a74df365639cc39f1d578' + '03010001' + '03727673076578616d706c6503636f6d00',
  );
  assert.equal(hex(wire('HIP', '2 2001 AwEAAQ==')), '02020004' + '2001' + '03010001');
  assert.equal(hex(wire('ISDN', '"150862028003217" "004"')), '0f313530383632303238303033323137' + '03303034');
  assert.equal(hex(wire('CSYNC', '66 3 A NS AAAA')), '00000042' + '0003' + '000460000008');
  assert.equal(hex(wire('ZONEMD', '2018031900 1 1 c680')), '7848b91c' + '0101' + 'c680');
  assert.equal(hex(wire('CERT', 'PGP 0 0 AQID')), '0003' + '0000' + '00' + '010203');
});

test('names in RDATA: case kept, compressed only for RFC 1035 types, decompressed on reading for RFC 3597/4034 types', () => {
  assert.equal(hex(wire('CNAME', 'TaRgEt')), '06546152674574076578616d706c6503636f6d00');
  const rec = (type: number, data: ResourceRecord['data'], name = 'a.example.com.'): ResourceRecord => ({ name, type, class: 1, ttl: 60, data });
  // An RP (not an RFC 1035 type) is written as it is, never compressed, and a pointer in a received one is expanded.
  const rp = wire('RP', 'MbOx.example.com. t.example.com.');
  const msg = {
    id: 1,
    flags: { qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: 'a.example.com.', type: RRType.MX, class: 1 }],
    answers: [rec(RRType.MX, { preference: 1, exchange: 'MaIl.ExAmPlE.CoM.' }), rec(RRType.MX, { preference: 2, exchange: 'mail.example.com.' }), rec(17, { raw: rp })],
    authorities: [],
    additionals: [],
  };
  const out = encodeMessage(msg);
  const back = decodeMessage(out);
  // MX keeps its case although "example.com." was written before in another case.
  assert.deepEqual(back.answers.map((r) => r.data), [{ preference: 1, exchange: 'MaIl.ExAmPlE.CoM.' }, { preference: 2, exchange: 'mail.example.com.' }, { raw: rp }]);
  assert.ok(Buffer.from(out).includes(Buffer.from(rp)), 'RP rdata written uncompressed');
  // A compressed RP from another server: the names are expanded into plain wire rdata.
  const m2 = unhex(
    '0001' + '8400' + '0001' + '0001' + '0000' + '0000' +
      '0161076578616d706c6503636f6d00' + '000f0001' +
      'c00c' + '0011' + '0001' + '0000003c' + '0009' + '046d626f78c00c' + 'c00c',
  );
  const rr = decodeMessage(m2).answers[0]!;
  assert.equal(formatRdata(17, (rr.data as { raw: Uint8Array }).raw), 'mbox.a.example.com. a.example.com.');
});

test('every codec in the table has a text parser and formatter, or is the NULL-like \\#-only kind', () => {
  for (const [code, c] of RRTYPE_CODECS) {
    assert.equal(c.code, code);
    assert.equal(typeof c.parse, 'function', typeName(code));
    assert.equal(typeof c.format, 'function', typeName(code));
  }
  assert.equal(hasTextForm(10), false);
  assert.equal(hasTextForm(65280), false);
});

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random wire rdata for every type: formatRdata never throws, and what it prints parses back to the same bytes', () => {
  const rnd = prng(10);
  // Start from real rdata of each type and mutate it, so most inputs get deep into the codec.
  const seeds = new Map<number, Uint8Array[]>();
  for (const [i, f] of fixtures.entries()) {
    for (const rr of parseZone(readFileSync(f, 'utf8'), { origin: origins[i]!, file: f }).records) {
      const list = seeds.get(rr.type) ?? [];
      list.push(rdataOf(rr));
      seeds.set(rr.type, list);
    }
  }
  let printed = 0;
  for (const [type, list] of seeds) {
    for (let k = 0; k < 150; k++) {
      const base = list[Math.floor(rnd() * list.length)]!;
      const b = Uint8Array.from(base);
      const edits = 1 + Math.floor(rnd() * 3);
      let w: Uint8Array = b;
      for (let e = 0; e < edits; e++) {
        const r = rnd();
        if (r < 0.5 && w.length > 0) w[Math.floor(rnd() * w.length)] = Math.floor(rnd() * 256);
        else if (r < 0.75) w = w.subarray(0, Math.floor(rnd() * (w.length + 1)));
        else w = Uint8Array.from([...w, Math.floor(rnd() * 256)]);
      }
      const text = formatRdata(type, w);
      const back = wire(type, text);
      assert.equal(hex(back), hex(w), `${typeName(type)} ${hex(w)} printed as ${text}`);
      if (!text.startsWith('\\#')) printed++;
    }
  }
  assert.ok(printed > 1000, `only ${printed} mutated rdata had a text form`);
});

test('random text for every type: the parser throws only RdataTextError', () => {
  const rnd = prng(11);
  const words = ['0', '1', '65535', '65536', '4294967296', '-1', '.', '@', 'a.', 'x', '\\#', '"q"', 'AAAA', 'A', 'aabb', 'AQID', '-', '198.51.100.1', '2001:db8::1', 'N', 'S', 'E', 'W', '10m', 'alpn=h2', 'mandatory=port', 'port=1', 'key7', '!1:1.2.3.0/24', '1:1.2.3.4/33', 'tcp', '0x47', '00-11-22-33-44-55', '20030322173103', 'TYPE65535', '\\000', 'a\\', '(', 'ech=', 'ipv6hint=::1,::2'];
  for (const [type] of RRTYPE_CODECS) {
    for (let k = 0; k < 200; k++) {
      const n = Math.floor(rnd() * 10);
      const tokens = Array.from({ length: n }, () => {
        const w = words[Math.floor(rnd() * words.length)]!;
        return { text: w.replace(/^"|"$/g, ''), quoted: w.startsWith('"') };
      });
      try {
        parseRdataText(type, { tokens, pos: 0, origin });
      } catch (e) {
        assert.ok(e instanceof RdataTextError, `${typeName(type)} ${tokens.map((t) => t.text).join(' ')}: ${String(e)}`);
      }
    }
  }
});
