// The streaming load (parser → compiler, checks on the compiled nodes) against the full path it
// replaces (parse into records, checkZoneReport, compile): the same arrays, warnings and problems.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkZoneReport, formatZoneIssue } from './check.js';
import { ZoneCompiler } from './compiled.js';
import { compileZoneFile, streamZoneFile, type CompiledZoneFile } from './load.js';
import { loadZoneFile, ZoneError } from './parser.js';

const O = 'example.com.';
const HEAD = '$TTL 60\n@ SOA ns1 host 7 2 3 4 5\n@ NS ns1\nns1 A 198.51.100.1\n';

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-load-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

function write(text: string, name = `z${fileNo++}.zone`): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** What compileZoneFile gave before the streaming path: parse into records, check, compile every record. */
function fullPath(origin: string, file: string): CompiledZoneFile {
  let parsed;
  try {
    parsed = loadZoneFile(file, origin);
  } catch (e) {
    if (e instanceof ZoneError) return { ok: false, problems: [e.message] };
    throw e;
  }
  const { errors, warnings } = checkZoneReport(parsed, origin);
  if (errors.length > 0) return { ok: false, problems: errors.map(formatZoneIssue) };
  const c = new ZoneCompiler(origin);
  let serial = 0;
  for (const rr of parsed.records) {
    if (rr.type === 6) serial = (rr.data as { serial: number }).serial;
    c.addRecord(rr);
  }
  return { ok: true, buffers: c.finish(), records: parsed.records.length, serial, warnings: warnings.map(formatZoneIssue) };
}

/**
 * compileZoneFile's result without the file's hash (the other paths do not hash), after checking
 * that hash against the file's bytes.
 */
function compiled(origin: string, file: string): CompiledZoneFile {
  const r = compileZoneFile(origin, file);
  if (!r.ok) return r;
  const { fileHash, ...rest } = r;
  assert.equal(fileHash, createHash('sha256').update(readFileSync(file)).digest('hex'), 'the hash of the bytes read');
  return rest;
}

/** Zones the streaming path loads by itself: their arrays and reports equal the full path's. */
const CLEAN: Record<string, string> = {
  'hosts, wildcards, empty non-terminals, a cut with glue': HEAD +
    'www A 198.51.100.2\nwww AAAA 2001:db8::2\nWWW TXT "a" "b"\n*.w A 198.51.100.3\na.b.c.d A 198.51.100.4\n' +
    'sub NS ns.sub\nns.sub A 198.51.100.5\nsub DS \\# 4 01020304\nalias CNAME www\nmx MX 10 www\nsrv SRV 1 2 3 www\ndn DNAME example.net.\n',
  'duplicates: the first TTL counts, names inside compare without case, the spelling that sorts first is kept': HEAD +
    'x 300 A 198.51.100.9\nx 100 A 198.51.100.9\nx 200 A 198.51.100.10\n' +
    'c CNAME Target.example.net.\nc CNAME target.EXAMPLE.net.\n' +
    'm MX 10 mail.example.net.\nm MX 10 MAIL.example.net.\nm MX 20 mail.example.net.\n' +
    'ca CAA 0 issue "ca.example"\nca CAA 0 ISSUE "ca.example"\nca CAA 0 issue "CA.example"\n' +
    't TXT "Same"\nt TXT "same"\nt TXT "Same"\n' +
    'o TYPE65280 \\# 2 4142\no TYPE65280 \\# 2 6162\no TYPE65280 \\# 2 4142\n',
  'many records in one RRset (the dedupe table grows)': HEAD + Array.from({ length: 3000 }, (_, i) => `big A 198.51.${(i >> 8) & 255}.${i & 255}\nbig A 198.51.${(i >> 8) & 255}.${i & 255}\n`).join(''),
  '$GENERATE and out-of-zone data (a parser warning)': HEAD + '$GENERATE 1-50 h$ A 198.51.100.$\n$GENERATE 1-3 p$ PTR h$\nother.example.org. A 198.51.100.1\n',
  'a character-string over 255 bytes (split, with a warning)': HEAD + `long TXT "${'x'.repeat(300)}"\n`,
  // Relative owners reach the compiler as text and origin (RecordSink.addUnder): the same text under
  // two origins, an indented line after $ORIGIN (the owner read before it), absolute owners between.
  '$ORIGIN changes: relative owners under each origin, indented lines keep the owner read before': HEAD +
    'x A 198.51.100.20\n$ORIGIN Sub.Example.COM.\nx A 198.51.100.21\n  TXT "still x.sub"\ny.z A 198.51.100.22\n' +
    'www.example.com. A 198.51.100.23\nx TXT "x.sub again"\n$ORIGIN example.com.\n  AAAA 2001:db8::21\nx TXT "x again"\n' +
    '$ORIGIN example.org.\nout A 198.51.100.24\n$ORIGIN example.com.\n*.wild.deep A 198.51.100.25\nX.Y.z.sub MX 10 x\n',
};

for (const [what, text] of Object.entries(CLEAN)) {
  test(`streamed like the full path: ${what}`, () => {
    const file = write(text);
    const streamed = streamZoneFile(O, file);
    assert.ok(streamed, 'the streaming path loads this zone by itself');
    assert.deepEqual(streamed, fullPath(O, file));
    assert.deepEqual(compiled(O, file), streamed);
  });
}

