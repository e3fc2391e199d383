// Master-file features and every parse error, with its file, line and column.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseZone, loadZoneFile, MAX_ERRORS, ZoneError, ZoneErrors, type ParseZoneOptions } from './parser.js';
import { formatRecord } from './format.js';
import { RRType, type ResourceRecord } from '../wire/types.js';

const O = 'example.com.';
const SOA = '@ 3600 IN SOA ns1 host 1 2 3 4 5\n';

function parse(text: string, opts: Partial<ParseZoneOptions> = {}): ResourceRecord[] {
  return parseZone(text, { origin: O, file: 'z.zone', ...opts }).records;
}
function lines(text: string, opts: Partial<ParseZoneOptions> = {}): string[] {
  return parse(text, opts).map(formatRecord);
}
function fails(text: string, line: number, column: number, message: string, opts: Partial<ParseZoneOptions> = {}): void {
  assert.throws(
    () => parseZone(text, { origin: O, file: 'z.zone', ...opts }),
    (e: unknown) => {
      assert.ok(e instanceof ZoneError, `not a ZoneError: ${String(e)}`);
      assert.equal(e.file, opts.file ?? 'z.zone');
      assert.equal(e.line, line, e.message);
      assert.equal(e.column, column, e.message);
      assert.equal(e.message, `${opts.file ?? 'z.zone'}:${line}:${column}: ${message}`);
      return true;
    },
  );
}

test('$ORIGIN, @, relative and absolute names', () => {
  assert.deepEqual(lines('$TTL 60\n@ A 198.51.100.1\nwww A 198.51.100.2\nabs.example.org. A 198.51.100.3\n$ORIGIN sub\nx A 198.51.100.4\n$ORIGIN other.net.\n@ NS ns\n'), [
    'example.com.\t60\tIN\tA\t198.51.100.1',
    'www.example.com.\t60\tIN\tA\t198.51.100.2',
    'x.sub.example.com.\t60\tIN\tA\t198.51.100.4',
  ]);
  // Names outside the origin are ignored with a warning each, as BIND and Knot do.
  const z = parseZone('$TTL 60\nabs.example.org. A 198.51.100.3\n$ORIGIN other.net.\n@ NS ns\n', { origin: O, file: 'z.zone' });
  assert.deepEqual(z.records, []);
  assert.deepEqual(z.warnings, [
    { file: 'z.zone', line: 2, message: 'ignoring out-of-zone data abs.example.org. A (outside example.com.)' },
    { file: 'z.zone', line: 4, message: 'ignoring out-of-zone data other.net. NS (outside example.com.)' },
  ]);
});

test('the same relative owner text after $ORIGIN names the new place; blank owner keeps the old one', () => {
  assert.deepEqual(parse('$TTL 1\nwww A 198.51.100.1\n$ORIGIN sub\nwww A 198.51.100.2\n\tA 198.51.100.3\n').map((r) => r.name), ['www.example.com.', 'www.sub.example.com.', 'www.sub.example.com.']);
  assert.deepEqual(parse('$TTL 1\nwww A 198.51.100.1\n$ORIGIN sub\n\tA 198.51.100.3\n').map((r) => r.name), ['www.example.com.', 'www.example.com.']);
});

test('$TTL with units; TTL units in records, any case', () => {
  const r = parse('$TTL 1h30m\na A 198.51.100.1\nb 1W2D3H4M5S A 198.51.100.1\nc 1d A 198.51.100.1\nd 0 A 198.51.100.1\n$ttl 90s\ne A 198.51.100.1\n');
  assert.deepEqual(r.map((x) => x.ttl), [5400, 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5, 86400, 0, 90]);
});

