// fluxdns (workers: 2) as a secondary of BIND's named 9.18: AXFR with TSIG, NOTIFY-triggered IXFR after a reload,
// XoT (RFC 9103) to named's TLS listener with the certificate verified, a wrong CA refused (SERVFAIL, never
// served), and a new version whose ZONEMD does not match refused while the old one keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll, type Proc } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot, waitForSoa } from '../helpers/servers.js';
import { makeTestCert } from '../helpers/tls.js';
import { parseZone } from '../../src/zone/parser.js';
import { formatZone } from '../../src/zone/format.js';
import { HASH_SHA384, withZonemd } from '../../src/zone/zonemd.js';

const SECRET = randomBytes(32).toString('base64');
let dir = '';
let namedPort = 0;
let tlsPort = 0;
let fluxPort = 0;
let named: Proc | undefined;
let flux: Proc | undefined;

function zoneText(name: string, serial: number, extra: string[] = []): string {
  return [`$ORIGIN ${name}`, '$TTL 60', `@ SOA ns hostmaster ${serial} 60 2 600 60`, '  NS ns', 'ns A 198.51.100.1', 'www A 198.51.100.80', ...extra, ''].join('\n');
}

/** The zone with a correct ZONEMD (computed here, checked by ldns-verify-zone in zonemd.test.ts). */
function withDigest(name: string, text: string): string {
  return formatZone(withZonemd(name, parseZone(text, { origin: name }).records, HASH_SHA384));
}

function namedConf(cert: { cert: string; key: string }): string {
  return [
    `key "xfr-key" { algorithm hmac-sha256; secret "${SECRET}"; };`,
    `tls local-tls { key-file "${cert.key}"; cert-file "${cert.cert}"; };`,
    'options {',
    `  directory "${dir}/named";`,
    `  pid-file "${dir}/named/named.pid";`,
    `  session-keyfile "${dir}/named/session.key";`,
    `  managed-keys-directory "${dir}/named";`,
    `  listen-on port ${namedPort} { 127.0.0.1; };`,
    `  listen-on port ${tlsPort} tls local-tls { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify explicit;',
    `  also-notify { 127.0.0.1 port ${fluxPort}; };`,
    // Differences between zone-file versions are kept, so named answers IXFR after a reload.
    '  ixfr-from-differences yes;',
    '  max-ixfr-ratio unlimited;', // a tiny test zone: send the difference even when it is larger than the zone
    '  allow-transfer { key xfr-key; };',
    '};',
    'controls { };',
    ...['n.test', 't.test', 'bad.test'].map((z) => `zone "${z}" { type primary; file "${dir}/named/${z}.zone"; check-names ignore; };`),
    '',
  ].join('\n');
}

function fluxConf(ca: string, otherCa: string): string {
  return [
    'listen:',
    `  - { proto: udp, address: "127.0.0.1:${fluxPort}" }`,
    `  - { proto: tcp, address: "127.0.0.1:${fluxPort}" }`,
    'workers: 2',
    'rrl: off',
    'tsig:',
    `  keys: [ { name: xfr-key, secret: "${SECRET}" } ]`,
    'zones:',
    `  - { name: n.test., file: ${dir}/flux/n.test.zone, primaries: [ { address: "127.0.0.1:${namedPort}", tsigKey: xfr-key } ] }`,
    `  - { name: t.test., file: ${dir}/flux/t.test.zone, primaries: [ { address: "127.0.0.1:${tlsPort}", tsigKey: xfr-key, tls: { ca: ${JSON.stringify(ca)} } } ] }`,
    `  - { name: bad.test., file: ${dir}/flux/bad.test.zone, primaries: [ { address: "127.0.0.1:${tlsPort}", tsigKey: xfr-key, tls: { ca: ${JSON.stringify(otherCa)} } } ] }`,
    '',
  ].join('\n');
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what} within ${timeoutMs} ms\n${flux?.describe() ?? ''}\n${named?.describe() ?? ''}`);
}

/** The serial every worker serves: two UDP queries per round may land on either worker (SO_REUSEPORT). */
async function serial(zone: string): Promise<number | string> {
  const r = await dig(fluxPort, zone, 'SOA', { extra: ['+time=2', '+tries=1'] });
  if (r.rcode !== 'NOERROR') return r.rcode;
  return Number(r.answer.find((a) => a.type === 'SOA')?.data.split(' ')[2]);
}

