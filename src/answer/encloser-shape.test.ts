// Which replies the engine flags for the encloser replay (Engine.lastShape, answer/replay.ts): those that
// hold for any other name below the same closest encloser — NXDOMAIN, a wildcard answer or NODATA, a
// wildcard CNAME's chain through existing names — and none else: a name that exists (an empty non-terminal
// too), below a cut or a DNAME, a chain that meets a missing name or closes on itself, a signed answer with
// DO whose proof is found by the name, a policy-owned or echo zone, a positive answer under rrl (its bucket
// is the name), a query with EDNS options (with an observer counting queries: flagged to be counted by length). And which zones the addon may
// search (encloserZones).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { decodeMessage, encodeMessage, queryMessage } from '../wire/message.js';
import { RRType, type EdnsOption, type ResourceRecord } from '../wire/types.js';
import { Engine } from './engine.js';
import { ModuleSet } from './units.js';
import type { Runtime } from './runtime.js';
import type { TransportInfo } from './context.js';
import { SHAPE_AFTER_STAR, SHAPE_BY_LENGTH } from './replay.js';
import { cells } from '../observe/metrics/cells.js';
import { encloserZones } from '../transport/encloser-zones.js';

const ZONE = `$TTL 3600
@ SOA ns hm 7 1 1 1 300
 NS ns
ns A 198.51.100.1
www A 203.0.113.5
host A 203.0.113.1
*.wild A 203.0.113.9
*.wild MX 10 www
*.wc CNAME www
*.loop CNAME x.loop
*.far CNAME www.elsewhere.lab.
a.b.ent A 203.0.113.2
sub NS ns.sub
ns.sub A 198.51.100.2
dn DNAME host.t.lab.
cn CNAME www
`;

function zoneOf(origin: string, text: string): Zone {
  return Zone.build(origin, parseZone(text, { origin }).records);
}

function runtime(yaml: string, zones: Zone[] = [zoneOf('t.lab.', ZONE)]): Runtime {
  const loaded = parseConfigText(yaml, 't.yaml');
  const set = new ZoneSet(zones);
  const { authorities, chain } = new ModuleSet().load(loaded, set);
  return { config: loaded.config, zones: set, generation: 1, authorities, chain };
}

const info: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5353, localAddress: '127.0.0.1', localPort: 53 };

let id = 1;
function ask(engine: Engine, name: string, type: number = RRType.A, o: { edns?: boolean; do?: boolean; options?: EdnsOption[] } = {}): { shape: number; reply: Uint8Array } {
  const m = queryMessage(name, type, { id: id++, ...(o.edns || o.do || o.options ? { edns: 1232, dnssecOk: o.do ?? false, options: o.options } : {}) });
  const reply = engine.handle(new Uint8Array(encodeMessage(m)), info);
  assert.ok(reply instanceof Uint8Array, `${name}: a reply`);
  return { shape: engine.lastShape, reply };
}

const PLAIN = 'rrl: off\n';

/** What a lastShape says: not flagged, flagged for any name below the encloser, or only for names after "*". */
function kind(shape: number): 'no' | 'any name' | 'after *' {
  if (shape === 0) return 'no';
  return (shape & SHAPE_AFTER_STAR) !== 0 ? 'after *' : 'any name';
}

test('flagged: NXDOMAIN, wildcard answer and NODATA, a wildcard CNAME chain through existing names', () => {
  const engine = new Engine(runtime(PLAIN));
  assert.equal(engine.replay.mode, 1);
  const flagged: [string, number][] = [
    ['nx.t.lab.', RRType.A], // below the apex
    ['x.host.t.lab.', RRType.A], // below a host
    ['x.ent.t.lab.', RRType.A], // below an empty non-terminal
    ['a.b.c.host.t.lab.', RRType.AAAA], // deeper
    ['foo.wild.t.lab.', RRType.A], // wildcard answer
    ['foo.wild.t.lab.', RRType.MX], // with additional data
    ['foo.wild.t.lab.', RRType.TXT], // wildcard NODATA
    ['foo.wild.t.lab.', RRType.ANY], // minimal ANY
    ['x.y.wild.t.lab.', RRType.A], // deeper below the wildcard's parent
    ['foo.wc.t.lab.', RRType.A], // *.wc CNAME www: the chain ends at a name that exists
    ['foo.far.t.lab.', RRType.A], // a CNAME out of the zone
    ['MiXeD.wild.t.lab.', RRType.A],
  ];
  for (const [name, type] of flagged) {
    assert.equal(kind(ask(engine, name, type).shape), 'any name', `${name} ${type}`);
    assert.equal(kind(ask(engine, name, type, { edns: true }).shape), 'any name', `${name} ${type} with EDNS`);
  }
});