test('a TTL from 2^31 to 2^32-1 loads as 0 with a warning (RFC 2181 §8; BIND does so, Knot and NSD load it too)', () => {
  const text = '$TTL 3000000000\na A 198.51.100.1\nb 2147483648 A 198.51.100.2\nc 4294967295 A 198.51.100.3\nd A 198.51.100.4\n$GENERATE 1-1 g$ 2147483647 A 198.51.100.$\n$GENERATE 2-2 g$ 4294967295 A 198.51.100.$\n';
  const z = parseZone(text, { origin: O, file: 'z.zone' });
  assert.deepEqual(z.records.map((r) => `${r.name} ${r.ttl}`), ['a.example.com. 0', 'b.example.com. 0', 'c.example.com. 0', 'd.example.com. 0', 'g1.example.com. 2147483647', 'g2.example.com. 0']);
  assert.deepEqual(z.warnings, [
    { file: 'z.zone', line: 1, message: 'TTL 3000000000 is above 2147483647: read as 0 (RFC 2181 §8)' },
    { file: 'z.zone', line: 3, message: 'TTL 2147483648 is above 2147483647: read as 0 (RFC 2181 §8)' },
    { file: 'z.zone', line: 4, message: 'TTL 4294967295 is above 2147483647: read as 0 (RFC 2181 §8)' },
    { file: 'z.zone', line: 7, message: 'TTL 4294967295 is above 2147483647: read as 0 (RFC 2181 §8)' },
  ]);
});

test('TTL default: previous record TTL, then SOA minimum, then defaultTtl', () => {
  assert.deepEqual(parse('a 300 A 198.51.100.1\nb A 198.51.100.2\n').map((x) => x.ttl), [300, 300]);
  // RFC 2308 practice: the SOA without a TTL takes its own minimum; later records follow it.
  assert.deepEqual(parse('@ SOA ns host 1 2 3 4 1m\nb A 198.51.100.2\n').map((x) => x.ttl), [60, 60]);
  assert.deepEqual(parse('b A 198.51.100.2\n', { defaultTtl: 42 }).map((x) => x.ttl), [42]);
  // $TTL wins over the previous record's TTL.
  assert.deepEqual(parse('a 300 A 198.51.100.1\n$TTL 10\nb A 198.51.100.2\n').map((x) => x.ttl), [300, 10]);
});

test('owner inheritance from a line that starts with blank space', () => {
  assert.deepEqual(lines(`$TTL 5\nwww A 198.51.100.1\n\tAAAA 2001:db8::1\n  TXT x\n; comment\n\n \tMX 1 mx\n`), [
    'www.example.com.\t5\tIN\tA\t198.51.100.1',
    'www.example.com.\t5\tIN\tAAAA\t2001:db8::1',
    'www.example.com.\t5\tIN\tTXT\t"x"',
    'www.example.com.\t5\tIN\tMX\t1 mx.example.com.',
  ]);
});

test('TTL and class in either order, or either alone', () => {
  const r = lines('a 7 IN A 198.51.100.1\nb IN 8 A 198.51.100.1\nc IN A 198.51.100.1\nd 9 A 198.51.100.1\ne CLASS1 A 198.51.100.1\n');
  assert.deepEqual(r.map((l) => l.split('\t').slice(1, 3).join(' ')), ['7 IN', '8 IN', '8 IN', '9 IN', '9 IN']);
});

test('parentheses span lines, comments anywhere outside quotes, CRLF', () => {
  const r = parse('$TTL 1\n@ SOA ns1 ( ; primary\n host ; mailbox\n 2024 ; serial\n 1h 2h ; timers\n 3w 4m ) ; end\n');
  assert.deepEqual(r[0]!.data, { mname: 'ns1.example.com.', rname: 'host.example.com.', serial: 2024, refresh: 3600, retry: 7200, expire: 3 * 604800, minimum: 240 });
  assert.deepEqual(lines('$TTL 1\r\nt TXT "a;b" ; c\r\n'), ['t.example.com.\t1\tIN\tTXT\t"a;b"']);
});

test('quoted strings, escapes and unquoted words in TXT', () => {
  const r = parse('$TTL 1\nt TXT "a b" plain "q\\"uote" "back\\\\slash" "\\065\\000\\255" "" "héllo" esc\\ aped\n');
  const strs = (r[0]!.data as { strings: Uint8Array[] }).strings.map((s) => Array.from(s));
  const b = (s: string): number[] => Array.from(Buffer.from(s, 'utf8'));
  assert.deepEqual(strs, [b('a b'), b('plain'), b('q"uote'), b('back\\slash'), [65, 0, 255], [], b('héllo'), b('esc aped')]);
});