async function allSerial(zone: string, want: number): Promise<boolean> {
  for (let i = 0; i < 6; i++) if ((await serial(zone)) !== want) return false;
  return true;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-secondary-named-'));
  mkdirSync(join(dir, 'named'));
  mkdirSync(join(dir, 'flux'));
  mkdirSync(join(dir, 'other'));
  namedPort = await freePort();
  tlsPort = await freePort();
  fluxPort = await freePort();
  const cert = makeTestCert(join(dir, 'named'));
  const other = makeTestCert(join(dir, 'other'));
  writeFileSync(join(dir, 'named', 'n.test.zone'), withDigest('n.test.', zoneText('n.test.', 1)));
  writeFileSync(join(dir, 'named', 't.test.zone'), zoneText('t.test.', 1));
  writeFileSync(join(dir, 'named', 'bad.test.zone'), zoneText('bad.test.', 1));
  writeFileSync(join(dir, 'named', 'named.conf'), namedConf(cert));
  writeFileSync(join(dir, 'flux', 'fluxdns.yaml'), fluxConf(cert.cert, other.cert));
  named = startProcess('named', ['-g', '-n', '1', '-4', '-c', join(dir, 'named', 'named.conf')], { name: `named:${namedPort}`, cwd: dir });
  await waitForSoa(named, namedPort, 'n.test.');
  flux = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, 'flux', 'fluxdns.yaml')], { name: `fluxdns:${fluxPort}`, cwd: repoRoot });
  await flux.waitFor(/fluxdns ready/, 90000, 'stdout');
});

after(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('fluxdns (workers: 2) as a secondary of named 9.18', { timeout: 240000 }, () => {
  test('initial AXFR with TSIG; the ZONEMD named serves verifies', async () => {
    await eventually('both workers serve n.test. serial 1', () => allSerial('n.test.', 1));
    const r = await dig(fluxPort, 'www.n.test.', 'A');
    assert.deepEqual(r.answer.map((a) => a.data), ['198.51.100.80']);
    assert.match(flux!.stderr, /secondary zone transferred[^\n]*"zone":"n\.test\."[^\n]*"via":"AXFR"[^\n]*"zonemd":"valid"/);
    assert.match(named!.stderr, /transfer of 'n\.test\/IN': AXFR started: TSIG xfr-key/);
    // One transfer client for the whole server: named saw one AXFR of the zone, not one per worker.
    assert.equal(named!.stderr.match(/transfer of 'n\.test\/IN': AXFR started/g)?.length, 1);
  });

  test('XoT: the zone comes over TLS with the certificate verified; a certificate from another CA is refused', async () => {
    await eventually('t.test. over XoT', () => allSerial('t.test.', 1));
    assert.match(named!.stderr, /transfer of 't\.test\/IN': AXFR started: TSIG xfr-key/);
    // bad.test. is served by the same named on the same port, but its certificate does not chain to the configured CA.
    await eventually('the certificate error is logged', async () => /"zone":"bad\.test\."[^\n]*certificate|certificate[^\n]*bad\.test/.test(flux!.stderr));
    assert.equal(await serial('bad.test.'), 'SERVFAIL');
    assert.doesNotMatch(named!.stderr, /transfer of 'bad\.test\/IN'/);
  });

  test('a reload on named reaches both workers by NOTIFY and IXFR', async () => {
    writeFileSync(join(dir, 'named', 'n.test.zone'), withDigest('n.test.', zoneText('n.test.', 2, ['new A 198.51.100.2'])));
    process.kill(named!.pid, 'SIGHUP');
    await eventually('both workers serve n.test. serial 2', () => allSerial('n.test.', 2));
    const r = await dig(fluxPort, 'new.n.test.', 'A');
    assert.deepEqual(r.answer.map((a) => a.data), ['198.51.100.2']);
    assert.match(flux!.stderr, /NOTIFY received[^\n]*n\.test\./);
    assert.match(flux!.stderr, /secondary zone transferred[^\n]*"zone":"n\.test\."[^\n]*"serial":2[^\n]*"via":"IXFR"/);
    assert.match(named!.stderr, /transfer of 'n\.test\/IN': IXFR started: TSIG xfr-key/);
  });

  test('a new version whose ZONEMD does not match is refused; the old one keeps serving', async () => {
    // Serial 3 with serial 2's digest data: the ZONEMD no longer matches (named serves it as it is).
    const good = withDigest('n.test.', zoneText('n.test.', 3, ['new A 198.51.100.2']));
    writeFileSync(join(dir, 'named', 'n.test.zone'), good.replace('198.51.100.2', '198.51.100.3'));
    process.kill(named!.pid, 'SIGHUP');
    await eventually('the mismatch is logged', async () => /ZONEMD digest mismatch[^\n]*keeping serial 2/.test(flux!.stderr));
    assert.equal(await serial('n.test.'), 2);
    assert.match(readFileSync(join(dir, 'flux', 'n.test.zone'), 'utf8'), /n\.test\. serial 2/);
  });
});
