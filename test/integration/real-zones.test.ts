// Zone files operators really have (test/fixtures/zones/real/README.md) load in fluxdns as in BIND and
// Knot, and `fluxdns zone print` agrees with named-compilezone record for record, byte for byte.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nameFromLabels, nameKey, parseLabels } from '../../src/wire/name.js';
import { checkZoneReport } from '../../src/zone/check.js';
import { Lexer } from '../../src/zone/lexer.js';
import { loadZoneFile } from '../../src/zone/parser.js';
import { printZone } from '../../src/zone/print.js';
import { freePort } from '../helpers/ports.js';
import { dig } from '../helpers/dig.js';
import { fluxdnsMain, repoRoot, startFluxdns } from '../helpers/servers.js';

const REAL = join(repoRoot, 'test', 'fixtures', 'zones', 'real');

/** Each fixture, its origin, and whether named-checkzone and kzonecheck load it (asserted below). */
const ZONES: { file: string; origin: string; bind: boolean; knot: boolean; ldns?: false; differs?: Record<string, string> }[] = [
  { file: 'knot/records.zone', origin: 'records.', bind: true, knot: true },
  { file: 'knot/root.zone', origin: '.', bind: true, knot: true },
  { file: 'knot/out-of-zone.zone', origin: 'out-of-zone.', bind: true, knot: true },
  { file: 'pdns/zonemd1.zone', origin: 'example.', bind: true, knot: true },
  { file: 'pdns/zonemd2.zone', origin: 'example.', bind: true, knot: true },
  // A ZONEMD whose digest (private hash 241) is shorter than BIND accepts; Knot loads it.
  { file: 'pdns/zonemd3.zone', origin: 'example.', bind: false, knot: true },
  // Knot refuses base64 with embedded blanks in one RRSIG field; BIND loads it.
  { file: 'pdns/zonemd4.zone', origin: 'uri.arpa.', bind: true, knot: false },
  { file: 'pdns/zonemd5.zone', origin: 'root-servers.net.', bind: true, knot: true },
  { file: 'pdns/dnssec-parent.com', origin: 'dnssec-parent.com.', bind: true, knot: true },
  { file: 'pdns/wtest.com', origin: 'wtest.com.', bind: true, knot: true },
  { file: 'pdns/2.0.192.in-addr.arpa', origin: '2.0.192.in-addr.arpa.', bind: true, knot: true },
  // $GENERATE (BIND only: Knot's parser has no $GENERATE).
  { file: 'bind/good-generate-modifier.db', origin: 'example.', bind: true, knot: false },
  { file: 'bind/generate-overflow.db', origin: 'example.', bind: true, knot: false },
  { file: 'bind/optout-test.db', origin: 'test.', bind: true, knot: false },
  { file: 'bind/rrl-tld2.db', origin: 'tld2.', bind: true, knot: false },
  { file: 'bind/stress-zone.template.db', origin: 'example.', bind: true, knot: false },
  { file: 'bind/xfer-axfr-too-big.db', origin: 'axfr-too-big.', bind: true, knot: false },
  // DNAMEs, CNAMEs into delegations, an 18-CNAME loop; an apex wildcard CNAME to a CNAME into a delegation.
  { file: 'bind/chain-example.db', origin: 'example.', bind: true, knot: true },
  { file: 'bind/chain-wildcard.db', origin: 'wildcard.', bind: true, knot: true },
  // A CNAME and a DNAME into a delegation whose name servers' addresses lie outside the zone.
  { file: 'nsd/cname_zone.zone', origin: 'example.nl.', bind: true, knot: true },
  {
    file: 'bind/good-svcb.db', origin: 'example.', bind: true, knot: false,
    // alpn="h1\\,h2,h3": RFC 9460 App. A.1 decodes the string (h1\,h2,h3), then the list, where \, is a
    // literal comma: "h1,h2" and "h3" (as fluxdns). BIND 9.18 makes "h1\", "h2" and "h3".
    differs: { 'svcb8.example. TYPE64': 'BIND 9.18 reads an escaped comma in alpn differently from RFC 9460 App. A.1' },
  },
  { file: 'bind/good-nsap.db', origin: 'example.', bind: true, knot: false },
  { file: 'bind/good-occulted-ns-by-ns.db', origin: 'example.', bind: true, knot: true },
  { file: 'bind/good-occulted-ns-by-dname.db', origin: 'example.', bind: true, knot: false },
  { file: 'bind/warn.no-a.server.db', origin: 'example.', bind: true, knot: true },
  { file: 'bind/good1.db', origin: 'example.', bind: true, knot: false },
  { file: 'bind/good-dns-sd-reverse.db', origin: 'example.', bind: true, knot: false },
  // ldns-read-zone cannot read NSEC3 next-hashed-owner names in base32hex without padding, so only the text route is compared.
  { file: 'bind/good-nsec3-nopadhash.db', origin: 'example.', bind: true, knot: false, ldns: false },
];

