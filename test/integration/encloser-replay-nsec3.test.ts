// Encloser replay of signed NSEC3 replies in real fluxdns processes (native/nsec3.c, the NSEC3 hole): a server
// with the UDP addon answers DO queries for names that do not exist — NXDOMAIN, wildcard answers, wildcard
// NODATA — from templates whose covering NSEC3 the addon hashes, finds and fills in, and every reply must be
// byte for byte what fluxdns answers without the addon (udp.batching: off). Zones signed by dnssec-signzone
// (salt, iterations) and ldns-signzone (opt-out, with an unsigned delegation and an ENT above it only).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, queryMessage } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { serveZones, shapedCount } from '../helpers/encloser-replay.js';
import { udpExchange } from '../helpers/udp.js';
import { signZone } from '../helpers/dnssec-chain.js';

after(() => stopAll());

const TEXT = `$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
  NS ns
ns A 198.51.100.1
www A 203.0.113.5
*.wild A 203.0.113.9
*.wild TXT "wild text"
*.wc CNAME www
a.b.ent A 203.0.113.2
ins NS ns.elsewhere.example.
x.optent NS ns.elsewhere.example.
dn DNAME www.n3r.lab.
${Array.from({ length: 40 }, (_, i) => `h${i} A 203.0.113.${100 + i}`).join('\n')}
`;

const ENCLOSERS = ['', 'wild.', 'wc.', 'ent.', 'b.ent.', 'www.', 'h7.', 'ins.', 'optent.', 'dn.'];
const LABELS = ['a', 'zz', 'hostmaster', 'ns', 'Mixed-Case', '!', '*x', 'h1', 'q'.repeat(60), 'deep.er'];

/** The query and response-size metrics a server exports, sorted. */
async function counted(port: number): Promise<string[]> {
  return (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
    .split('\n')
    .filter((l) => /^fluxdns_(queries_total|zone_queries_total|response_size_bytes)/.test(l))
    .sort();
}

for (const [mode, o, metrics] of [
  ['nsec3', { salt: 'c0ffee', iterations: 3 }, false],
  ['ldns-nsec3-optout', {}, false],
  // Metrics on: the hole's block varies in length by name, so each reply made from a template is counted at
  // its own length (SHAPE_BY_LENGTH), and the counts must equal the reference's.
  ['nsec3', { salt: 'c0ffee', iterations: 3 }, true],
] as const) {
  test(`NSEC3 hole, ${mode}${metrics ? ', metrics on' : ''}: every DO reply byte-identical to fluxdns without the addon, most made in C`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxdns-encloser-n3-'));
    const signed = signZone(dir, 'n3r.lab.', TEXT, mode, o);
    const zone = { name: 'n3r.lab.', file: signed.file };
    const [mAddon, mReference] = [await freePort(), await freePort()];
    const top = (p: number) => (metrics ? `rrl: off\nmetrics: { listen: "127.0.0.1:${p}", path: /metrics }` : 'rrl: off');
    const [withAddon, reference] = await Promise.all([serveZones(dir, 'addon', [zone], true, top(mAddon)), serveZones(dir, 'reference', [zone], false, top(mReference))]);
    let id = 1;
    let compared = 0;
    const mismatches: string[] = [];
    for (let round = 0; round < 3; round++)
      for (const type of [RRType.A, RRType.TXT, RRType.MX])
        for (const e of ENCLOSERS)
          for (const l of LABELS) {
            const name = `${l}${round > 0 ? round : ''}.${e}n3r.lab.`;
            const q = new Uint8Array(encodeMessage(queryMessage(name, type, { id: id++ & 0xffff, edns: round === 2 ? 4096 : 1232, dnssecOk: true })));
            const [a, b] = await Promise.all([udpExchange(q, withAddon.port), udpExchange(q, reference.port)]);
            assert.ok(a && b, `${name} ${type}: replies from both`);
            compared++;
            if (!a.equals(b)) mismatches.push(`${name} type ${type}: ${a.toString('hex')} != ${b.toString('hex')}`);
          }
    assert.deepEqual(mismatches.slice(0, 3), [], `${mismatches.length} of ${compared} replies differ`);
    const made = await shapedCount(withAddon.socket);
    assert.ok(made > compared / 3, `replies made from templates: ${made} of ${compared}`);
    console.log(`NSEC3 hole ${mode}: ${made} of ${compared} replies from templates`);
    assert.equal(await shapedCount(reference.socket), 0, 'the reference has no addon');
    if (metrics) {
      const [got, want] = [await counted(mAddon), await counted(mReference)];
      assert.ok(want.some((l) => l.startsWith('fluxdns_response_size_bytes_sum')), 'response sizes exported');
      assert.deepEqual(got, want, 'the query metrics count every reply made in C at its own length');
    }
  });
}