test('\\DDD and \\X escapes in names', () => {
  assert.deepEqual(parse('$TTL 1\na\\.b A 198.51.100.1\n\\065\\032x A 198.51.100.1\nc CNAME d\\.e\n').map((x) => [x.name, x.data]), [
    ['a\\.b.example.com.', { address: '198.51.100.1' }],
    ['A\\032x.example.com.', { address: '198.51.100.1' }],
    ['c.example.com.', { target: 'd\\.e.example.com.' }],
  ]);
});

test('typed rdata for every text form', () => {
  assert.deepEqual(lines(`$TTL 1
a A 198.51.100.1
a AAAA 2001:DB8:0:0:1:0:0:1
b AAAA ::ffff:198.51.100.1
b AAAA 2001:db8:0:0:0:0:2:1
c AAAA 1:0:0:2:0:0:0:3
ns NS ns1
cn CNAME target.example.net.
dn DNAME other
ptr PTR host
mx MX 10 @
srv SRV 1 2 53 target
caa CAA 128 iodef "mailto:x@example.com"
caa CAA 0 issue ""
hi HINFO "cpu" os
`), [
    'a.example.com.\t1\tIN\tA\t198.51.100.1',
    'a.example.com.\t1\tIN\tAAAA\t2001:db8::1:0:0:1',
    'b.example.com.\t1\tIN\tAAAA\t::ffff:198.51.100.1',
    'b.example.com.\t1\tIN\tAAAA\t2001:db8::2:1',
    'c.example.com.\t1\tIN\tAAAA\t1:0:0:2::3',
    'ns.example.com.\t1\tIN\tNS\tns1.example.com.',
    'cn.example.com.\t1\tIN\tCNAME\ttarget.example.net.',
    'dn.example.com.\t1\tIN\tDNAME\tother.example.com.',
    'ptr.example.com.\t1\tIN\tPTR\thost.example.com.',
    'mx.example.com.\t1\tIN\tMX\t10 example.com.',
    'srv.example.com.\t1\tIN\tSRV\t1 2 53 target.example.com.',
    'caa.example.com.\t1\tIN\tCAA\t128 iodef "mailto:x@example.com"',
    'caa.example.com.\t1\tIN\tCAA\t0 issue ""',
    'hi.example.com.\t1\tIN\tHINFO\t"cpu" "os"',
  ]);
  const hi = parse('$TTL 1\nhi HINFO "cpu" os\n')[0]!;
  assert.deepEqual(hi.data, { raw: Uint8Array.from([3, 0x63, 0x70, 0x75, 2, 0x6f, 0x73]) });
});

test('RFC 3597 generic form for unknown and known types', () => {
  const r = parse(`$TTL 1
u TYPE12345 \\# 4 0a000001
u2 TYPE12345 \\# 0
a A \\# 4 0A000001
t TYPE1 198.51.100.9
x TXT \\# 6 0568656c6c6f
n NS \\# 5 036e7331 00
m MX \\# ( 5 000a
   016d00 )
d DS \\# 4 01020304
`);
  assert.deepEqual(r.map((x) => [x.type, x.data]), [
    [12345, { raw: Uint8Array.from([10, 0, 0, 1]) }],
    [12345, { raw: new Uint8Array(0) }],
    [RRType.A, { address: '10.0.0.1' }],
    [RRType.A, { address: '198.51.100.9' }],
    [RRType.TXT, { strings: [Uint8Array.from(Buffer.from('hello'))] }],
    [RRType.NS, { target: 'ns1.' }],
    [RRType.MX, { preference: 10, exchange: 'm.' }],
    [RRType.DS, { raw: Uint8Array.from([1, 2, 3, 4]) }],
  ]);
});

test('identical records are merged, names compared case-insensitively', () => {
  const z = parseZone('$TTL 1\nwww A 198.51.100.1\nWWW A 198.51.100.1\nwww 5 A 198.51.100.1\nwww A 198.51.100.2\nm MX 1 A\nm MX 1 a\n', { origin: O, file: 'z.zone' });
  assert.deepEqual(z.records.map(formatRecord), ['www.example.com.\t1\tIN\tA\t198.51.100.1', 'www.example.com.\t1\tIN\tA\t198.51.100.2', 'm.example.com.\t1\tIN\tMX\t1 A.example.com.']);
  assert.deepEqual(z.sources.map((s) => s.line), [2, 5, 6]);
});

