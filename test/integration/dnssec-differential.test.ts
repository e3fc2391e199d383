// Differential test with DO: pre-signed zones (dnssec-signzone NSEC and NSEC3 opt-out, ldns-signzone NSEC3, the
// signed root of 2014) served by fluxdns, NSD and Knot give the same answer and authority sections with +dnssec.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { dig, type DigResult, type Rec } from '../helpers/dig.js';
import { startFluxdns, startKnot, startNsd, repoRoot, type RunningServer, type ZoneSpec } from '../helpers/servers.js';
import { signZone, type SignMode } from '../helpers/dnssec-chain.js';
import { nsec3Label } from '../../src/dnssec/nsec3-hash.js';

const TEXT = (z: string): string =>
  [
    '$TTL 3600',
    '@ SOA ns1 hostmaster 1 7200 3600 1209600 300',
    '@ NS ns1',
    'ns1 A 198.51.100.1',
    'www A 198.51.100.10',
    'www AAAA 2001:db8::10',
    'alias CNAME www',
    'chain CNAME alias',
    '*.wild TXT "from the wildcard"',
    '*.wc CNAME www',
    'towild CNAME x.wild',
    'deep.ent A 198.51.100.30',
    'mail MX 10 www',
    'dn DNAME other.lab.',
    'dnin DNAME wild',
    'unsigned NS ns.unsigned',
    'ns.unsigned A 198.51.100.3',
    'signed NS ns.signed',
    'ns.signed A 198.51.100.4',
    `signed DS 12345 13 2 0ECC1541D97A9CE362CB3CD807C9E326A4B449709D7E8855F48F9049FBB6ED3C`,
    'ext NS ns.example.net.',
    // Six 100-byte strings: with its RRSIG the answer does not fit in 512 bytes.
    ...Array.from({ length: 6 }, (_, i) => `big TXT "${String(i).repeat(100)}"`),
    `; ${z}`,
  ].join('\n');

interface Case {
  name: string;
  type: string;
  rcode: string;
  aa: boolean;
  /** Types that must be in fluxdns's answer / authority (so the test fails if all three lose them). */
  answer?: string[];
  authority?: string[];
  /** Compared with: Knot's answer+authority (default), or NSD's answer section alone (NSD adds the apex NS to authority). */
  ref?: 'knot' | 'nsd-answer';
}

