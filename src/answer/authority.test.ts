// The table of authorities through the real load phase and engine: which kind of zone answers a name
// (file, echo, policy-owned, service), the DS rule across kinds (RFC 4035 §3.1.4.1), and the chain
// holding only configured modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { decodeMessage, encodeMessage, queryMessage } from '../wire/message.js';
import { Rcode, RRType, type ARdata, type Message } from '../wire/types.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { Capabilities } from '../capability/core.js';
import type { TransportInfo } from './context.js';
import { Engine } from './engine.js';
import { ModuleSet } from './units.js';
import { AuthorityTable, type Authority } from './authority.js';

const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };
const zone = (origin: string, text: string) => Zone.build(origin, parseZone(text, { origin }).records);
const soa = (serial: number, neg: number) => `$TTL 60\n@ SOA ns hm ${serial} 1 1 1 ${neg}\n NS ns\nns A 198.51.100.${serial}\n`;

/** A server built as `serve` builds it: the configuration, its zones, the modules' load phase. */
function serve(yaml: string, zones: Zone[], env: ConstructorParameters<typeof ModuleSet>[0] = {}) {
  const loaded = parseConfigText(`rrl: off\n${yaml}`, 'a.yaml');
  const set = new ZoneSet(zones);
  const modules = new ModuleSet(env);
  const { authorities, chain } = modules.load(loaded, set);
  const engine = new Engine({ config: loaded.config, zones: set, generation: 1, authorities, chain });
  let id = 1;
  const ask = async (name: string, type: number): Promise<Message> => decodeMessage((await engine.handle(encodeMessage(queryMessage(name, type, { id: id++ })), udp)) as Uint8Array);
  return { ask, authorities, chain };
}

const names = (rrs: readonly { name: string; type: number }[]) => rrs.map((r) => [r.name.toLowerCase(), r.type]);

test('a file zone under an echo zone answers its names; the echo zone answers the rest and the DS of the file zone', async () => {
  const s = serve('echo:\n  - { zone: e.lab }\n', [zone('sub.e.lab.', soa(7, 70) + 'www A 198.51.100.77\n')]);
  assert.equal(s.authorities.resolve('www.sub.e.lab.', RRType.A)?.kind, 'file');
  assert.equal(s.authorities.resolve('x.e.lab.', RRType.A)?.kind, 'echo');
  assert.equal(s.authorities.resolve('sub.e.lab.', RRType.DS)?.kind, 'echo', 'DS is the parent side');
  const www = await s.ask('www.sub.e.lab.', RRType.A);
  assert.equal(www.flags.aa, true);
  assert.deepEqual(www.answers.map((r) => (r.data as ARdata).address), ['198.51.100.77']);
  const apex = await s.ask('sub.e.lab.', RRType.SOA);
  assert.deepEqual(names(apex.answers), [['sub.e.lab.', RRType.SOA]], 'the file zone answers its apex');
  const ds = await s.ask('sub.e.lab.', RRType.DS);
  assert.equal(ds.flags.rcode, Rcode.NOERROR);
  assert.equal(ds.answers.length, 0);
  assert.deepEqual(names(ds.authorities), [['e.lab.', RRType.SOA]], 'NODATA from the echo zone, the parent');
});

test('a file zone under an echo zone under a file zone: each DS is answered by the zone just above the cut', async () => {
  // The gap the previous engine left (issue 10's closing note): DS of the inner file zone went to the
  // outer file zone or the echo search; the table resolves both cuts by the deepest parent.
  const s = serve('echo:\n  - { zone: e.lab }\n', [zone('lab.', soa(1, 30)), zone('f.e.lab.', soa(9, 90))]);
  const inner = await s.ask('f.e.lab.', RRType.DS);
  assert.deepEqual(names(inner.authorities), [['e.lab.', RRType.SOA]], 'DS f.e.lab: the echo zone');
  const outer = await s.ask('e.lab.', RRType.DS);
  assert.equal(outer.flags.aa, true);
  assert.deepEqual(names(outer.authorities), [['lab.', RRType.SOA]], 'DS e.lab: the file zone lab.');
  assert.equal(outer.authorities[0]!.ttl, 30);
  const child = await s.ask('f.e.lab.', RRType.SOA);
  assert.deepEqual(names(child.answers), [['f.e.lab.', RRType.SOA]]);
});

test('a service name inside a file zone is the service’s: a lease, not the zone’s record; its siblings stay the zone’s', async () => {
  const yaml = `pools: [{ name: p, prefixes: [198.18.0.0/29] }]
services:
  - { name: svc.t.lab, target: 10.0.0.1, ports: [tcp/80], pool: p }
`;
  const s = serve(yaml, [zone('t.lab.', soa(3, 30) + 'svc A 198.51.100.99\nwww A 198.51.100.80\n')], { capabilities: new Capabilities() });
  assert.equal(s.authorities.resolve('svc.t.lab.', RRType.A)?.kind, 'service');
  assert.equal(s.authorities.resolve('www.t.lab.', RRType.A)?.kind, 'file');
  const svc = await s.ask('svc.t.lab.', RRType.A);
  assert.equal(svc.flags.rcode, Rcode.NOERROR);
  assert.match((svc.answers[0]!.data as ARdata).address, /^198\.18\.0\.[1-6]$/, 'an address from the pool');
  const www = await s.ask('www.t.lab.', RRType.A);
  assert.deepEqual(www.answers.map((r) => (r.data as ARdata).address), ['198.51.100.80']);
});