test('$INCLUDE is read by the streaming path as by the full path', () => {
  write('inc A 198.51.100.77\n$ORIGIN sub2.example.com.\nx A 198.51.100.78\n', 'part.inc');
  const file = write(HEAD + '$INCLUDE part.inc\nafter A 198.51.100.79\n');
  const streamed = streamZoneFile(O, file);
  assert.ok(streamed && streamed.ok);
  assert.equal(streamed.records, 6);
  assert.deepEqual(streamed, fullPath(O, file));
});

/** Zones whose checks find something: the streaming path hands them to the full path, which words it. */
const FLAGGED: Record<string, string> = {
  'CNAME and other data': HEAD + 'www CNAME a\nwww A 198.51.100.9\n',
  'two CNAMEs': HEAD + 'www CNAME a\nwww CNAME b\n',
  'two DNAMEs': HEAD + 'd DNAME a.example.net.\nd DNAME b.example.net.\n',
  'a second SOA': HEAD + '@ SOA ns1 host 8 2 3 4 5\n',
  'an SOA below the apex': HEAD + 'www SOA a b 1 2 3 4 5\n',
  'no SOA': '$TTL 1\n@ NS ns1\nns1 A 198.51.100.1\n',
  'no NS at the apex': '$TTL 1\n@ SOA ns1 host 1 2 3 4 5\n',
  'data at a cut': HEAD + 'sub NS ns.sub\nns.sub A 198.51.100.5\nsub TXT "occluded"\n',
  'data below a cut': HEAD + 'sub NS ns.sub\nns.sub A 198.51.100.5\nx.sub TXT "occluded"\n',
  'data below a DNAME': HEAD + 'd DNAME example.net.\nx.d A 198.51.100.5\n',
  'an in-zone name server without addresses': HEAD + 'sub NS ns.sub\nsub NS ns.elsewhere.example.org.\n',
  'DNSSEC records': HEAD + 'www A 198.51.100.2\nwww NSEC \\# 0\n',
};

for (const [what, text] of Object.entries(FLAGGED)) {
  test(`the full path reports it: ${what}`, () => {
    const file = write(text);
    assert.equal(streamZoneFile(O, file), undefined);
    const full = fullPath(O, file);
    assert.ok(!full.ok || full.warnings.length > 0, 'the full path has something to say');
    assert.deepEqual(compiled(O, file), full);
  });
}

test('a zone with a ZONEMD record takes the full path (RFC 8976 verification needs the records)', () => {
  const file = write(HEAD + '@ ZONEMD 7 1 1 ' + 'ab'.repeat(48) + '\n');
  assert.equal(streamZoneFile(O, file), undefined);
  const r = compileZoneFile(O, file);
  assert.ok(!r.ok && 'problems' in r, 'a digest that does not match refuses the zone');
  assert.match(r.problems[0]!, /ZONEMD|digest/i);
});

test('syntax errors come from the streaming path as from the full path (FILE:LINE:COL)', () => {
  const file = write(HEAD + 'www A 198.51.100.300\nx BOGUS 1\nok A 198.51.100.1\ny A \\# 3 010203\n');
  const streamed = streamZoneFile(O, file);
  assert.ok(streamed && !streamed.ok && 'problems' in streamed);
  assert.match(streamed.problems[0]!, /z\d+\.zone:5:\d+: /);
  assert.deepEqual(streamed, fullPath(O, file));
});

test('a missing file is unreadable, not a crash', () => {
  const r = compileZoneFile(O, join(dir, 'absent.zone'));
  assert.ok(!r.ok && 'unreadable' in r);
  assert.equal(r.unreadable.code, 'ENOENT');
});

test('the hash of a zone covers its $INCLUDEd files: an edit of an included file alone is a changed zone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-inchash-'));
  try {
    const main = join(dir, 'z');
    const inc = join(dir, 'inc.txt');
    writeFileSync(main, `$ORIGIN inc.lab.\n$TTL 60\n@ SOA ns h 1 60 60 600 60\n NS ns\nns A 198.51.100.1\n$INCLUDE ${inc}\n`);
    writeFileSync(inc, 'a A 198.51.100.2\n');
    const hashes = () => [compileZoneFile('inc.lab.', main), compileZoneFile('inc.lab.', main, { zonemd: 'sha384' })].map((r) => (r.ok ? r.fileHash : 'failed'));
    const [stream1, full1] = hashes();
    writeFileSync(inc, 'a A 198.51.100.3\n');
    const [stream2, full2] = hashes();
    assert.equal(stream1, full1, 'the streaming and the full path hash alike');
    assert.notEqual(stream2, stream1);
    assert.notEqual(full2, full1);
    // Without includes the hash is the file's bytes' SHA-256 (the journal's base checks a copy against it).
    writeFileSync(main, `$ORIGIN inc.lab.\n$TTL 60\n@ SOA ns h 1 60 60 600 60\n NS ns\nns A 198.51.100.1\n`);
    const r = compileZoneFile('inc.lab.', main);
    assert.equal(r.ok && r.fileHash, createHash('sha256').update(readFileSync(main)).digest('hex'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
