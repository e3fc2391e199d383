// ttl-jitter: one draw per RRset in [min, ttl], which sections are jittered, the zone config and the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, ConfigError } from '../../config/load.js';
import { decodeMessage, encodeMessage, queryMessage } from '../../wire/message.js';
import { RRType, type Message, type ResourceRecord } from '../../wire/types.js';
import { parseZone } from '../../zone/parser.js';
import { Zone, ZoneSet } from '../../zone/tree.js';
import type { TransportInfo } from '../../answer/context.js';
import { Engine } from '../../answer/engine.js';
import type { Runtime } from '../../answer/runtime.js';
import { createUnits } from '../../answer/units.js';
import { AnswerCache } from '../cache/index.js';
import { jitterTtl, ttlJitterFinisher, type RandomInt } from './index.js';

const ZONE =
  '$TTL 300\n@ SOA ns hm 1 3600 600 86400 120\n NS ns\nns A 198.51.100.1\n' +
  'www A 198.51.100.2\n A 198.51.100.3\n AAAA 2001:db8::2\n' +
  '@ MX 10 mail\nmail 600 A 198.51.100.25\nalias CNAME www\nshort 5 A 198.51.100.9\n' +
  'sub NS ns.sub\nns.sub A 198.51.100.54\n';
const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };

function runtime(zoneYaml: string): Runtime {
  const config = parseConfigText(`zones:\n  - { name: t.lab., file: t.zone${zoneYaml} }\n`, 't.yaml').config;
  return { config, zones: new ZoneSet([Zone.build('t.lab.', parseZone(ZONE, { origin: 't.lab.' }).records)]), generation: 1 };
}

function query(name: string, type: number, id = 1): Uint8Array {
  return encodeMessage(queryMessage(name, type, { id }));
}

/** Swaps the finisher's randomness for a recorded sequence: each call returns the next value. */
function scripted(values: number[]): { random: RandomInt; calls: [number, number][] } {
  const calls: [number, number][] = [];
  let i = 0;
  return {
    calls,
    random: (lo, hi) => {
      calls.push([lo, hi]);
      return values[i++ % values.length]!;
    },
  };
}

function engineWith(rt: Runtime, random: RandomInt, cache = new AnswerCache()): Engine {
  const units = createUnits(cache).map((u) => (u.name === 'ttl-jitter' ? ttlJitterFinisher(random) : u));
  return new Engine(rt, units);
}

const ask = (e: Engine, name: string, type: number, id = 1): Message => decodeMessage(e.handle(query(name, type, id), udp) as Uint8Array);
const ttls = (rrs: ResourceRecord[]) => rrs.map((r) => `${r.name}/${r.type}/${r.ttl}`);

test('jitterTtl: a draw in [min, ttl]; min ≥ ttl keeps the ttl', () => {
  const { random, calls } = scripted([7]);
  assert.equal(jitterTtl(300, 0, random), 7);
  assert.equal(jitterTtl(300, 60, random), 7);
  assert.deepEqual(calls, [[0, 300], [60, 300]]);
  assert.equal(jitterTtl(5, 60, random), 5);
  assert.equal(jitterTtl(60, 60, random), 60);
  assert.equal(jitterTtl(0, 0, random), 0);
  assert.equal(calls.length, 2, 'no draw when there is nothing to draw from');
});

test('one draw per RRset: both A records of www share a TTL; the AAAA set gets its own', () => {
  const { random, calls } = scripted([11, 22, 33]);
  const e = engineWith(runtime(', ttlJitter: { min: 0 }'), random);
  const m = ask(e, 'www.t.lab.', RRType.A);
  assert.deepEqual(ttls(m.answers), ['www.t.lab./1/11', 'www.t.lab./1/11']);
  assert.deepEqual(calls, [[0, 300]]);
  const cname = ask(e, 'alias.t.lab.', RRType.A);
  assert.deepEqual(ttls(cname.answers), ['alias.t.lab./5/22', 'www.t.lab./1/33', 'www.t.lab./1/33']);
});

test('the additional addresses of an authoritative answer are jittered; the MX draw is separate', () => {
  const { random, calls } = scripted([100, 200]);
  const m = ask(engineWith(runtime(', ttlJitter: { min: 50 }'), random), 't.lab.', RRType.MX);
  assert.deepEqual(ttls(m.answers), ['t.lab./15/100']);
  assert.deepEqual(ttls(m.additionals), ['mail.t.lab./1/200']);
  assert.deepEqual(calls, [[50, 300], [50, 600]]);
});