/** Name servers in the zone without addresses: loads, with a warning for each (as named-checkzone). */
const GLUELESS = '$TTL 60\n@ SOA ns1 host 7 2 3 4 5\n@ NS ns1\n@ NS ns2\nns1 A 198.51.100.1\nsub NS ns.sub\n';

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-real-zones-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], input?: string): { status: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/**
 * BIND's view of a zone, every rdata in RFC 3597 form: named-compilezone expands and resolves the
 * file ($GENERATE, $TTL, relative names, out-of-zone data), ldns-read-zone -U writes its records as
 * `\# len hex` (-U NULL: every type but NULL unknown; the fixtures hold no NULL).
 */
function compile(file: string, origin: string, tag: string): string {
  const out = join(dir, `${tag}.compiled`);
  const c = run('named-compilezone', ['-q', '-k', 'ignore', '-i', 'none', '-s', 'full', '-o', out, origin, file]);
  assert.equal(c.status, 0, `named-compilezone ${file}: ${c.out}${c.err}`);
  return out;
}

/**
 * named-compilezone's text of a zone, one record a line (its multi-line records and comments read by
 * the master-file lexer), tokens joined by one blank, owners lower-cased; sorted.
 */
function bindText(file: string, origin: string, tag: string): string[] {
  const lx = new Lexer(readFileSync(compile(file, origin, tag), 'utf8'), file);
  const rows: string[] = [];
  for (let e = lx.next(); e; e = lx.next()) {
    const [owner, ...rest] = e.tokens;
    rows.push([nameKey(nameFromLabels(parseLabels(owner!.text))), ...rest.map((t) => (t.quoted ? `"${t.text}"` : t.text))].join(' '));
  }
  return rows.sort();
}

function bindGeneric(file: string, origin: string, tag: string): string[] {
  const out = compile(file, origin, tag);
  const l = run('ldns-read-zone', ['-U', 'NULL', out]);
  assert.equal(l.status, 0, `ldns-read-zone ${out}: ${l.err}`);
  return normalize(l.out);
}

/** `owner ttl class TYPEn \# len hex`, owner in canonical lower case, hex in one lower-case word; sorted. */
function normalize(text: string): string[] {
  const rows: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith(';')) continue;
    const f = line.trim().split(/\s+/);
    const [owner, ttl, cls, type, hash, len, ...hex] = f;
    assert.equal(hash, '\\#', `not in RFC 3597 form: ${line}`);
    rows.push([nameKey(nameFromLabels(parseLabels(owner!))), ttl, cls!.toUpperCase(), type!.toUpperCase(), '\\#', len, hex.join('').toLowerCase()].join(' ').trimEnd());
  }
  return rows.sort();
}

function fluxGeneric(file: string, origin: string): string[] {
  const z = loadZoneFile(file, origin);
  return normalize(printZone(z.records, { generic: true }).join('\n'));
}

