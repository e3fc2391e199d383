// DNSSEC keys and signatures against BIND and ldns: dnssec-keygen's files load; ours load in dnssec-dsfromkey; a zone we sign passes dnssec-verify and ldns-verify-zone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dnskeyRecord, dsText, readKeyFiles, type DnssecKey } from '../../src/dnssec/keys.js';
import { signRRset } from '../../src/dnssec/rrsig.js';
import { nsecRecord } from '../../src/dnssec/nsec.js';
import { loadZoneFile } from '../../src/zone/parser.js';
import { formatRecord } from '../../src/zone/format.js';
import { compareNames } from '../../src/zone/print.js';
import { parseLabels } from '../../src/wire/name.js';
import { RRType, type ResourceRecord } from '../../src/wire/types.js';
import { runFluxdns } from '../helpers/servers.js';

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function dsLine(text: string): string {
  // dnssec-dsfromkey prints "zone. IN DS tag alg 2 HEX"; compare fields, whitespace-insensitive.
  return text.trim().split(/\s+/).join(' ').toUpperCase();
}

test('dnssec-keygen files (ECDSAP256SHA256 and ED25519, ZSK and KSK) load; our DS equals dnssec-dsfromkey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-bindkeys-'));
  try {
    for (const [alg, extra] of [['ECDSAP256SHA256', []], ['ED25519', ['-f', 'KSK']]] as const) {
      const stem = run('dnssec-keygen', ['-q', '-a', alg, ...extra, '-K', dir, 'bind.test']).trim();
      const key = readKeyFiles(join(dir, stem));
      assert.equal(key.zone, 'bind.test.');
      assert.equal(stem, `Kbind.test.+${String(key.algorithm).padStart(3, '0')}+${String(key.keyTag).padStart(5, '0')}`);
      assert.equal(key.flags, extra.length ? 257 : 256);
      assert.equal(dsLine(dsText(key)), dsLine(run('dnssec-dsfromkey', ['-2', join(dir, `${stem}.key`)])));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fluxdns dnssec keygen files load in dnssec-dsfromkey and fluxdns dnssec ds prints the same DS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-ourkeys-'));
  try {
    for (const alg of ['ecdsap256sha256', 'ed25519']) {
      const r = await runFluxdns(['dnssec', 'keygen', 'ours.test', '--ksk', '--algorithm', alg, '--dir', dir], 60000);
      assert.equal(r.code, 0, r.stderr);
    }
    const files = readdirSync(dir).filter((f) => f.endsWith('.key')).sort();
    assert.equal(files.length, 2);
    const bind = files.map((f) => dsLine(run('dnssec-dsfromkey', ['-2', join(dir, f)]))).sort();
    const ds = await runFluxdns(['dnssec', 'ds', 'ours.test', '--dir', dir], 60000);
    assert.equal(ds.code, 0, ds.stderr);
    assert.deepEqual(ds.stdout.trim().split('\n').map(dsLine).sort(), bind);
    // A missing key folder and an unknown algorithm are reported, not thrown.
    const bad = await runFluxdns(['dnssec', 'keygen', 'ours.test', '--algorithm', 'rsasha1', '--dir', dir], 60000);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--algorithm: expected ecdsap256sha256 or ed25519/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Signs a whole zone the simple way (NSEC chain, every RRset by every key) for the cross-check. */
function signZone(records: ResourceRecord[], origin: string, keys: DnssecKey[], now: number): string[] {
  const all = [...records, ...keys.map((k) => dnskeyRecord(k, 3600))];
  const byName = new Map<string, Map<number, ResourceRecord[]>>();
  for (const rr of all) {
    const n = rr.name.toLowerCase();
    let m = byName.get(n);
    if (!m) byName.set(n, (m = new Map()));
    let set = m.get(rr.type);
    if (!set) m.set(rr.type, (set = []));
    set.push(rr);
  }
  const names = [...byName.keys()].sort((a, b) => compareNames(parseLabels(a).reverse(), parseLabels(b).reverse()));
  const minimum = (records.find((r) => r.type === RRType.SOA)!.data as { minimum: number }).minimum;
  const out: string[] = [];
  names.forEach((name, i) => {
    const sets = byName.get(name)!;
    const next = names[(i + 1) % names.length]!;
    const nsec = nsecRecord(name, next, [...sets.keys(), RRType.RRSIG, RRType.NSEC], minimum);
    for (const set of [...sets.values(), [nsec]]) {
      for (const rr of set) out.push(formatRecord(rr));
      const signers = set[0]!.type === RRType.DNSKEY ? keys : keys.filter((k) => !(k.flags & 1));
      for (const k of signers.length ? signers : keys) out.push(formatRecord(signRRset(set, k, { inception: now - 3600, expiration: now + 86400 })));
    }
  });
  return out;
}

test('a zone signed by fluxdns passes dnssec-verify and ldns-verify-zone (both algorithms, mixed-case names)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-signzone-'));
  try {
    const zoneText = [
      '$ORIGIN sig.test.',
      '$TTL 300',
      '@ IN SOA NS1.Sig.Test. hostmaster.sig.test. 1 3600 600 86400 60',
      '@ NS ns1',
      'ns1 A 198.51.100.1',
      'WWW A 198.51.100.2',
      'www A 198.51.100.3',
      'www AAAA 2001:db8::2',
      'mail MX 10 Ns1.sig.test.',
      'txt TXT "Hello" "World"',
      'alias CNAME WWW.sig.test.',
      '_sip._tcp SRV 0 5 5060 NS1.sig.test.',
      'deep.a.b TXT "x"',
    ].join('\n');
    writeFileSync(join(dir, 'sig.test.zone'), zoneText + '\n');
    const parsed = loadZoneFile(join(dir, 'sig.test.zone'), 'sig.test.');
    for (const alg of ['ECDSAP256SHA256', 'ED25519']) {
      // Every algorithm in the DNSKEY set signs every RRset (RFC 6840 §5.11): one KSK and one ZSK per run.
      const kdir = mkdtempSync(join(dir, 'k'));
      const ksk = run('dnssec-keygen', ['-q', '-a', alg, '-f', 'KSK', '-K', kdir, 'sig.test']).trim();
      const zsk = run('dnssec-keygen', ['-q', '-a', alg, '-K', kdir, 'sig.test']).trim();
      const keys = [readKeyFiles(join(kdir, ksk)), readKeyFiles(join(kdir, zsk))];
      const signed = signZone(parsed.records, 'sig.test.', keys, Math.floor(Date.now() / 1000));
      writeFileSync(join(dir, 'signed.zone'), signed.join('\n') + '\n');
      const bind = run('dnssec-verify', ['-o', 'sig.test', join(dir, 'signed.zone')]);
      assert.match(bind, new RegExp(`Zone fully signed:\\s+Algorithm: ${alg}: KSKs: 1 active`));
      const ldns = run('ldns-verify-zone', [join(dir, 'signed.zone')]);
      assert.match(ldns, /Zone is verified and complete/);
      // The check can fail: a record changed after signing is caught.
      writeFileSync(join(dir, 'tampered.zone'), signed.map((l) => l.replace('198.51.100.3', '198.51.100.9')).join('\n') + '\n');
      assert.throws(() => run('ldns-verify-zone', [join(dir, 'tampered.zone')]));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