test('the SOA of NXDOMAIN and NODATA is jittered from the RFC 2308 TTL (min(SOA TTL, minimum))', () => {
  const { random, calls } = scripted([42]);
  const e = engineWith(runtime(', ttlJitter: { min: 0 }'), random);
  const nx = ask(e, 'nope.t.lab.', RRType.A);
  assert.equal(nx.flags.rcode, 3);
  assert.deepEqual(ttls(nx.authorities), ['t.lab./6/42']);
  const nodata = ask(e, 'www.t.lab.', RRType.TXT);
  assert.deepEqual(ttls(nodata.authorities), ['t.lab./6/42']);
  assert.deepEqual(calls, [[0, 120], [0, 120]]);
});

test('a referral is left alone: NS and glue keep their TTLs, nothing is drawn', () => {
  const { random, calls } = scripted([1]);
  const m = ask(engineWith(runtime(', ttlJitter: { min: 0 }'), random), 'host.sub.t.lab.', RRType.A);
  assert.equal(m.flags.aa, false);
  assert.deepEqual(ttls(m.authorities), ['sub.t.lab./2/300']);
  assert.deepEqual(ttls(m.additionals), ['ns.sub.t.lab./1/300']);
  assert.deepEqual(calls, []);
});

test('min above a TTL keeps that TTL; others still drawn', () => {
  const { random } = scripted([250]);
  const e = engineWith(runtime(', ttlJitter: { min: 200 }'), random);
  assert.deepEqual(ttls(ask(e, 'short.t.lab.', RRType.A).answers), ['short.t.lab./1/5']);
  assert.deepEqual(ttls(ask(e, 'www.t.lab.', RRType.AAAA).answers), ['www.t.lab./28/250']);
});

test('a zone without ttlJitter is untouched and cached; with it, never cached and the zone data unchanged', () => {
  const plain = new AnswerCache();
  const { random: r1, calls: c1 } = scripted([1]);
  const e1 = engineWith(runtime(''), r1, plain);
  assert.deepEqual(ttls(ask(e1, 'www.t.lab.', RRType.AAAA).answers), ['www.t.lab./28/300']);
  ask(e1, 'www.t.lab.', RRType.AAAA, 2);
  assert.equal(plain.hits, 1);
  assert.deepEqual(c1, []);

  const jittered = new AnswerCache();
  const rt = runtime(', ttlJitter: { min: 0 }');
  const { random } = scripted([3, 4, 5]);
  const e2 = engineWith(rt, random, jittered);
  const seen = [1, 2, 3].map((id) => ask(e2, 'www.t.lab.', RRType.AAAA, id).answers[0]!.ttl);
  assert.deepEqual(seen, [3, 4, 5], 'every query gets a fresh draw');
  assert.equal(jittered.size, 0);
  assert.equal(jittered.hits, 0);
  const stored = rt.zones.find('www.t.lab.')!;
  assert.equal(stored.nodes.get('www.t.lab.')!.rrsets.get(RRType.AAAA)!.records[0]!.ttl, 300, 'zone records are copied, not changed');
});

test('the default randomness stays within [min, ttl] and varies', () => {
  const e = new Engine(runtime(', ttlJitter: { min: 100 }'), createUnits());
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const t = ask(e, 'www.t.lab.', RRType.AAAA, i).answers[0]!.ttl;
    assert.ok(t >= 100 && t <= 300, `ttl ${t}`);
    seen.add(t);
  }
  assert.ok(seen.size > 20, `only ${seen.size} distinct TTLs in 200 draws`);
});

test('config: ttlJitter.min must be a whole number ≥ 0; errors name the key path and line', () => {
  const bad = (v: string): string => {
    try {
      parseConfigText(`zones:\n  - name: t.lab.\n    file: t.zone\n    ttlJitter: ${v}\n`, 'f.yaml');
    } catch (e) {
      if (e instanceof ConfigError) return e.message;
      throw e;
    }
    assert.fail(`accepted ${v}`);
  };
  assert.match(bad('{ min: -1 }'), /^f\.yaml:4: zones\[0\]\.ttlJitter\.min: expected a whole number of seconds, 0 or more$/);
  assert.match(bad('{ min: 1.5 }'), /zones\[0\]\.ttlJitter\.min: expected integer, found float/);
  assert.match(bad('{ min: "x" }'), /zones\[0\]\.ttlJitter\.min: expected number, found string/);
  assert.match(bad('{ max: 3 }'), /zones\[0\]\.ttlJitter: unknown key "max"/);
  assert.match(bad('{}'), /zones\[0\]\.ttlJitter\.min: missing; expected number/);
  assert.deepEqual(parseConfigText('zones:\n  - { name: t.lab., file: t.zone, ttlJitter: { min: 0 } }\n', 'f.yaml').config.zones[0]!.ttlJitter, { min: 0 });
});
