// checkZone's semantic rules, and the fixture zone compared with BIND's named-checkzone (and Knot's kzonecheck).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkZone, checkZoneReport, formatZoneIssue, type ZoneIssue } from './check.js';
import { parseZone, loadZoneFile } from './parser.js';
import { formatRecord } from './format.js';

const O = 'example.com.';
const HEAD = '$TTL 60\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 198.51.100.1\n';

function issues(body: string, head = HEAD): ZoneIssue[] {
  return checkZone(parseZone(head + body, { origin: O, file: 'c.zone' }), O);
}
function warnings(body: string, head = HEAD): ZoneIssue[] {
  return checkZoneReport(parseZone(head + body, { origin: O, file: 'c.zone' }), O).warnings;
}
function brief(list: ZoneIssue[]): string[] {
  return list.map((i) => `${i.file}:${i.line}: ${i.message}`);
}

test('a well-formed zone has no issues; duplicates were merged by the parser', () => {
  assert.deepEqual(issues('www A 198.51.100.2\nwww A 198.51.100.2\nsub NS ns.sub\nns.sub A 198.51.100.3\nns.sub AAAA ::1\nsub DS \\# 4 01020304\nalias CNAME www\nalias RRSIG \\# 0\n'), []);
});

test('SOA: missing, not at the apex, more than one', () => {
  assert.deepEqual(brief(issues('@ NS ns1\n', '$TTL 1\n')), ['c.zone:0: no SOA record at the apex example.com.']);
  assert.deepEqual(brief(issues('www SOA a b 1 2 3 4 5\n')), ['c.zone:5: SOA at www.example.com.: the only SOA must be at the apex example.com.']);
  assert.deepEqual(brief(issues('@ SOA ns1 host 2 2 3 4 5\n')), ['c.zone:5: second SOA at example.com.: a zone has exactly one']);
});

test('a file with no record in the zone (empty, or another zone\'s): the issues of the whole zone name the file given', () => {
  const other = parseZone('$TTL 1\nother.net. SOA ns host 1 2 3 4 5\n', { origin: O, file: 'c.zone' });
  assert.deepEqual(other.records, []);
  const report = checkZoneReport(other, O, 'c.zone');
  assert.deepEqual(report.errors.map(formatZoneIssue), ['c.zone: no SOA record at the apex example.com.', 'c.zone: no NS records at the apex example.com.']);
  // Records from no file (a transfer): the message alone.
  assert.deepEqual(checkZoneReport({ records: [], sources: [], warnings: [] }, O).errors.map(formatZoneIssue), ['no SOA record at the apex example.com.', 'no NS records at the apex example.com.']);
});

test('NS at the apex is required', () => {
  assert.deepEqual(brief(issues('', '$TTL 1\n@ SOA ns1 host 1 2 3 4 5\n')), ['c.zone:2: no NS records at the apex example.com.']);
});

test('CNAME with other data, and two CNAMEs', () => {
  assert.deepEqual(brief(issues('www CNAME a\nwww A 198.51.100.9\nwww NSEC \\# 0\n')), ['c.zone:6: www.example.com. A next to a CNAME: a CNAME owner has no other data (RFC 1034 §3.6.2)']);
  assert.deepEqual(brief(issues('www CNAME a\nwww CNAME b\n')), ['c.zone:6: second CNAME at www.example.com.: a name has at most one']);
});

test('data outside the zone is ignored with a warning (BIND, Knot)', () => {
  const body = 'www.example.org. A 198.51.100.1\nxexample.com. A 198.51.100.1\n';
  assert.deepEqual(issues(body), []);
  assert.deepEqual(brief(warnings(body)), [
    'c.zone:5: ignoring out-of-zone data www.example.org. A (outside example.com.)',
    'c.zone:6: ignoring out-of-zone data xexample.com. A (outside example.com.)',
  ]);
  assert.equal(parseZone(HEAD + body, { origin: O }).records.length, 3);
});

test('data at or below a delegation (a CNAME or DNAME too) loads with a warning: occluded, never served', () => {
  const body = 'sub NS ns.sub\nns.sub A 198.51.100.1\nsub MX 1 mx\nwww.sub TXT x\ndeep.sub NS ns\nc.sub CNAME www\nd.sub DNAME other.net.\n';
  assert.deepEqual(issues(body), []);
  assert.deepEqual(brief(warnings(body)), [
    'c.zone:7: sub.example.com. MX is occluded by the delegation at sub.example.com. (loaded, never served: only NS, DS and glue belong there)',
    'c.zone:8: www.sub.example.com. TXT is below the delegation at sub.example.com. (loaded, never served: only glue, A and AAAA, belongs there)',
    'c.zone:9: deep.sub.example.com. NS is below the delegation at sub.example.com. (loaded, never served: only glue, A and AAAA, belongs there)',
    'c.zone:9: NS ns.example.com. of deep.sub.example.com. has no address records (A or AAAA) in the zone',
    'c.zone:10: c.sub.example.com. CNAME is below the delegation at sub.example.com. (loaded, never served: only glue, A and AAAA, belongs there)',
    'c.zone:11: d.sub.example.com. DNAME is below the delegation at sub.example.com. (loaded, never served: only glue, A and AAAA, belongs there)',
  ]);
});