test('$INCLUDE: nested, with origin, origin and owner restored after, relative paths', () => {
  const files: Record<string, string> = {
    '/z/main.zone': '$TTL 1\nwww A 198.51.100.1\n$INCLUDE inc/one.zone sub\n\tAAAA ::1\nlast A 198.51.100.9\n',
    '/z/inc/one.zone': 'a A 198.51.100.2\n$ORIGIN changed.example.com.\nb A 198.51.100.3\n$INCLUDE two.zone\n',
    '/z/inc/two.zone': 'c A 198.51.100.4\n',
  };
  const z = parseZone(files['/z/main.zone']!, { origin: O, file: '/z/main.zone', readInclude: (p) => {
    const t = files[p];
    if (t === undefined) throw new Error(`no such file ${p}`);
    return t;
  } });
  assert.deepEqual(z.records.map((r) => r.name), ['www.example.com.', 'a.sub.example.com.', 'b.changed.example.com.', 'c.changed.example.com.', 'www.example.com.', 'last.example.com.']);
  assert.deepEqual(z.sources, [
    { file: '/z/main.zone', line: 2 }, { file: '/z/inc/one.zone', line: 1 }, { file: '/z/inc/one.zone', line: 3 },
    { file: '/z/inc/two.zone', line: 1 }, { file: '/z/main.zone', line: 4 }, { file: '/z/main.zone', line: 5 },
  ]);
});

test('loadZoneFile resolves $INCLUDE against the including file\'s directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-zone-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'main.zone'), SOA + '\tNS ns1\n$INCLUDE sub/hosts.zone\n');
  writeFileSync(join(dir, 'sub', 'hosts.zone'), 'ns1 A 198.51.100.1\n$INCLUDE more.zone\n');
  writeFileSync(join(dir, 'sub', 'more.zone'), 'ns2 A 198.51.100.2\n');
  const z = loadZoneFile(join(dir, 'main.zone'), O);
  assert.equal(z.records.length, 4);
  assert.deepEqual(z.sources.at(-1), { file: join(dir, 'sub', 'more.zone'), line: 1 });
});