test('not flagged: names that exist, cuts, DNAMEs, chains that meet a missing name or a loop, EDNS options, a hit', () => {
  const engine = new Engine(runtime(PLAIN));
  const unflagged: [string, number, string][] = [
    ['www.t.lab.', RRType.A, 'exists'],
    ['www.t.lab.', RRType.TXT, 'exists (NODATA)'],
    ['b.ent.t.lab.', RRType.A, 'an empty non-terminal exists'],
    ['t.lab.', RRType.A, 'the apex'],
    ['x.sub.t.lab.', RRType.A, 'below a cut'],
    ['sub.t.lab.', RRType.A, 'the cut'],
    ['x.dn.t.lab.', RRType.A, 'below a DNAME'],
    ['cn.t.lab.', RRType.A, 'a CNAME that exists'],
    ['y.loop.t.lab.', RRType.A, '*.loop CNAME x.loop: the target is another missing name'],
    ['x.loop.t.lab.', RRType.A, 'x.loop CNAME x.loop: a loop through the name itself'],
    ['*.wild.t.lab.', RRType.A, 'the wildcard itself exists'],
  ];
  for (const [name, type, why] of unflagged) assert.equal(ask(engine, name, type).shape, 0, `${name}: ${why}`);
  // EDNS options make the answer per query (the cache does not key them either).
  assert.equal(ask(engine, 'nx.t.lab.', RRType.A, { options: [{ code: 10, data: new Uint8Array(8).fill(7) }] }).shape, 0, 'a cookie option');
  // Asked again: the cache stores it (flagged as well, with its cell), then hits — a hit is the mirror's.
  assert.equal(kind(ask(engine, 'again.t.lab.', RRType.A).shape), 'any name');
  ask(engine, 'again.t.lab.', RRType.A);
  assert.equal(ask(engine, 'again.t.lab.', RRType.A).shape, 0, 'an answer-cache hit');
  assert.ok(engine.lastReplay > 0);
});

test('the flag holds: a flagged reply is the reply for another name below the same encloser, with the name put in', () => {
  const engine = new Engine(runtime(PLAIN));
  const fresh = () => new Engine(runtime(PLAIN));
  /** The reply with the question's name as "Q" wherever it is an owner (the bytes are the addon's test: test/integration/encloser-replay.test.ts). */
  const shaped = (r: Uint8Array, name: string) => {
    const m = decodeMessage(r);
    const q = (n: string) => (n.toLowerCase() === name.toLowerCase() ? 'Q' : n.toLowerCase());
    const rrs = (xs: ResourceRecord[]) => xs.map((x) => ({ ...x, name: q(x.name) }));
    return { flags: m.flags, an: rrs(m.answers), ns: rrs(m.authorities), ar: rrs(m.additionals), edns: m.edns };
  };
  for (const [a, b, type] of [
    ['nx.t.lab.', 'other-name.t.lab.', RRType.A],
    ['x.host.t.lab.', 'YY.host.t.lab.', RRType.MX],
    ['foo.wild.t.lab.', 'bar.wild.t.lab.', RRType.MX],
    ['foo.wc.t.lab.', 'z.wc.t.lab.', RRType.A],
    ['ns.wild.t.lab.', 'nt.wild.t.lab.', RRType.MX],
  ] as const) {
    const ra = ask(engine, a, type);
    const rb = ask(fresh(), b, type);
    assert.equal(kind(ra.shape), 'any name');
    assert.deepEqual(shaped(ra.reply, a), shaped(rb.reply, b), `${a} / ${b}`);
  }
});