test('a policy-owned zone beside a file zone: each answers its own names, NODATA with its own SOA', async () => {
  const yaml = 'policies:\n  - { match: { qname: "pool.pz.lab" }, action: { rcode: NXDOMAIN }, zone: pz.lab }\n';
  const s = serve(yaml, [zone('t.lab.', soa(4, 40) + 'www A 198.51.100.80\n')]);
  assert.equal(s.authorities.resolve('x.pz.lab.', RRType.A)?.kind, 'policy');
  const www = await s.ask('www.t.lab.', RRType.A);
  assert.deepEqual(www.answers.map((r) => (r.data as ARdata).address), ['198.51.100.80']);
  const other = await s.ask('x.pz.lab.', RRType.A);
  assert.equal(other.flags.rcode, Rcode.NOERROR);
  assert.deepEqual(names(other.authorities), [['pz.lab.', RRType.SOA]]);
  const missing = await s.ask('nope.t.lab.', RRType.A);
  assert.equal(missing.flags.rcode, Rcode.NXDOMAIN);
  assert.deepEqual(names(missing.authorities), [['t.lab.', RRType.SOA]]);
  assert.equal((await s.ask('www.elsewhere.lab.', RRType.A)).flags.rcode, Rcode.REFUSED, 'no authority: REFUSED');
});

test('DS at a cut with both sides served: the parent answers DS, the child every other type', async () => {
  const s = serve('', [zone('p.lab.', soa(1, 30) + 'c NS ns.c\nns.c A 198.51.100.53\nc DS 12345 13 2 0A0B0C0D0E0F\n'), zone('c.p.lab.', soa(2, 50))]);
  assert.equal(s.authorities.resolve('c.p.lab.', RRType.DS)?.name, 'p.lab.');
  assert.equal(s.authorities.resolve('c.p.lab.', RRType.NS)?.name, 'c.p.lab.');
  const ds = await s.ask('c.p.lab.', RRType.DS);
  assert.equal(ds.flags.aa, true);
  assert.deepEqual(names(ds.answers), [['c.p.lab.', RRType.DS]]);
  const ns = await s.ask('c.p.lab.', RRType.NS);
  assert.equal(ns.flags.aa, true, 'the child answers NS with authority');
  assert.deepEqual(names(ns.answers), [['c.p.lab.', RRType.NS]]);
});

test('a module that is not configured is not in the chain', () => {
  const unitNames = (yaml: string, zones: Zone[] = []) => serve(yaml, zones).chain.units.map((u) => u.name);
  const bare = unitNames('');
  for (const absent of ['echo', 'policies', 'policy-zone', 'capability', 'cookies', 'cookies-out', 'ttl-jitter', 'rrl', 'secondary-servfail', 'exceptions-txt']) {
    assert.ok(!bare.includes(absent), `${absent} is not configured`);
  }
  for (const always of ['tsig', 'header', 'answer-cache', 'zone', 'edns', 'tsig-out', 'answer-cache-store']) assert.ok(bare.includes(always), `${always} is always in the chain`);
  const full = unitNames('cookies: { mode: answer }\necho:\n  - { zone: e.lab }\npolicies:\n  - { match: { qname: x.t.lab }, action: { rcode: NXDOMAIN } }\n', [zone('t.lab.', soa(1, 30))]);
  for (const present of ['echo', 'zone', 'cookies', 'cookies-out', 'policies']) assert.ok(full.includes(present), `${present} is configured`);
  assert.ok(!full.includes('rrl') && !full.includes('capability'));
  // With a secondary zone (not transferred yet: no data), its SERVFAIL responder is in the chain and answers.
  const secondary = serve('zones:\n  - { name: s.lab., file: s.lab.zone, primaries: ["127.0.0.1:53"] }\n', [zone('t.lab.', soa(1, 30))]);
  assert.ok(secondary.chain.units.some((u) => u.name === 'secondary-servfail'));
});

test('a secondary zone not transferred yet is SERVFAIL, not REFUSED (its module is configured)', async () => {
  const s = serve('zones:\n  - { name: s.lab., file: s.lab.zone, primaries: ["127.0.0.1:53"] }\n', [zone('t.lab.', soa(1, 30))]);
  assert.equal((await s.ask('www.s.lab.', RRType.A)).flags.rcode, Rcode.SERVFAIL);
  assert.equal((await s.ask('www.t.lab.', RRType.A)).flags.rcode, Rcode.NXDOMAIN);
  assert.equal((await s.ask('www.other.lab.', RRType.A)).flags.rcode, Rcode.REFUSED);
});

test('deepest: the suffix comparison of a small table agrees with the walk up a large one (root, nested apexes, escapes, case)', () => {
  const apexes = ['.', 'lab.', 'b.lab.', 'a.b.lab.', 'ab.lab.', 'x\\.y.lab.', 'other.'];
  const file = (name: string): Authority => ({ kind: 'policy', name, zone: undefined as unknown as Zone });
  // Padding zones make the second table large enough to walk up through its Map instead.
  const small = new AuthorityTable(apexes.map(file));
  const large = new AuthorityTable([...apexes, ...Array.from({ length: 20 }, (_, i) => `pad${i}.invalid.`)].map(file));
  const queries = ['.', 'lab.', 'x.lab.', 'b.lab.', 'xb.lab.', 'a.b.lab.', 'ca.b.lab.', 'b.a.b.lab.', 'ab.lab.', 'b.ab.lab.', 'y.lab.', 'x\\.y.lab.',
    'q.x\\.y.lab.', 'y\\.lab.', 'other.', 'z.other.', 'com.', 'B.LAB.', 'labx.'];
  for (const q of queries) {
    const key = q.toLowerCase();
    assert.equal(small.deepest(key)?.name, large.deepest(key)?.name, q);
  }
  assert.equal(small.deepest('ca.b.lab.')?.name, 'b.lab.');
  assert.equal(small.deepest('xb.lab.')?.name, 'lab.');
  assert.equal(small.deepest('com.')?.name, '.');
});
