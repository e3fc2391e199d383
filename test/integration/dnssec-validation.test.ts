// Pre-signed zones served by fluxdns validate through unbound, kresd and named behind a signed fake root
// (root → lab. → zone), and delv says "fully validated"; a broken signature gives SERVFAIL through each.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stopAll } from '../helpers/proc.js';
import { startDnssecChain, type ChainZone, type DnssecChain, type ValidatingResolver, type ValidatorKind } from '../helpers/dnssec-chain.js';

/** The same data in every zone under test: static, CNAME chain, wildcard, and two delegations. */
function zoneText(): string {
  return [
    '$TTL 3600',
    '@ SOA ns1 hostmaster 1 7200 3600 1209600 300',
    '@ NS ns1',
    'ns1 A 198.51.100.1',
    'www A 198.51.100.10',
    'www AAAA 2001:db8::10',
    'alias CNAME www',
    'chain CNAME alias',
    '*.wild TXT "from the wildcard"',
    'deep.ent A 198.51.100.30',
    'mail MX 10 www',
  ].join('\n');
}

const child = (name: string): string => ['$TTL 3600', `@ SOA ns.${name} hostmaster.${name} 1 7200 3600 1209600 300`, `@ NS ns.${name}`, 'www A 198.51.100.50'].join('\n');

interface Tested {
  zone: string;
  sign: ChainZone['sign'];
  salt?: string;
  iterations?: number;
  algorithm?: ChainZone['algorithm'];
  secondZsk?: ChainZone['secondZsk'];
}

const tested: Tested[] = [
  { zone: 'nsec.lab.', sign: 'nsec' },
  { zone: 'nsec3.lab.', sign: 'nsec3' },
  { zone: 'optout.lab.', sign: 'nsec3-optout' },
  { zone: 'ldnsnsec.lab.', sign: 'ldns-nsec' },
  // A salt and extra iterations (against RFC 9276's advice, within what validators accept) exercise the hash.
  { zone: 'ldns3.lab.', sign: 'ldns-nsec3', salt: 'aabbccdd', iterations: 3 },
  { zone: 'ldnsoptout.lab.', sign: 'ldns-nsec3-optout' },
  // Algorithms 8 and 15 besides 13, each with a ZSK rollover under way: a second ZSK published but not signing yet
  // (RFC 6781 §4.1.1.1), and two ZSKs both signing (double signature, §4.1.1.2).
  { zone: 'rsa.lab.', sign: 'nsec3', algorithm: 'RSASHA256', secondZsk: 'prepublish' },
  { zone: 'ed.lab.', sign: 'ldns-nsec', algorithm: 'ED25519', secondZsk: 'double' },
];
const optOut = (t: Tested): boolean => t.sign.endsWith('optout');

const zones: ChainZone[] = [
  ...tested.map((t) => ({ name: t.zone, text: zoneText(), sign: t.sign, salt: t.salt, iterations: t.iterations, algorithm: t.algorithm, secondZsk: t.secondZsk })),
  // The A record of www changed after signing: its RRSIG no longer matches (the signature is broken).
  { name: 'broken.lab.', text: zoneText(), sign: 'nsec', tamper: (s: string) => s.replace(/198\.51\.100\.10\b/, '198.51.100.99') },
];
const tldServes: ChainZone[] = tested.flatMap((t) => [
  { name: `signed.${t.zone}`, text: child(`signed.${t.zone}`), sign: 'nsec' as const },
  { name: `unsigned.${t.zone}`, text: child(`unsigned.${t.zone}`), sign: 'none' as const },
]);

interface Expect {
  name: string;
  type: string;
  rcode: string;
  /** AD expected (secure); false: an insecure answer (below an unsigned delegation). */
  ad: boolean;
  /** A "TYPE data" that must be in the answer. */
  has?: string;
}

/**
 * What each resolver must say. In an opt-out zone (RFC 5155 §6) every NSEC3 carries the opt-out flag, so
 * a proof that rests on a covering NSEC3 (NXDOMAIN, a wildcard, a delegation without DS) proves only
 * that the name may be insecure: the validator answers without AD (§9.2, unbound's "nc has optout"), as
 * it does for NSD and Knot serving the same zone. Everything proven by a matching NSEC3 or a signature is AD.
 */
