// Encloser replay in real fluxdns processes (answer/replay.ts, native/udp_batch.c): a server with the UDP
// addon answers names that do not exist from templates it learnt from earlier replies for other names below
// the same closest encloser — and every reply must be byte for byte what fluxdns answers without the addon
// (udp.batching: off, the node:dgram path, every query through the engine). Names chosen to break it:
// empty non-terminals, a wildcard with siblings, names under a cut / DNAME / CNAME node, next-closer labels
// equal to a label of the SOA's MNAME/RNAME or of a CNAME target (compression guards), labels sorting before
// "*", mixed case, deep names, names near 255 bytes, no EDNS / EDNS 512 / 1232 / DO, A/AAAA/TXT/MX/ANY; a
// signed NSEC zone with DO. Then an UPDATE adds a name below an encloser: the next answer has it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addRecordsUpdate } from '../../src/client/update.js';
import { encodeMessage, queryMessage } from '../../src/wire/message.js';
import { RRClass, RRType } from '../../src/wire/types.js';
import { stopAll } from '../helpers/proc.js';
import { metricValue, serveZones, shapedCount } from '../helpers/encloser-replay.js';
import { freePort } from '../helpers/ports.js';
import { rcodeOf, udpExchange } from '../helpers/udp.js';
import { signZone } from '../helpers/dnssec-chain.js';

after(() => stopAll());

const ZONE = `$TTL 300
@ SOA primary.er.lab. hostmaster.er.lab. 1 3600 600 86400 60
  NS ns
ns A 198.51.100.1
www A 203.0.113.5
host A 203.0.113.1
mail MX 10 www
*.wild A 203.0.113.9
*.wild MX 10 www
*.wild TXT "wild text"
*.wc CNAME www
*.ext CNAME target.elsewhere.example.
a.b.ent A 203.0.113.2
*.mix A 203.0.113.3
sib.mix A 203.0.113.4
x.ent2.mix A 203.0.113.6
sub NS ns.sub
ns.sub A 198.51.100.2
dn DNAME host.er.lab.
cn CNAME www
${Array.from({ length: 40 }, (_, i) => `h${i} A 203.0.113.${100 + i}`).join('\n')}
`;

// Signed with DO: *.w is the one child of w (bit 30: names after "*"), leaf has no descendants (its own NSEC).
const SIGNED = `$TTL 300
@ SOA ns.sg.lab. hostmaster.sg.lab. 1 3600 600 86400 60
  NS ns
ns A 198.51.100.1
leaf A 203.0.113.1
w A 203.0.113.3
*.w A 203.0.113.9
*.w TXT "signed wild"
other A 203.0.113.4
`;

/** Labels the template's compression guards and the canonical order around "*" care about, and plain ones. */
const LABELS = ['a', 'zz', 'primary', 'hostmaster', 'www', 'ns', 'target', 'elsewhere', 'host', 'er', 'lab', '!', '#x', '(', '*x', '+', 'Mixed-Case', 'h1', 'sib', 'ent2', 'x'];

function namesBelow(encloser: string): string[] {
  const out: string[] = [];
  for (const l of LABELS) out.push(`${l}.${encloser}`);
  out.push(`a.b.c.${encloser}`, `DEEP.er.${encloser}`, `www.x.${encloser}`);
  // Near 255 bytes: labels of 60 until the name is as long as it may be.
  let long = encloser;
  while (long.length + 61 < 250) long = `${'q'.repeat(60)}.${long}`;
  out.push(long, `${'r'.repeat(250 - long.length - 1)}.${long}`.replace(/^\./, ''));
  return out;
}

const ENCLOSERS = ['er.lab.', 'host.er.lab.', 'wild.er.lab.', 'wc.er.lab.', 'ext.er.lab.', 'ent.er.lab.', 'b.ent.er.lab.', 'mix.er.lab.', 'ent2.mix.er.lab.', 'sub.er.lab.', 'dn.er.lab.', 'cn.er.lab.', 'h7.er.lab.'];
const TYPES = [RRType.A, RRType.AAAA, RRType.TXT, RRType.MX, RRType.ANY];
type Edns = undefined | 512 | 1232 | 'do';
const EDNS: Edns[] = [undefined, 512, 1232, 'do'];