test('under rrl (the default): flagged when let through — negative answers are counted by zone, wildcard answers by the wildcard\'s parent', () => {
  const engine = new Engine(runtime(''));
  assert.ok(engine.replay.limit !== undefined, 'rrl is on');
  assert.equal(kind(ask(engine, 'nx.t.lab.', RRType.A).shape), 'any name');
  assert.equal(kind(ask(engine, 'foo.wild.t.lab.', RRType.TXT).shape), 'any name', 'wildcard NODATA: by zone');
  assert.equal(kind(ask(engine, 'foo.wild.t.lab.', RRType.A).shape), 'any name', 'wildcard answer: by (E, type)');
  assert.ok(engine.lastRrlRate > 0);
  // Over the limit: slipped (TC) or dropped, never flagged.
  const tight = new Engine(runtime('rrl: { responsesPerSecond: 1, nxdomainsPerSecond: 1, slip: 1 }\n'));
  const shapes = Array.from({ length: 6 }, (_, i) => ask(tight, `n${i}.t.lab.`, RRType.A));
  assert.ok(shapes.some((r) => (r.reply[2]! & 2) !== 0), 'slipped');
  for (const r of shapes) if ((r.reply[2]! & 2) !== 0) assert.equal(r.shape, 0, 'a slip is not flagged');
});

test('an observer that counts queries by cell (metrics): flagged count-by-length with the reply\'s own cell; replays off: nothing flagged', () => {
  const engine = new Engine(runtime(PLAIN));
  engine.replay.setObserver(true, true);
  assert.equal(engine.replay.mode, 2);
  // A first ask has no stored answer (so no cache cell): the cell is the reply's; the addon counts a reply
  // for a name of another length by this cell's type, rcode and zone at its own length.
  const r = ask(engine, 'nx.t.lab.', RRType.A);
  assert.equal(r.shape & SHAPE_BY_LENGTH, SHAPE_BY_LENGTH, 'other lengths counted at their own');
  const cell = (r.shape & 0x07ffffff) - 2;
  assert.ok(cell >= 0, 'a cell');
  assert.deepEqual(cells[cell], { qtype: RRType.A, rcode: 3, length: r.reply.length, zone: 't.lab.' });
  engine.replay.setObserver(false, false);
  engine.replay.hold();
  assert.equal(ask(engine, 'nx.t.lab.', RRType.A).shape, 0, 'held');
  engine.replay.release();
  assert.equal(kind(ask(engine, 'nx3.t.lab.', RRType.A).shape), 'any name');
  const policy = new Engine(runtime(`${PLAIN}policies:\n  - { match: { qname: x.t.lab }, action: { rcode: NXDOMAIN } }\n`));
  assert.equal(policy.replay.perQuery, true, 'policies decide per query');
  assert.equal(ask(policy, 'nx.t.lab.', RRType.A).shape, 0, 'a policy chain learns no template (a policy may match another name below E)');
  assert.equal(ask(policy, 'nx2.t.lab.', RRType.A).shape, 0);
});

test('under policies: a template is learnt only when no policy may match a name below its encloser with its type', () => {
  const learns = (match: string, name = 'nx.t.lab.', type: number = RRType.A): boolean => {
    const engine = new Engine(runtime(`${PLAIN}policies:\n  - { match: ${match}, action: { rcode: REFUSED } }\n`));
    assert.equal(engine.replay.perQuery, true);
    const r = ask(engine, name, type);
    assert.equal(r.reply[3]! & 0xf, 3, `${name}: the zone's NXDOMAIN (no policy matched it)`);
    return r.shape !== 0;
  };
  // E is t.lab for nx.t.lab, host.t.lab for x.host.t.lab. (A policy whose pattern holds above E matches the
  // learning query itself: no replay at all, perClient.)
  assert.equal(learns('{ qname: x.t.lab }'), false, 'an exact name below E');
  assert.equal(learns("{ qname: '*.dyn.t.lab' }"), false, 'a pattern below E');
  assert.equal(learns("{ qname: '/^nx/' }", 'zz.t.lab.'), false, 'a regular expression may match anything');
  assert.equal(learns("{ qname: [www.other.lab, '*.cdn.other.lab'] }"), true, 'names elsewhere');
  assert.equal(learns("{ qname: '*.dyn.t.lab' }", 'x.host.t.lab.'), true, 'a pattern below a sibling of E');
  assert.equal(learns("{ qname: '*.t.lab', qtype: [AAAA] }"), true, 'a pattern above E, for another type');
  assert.equal(learns("{ qname: '*.dyn.t.lab', qtype: [A] }"), false, 'a pattern below E, for the same type');
  assert.equal(learns('{ qtype: [TXT] }'), true, 'a type test alone, another type');
});