test('errors carry file, line and column of the offending token', () => {
  fails('$TTL 1\nwww IN INX 198.51.100.1\n', 2, 8, 'unsupported record type "INX"');
  fails('$TTL 1\nwww BOGUS 198.51.100.1\n', 2, 5, 'unsupported record type "BOGUS"');
  fails('$TTL 1\nwww 5 7 A 198.51.100.1\n', 2, 7, 'expected a class or a type, found "7"');
  fails('$TTL 1\nwww 5 IN IN A 198.51.100.1\n', 2, 10, 'expected a type, found "IN"');
  fails('$TTL 1\nwww CH TXT x\n', 2, 5, 'expected class IN (the only class served), found "CH"');
  fails('$TTL 1\nwww 1 HS A 198.51.100.1\n', 2, 7, 'expected class IN (the only class served), found "HS"');
  fails('www A 198.51.100.1\n', 1, 5, 'expected a TTL before the type (no $TTL, earlier TTL or SOA minimum to default to), found "A"');
  fails('$TTL 1\nwww\n', 2, 4, 'expected a TTL, a class or a type, found end of line');
  fails('$TTL 1\nwww A', 2, 6, 'expected an IPv4 address, found end of file');
  fails('$TTL 1\nwww A 01.2.3.4\n', 2, 7, 'expected an IPv4 address (dotted quad, no leading zeros), found "01.2.3.4"');
  fails('$TTL 1\nwww A 1.2.3.256\n', 2, 7, 'expected an IPv4 address (dotted quad, no leading zeros), found "1.2.3.256"');
  fails('$TTL 1\nwww A 198.51.100.1 extra\n', 2, 20, 'expected end of line, found "extra"');
  fails('$TTL 1\nwww AAAA 2001:db8::1%eth0\n', 2, 10, 'expected an IPv6 address, found "2001:db8::1%eth0"');
  fails('$TTL 1\nwww AAAA 1::2::3\n', 2, 10, 'expected an IPv6 address, found "1::2::3"');
  fails('$TTL 1\nwww ANY \\# 0\n', 2, 5, 'expected a data type (ANY is a meta type, not zone data), found "ANY"');
  fails('$TTL 1\nwww OPT \\# 0\n', 2, 5, 'expected a data type (OPT is a meta type, not zone data), found "OPT"');
  fails('$TTL 1\nwww NULL 1 2 3 abcd\n', 2, 10, 'expected the RFC 3597 form "\\# <length> <hex>" for NULL (its text form is not supported), found "1"');
  fails('$TTL 1\nwww TYPE99999 \\# 0\n', 2, 5, 'expected a TTL, a class or a type (TYPEnnn of at most TYPE65535, RFC 3597 §5), found "TYPE99999"');
  fails('$TTL 1\n' + 'x HINFO "' + 'a'.repeat(256) + '" os\n', 2, 9, `expected the HINFO CPU string of at most 255 bytes, found quoted string "${'a'.repeat(256)}" (256 bytes)`);
  fails('$TTL 1\nx TXT "\\256"\n', 2, 7, 'expected a character-string with valid escapes (\\DDD at most 255, or \\X), found quoted string "\\\\256"');
  fails('$TTL 1\nx TXT\n', 2, 6, 'expected a character-string, found end of line');
  fails('$TTL 1\nx TXT "open\n', 2, 12, 'expected a closing \'"\', found end of line');
  fails('$TTL 1\nx SOA ns host ( 1 2\n 3 4 5\n', 4, 1, 'expected ")" to close the "(" at line 2 column 15, found end of file');
  fails('$TTL 1\nx SOA ns host ( 1 2 ( 3 4 5 ) )\n', 2, 21, 'expected no nested "(", found "("');
  fails('$TTL 1\nx A 198.51.100.1 )\n', 2, 18, 'expected a "(" before this, found ")"');
  fails('$TTL 1\nx SOA ns host 4294967296 1 2 3 4\n', 2, 15, 'expected the SOA serial of at most 4294967295, found "4294967296"');
  fails('$TTL 1\nx SOA ns host 1 1x 2 3 4\n', 2, 17, 'expected the SOA refresh (seconds, at most 4294967295, units w/d/h/m/s allowed), found "1x"');
  fails('$TTL 1\nx MX 65536 mx\n', 2, 6, 'expected an MX preference of at most 65535, found "65536"');
  fails('$TTL 1\nx MX -1 mx\n', 2, 6, 'expected an MX preference, found "-1"');
  fails('$TTL 1\nx SRV 1 2 three t\n', 2, 11, 'expected an SRV port, found "three"');
  fails('$TTL 1\nx CAA 0 is-sue "x"\n', 2, 9, 'expected a CAA tag (letters and digits), found "is-sue"');
  fails('$TTL 1\nx CAA 256 issue "x"\n', 2, 7, 'expected CAA flags (0 to 255) of at most 255, found "256"');
  fails('$TTL 1\na..b A 198.51.100.1\n', 2, 1, 'expected an owner name, found "a..b" (empty label in "a..b")');
  fails('$TTL 1\nc CNAME ' + 'x'.repeat(64) + '\n', 2, 9, `expected a CNAME target name, found "${'x'.repeat(64)}" (label longer than 63 bytes in "${'x'.repeat(64)}")`);
  fails('$TTL 1\n"quoted" A 198.51.100.1\n', 2, 1, 'expected an owner name, found quoted string "quoted"');
  fails(' A 198.51.100.1\n', 1, 1, 'expected an owner name (no earlier record to take it from), found blank space');
  fails('$TTL 1\nx 1y A 198.51.100.1\n', 2, 3, 'expected a TTL (seconds, at most 2147483647, units w/d/h/m/s allowed), found "1y"');
  fails('$TTL 1\nx 4294967296 A 198.51.100.1\n', 2, 3, 'expected a TTL (seconds, at most 2147483647, units w/d/h/m/s allowed), found "4294967296"');
  fails('$TTL 1h5\n', 1, 6, 'expected a TTL after $TTL (seconds, at most 2147483647, units w/d/h/m/s allowed), found "1h5"');
  fails('$TTL\n', 1, 5, 'expected a TTL after $TTL, found end of line');
  fails('$ORIGIN a..b\n', 1, 9, 'expected a domain name after $ORIGIN, found "a..b" (empty label in "a..b")');
  fails('$ORIGIN a b\n', 1, 11, 'expected end of line after $ORIGIN <name>, found "b"');
  fails('$GENERATE 1-5 h$ A 198.51.100.$\n', 1, 18, 'expected a TTL before the type (no $TTL, earlier TTL or SOA minimum to default to), found "A" (in $GENERATE value 1: "198.51.100.1")');
  fails('$BOGUS x\n', 1, 1, 'expected a directive ($ORIGIN, $TTL, $INCLUDE or $GENERATE), found "$BOGUS"');
  fails('$INCLUDE other.zone\n', 1, 1, 'expected $ORIGIN or $TTL ($INCLUDE needs a readInclude option), found "$INCLUDE"');
  fails('x A \\', 1, 5, 'expected a character after "\\", found end of file');
});

