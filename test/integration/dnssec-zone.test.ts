// Pre-signed zones at load: fluxdns zone print gives back a zone ldns-verify-zone and dnssec-verify accept,
// and a zone with expired signatures, a broken NSEC/NSEC3 chain or RRSIGs no DNSKEY matches loads with one
// warning per problem naming file, line and record (zones signed here with dnssec-keygen/dnssec-signzone).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeKeys, signZone } from '../helpers/dnssec-chain.js';
import { runFluxdns } from '../helpers/servers.js';

const ZONE = 'sec.lab.';
const TEXT = [
  '$TTL 3600',
  '@ SOA ns1 hostmaster 1 7200 3600 1209600 300',
  '@ NS ns1',
  'ns1 A 198.51.100.1',
  'www A 198.51.100.10',
  'alias CNAME www',
  '*.wild TXT "w"',
  'deep.ent A 198.51.100.30',
  'sub NS ns.sub',
  'ns.sub A 198.51.100.40',
].join('\n');

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnssec-zone-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a verifier; its exit status and output. */
function verifier(cmd: string, args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

async function check(file: string, origin = ZONE): Promise<string[]> {
  const r = await runFluxdns(['zone', 'check', file, '--origin', origin], 60000);
  assert.equal(r.code, 0, r.stderr);
  return r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
}

describe('pre-signed zones: zone print round trip and load warnings', () => {
  for (const mode of ['nsec', 'nsec3-optout', 'ldns-nsec3'] as const) {
    it(`${mode}: zone print is accepted by ldns-verify-zone and dnssec-verify, and loads without warnings`, async () => {
      const sub = mkdtempSync(join(dir, `${mode}-`));
      const z = signZone(sub, ZONE, TEXT, mode);
      assert.deepEqual(await check(z.file), []);
      const printed = await runFluxdns(['zone', 'print', z.file, '--origin', ZONE], 60000);
      assert.equal(printed.code, 0, printed.stderr);
      const out = join(sub, 'printed.zone');
      writeFileSync(out, printed.stdout);
      // The printed text holds every signature and denial record again.
      const count = (t: string, type: string): number => t.split('\n').filter((l) => !l.startsWith(';') && l.split(/\s+/)[3] === type).length;
      const signedText = execFileSync('ldns-read-zone', [z.file], { encoding: 'utf8' });
      for (const type of ['RRSIG', 'NSEC', 'NSEC3', 'DNSKEY']) assert.equal(count(printed.stdout, type), count(signedText, type), type);
      const ldns = verifier('ldns-verify-zone', [out]);
      assert.ok(ldns.ok, ldns.out);
      const bind = verifier('dnssec-verify', ['-o', ZONE, out]);
      assert.ok(bind.ok, bind.out);
      assert.match(bind.out, /Zone fully signed/);
    });
  }

  it('a changed record after signing: the RRSIG does not verify (file, line, record)', async () => {
    const sub = mkdtempSync(join(dir, 'bad-'));
    const z = signZone(sub, ZONE, TEXT, 'nsec');
    const lines = readFileSync(z.file, 'utf8').split('\n');
    const at = lines.findIndex((l) => /^www\.sec\.lab\.\s.*\sA\s+198\.51\.100\.10$/.test(l));
    assert.ok(at >= 0);
    lines[at] = lines[at]!.replace('198.51.100.10', '198.51.100.11');
    writeFileSync(z.file, lines.join('\n'));
    const w = await check(z.file);
    assert.equal(w.length, 1, w.join('\n'));
    assert.match(w[0]!, new RegExp(`^warning: ${z.file}:\\d+: RRSIG www\\.sec\\.lab\\. A \\(key tag \\d+\\) does not verify`));
  });

  it('expired signatures: one warning each, with the date', async () => {
    const sub = mkdtempSync(join(dir, 'expired-'));
    writeFileSync(join(sub, 'z'), `$ORIGIN ${ZONE}\n${TEXT}\n`);
    makeKeys(sub, ZONE);
    // -P: no verification after signing (it would refuse the expired signatures).
    execFileSync('dnssec-signzone', ['-P', '-o', ZONE, '-K', sub, '-S', '-s', '20200101000000', '-e', '20200201000000', '-f', join(sub, 'z.signed'), join(sub, 'z')], { cwd: sub, stdio: 'ignore' });
    const w = await check(join(sub, 'z.signed'));
    const expired = w.filter((l) => / expired on 2020-02-01T00:00:00Z$/.test(l));
    assert.ok(expired.length > 0, w.join('\n'));
    assert.equal(expired.length, w.length, w.join('\n'));
    assert.ok(expired.some((l) => /:\d+: RRSIG www\.sec\.lab\. A \(key tag \d+\) expired/.test(l)), w.join('\n'));
  });

  it('RRSIGs by a key the DNSKEY RRset lacks, a broken NSEC chain, a missing RRSIG', async () => {
    const sub = mkdtempSync(join(dir, 'chain-'));
    const z = signZone(sub, ZONE, TEXT, 'nsec');
    let text = execFileSync('ldns-read-zone', [z.file], { encoding: 'utf8' });
    // Drop the NSEC of alias.sec.lab. (the chain skips it) and the RRSIG of ns1's A; replace the ZSK by another key.
    text = text
      .split('\n')
      .filter((l) => !/^alias\.sec\.lab\.\s.*\sNSEC\s/.test(l) && !/^ns1\.sec\.lab\.\s.*\sRRSIG\s+A\s/.test(l))
      .join('\n');
    const other = mkdtempSync(join(dir, 'otherkey-'));
    const { zsk } = makeKeys(other, ZONE);
    const zskLine = readFileSync(`${z.keys[1]}.key`, 'utf8').split('\n').find((l) => /DNSKEY/.test(l) && !l.startsWith(';'))!;
    const zskData = zskLine.split(/\sDNSKEY\s/)[1]!.replace(/\s+/g, '');
    const newLine = readFileSync(`${zsk}.key`, 'utf8').split('\n').find((l) => /DNSKEY/.test(l) && !l.startsWith(';'))!;
    text = text
      .split('\n')
      .map((l) => (/\sDNSKEY\s+256\s/.test(l) && l.replace(/\s+/g, '').includes(zskData.slice(-20)) ? newLine : l))
      .join('\n');
    const file = join(sub, 'broken.zone');
    writeFileSync(file, text);
    const w = await check(file);
    const has = (re: RegExp): void => assert.ok(w.some((l) => re.test(l)), `${re}\n${w.join('\n')}`);
    has(/:\d+: NSEC chain broken: alias\.sec\.lab\. has records but no NSEC$/);
    has(/:\d+: NSEC chain broken at \S+: its next name is alias\.sec\.lab\., but the next name with an NSEC is /);
    has(/:\d+: ns1\.sec\.lab\. A has no RRSIG$/);
    has(/:\d+: RRSIG www\.sec\.lab\. A \(key tag \d+\) was made by a key \(algorithm 13\) that is not in the DNSKEY RRset/);
    // The DNSKEY RRset itself was signed by the KSK, over the old ZSK: its signature no longer verifies.
    has(/RRSIG sec\.lab\. DNSKEY \(key tag \d+\) does not verify/);
    // Capped per kind: every ZSK signature is "not in the DNSKEY RRset", 20 shown then one summary line.
    for (const l of w) assert.match(l, /^warning: /);
  });

  it('NSEC3 with a salt and iterations: the RFC 9276 note; a missing NSEC3 breaks the chain', async () => {
    const sub = mkdtempSync(join(dir, 'nsec3-'));
    const z = signZone(sub, ZONE, TEXT, 'nsec3', { salt: 'aabbccdd', iterations: 10 });
    const text = execFileSync('ldns-read-zone', [z.file], { encoding: 'utf8' }).split('\n');
    const drop = text.findIndex((l) => /\sNSEC3\s/.test(l) && !/^sec\.lab\./.test(l));
    const owner = text[drop]!.split(/\s/)[0]!;
    const file = join(sub, 'gap.zone');
    writeFileSync(file, text.filter((l, i) => i !== drop && !(l.startsWith(owner) && /\sRRSIG\s+NSEC3\s/.test(l))).join('\n'));
    const w = await check(file);
    assert.ok(w.some((l) => /NSEC3PARAM|NSEC3 parameters use 10 additional iterations .*and a 4-byte salt/.test(l)), w.join('\n'));
    assert.equal(w.filter((l) => /NSEC3 chain broken at /.test(l)).length, 1, w.join('\n'));
  });
});