function cases(z: string, nsec3: boolean): Case[] {
  const denial = nsec3 ? 'NSEC3' : 'NSEC';
  const hashed = `${nsec3Label(`www.${z}`, new Uint8Array(0), 0)}.${z}`;
  return [
    { name: z, type: 'SOA', rcode: 'NOERROR', aa: true, answer: ['SOA', 'RRSIG'] },
    { name: z, type: 'DNSKEY', rcode: 'NOERROR', aa: true, answer: ['DNSKEY', 'RRSIG'] },
    { name: z, type: 'NS', rcode: 'NOERROR', aa: true, answer: ['NS', 'RRSIG'] },
    { name: z, type: 'A', rcode: 'NOERROR', aa: true, authority: ['SOA', 'RRSIG', denial] },
    { name: `www.${z}`, type: 'A', rcode: 'NOERROR', aa: true, answer: ['A', 'RRSIG'] },
    { name: `www.${z}`, type: 'TXT', rcode: 'NOERROR', aa: true, authority: ['SOA', denial] },
    { name: `chain.${z}`, type: 'A', rcode: 'NOERROR', aa: true, answer: ['CNAME', 'A', 'RRSIG'] },
    { name: `chain.${z}`, type: 'TXT', rcode: 'NOERROR', aa: true, answer: ['CNAME'], authority: [denial] },
    { name: `x.wild.${z}`, type: 'TXT', rcode: 'NOERROR', aa: true, answer: ['TXT', 'RRSIG'], authority: [denial] },
    { name: `a.b.wild.${z}`, type: 'TXT', rcode: 'NOERROR', aa: true, answer: ['TXT', 'RRSIG'], authority: [denial] },
    { name: `x.wild.${z}`, type: 'A', rcode: 'NOERROR', aa: true, authority: ['SOA', denial] },
    { name: `x.wc.${z}`, type: 'A', rcode: 'NOERROR', aa: true, answer: ['CNAME', 'A', 'RRSIG'], authority: [denial] },
    // A CNAME to a name only a wildcard covers, without the type asked: the CNAME keeps its RRSIG, then the wildcard NODATA proof.
    { name: `towild.${z}`, type: 'A', rcode: 'NOERROR', aa: true, answer: ['CNAME', 'RRSIG'], authority: ['SOA', denial] },
    { name: `nothing.${z}`, type: 'A', rcode: 'NXDOMAIN', aa: true, authority: ['SOA', denial] },
    { name: `a.nothing.${z}`, type: 'A', rcode: 'NXDOMAIN', aa: true, authority: ['SOA', denial] },
    { name: `ent.${z}`, type: 'A', rcode: 'NOERROR', aa: true, authority: ['SOA', denial] },
    { name: `x.ent.${z}`, type: 'A', rcode: 'NXDOMAIN', aa: true, authority: ['SOA', denial] },
    { name: `big.${z}`, type: 'TXT', rcode: 'NOERROR', aa: true, answer: ['TXT', 'RRSIG'] },
    { name: `mail.${z}`, type: 'MX', rcode: 'NOERROR', aa: true, answer: ['MX', 'RRSIG'] },
    { name: `foo.dn.${z}`, type: 'A', rcode: 'NOERROR', aa: true, answer: ['DNAME', 'CNAME', 'RRSIG'] },
    { name: `www.unsigned.${z}`, type: 'A', rcode: 'NOERROR', aa: false, authority: ['NS', ...(nsec3 ? [] : [denial])] },
    { name: `unsigned.${z}`, type: 'DS', rcode: 'NOERROR', aa: true, authority: ['SOA', denial] },
    { name: `www.signed.${z}`, type: 'A', rcode: 'NOERROR', aa: false, authority: ['NS', 'DS', 'RRSIG'] },
    { name: `signed.${z}`, type: 'DS', rcode: 'NOERROR', aa: true, answer: ['DS', 'RRSIG'] },
    { name: `x.ext.${z}`, type: 'A', rcode: 'NOERROR', aa: false, authority: ['NS'] },
    { name: `ext.${z}`, type: 'DS', rcode: 'NOERROR', aa: true, authority: ['SOA', denial] },
    { name: `www.${z}`, type: 'RRSIG', rcode: 'NOERROR', aa: true, answer: ['RRSIG'], ref: 'nsd-answer' },
    // RRSIG and NSEC live beside a CNAME (RFC 4035 §2.5): asked for, they answer at the alias, never at its target.
    { name: `alias.${z}`, type: 'RRSIG', rcode: 'NOERROR', aa: true, answer: ['RRSIG'], ref: 'nsd-answer' },
    { name: `alias.${z}`, type: 'NSEC', rcode: 'NOERROR', aa: true, ...(nsec3 ? { authority: ['SOA', denial] } : { answer: ['NSEC', 'RRSIG'] }) },
    { name: `x.wc.${z}`, type: 'RRSIG', rcode: 'NOERROR', aa: true, answer: ['RRSIG'], authority: [denial], ref: 'nsd-answer' },
    // RRSIGs synthesized from a wildcard: each with its RRset's TTL, and the proof that no closer name exists.
    { name: `x.wild.${z}`, type: 'RRSIG', rcode: 'NOERROR', aa: true, answer: ['RRSIG'], authority: [denial], ref: 'nsd-answer' },
    // A DNAME step before the RRSIGs asked for keeps its own RRSIG (here they are a wildcard's in the zone).
    { name: `x.dnin.${z}`, type: 'RRSIG', rcode: 'NOERROR', aa: true, answer: ['DNAME', 'RRSIG', 'CNAME'], ref: 'nsd-answer' },
    { name: `www.${z}`, type: nsec3 ? 'NSEC3' : 'NSEC', rcode: 'NOERROR', aa: true, ...(nsec3 ? { authority: ['SOA'] } : { answer: ['NSEC', 'RRSIG'] }) },
    ...(nsec3
      ? [
          // RFC 5155 §7.2.8: an NSEC3 owner name is not a name of the zone.
          { name: hashed, type: 'NSEC3', rcode: 'NXDOMAIN', aa: true, authority: ['SOA', 'NSEC3'] },
          { name: hashed, type: 'A', rcode: 'NXDOMAIN', aa: true, authority: ['SOA', 'NSEC3'] },
          { name: z, type: 'NSEC3PARAM', rcode: 'NOERROR', aa: true, answer: ['NSEC3PARAM', 'RRSIG'] },
        ]
      : []),
  ];
}