test('RFC 3597 errors: length mismatch, bad hex, malformed known-type data', () => {
  fails('$TTL 1\nx A \\# 4 0a0000\n', 2, 16, 'expected 4 bytes of rdata as the \\# length at column 8 says (got 3), found end of line');
  fails('$TTL 1\nx A \\# 3 0a000001\n', 2, 10, 'expected exactly 3 bytes of rdata as the \\# length says, found "0a000001" (more bytes)');
  fails('$TTL 1\nx TYPE300 \\# 2 0g00\n', 2, 16, 'expected hexadecimal rdata, found "0g00"');
  fails('$TTL 1\nx TYPE300 \\# 2 0a0\n', 2, 16, 'expected hexadecimal rdata in whole bytes (an even number of digits per word), found "0a0"');
  fails('$TTL 1\nx TYPE300 \\#\n', 2, 13, 'expected the rdata length after \\# (0 to 65535), found end of line');
  fails('$TTL 1\nx NS \\# 2 0100\n', 2, 9, 'expected well-formed NS rdata in the \\# form, found "2" (truncated name at offset 2)');
  fails('$TTL 1\nx AAAA \\# 4 0a000001\n', 2, 11, 'expected well-formed AAAA rdata in the \\# form, found "4" (AAAA rdata must be 16 bytes, not 4 at offset 0)');
});

test('errors in included files name the included file; depth is limited', () => {
  const read = (p: string): string => (p === 'bad.zone' ? '$TTL 1\n\nx A nope\n' : '$INCLUDE loop.zone\n');
  assert.throws(() => parseZone('$INCLUDE bad.zone\n', { origin: O, readInclude: read }), /^ZoneError: bad\.zone:3:5: /);
  assert.throws(() => parseZone('$INCLUDE loop.zone\n', { origin: O, readInclude: read, maxIncludeDepth: 3 }), (e: unknown) =>
    e instanceof ZoneError && e.file === 'loop.zone' && e.line === 1 && e.column === 1 && e.message === 'loop.zone:1:1: expected at most 3 nested $INCLUDE levels, found "$INCLUDE"');
  assert.throws(() => parseZone('$INCLUDE missing.zone\n', { origin: O, file: 'z.zone', readInclude: () => { throw new Error('ENOENT'); } }), /^ZoneError: z\.zone:1:10: expected a readable file, found "missing\.zone" \(ENOENT\)$/);
});

test('quick self-check: 100k A records (timing printed, not asserted)', () => {
  let text = '$TTL 300\n' + SOA + '\tNS ns1\n';
  for (let i = 0; i < 100_000; i++) text += `h${i} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
  const t0 = performance.now();
  const z = parseZone(text, { origin: O });
  const ms = performance.now() - t0;
  assert.equal(z.records.length, 100_002);
  console.log(`# parsed 100,002 records in ${ms.toFixed(0)} ms`);
});

function allErrors(text: string): string[] {
  try {
    parseZone(text, { origin: O, file: 'z.zone' });
  } catch (e) {
    assert.ok(e instanceof ZoneErrors, String(e));
    assert.equal(e.message, e.errors.map((x) => x.message).join('\n') + (e.truncated ? `\nz.zone: too many errors; stopped after ${MAX_ERRORS}` : ''));
    return e.errors.map((x) => x.message);
  }
  assert.fail('expected errors');
}