describe('real zone files', () => {
  for (const z of ZONES) {
    test(`${z.file}: fluxdns loads it; BIND ${z.bind ? 'loads' : 'refuses'} it, Knot ${z.knot ? 'loads' : 'refuses'} it; the records agree with named-compilezone byte for byte`, () => {
      const file = join(REAL, z.file);
      // -i local: no lookups of out-of-zone name servers (the default resolves them over the network).
      assert.equal(run('named-checkzone', ['-q', '-i', 'local', z.origin, file]).status === 0, z.bind, `named-checkzone ${z.bind ? 'refused' : 'loaded'} ${z.file}`);
      assert.equal(run('kzonecheck', ['-o', z.origin, file]).status === 0, z.knot, `kzonecheck ${z.knot ? 'refused' : 'loaded'} ${z.file}`);
      const parsed = loadZoneFile(file, z.origin);
      assert.deepEqual(checkZoneReport(parsed, z.origin).errors, [], 'fluxdns refuses a zone another server loads');
      if (!z.bind) return;
      const tag = z.file.replace(/\W/g, '_');
      // fluxdns's text (zone print) read by BIND gives what BIND makes of the original, line for line.
      const printed = join(dir, `${tag}.printed`);
      writeFileSync(printed, printZone(parsed.records).join('\n') + '\n');
      const bindLines = bindText(file, z.origin, tag);
      assert.ok(bindLines.length > 0);
      assert.deepEqual(bindText(printed, z.origin, `${tag}.again`), bindLines);
      if (z.ldns === false) return;
      // fluxdns's records (its parser's wire bytes) against BIND's, every rdata in RFC 3597 hex.
      const bind = bindGeneric(file, z.origin, tag);
      const flux = fluxGeneric(file, z.origin);
      const known = (l: string): boolean => z.differs?.[l.split(' ').slice(0, 1).concat(l.split(' ')[3]!).join(' ')] !== undefined;
      assert.deepEqual(flux.filter((l) => !known(l)), bind.filter((l) => !known(l)));
      // Each documented difference is real (else the exception is stale) and limited to its record.
      for (const k of Object.keys(z.differs ?? {})) {
        assert.notDeepEqual(flux.filter(known), bind.filter(known), `${k} no longer differs; drop the exception`);
        assert.equal(flux.filter(known).length, bind.filter(known).length);
      }
    });
  }

  test('TTLs from 2^31 to 2^32-1: BIND, Knot and NSD load the file; fluxdns too, as named-compilezone reads it (0, RFC 2181 §8)', () => {
    const file = join(dir, 'ttl-top-bit.zone');
    writeFileSync(file, '$TTL 60\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 198.51.100.1\nbig 2147483648 A 198.51.100.2\nbig2 4294967295 A 198.51.100.3\n$TTL 3000000000\nbig3 A 198.51.100.4\n');
    assert.equal(run('named-checkzone', ['-q', '-i', 'local', 'example.', file]).status, 0);
    assert.equal(run('kzonecheck', ['-o', 'example.', file]).status, 0);
    assert.equal(run('nsd-checkzone', ['example.', file]).status, 0);
    const parsed = loadZoneFile(file, 'example.');
    assert.deepEqual(checkZoneReport(parsed, 'example.').errors, []);
    assert.deepEqual(parsed.warnings.map((w) => w.line), [5, 6, 7]);
    assert.deepEqual(fluxGeneric(file, 'example.'), bindGeneric(file, 'example.', 'ttl-top-bit'));
    assert.deepEqual(parsed.records.filter((r) => r.name.startsWith('big')).map((r) => r.ttl), [0, 0, 0]);
  });

  test('a character-string in Latin-1 (not UTF-8) keeps its bytes, as BIND and NSD load it, and is served so', async () => {
    const file = join(dir, 'latin1.zone');
    // "café" in ISO-8859-1 (0xe9), in UTF-8 (0xc3 0xa9), an unquoted one, and a byte that starts no UTF-8 sequence.
    const head = '$TTL 60\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 198.51.100.1\n';
    writeFileSync(file, Buffer.concat([Buffer.from(head), Buffer.from([...Buffer.from('latin TXT "caf'), 0xe9, ...Buffer.from('"\nutf TXT "caf'), 0xc3, 0xa9, ...Buffer.from('"\nbare TXT caf'), 0xe9, ...Buffer.from(' x'), 0xff, ...Buffer.from('\n')])]));
    assert.equal(run('named-checkzone', ['-q', '-i', 'local', 'example.', file]).status, 0);
    assert.equal(run('nsd-checkzone', ['example.', file]).status, 0);
    assert.deepEqual(fluxGeneric(file, 'example.'), bindGeneric(file, 'example.', 'latin1'));
    const port = await freePort();
    const server = await startFluxdns([{ name: 'example.', file }], port);
    try {
      const txt = async (n: string): Promise<string[]> => (await dig(port, `${n}.example.`, 'TXT')).answer.map((a) => a.data);
      assert.deepEqual(await txt('latin'), ['"caf\\233"']);
      assert.deepEqual(await txt('utf'), ['"caf\\195\\169"']);
      assert.deepEqual(await txt('bare'), ['"caf\\233" "x\\255"']);
    } finally {
      await server.stop();
    }
  });

  test('zone print and zone check as commands: canonical lines, warnings with file and line, exit status', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', fluxdnsMain, ...args], { cwd: repoRoot, encoding: 'utf8' });
    const file = join(REAL, 'knot', 'out-of-zone.zone');
    const p = cli('zone', 'print', file, '--origin', 'out-of-zone');
    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stderr, `warning: ${file}:18: ignoring out-of-zone data fail. TXT (outside out-of-zone.)\n`);
    const lines = p.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'out-of-zone.\t3600\tIN\tNS\tdns1.out-of-zone.');
    assert.equal(lines.length, 10);
    assert.ok(lines.every((l) => l.split('\t')[0]!.endsWith('out-of-zone.')));
    const g = cli('zone', 'print', file, '--origin', 'out-of-zone.', '--generic');
    // 04 "dns1" 0b "out-of-zone" 00: 18 bytes.
    assert.equal(g.stdout.split('\n')[0], 'out-of-zone.\t3600\tIN\tTYPE2\t\\# 18 04646e73310b6f75742d6f662d7a6f6e6500');
    const c = cli('zone', 'check', join(REAL, 'bind', 'good-occulted-ns-by-ns.db'), '--origin', 'example');
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stderr, /^warning: .*good-occulted-ns-by-ns\.db:\d+: .* is below the delegation at .* \(loaded, never served/m);
    assert.match(c.stdout, /^zone example\.: \d+ records OK$/m);
  });

  test('fluxdns check names the configuration line of a missing zone file, and shows zone warnings', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', fluxdnsMain, ...args], { cwd: repoRoot, encoding: 'utf8' });
    const conf = join(dir, 'c.yaml');
    writeFileSync(join(dir, 'glue.zone'), GLUELESS);
    writeFileSync(conf, `zones:\n  - name: example\n    file: glue.zone\n  - name: missing.lab\n    file: nothere.zone\n`);
    const bad = cli('check', '--config', conf);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr.trim().split('\n').at(-1), `${conf}:5: zones[1].file: zone file ${join(dir, 'nothere.zone')} of zone missing.lab. does not exist`);
    writeFileSync(conf, 'zones:\n  - name: example\n    file: glue.zone\n');
    const good = cli('check', '--config', conf);
    assert.equal(good.status, 0, good.stderr);
    assert.equal(good.stderr, [
      `warning: ${join(dir, 'glue.zone')}:4: NS ns2.example. of example. has no address records (A or AAAA) in the zone`,
      `warning: ${join(dir, 'glue.zone')}:6: NS ns.sub.example. of sub.example. has no address records (A or AAAA) in the zone`,
      '',
    ].join('\n'));
    assert.match(good.stdout, /^zone example\.: 5 records, serial 7 \(.*glue\.zone\), 2 warnings$/m);
  });

  test('fluxdns serve logs each zone warning with its file and line', async () => {
    const port = await freePort();
    const file = join(dir, 'serve-glue.zone');
    writeFileSync(file, GLUELESS);
    const server = await startFluxdns([{ name: 'example.', file }], port);
    try {
      await server.proc.waitFor(/zone warning.*serve-glue\.zone:6: NS ns\.sub\.example\. of sub\.example\. has no address records/, 30000, 'both');
    } finally {
      await server.stop();
    }
  });
});