const line = (r: Rec): string => `${r.name} ${r.ttl} ${r.class} ${r.type} ${r.data}`.toLowerCase();
const lines = (rs: Rec[]): string[] => rs.map(line).sort();

describe('DNSSEC differential: fluxdns, NSD and Knot with +dnssec', () => {
  let dir: string;
  const zoneSets: { label: string; zones: ZoneSpec[]; cases: Case[] }[] = [];
  const servers = new Map<string, { flux: RunningServer; nsd: RunningServer; knot: RunningServer }>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnssec-diff-'));
    const modes: [string, SignMode, boolean][] = [
      ['nsec.lab.', 'nsec', false],
      ['optout.lab.', 'nsec3-optout', true],
      ['ldns3.lab.', 'ldns-nsec3', true],
    ];
    for (const [z, mode, nsec3] of modes) {
      const s = signZone(mkdtempSync(join(dir, 'z-')), z, TEXT(z), mode);
      zoneSets.push({ label: `${z} (${mode})`, zones: [{ name: z, file: s.file }], cases: cases(z, nsec3) });
    }
    // The signed root of 2014 (RSASHA1, NSEC, signatures valid until 2050): referrals, NXDOMAIN, DNSKEY.
    zoneSets.push({
      label: 'the signed root of 2014',
      zones: [{ name: '.', file: join(repoRoot, 'test', 'fixtures', 'zones', 'real', 'knot', 'root.zone') }],
      cases: [
        { name: '.', type: 'DNSKEY', rcode: 'NOERROR', aa: true, answer: ['DNSKEY', 'RRSIG'] },
        { name: '.', type: 'SOA', rcode: 'NOERROR', aa: true, answer: ['SOA', 'RRSIG'] },
        // This copy of the root holds no DS: every referral carries the NSEC that proves there is none.
        { name: 'www.example.com.', type: 'A', rcode: 'NOERROR', aa: false, authority: ['NS', 'NSEC', 'RRSIG'] },
        { name: 'com.', type: 'DS', rcode: 'NOERROR', aa: true, authority: ['SOA', 'NSEC', 'RRSIG'] },
        { name: 'nonexistent-tld.', type: 'A', rcode: 'NXDOMAIN', aa: true, authority: ['SOA', 'NSEC', 'RRSIG'] },
        { name: 'a.b.nonexistent-tld.', type: 'TXT', rcode: 'NXDOMAIN', aa: true, authority: ['SOA', 'NSEC', 'RRSIG'] },
        { name: '.', type: 'A', rcode: 'NOERROR', aa: true, authority: ['SOA', 'NSEC', 'RRSIG'] },
        { name: 'com.', type: 'NS', rcode: 'NOERROR', aa: false, authority: ['NS', 'NSEC'] },
      ],
    });
    for (const set of zoneSets) {
      const [pf, pn, pk] = [await freePort(), await freePort(), await freePort()];
      const [flux, nsd, knot] = await Promise.all([startFluxdns(set.zones, pf, set.zones[0]!.name), startNsd(set.zones, pn), startKnot(set.zones, pk)]);
      servers.set(set.label, { flux, nsd, knot });
    }
  });
  after(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = (port: number, c: Case, dnssec = true): Promise<DigResult> => dig(port, c.name, c.type, { tcp: true, extra: dnssec ? ['+dnssec'] : [] });

  it('every case agrees with the reference and carries its DNSSEC records', async () => {
    const problems: string[] = [];
    let compared = 0;
    for (const set of zoneSets) {
      const s = servers.get(set.label)!;
      for (const c of set.cases) {
        const [f, n, k] = await Promise.all([ask(s.flux.port, c), ask(s.nsd.port, c), ask(s.knot.port, c)]);
        const id = `${set.label}: ${c.name} ${c.type}`;
        compared++;
        if (f.rcode !== c.rcode) problems.push(`${id}: rcode ${f.rcode}, expected ${c.rcode}`);
        if (f.flags.has('aa') !== c.aa) problems.push(`${id}: AA ${f.flags.has('aa')}, expected ${c.aa}`);
        for (const t of c.answer ?? []) if (!f.answer.some((r) => r.type === t)) problems.push(`${id}: no ${t} in the answer`);
        for (const t of c.authority ?? []) if (!f.authority.some((r) => r.type === t)) problems.push(`${id}: no ${t} in the authority section`);
        const mine = { rcode: f.rcode, answer: lines(f.answer), authority: lines(f.authority) };
        const ref = c.ref === 'nsd-answer' ? { rcode: n.rcode, answer: lines(n.answer), authority: mine.authority } : { rcode: k.rcode, answer: lines(k.answer), authority: lines(k.authority) };
        try {
          assert.deepEqual(mine, ref);
        } catch {
          problems.push(`${id}: differs from ${c.ref ?? 'knot'}\n--- fluxdns\n${f.raw}\n--- reference\n${c.ref === 'nsd-answer' ? n.raw : k.raw}`);
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(compared >= 80, `${compared} cases`);
  });

  it('truncation keeps RRSIGs with their RRsets: TC when an RRSIG or a proof does not fit in 512 bytes', async () => {
    let truncated = 0;
    for (const set of zoneSets.slice(0, 3)) {
      const s = servers.get(set.label)!;
      const z = set.zones[0]!.name;
      for (const [name, type] of [[`big.${z}`, 'TXT'], [`a.nothing.${z}`, 'A'], [`x.wild.${z}`, 'A']] as const) {
        const full = await dig(s.flux.port, name, type, { tcp: true, extra: ['+dnssec'] });
        const small = await dig(s.flux.port, name, type, { edns: 512, extra: ['+dnssec'] });
        const id = `${set.label}: ${name} ${type}`;
        const size = Number(/MSG SIZE\s+rcvd: (\d+)/.exec(full.raw)?.[1]);
        assert.ok(size > 0 && !full.flags.has('tc'), id);
        if (size <= 512) {
          // It fits: the same answer over UDP, untruncated.
          assert.ok(!small.flags.has('tc'), `${id}: TC at ${size} bytes`);
          assert.deepEqual(lines([...small.answer, ...small.authority]), lines([...full.answer, ...full.authority]), id);
          continue;
        }
        truncated++;
        // Larger than 512 bytes over TCP: over UDP with a 512-byte buffer it must be cut, with TC.
        assert.ok(small.flags.has('tc'), `${id}: no TC\n${small.raw}`);
        // Whatever was kept: every RRset in the answer and authority sections has its RRSIG next to it.
        for (const section of [small.answer, small.authority]) {
          for (const r of section) {
            if (r.type === 'RRSIG') continue;
            assert.ok(section.some((sig) => sig.type === 'RRSIG' && sig.name === r.name && sig.data.split(' ')[0] === r.type), `${id}: ${r.name} ${r.type} without its RRSIG\n${small.raw}`);
          }
        }
      }
    }
    // big TXT in each of the three zones at least.
    assert.ok(truncated >= 3, `${truncated} truncated answers`);
  });

  it('the answer cache keeps DO and non-DO answers apart', async () => {
    const s = servers.get(zoneSets[0]!.label)!;
    const z = zoneSets[0]!.zones[0]!.name;
    for (let i = 0; i < 3; i++) {
      const withDo = await dig(s.flux.port, `www.${z}`, 'A', { extra: ['+dnssec'] });
      const without = await dig(s.flux.port, `www.${z}`, 'A', {});
      assert.ok(withDo.answer.some((r) => r.type === 'RRSIG'), withDo.raw);
      assert.ok(!without.answer.some((r) => r.type === 'RRSIG'), without.raw);
    }
  });

  it('without DO, no DNSSEC record is added (the zone itself unchanged)', async () => {
    const s = servers.get(zoneSets[0]!.label)!;
    const z = zoneSets[0]!.zones[0]!.name;
    for (const [name, type] of [[`www.${z}`, 'A'], [`nothing.${z}`, 'A'], [`www.signed.${z}`, 'A'], [`x.wild.${z}`, 'TXT']] as const) {
      const f = await ask(s.flux.port, { name, type, rcode: '', aa: true }, false);
      const k = await ask(s.knot.port, { name, type, rcode: '', aa: true }, false);
      const dnssecTypes = new Set(['RRSIG', 'NSEC', 'NSEC3', 'DS']);
      assert.deepEqual([...f.answer, ...f.authority].filter((r) => dnssecTypes.has(r.type)), [], `${name} ${type}`);
      assert.deepEqual({ answer: lines(f.answer), authority: lines(f.authority) }, { answer: lines(k.answer), authority: lines(k.authority) }, `${name} ${type}`);
    }
  });
});