test('a reply cut to fit (TC) or missing optional records is not flagged', () => {
  const big = Array.from({ length: 40 }, (_, i) => `*.fat TXT "${'x'.repeat(60)}${i}"`).join('\n');
  const engine = new Engine(runtime(PLAIN, [zoneOf('t.lab.', `${ZONE}${big}\n`)]));
  const r = ask(engine, 'a.fat.t.lab.', RRType.TXT);
  assert.ok((r.reply[2]! & 2) !== 0, 'TC');
  assert.equal(r.shape, 0);
});

// A signed NSEC zone (signatures left out: which records go in does not read them; a DNSKEY makes it signed).
const SIGNED = `$TTL 3600
@ SOA ns hm 7 1 1 1 300
@ NS ns
@ DNSKEY 257 3 13 AAAA
@ NSEC host.s.lab. NS SOA DNSKEY NSEC
host A 203.0.113.1
host NSEC ns.s.lab. A NSEC
ns A 198.51.100.1
ns NSEC w.s.lab. A NSEC
w A 203.0.113.3
w NSEC *.w.s.lab. A NSEC
*.w A 203.0.113.9
*.w NSEC x.s.lab. A NSEC
x A 203.0.113.4
x NSEC s.lab. A NSEC
`;

test('a signed zone: without DO as unsigned; with DO only where the proof is the same for every name', () => {
  const engine = new Engine(runtime(PLAIN, [zoneOf('s.lab.', SIGNED)]));
  // Without DO, no DNSSEC record is added.
  assert.equal(kind(ask(engine, 'nx.s.lab.', RRType.A).shape), 'any name');
  assert.equal(kind(ask(engine, 'a.w.s.lab.', RRType.A).shape), 'any name');
  // DO: the NXDOMAIN below the apex is proven by the NSEC covering the name (found by the name).
  assert.equal(ask(engine, 'nx.s.lab.', RRType.A, { do: true }).shape, 0);
  // Below a host without descendants: its own NSEC covers every name below it and the wildcard.
  assert.equal(kind(ask(engine, 'nx.host.s.lab.', RRType.A, { do: true }).shape), 'any name');
  assert.equal(kind(ask(engine, 'a.b.host.s.lab.', RRType.TXT, { do: true }).shape), 'any name');
  // *.w is w's one child and has nothing below: its NSEC covers every name after "*".
  assert.equal(kind(ask(engine, 'a.w.s.lab.', RRType.A, { do: true }).shape), 'after *');
  assert.equal(kind(ask(engine, '*x.w.s.lab.', RRType.A, { do: true }).shape), 'after *', '"*x" sorts after "*"');
  assert.equal(ask(engine, '!.w.s.lab.', RRType.A, { do: true }).shape, 0, '"!" sorts before "*": w\'s NSEC');
  assert.equal(ask(engine, 'a.w.s.lab.', RRType.TXT, { do: true }).shape, 0, 'wildcard NODATA with DO: not told apart');
});

test('encloserZones: file zones with no other authority at or below their apex', () => {
  const zones = [zoneOf('t.lab.', ZONE), zoneOf('in.o.lab.', ZONE.replace('t.lab.', 'in.o.lab.')), zoneOf('o.lab.', ZONE.replace('t.lab.', 'o.lab.')), zoneOf('e.lab.', ZONE.replace('t.lab.', 'e.lab.')), zoneOf('p.lab.', ZONE.replace('t.lab.', 'p.lab.'))];
  const yaml = `${PLAIN}echo:\n  - { zone: x.e.lab }\npolicies:\n  - { match: { qname: a.pz.p.lab }, action: { rcode: NXDOMAIN }, zone: pz.p.lab }\n`;
  const rt = runtime(yaml, zones);
  const apexes = encloserZones(rt).map((z) => Buffer.from(z.apex).toString('latin1'));
  assert.deepEqual(apexes.sort(), ['\x01t\x03lab\x00', '\x02in\x01o\x03lab\x00'], 'o.lab holds in.o.lab, e.lab an echo zone, p.lab a policy zone');
  const t = encloserZones(rt).find((z) => z.apex[1] === 0x74)!;
  assert.equal(t.index, rt.zones.zones[0]!.buffers.index, 'the arrays the engine answers from, not copies');
  assert.equal(encloserZones(rt), encloserZones(rt), 'made once per runtime');
});
