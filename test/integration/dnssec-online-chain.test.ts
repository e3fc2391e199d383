// Online signing validated as in the wild: behind a signed fake root (root → lab. → zone, DS in each parent), unbound,
// kresd and named set AD on online-signed static, wildcard, capability, policy-pool and echo answers and on a
// compact-denial NXDOMAIN, delv says "fully validated", and a zone signed with a key its DS does not name gives SERVFAIL.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { generateKey, writeKeyFiles } from '../../src/dnssec/keys.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDnssecChain, startNsdAt, type ValidatingResolver, type ValidatorKind } from '../helpers/dnssec-chain.js';
import { freePort } from '../helpers/ports.js';
import { freeLoopback } from '../helpers/resolvers.js';
import type { DigResult } from '../helpers/dig.js';

const soaNs = (name: string): string => ['$TTL 300', `@ SOA ns1.${name} hostmaster.${name} 1 3600 600 86400 60`, `@ NS ns1.${name}`, `ns1.${name} A 198.51.100.1`].join('\n');

test('online-signed answers validate behind a signed fake root in unbound, kresd and named, and delv', { timeout: 900_000 }, async () => {
  const backend = net.createServer((s) => s.end('hello\n'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  after(() => backend.close());
  const svcPort = await freePort();
  let wrongKey = '';
  // The harness signs every zone with dnssec-keygen keys and puts their DS into lab.; fluxdns gets the unsigned
  // text and the same keys, and signs online. wrong.lab is signed online with a key its DS does not name.
  const chain = await startDnssecChain({
    zones: [
      { name: 'online.lab.', text: [soaNs('online.lab.'), 'www A 198.51.100.7', 'alias CNAME www', '*.wild TXT "wild"'].join('\n'), sign: 'nsec' },
      { name: 'echoes.lab.', text: soaNs('echoes.lab.'), sign: 'nsec' },
      { name: 'cdn.lab.', text: soaNs('cdn.lab.'), sign: 'nsec' },
      { name: 'wrong.lab.', text: [soaNs('wrong.lab.'), 'www A 198.51.100.8'].join('\n'), sign: 'nsec' },
    ],
    fluxdnsConfig: (listen, zones) => {
      const z = (name: string) => zones.find((x) => x.name === name)!;
      const unsigned = (name: string) => z(name).file.replace(/\.signed$/, '');
      const keys = (name: string) => `{ sign: online, keys: [${z(name).keys.map((k) => JSON.stringify(k)).join(', ')}] }`;
      wrongKey = writeKeyFiles(z('wrong.lab.').file.replace(/\/[^/]*$/, ''), generateKey('wrong.lab', 13, true)).privateFile;
      return `listen: [{ proto: udp, address: "${listen}:53" }, { proto: tcp, address: "${listen}:53" }]
rrl: off
zones:
  - { name: online.lab., file: ${JSON.stringify(unsigned('online.lab.'))}, ttlJitter: { min: 30 }, dnssec: ${keys('online.lab.')} }
  - { name: wrong.lab., file: ${JSON.stringify(unsigned('wrong.lab.'))}, dnssec: { sign: online, keys: [${JSON.stringify(wrongKey)}] } }
echo:
  - { zone: echoes.lab., nsAddress: ${listen}, dnssec: ${keys('echoes.lab.')} }
gateway:
  listeners: [{ prefixes: [127.84.0.0/24], ports: [tcp/${svcPort}] }]
pools:
  - { name: caps, prefixes: [127.84.0.0/24] }
  - { name: cdn, prefixes: [198.18.0.0/24] }
policies:
  - { match: { qname: "*.cdn.lab", qtype: [A] }, action: { pool: cdn, ttl: 30 }, zone: { name: cdn.lab., dnssec: ${keys('cdn.lab.')} } }
services:
  - { name: app.online.lab, target: "127.0.0.1:${(backend.address() as net.AddressInfo).port}", ports: [tcp/${svcPort}], pool: caps, ttl: 20 }
`;
    },
  });
  after(() => chain.stop());
  assert.ok(wrongKey !== '');

  // NR (seed 003 §2.8.3) stores a delegation: DATA.nr.ALIAS.@ is answered by a referral of ALIAS.@ to a name
  // server at DATA. The child is unsigned, so the signed echo zone must prove that it has no DS (an NSEC at the cut
  // with only NS, RRSIG, NSEC); without that proof a validator refuses the referral as bogus (SERVFAIL).
  const nrAddress = await freeLoopback();
  const nrDir = mkdtempSync(join(tmpdir(), 'fluxdns-nr-child-'));
  after(() => rmSync(nrDir, { recursive: true, force: true }));
  const nrZone = 'nrbox.echoes.lab.';
  writeFileSync(join(nrDir, 'nrbox.zone'), [`$ORIGIN ${nrZone}`, '$TTL 300', `@ SOA nr hostmaster 1 3600 600 86400 60`, '@ NS nr', `nr A ${nrAddress}`, `*.nr A ${nrAddress}`, 'stored TXT "nr-data"', ''].join('\n'));
  const nrChild = await startNsdAt(nrAddress, [{ name: nrZone, file: join(nrDir, 'nrbox.zone') }]);
  after(() => nrChild.stop());

  const cases: { name: string; type: string; what: string; check: (r: DigResult) => boolean }[] = [
    { name: 'www.online.lab', type: 'A', what: 'static (TTL jittered, then signed)', check: (r) => r.answer.some((a) => a.type === 'A' && a.data === '198.51.100.7') },
    { name: 'alias.online.lab', type: 'A', what: 'CNAME chain', check: (r) => r.answer.some((a) => a.type === 'CNAME') && r.answer.some((a) => a.type === 'A') },
    { name: 'x.wild.online.lab', type: 'TXT', what: 'wildcard', check: (r) => r.answer.some((a) => a.type === 'TXT') },
    { name: 'app.online.lab', type: 'A', what: 'capability lease', check: (r) => r.answer.some((a) => a.type === 'A' && a.data.startsWith('127.84.0.')) },
    { name: 'img.cdn.lab', type: 'A', what: 'policy pool answer', check: (r) => r.answer.some((a) => a.type === 'A' && a.data.startsWith('198.18.0.')) },
    { name: '198.51.100.9.da.box.echoes.lab', type: 'A', what: 'echo DA store', check: (r) => r.answer.some((a) => a.type === 'DNAME') },
    { name: '198.51.100.11.00.echoes.lab', type: 'A', what: 'the 00 echo domain', check: (r) => r.answer.some((a) => a.type === 'A' && a.data === '198.51.100.11') },
    { name: 'nope.online.lab', type: 'A', what: 'compact-denial NXDOMAIN', check: (r) => r.answer.length === 0 },
    { name: 'www.online.lab', type: 'TXT', what: 'NODATA', check: (r) => r.answer.length === 0 },
  ];
  for (const kind of ['unbound', 'kresd', 'named'] as ValidatorKind[]) {
    const v = await chain.resolver(kind);
    for (const c of cases) {
      const r = await v.query(c.name, c.type);
      assert.equal(r.rcode, 'NOERROR', `${kind}: ${c.what}\n${r.raw}`);
      assert.ok(r.flags.has('ad'), `${kind}: ${c.what} has AD\n${r.raw}`);
      assert.ok(c.check(r), `${kind}: ${c.what}\n${r.raw}`);
    }
    // DU: a signed DNAME out of the zone, to the .xy. names (seed 003 §2.7.3); the signed root proves xy. absent.
    const du = await v.query('some-data.du.boz.echoes.lab', 'A');
    assert.ok(du.answer.some((a) => a.type === 'DNAME' && a.data === '00.some-data.xy.'), `${kind}: DU\n${du.raw}`);
    assert.ok(du.flags.has('ad'), `${kind}: DU has AD\n${du.raw}`);
    // Before NR programs it, the alias is a name the echo zone denies (signed, AD); after, the resolver follows the
    // stored delegation to the unsigned child: its data, provably insecure, so without AD — and not SERVFAIL.
    // NR through kresd, and through unbound with qname minimisation off. Not through named or a minimising unbound
    // (README "NR through validators"): they ask the parent for the cut's DS, or the alias itself, first, and the
    // stateless zone proves "no cut here" — it cannot know an NR delegation exists, and the same answer is what
    // keeps DA/DX/DU validating through resolvers that look for cuts label by label.
    if (kind === 'kresd') await checkNr(v, nrAddress, nrZone);
    if (kind === 'unbound') {
      const full = await chain.resolver('unbound', { qnameMinimisation: false });
      await checkNr(full, nrAddress, nrZone);
      await full.stop();
    }
    const bad = await v.query('www.wrong.lab', 'A');
    assert.equal(bad.rcode, 'SERVFAIL', `${kind}: a key its DS does not name\n${bad.raw}`);
    if (kind === 'unbound') {
      for (const c of cases) {
        const d = await chain.delv(v.port, c.name, c.type);
        assert.ok(d.fullyValidated, `delv ${c.name} ${c.type}\n${d.text}`);
      }
      assert.ok(!(await chain.delv(v.port, 'www.wrong.lab', 'A')).fullyValidated);
    }
    await v.stop();
  }
});

/** NR through validator `v`: the programming query follows the signed referral, data comes from the unsigned child (no AD, not SERVFAIL). */
async function checkNr(v: ValidatingResolver, nrAddress: string, nrZone: string): Promise<void> {
  const kind = v.kind;
  const programmed = await v.query(`${nrAddress}.nr.${nrZone}`, 'A');
  assert.equal(programmed.rcode, 'NOERROR', `${kind}: NR programming query follows the signed referral\n${programmed.raw}`);
  assert.ok(programmed.answer.some((a) => a.type === 'A' && a.data === nrAddress), `${kind}: NR\n${programmed.raw}`);
  assert.ok(!programmed.flags.has('ad'), `${kind}: the child is unsigned\n${programmed.raw}`);
  const stored = await v.query(`stored.${nrZone}`, 'TXT');
  assert.equal(stored.rcode, 'NOERROR', `${kind}: NR retrieval\n${stored.raw}`);
  assert.ok(stored.answer.some((a) => a.type === 'TXT' && a.data === '"nr-data"') && !stored.flags.has('ad'), `${kind}: NR retrieval from the insecure child\n${stored.raw}`);
}