test('every error of a file in one run: the parser goes on at the next line', () => {
  assert.deepEqual(allErrors([
    '$TTL 60',
    'a A 198.51.100.300',
    'b NAPTRR 1 2 "" "" "" .',
    'c "quoted" A 198.51.100.1',
    'd TXT "unterminated',
    'e A 198.51.100.5',
    'f MX ten mail',
    '$BOGUS x',
    'g 99999999999 A 198.51.100.7',
    '',
  ].join('\n')), [
    'z.zone:2:5: expected an IPv4 address (dotted quad, no leading zeros), found "198.51.100.300"',
    'z.zone:3:3: unsupported record type "NAPTRR"; did you mean NAPTR?',
    'z.zone:4:3: expected a TTL, a class or a type, found quoted string "quoted"',
    'z.zone:5:20: expected a closing \'"\', found end of line',
    'z.zone:7:6: expected an MX preference, found "ten"',
    'z.zone:8:1: expected a directive ($ORIGIN, $TTL, $INCLUDE or $GENERATE), found "$BOGUS"',
    'z.zone:9:3: expected a TTL (seconds, at most 2147483647, units w/d/h/m/s allowed), found "99999999999"',
  ]);
  // After an error in a parenthesised record, the lines up to its ")" are read as they come.
  assert.deepEqual(allErrors('$TTL 1\nx SOA ns host ( 1 2 ( 3\nok A 198.51.100.1\ny A bad\n'), [
    'z.zone:2:21: expected no nested "(", found "("',
    'z.zone:4:5: expected an IPv4 address (dotted quad, no leading zeros), found "bad"',
  ]);
  // An owner that failed is not inherited by the indented lines after it.
  assert.deepEqual(allErrors('$TTL 1\nbad..name A 198.51.100.1\n\tA 198.51.100.2\n'), [
    'z.zone:2:1: expected an owner name, found "bad..name" (empty label in "bad..name")',
    'z.zone:3:1: expected an owner name (no earlier record to take it from), found blank space',
  ]);
});

test(`at most ${MAX_ERRORS} errors are listed, then the parser stops`, () => {
  const errs = allErrors('$TTL 1\n' + 'x A bad\n'.repeat(500));
  assert.equal(errs.length, MAX_ERRORS);
  assert.equal(errs.at(-1), `z.zone:${MAX_ERRORS + 1}:5: expected an IPv4 address (dotted quad, no leading zeros), found "bad"`);
});

test('an unknown mnemonic is an unsupported record type, with a near-miss suggestion', () => {
  const one = (t: string): string => allErrors(`$TTL 1\nx ${t} 1\n`)[0]!;
  assert.equal(one('CNMAE'), 'z.zone:2:3: unsupported record type "CNMAE"; did you mean CNAME?');
  assert.equal(one('AAA'), 'z.zone:2:3: unsupported record type "AAA"; did you mean AAAA?');
  assert.equal(one('soa1'), 'z.zone:2:3: unsupported record type "soa1"; did you mean SOA?');
  assert.equal(one('TXTT'), 'z.zone:2:3: unsupported record type "TXTT"; did you mean TXT?');
  assert.equal(one('FLUXCAPACITOR'), 'z.zone:2:3: unsupported record type "FLUXCAPACITOR"');
  // A TTL and a class may come first; the message is the same.
  assert.equal(allErrors('x 300 IN MXX 10 mail\n')[0], 'z.zone:1:10: unsupported record type "MXX"; did you mean MX?');
});

test('a character-string over 255 bytes is split into 255-byte pieces with a warning (as Knot does)', () => {
  const z = parseZone(`$TTL 1\nx TXT "${'a'.repeat(600)}" short\n`, { origin: O, file: 'z.zone' });
  const data = z.records[0]!.data as { strings: Uint8Array[] };
  assert.deepEqual(data.strings.map((s) => s.length), [255, 255, 90, 5]);
  assert.deepEqual(z.warnings, [{ file: 'z.zone', line: 2, message: 'a character-string of 600 bytes split into 3 strings of at most 255 bytes' }]);
});