test('missing glue for an in-zone name server is a warning (named-checkzone), once per server', () => {
  assert.deepEqual(issues('sub NS ns.sub\nsub2 NS ns.sub\n@ NS ns2\n@ NS ns.other.net.\n'), []);
  assert.deepEqual(brief(warnings('sub NS ns.sub\nsub2 NS ns.sub\n@ NS ns2\n@ NS ns.other.net.\n')), [
    'c.zone:5: NS ns.sub.example.com. of sub.example.com. has no address records (A or AAAA) in the zone',
    'c.zone:7: NS ns2.example.com. of example.com. has no address records (A or AAAA) in the zone',
  ]);
  assert.deepEqual(warnings('sub NS ns.sub\nns.sub AAAA 2001:db8::1\n'), []);
});

test('DNAME: data below it is occluded (warning); not with a CNAME, only one (errors)', () => {
  assert.deepEqual(brief(issues('d DNAME other.net.\nx.d A 198.51.100.1\nd TXT ok\n')), []);
  assert.deepEqual(brief(warnings('d DNAME other.net.\nx.d A 198.51.100.1\nd TXT ok\n')), ['c.zone:6: x.d.example.com. A is occluded by the DNAME at d.example.com. (loaded, never served; RFC 6672 §2.4)']);
  assert.deepEqual(brief(issues('d DNAME other.net.\nd CNAME x\n')), ['c.zone:5: DNAME and CNAME at the same name d.example.com. (RFC 6672 §2.4)']);
  assert.deepEqual(brief(issues('d DNAME a.net.\nd DNAME b.net.\n')), ['c.zone:6: second DNAME at d.example.com.: a name has at most one (RFC 6672 §2.4)']);
  // A DNAME at the apex is allowed alongside SOA and NS, and occludes nothing but names below it.
  assert.deepEqual(brief(warnings('@ DNAME other.net.\n')), ['c.zone:4: ns1.example.com. A is occluded by the DNAME at example.com. (loaded, never served; RFC 6672 §2.4)']);
});

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', '..', 'test', 'fixtures', 'zones');

function tool(cmd: string, args: string[]): { ok: boolean; status: number | null; out: string } | null {
  const r = spawnSync(cmd, args, { cwd: fixtures, encoding: 'utf8' });
  if (r.error) return null;
  return { ok: r.status === 0, status: r.status, out: r.stdout + r.stderr };
}
const norm = (line: string): string => line.trim().split(/\s+/).join(' ').toLowerCase();

test('fixture zone: accepted by us and by named-checkzone, same records', (t) => {
  const file = join(fixtures, 'example.com.zone');
  const z = loadZoneFile(file, O);
  assert.deepEqual(checkZone(z, O), []);
  assert.equal(z.records.length, 28);
  // BIND resolves $INCLUDE against its working directory, hence cwd = the fixture folder.
  const bind = tool('named-checkzone', ['-q', '-i', 'local', '-D', '-o', '-', O, 'example.com.zone']);
  if (!bind) {
    t.skip('named-checkzone is not installed');
    return;
  }
  assert.ok(bind.ok, bind.out);
  const theirs = bind.out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';')).map(norm).sort();
  const ours = z.records.map((r) => norm(formatRecord(r))).sort();
  assert.equal(ours.length, theirs.length);
  assert.deepEqual(ours, theirs);
});

test('fixture zone: kzonecheck agrees when installed', (t) => {
  const knot = tool('kzonecheck', ['-o', O, 'example.com.zone']);
  if (!knot) {
    t.skip('kzonecheck is not installed');
    return;
  }
  assert.ok(knot.ok, knot.out);
});

test('a zone BIND rejects is rejected by us too', (t) => {
  const text = '$TTL 1\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 01.2.3.4\n';
  assert.throws(() => parseZone(text, { origin: O }), /expected an IPv4 address/);
  const r = spawnSync('named-checkzone', ['-q', '-i', 'local', O, '/dev/stdin'], { input: text, encoding: 'utf8' });
  if (r.error) {
    t.skip('named-checkzone is not installed');
    return;
  }
  assert.notEqual(r.status, 0);
});