function queries(t: Tested): Expect[] {
  const z = t.zone;
  const covered = !optOut(t);
  return [
    { name: `www.${z}`, type: 'A', rcode: 'NOERROR', ad: true, has: 'A 198.51.100.10' },
    { name: `chain.${z}`, type: 'A', rcode: 'NOERROR', ad: true, has: 'A 198.51.100.10' },
    { name: `anything.wild.${z}`, type: 'TXT', rcode: 'NOERROR', ad: covered, has: 'TXT "from the wildcard"' },
    { name: `a.b.wild.${z}`, type: 'TXT', rcode: 'NOERROR', ad: covered, has: 'TXT "from the wildcard"' },
    { name: `nothing.${z}`, type: 'A', rcode: 'NXDOMAIN', ad: covered },
    { name: `www.${z}`, type: 'TXT', rcode: 'NOERROR', ad: true },
    { name: `ent.${z}`, type: 'A', rcode: 'NOERROR', ad: true },
    { name: `x.wild.${z}`, type: 'A', rcode: 'NOERROR', ad: covered },
    { name: `www.signed.${z}`, type: 'A', rcode: 'NOERROR', ad: true, has: 'A 198.51.100.50' },
    // The unsigned child: its absence of DS validates (AD), its data is insecure (no AD) but served.
    // ldns-signzone -p sets the opt-out flag yet still hashes the unsigned delegation: a matching NSEC3 proves no DS.
    { name: `unsigned.${z}`, type: 'DS', rcode: 'NOERROR', ad: covered || t.sign === 'ldns-nsec3-optout' },
    { name: `www.unsigned.${z}`, type: 'A', rcode: 'NOERROR', ad: false, has: 'A 198.51.100.50' },
  ];
}

const kinds: ValidatorKind[] = ['unbound', 'kresd', 'named'];

describe('pre-signed zones validate through real resolvers behind a signed fake root', () => {
  let chain: DnssecChain;
  const resolvers = new Map<ValidatorKind, ValidatingResolver>();
  before(async () => {
    chain = await startDnssecChain({ zones, tldServes });
    for (const k of kinds) resolvers.set(k, await chain.resolver(k));
  });

  it('the rollover zones hold two ZSKs: one signs (prepublished) or both do (double signature)', async () => {
    const { execFileSync } = await import('node:child_process');
    for (const [zone, algorithm, signing] of [['rsa.lab.', 8, 1], ['ed.lab.', 15, 2]] as const) {
      // One record a line (dnssec-signzone spreads an RRSIG over several).
      const text = execFileSync('ldns-read-zone', [chain.zones.get(zone)!.file], { encoding: 'utf8' });
      const zsks = text.split('\n').filter((l) => new RegExp(`\\sDNSKEY\\s+256\\s+3\\s+${algorithm}\\s`).test(l));
      assert.equal(zsks.length, 2, `${zone}: ZSKs\n${zsks.join('\n')}`);
      const soaSigners = new Set(text.split('\n').filter((l) => /\sRRSIG\s+SOA\s/.test(l)).map((l) => l.trim().split(/\s+/)[10]));
      // The SOA is signed by the ZSKs that sign (and not by the KSK): one key tag or two.
      assert.equal(soaSigners.size, signing, `${zone}: SOA signed by ${[...soaSigners].join(', ')}`);
    }
  });
  after(async () => {
    await chain?.stop();
    await stopAll();
  });

  for (const k of kinds) {
    for (const t of tested) {
      it(`${k}: ${t.zone} (${t.sign})`, async () => {
        const r = resolvers.get(k)!;
        const problems: string[] = [];
        for (const q of queries(t)) {
          const res = await r.query(q.name, q.type);
          const where = `${q.name} ${q.type}`;
          if (res.rcode !== q.rcode) problems.push(`${where}: rcode ${res.rcode}, expected ${q.rcode}`);
          if (res.flags.has('ad') !== q.ad) problems.push(`${where}: AD ${res.flags.has('ad')}, expected ${q.ad}`);
          if (q.has && !res.answer.some((a) => `${a.type} ${a.data}` === q.has)) problems.push(`${where}: answer lacks ${q.has}\n${res.raw}`);
        }
        assert.deepEqual(problems, []);
      });
    }
    it(`${k}: a broken signature gives SERVFAIL`, async () => {
      const r = resolvers.get(k)!;
      const bad = await r.query('www.broken.lab.', 'A');
      assert.equal(bad.rcode, 'SERVFAIL', bad.raw);
      // The rest of the same zone still validates: the failure is that one signature.
      const good = await r.query('www.broken.lab.', 'AAAA');
      assert.equal(good.rcode, 'NOERROR', good.raw);
      assert.ok(good.flags.has('ad'), good.raw);
    });
  }

  it('delv: fully validated for the same set, and not for the broken signature', async () => {
    const port = resolvers.get('unbound')!.port;
    const problems: string[] = [];
    for (const t of tested) {
      for (const q of queries(t)) {
        if (!q.ad) continue;
        const d = await chain.delv(port, q.name, q.type);
        if (!d.fullyValidated) problems.push(`${q.name} ${q.type}: ${d.text}`);
      }
    }
    assert.deepEqual(problems, []);
    const bad = await chain.delv(port, 'www.broken.lab.', 'A');
    assert.equal(bad.fullyValidated, false, bad.text);
  });
});