function query(name: string, type: number, edns: Edns, id: number): Uint8Array {
  const o = edns === undefined ? {} : edns === 'do' ? { edns: 1232, dnssecOk: true } : { edns };
  return new Uint8Array(encodeMessage(queryMessage(name, type, { id, rd: (id & 1) === 0, ...o })));
}

/**
 * Asks every name, type and EDNS of both servers in turn (IDs from 1) and asserts the replies byte-identical;
 * returns how many were compared.
 */
async function compareReplies(addonPort: number, referencePort: number, ednses: Edns[], types: number[], names: string[]): Promise<number> {
  let id = 1;
  let compared = 0;
  const mismatches: string[] = [];
  for (const edns of ednses) {
    for (const type of types) {
      for (const name of names) {
        const q = query(name, type, edns, id++);
        const [a, b] = await Promise.all([udpExchange(q, addonPort), udpExchange(q, referencePort)]);
        assert.ok(a && b, `${name}: replies from both`);
        compared++;
        if (!a.equals(b)) mismatches.push(`${name} type ${type} edns ${edns}`);
      }
    }
  }
  assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} of ${compared} replies differ`);
  return compared;
}

/** The zones accept UPDATE from loopback (the test adds a name below an encloser). */
const serve = (dir: string, name: string, zones: { name: string; file: string }[], batching: boolean, top = 'rrl: off') =>
  serveZones(dir, name, zones, batching, top, ', allowUpdate: ["127.0.0.0/8"]');

test('encloser replay: every reply byte-identical to fluxdns without the addon, templates used, an UPDATE below an encloser seen at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-encloser-'));
  const zoneFile = join(dir, 'er.lab.zone');
  writeFileSync(zoneFile, ZONE);
  const signed = signZone(dir, 'sg.lab.', SIGNED, 'nsec');
  const zones = [{ name: 'er.lab.', file: zoneFile }, { name: 'sg.lab.', file: signed.file }];
  const [withAddon, reference] = await Promise.all([serve(dir, 'addon', zones, true), serve(dir, 'reference', zones, false)]);

  const names = [...ENCLOSERS.flatMap(namesBelow), ...['leaf.sg.lab.', 'w.sg.lab.', 'sg.lab.', 'other.sg.lab.'].flatMap(namesBelow)];
  let id = 1;
  let compared = 0;
  const mismatches: string[] = [];
  const compare = async (name: string, type: number, edns: Edns) => {
    const q = query(name, type, edns, id++ & 0xffff);
    const [a, b] = await Promise.all([udpExchange(q, withAddon.port), udpExchange(q, reference.port)]);
    assert.ok(a && b, `${name} ${type} ${edns}: replies from both`);
    compared++;
    if (!a.equals(b)) mismatches.push(`${name} type ${type} edns ${edns}: ${a.toString('hex')} != ${b.toString('hex')}`);
  };
  // Twice over: the first round teaches the templates (and the answer cache), the second is answered from them.
  for (let round = 0; round < 2; round++) {
    for (const edns of EDNS) for (const type of TYPES) for (const name of names) await compare(name, type, edns);
  }
  assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} of ${compared} replies differ`);
  const made = await shapedCount(withAddon.socket);
  assert.ok(made > compared / 8, `replies made from templates: ${made} of ${compared}`);
  console.log(`encloser replay: ${made} of ${compared} replies from templates`);
  assert.equal(await shapedCount(reference.socket), 0, 'the reference has no addon');
  // Exported beside it; far below the template cap, the templates were never emptied on their own.
  assert.equal(await metricValue(withAddon.socket, 'fluxdns_answer_cache_template_reopens_total'), 0);
  // The templates held now: some (they made the replies above), none in the server without the addon.
  const held = (await metricValue(withAddon.socket, 'fluxdns_answer_cache_templates')) ?? -1;
  assert.ok(held > 0 && held <= 32768, `templates held: ${held}`);
  assert.equal(await metricValue(reference.socket, 'fluxdns_answer_cache_templates'), 0);

  // An UPDATE adds a name below host.er.lab (an encloser whose NXDOMAIN template is learnt): answered at once.
  for (const s of [withAddon, reference]) {
    const update = addRecordsUpdate(id++, 'er.lab.', [{ name: 'new.host.er.lab.', type: RRType.A, class: RRClass.IN, ttl: 300, data: { address: '203.0.113.77' } }]);
    assert.equal(rcodeOf(await udpExchange(encodeMessage(update), s.port)), 0, 'UPDATE applied');
  }
  const q = query('new.host.er.lab.', RRType.A, undefined, 4242);
  const a = await udpExchange(q, withAddon.port);
  assert.equal(rcodeOf(a), 0, 'NOERROR, not the NXDOMAIN template');
  assert.deepEqual([...a!.subarray(a!.length - 4)], [203, 0, 113, 77]);
  // And after it, the same comparison for names around it (the templates start again from the new zone).
  for (const name of ['new.host.er.lab.', 'x.new.host.er.lab.', 'other.host.er.lab.', 'zz.host.er.lab.', 'NEW.host.er.lab.']) for (const edns of EDNS) await compare(name, RRType.A, edns);
  assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} replies differ after the UPDATE`);
});

test('encloser replay under rrl (on, as by default, at a rate the test stays under): templates pass the bucket check in C, replies byte-identical', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-encloser-rrl-'));
  const zoneFile = join(dir, 'er.lab.zone');
  writeFileSync(zoneFile, ZONE);
  const zones = [{ name: 'er.lab.', file: zoneFile }];
  const rrl = 'rrl: { responsesPerSecond: 1000000 }';
  const [withAddon, reference] = await Promise.all([serve(dir, 'addon', zones, true, rrl), serve(dir, 'reference', zones, false, rrl)]);
  const names = ['er.lab.', 'host.er.lab.', 'wild.er.lab.', 'wc.er.lab.', 'mix.er.lab.'].flatMap(namesBelow);
  const compared = await compareReplies(withAddon.port, reference.port, [undefined, 'do'], [RRType.A, RRType.TXT], names);
  const made = await shapedCount(withAddon.socket);
  assert.ok(made > compared / 2, `replies made from templates under rrl: ${made} of ${compared}`);
  console.log(`encloser replay under rrl: ${made} of ${compared} replies from templates`);
});

test('encloser replay with metrics on: templates answer names of any length, and the query and response-size metrics equal a server without the addon', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-encloser-metrics-'));
  const zoneFile = join(dir, 'er.lab.zone');
  writeFileSync(zoneFile, ZONE);
  const zones = [{ name: 'er.lab.', file: zoneFile }];
  const [mAddon, mReference] = [await freePort(), await freePort()];
  const metrics = (p: number) => `metrics: { listen: "127.0.0.1:${p}", path: /metrics }`;
  const [withAddon, reference] = await Promise.all([serve(dir, 'addon', zones, true, `rrl: off\n${metrics(mAddon)}`), serve(dir, 'reference', zones, false, `rrl: off\n${metrics(mReference)}`)]);
  // Names of one length below each encloser (the first teaches the template, the others may come from it),
  // names of other lengths (from it too, each counted at its own reply's length), and repeats.
  const labels = ['a1', 'b2', 'C3', 'd4', 'e5', 'f6', 'g', 'hhh', `${'q'.repeat(60)}`, 'a1', 'b2', 'a1'];
  const names = ['er.lab.', 'host.er.lab.', 'wild.er.lab.', 'wc.er.lab.', 'mix.er.lab.', 'b.ent.er.lab.', 'sub.er.lab.'].flatMap((e) => labels.map((l) => `${l}.${e}`));
  const compared = await compareReplies(withAddon.port, reference.port, [undefined, 1232, 'do'], [RRType.A, RRType.TXT, RRType.MX], names);
  const made = await shapedCount(withAddon.socket);
  // Names of every length from templates: 540 of 756 here, 378 when only names as long were (stop 26).
  assert.ok(made > compared * 0.6, `replies made from templates with metrics on: ${made} of ${compared}`);
  console.log(`encloser replay with metrics: ${made} of ${compared} replies from templates`);
  const counted = async (p: number) =>
    (await (await fetch(`http://127.0.0.1:${p}/metrics`)).text())
      .split('\n')
      .filter((l) => /^fluxdns_(queries_total|zone_queries_total|response_size_bytes)/.test(l))
      .sort();
  const [got, want] = [await counted(mAddon), await counted(mReference)];
  assert.ok(want.some((l) => l.startsWith('fluxdns_response_size_bytes_sum')), 'response sizes exported');
  assert.deepEqual(got, want);
});
