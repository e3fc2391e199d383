// Response rate limiting: the token bucket's arithmetic, slip, window and table bound with an
// injected clock; the finisher's classification, exemptions and truncation through the real pipeline.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../config/load.js';
import { parseQuery } from '../../wire/fastpath.js';
import { decodeMessage, encodeMessage, getRcode, queryMessage } from '../../wire/message.js';
import { EdnsOptionCode, Rcode, RRType } from '../../wire/types.js';
import { Zone, ZoneSet } from '../../zone/tree.js';
import { parseZone } from '../../zone/parser.js';
import { QueryContext, type TransportInfo, type TransportProto } from '../../answer/context.js';
import { encodeResponse } from '../../answer/encode.js';
import { Pipeline } from '../../answer/pipeline.js';
import type { Runtime } from '../../answer/runtime.js';
import { createUnits } from '../../answer/units.js';
import { RateLimiter } from './limiter.js';
import { classify, classifyShape, shapeNameHash, type ResponseKind } from './classify.js';
import { hashNameText, hashNameWire } from './name-hash.js';
import { mulberry32 } from '../../sim/prng.js';

describe('RateLimiter', () => {
  test('a burst: `rate` responses pass, then every slip-th limited one slips and the rest drop', () => {
    const l = new RateLimiter();
    const got = Array.from({ length: 12 }, () => l.check('k', 4, 15, 2, 1000));
    assert.deepEqual(got, ['ok', 'ok', 'ok', 'ok', 'drop', 'slip', 'drop', 'slip', 'drop', 'slip', 'drop', 'slip']);
    assert.deepEqual(l.counters, { ok: 4, slipped: 4, dropped: 4, evicted: 0 });
  });

  test('slip 0 drops every limited response; slip 1 truncates every one', () => {
    const zero = new RateLimiter();
    assert.deepEqual(Array.from({ length: 4 }, () => zero.check('k', 1, 15, 0, 0)), ['ok', 'drop', 'drop', 'drop']);
    const one = new RateLimiter();
    assert.deepEqual(Array.from({ length: 4 }, () => one.check('k', 1, 15, 1, 0)), ['ok', 'slip', 'slip', 'slip']);
  });

  test('credit comes back at `rate` per second, at most one second of burst', () => {
    const l = new RateLimiter();
    assert.equal(l.check('k', 2, 15, 0, 0), 'ok');
    assert.equal(l.check('k', 2, 15, 0, 0), 'ok');
    assert.equal(l.check('k', 2, 15, 0, 0), 'drop'); // balance -1
    assert.equal(l.check('k', 2, 15, 0, 999), 'drop'); // -1 + 1.998 = 0.998 < 1; now -0.002
    // 1.001 s later: -0.002 + 2.002 = 2, the cap (one second's worth): two pass, the third is limited.
    assert.equal(l.check('k', 2, 15, 0, 2000), 'ok');
    assert.equal(l.check('k', 2, 15, 0, 2000), 'ok');
    assert.equal(l.check('k', 2, 15, 0, 2000), 'drop');
    // A long pause still earns no more than the cap.
    assert.deepEqual(Array.from({ length: 3 }, () => l.check('k', 2, 15, 0, 60_000)), ['ok', 'ok', 'drop']);
  });

  test('the debt is bounded by `window` seconds of the rate: a flooding client is limited until it pauses', () => {
    const l = new RateLimiter();
    for (let i = 0; i < 100; i++) l.check('k', 1, 5, 0, 0); // balance floors at -5
    assert.equal(l.check('k', 1, 5, 0, 5999), 'drop');
    // 7 s later the balance is -5 - 1 + 7 = 1 (the drop above cost one more).
    assert.equal(l.check('k', 1, 5, 0, 12_999), 'ok');
  });

  test('buckets are independent, and the table is bounded', () => {
    const l = new RateLimiter(2);
    assert.equal(l.check('a', 1, 15, 0, 0), 'ok');
    assert.equal(l.check('a', 1, 15, 0, 0), 'drop');
    assert.equal(l.check('b', 1, 15, 0, 0), 'ok');
    assert.equal(l.check('c', 1, 15, 0, 0), 'ok'); // evicts a
    assert.equal(l.size, 2);
    assert.equal(l.counters.evicted, 1);
    assert.equal(l.check('a', 1, 15, 0, 0), 'ok'); // evicts b, the oldest
    assert.equal(l.check('c', 1, 15, 0, 0), 'drop'); // c is still there, spent
    assert.equal(l.check('d', 1, 15, 0, 0), 'ok'); // evicts c
    assert.equal(l.check('a', 1, 15, 0, 0), 'drop');
    assert.equal(l.check('c', 1, 15, 0, 0), 'ok'); // a fresh bucket
    assert.equal(l.counters.evicted, 4);
  });
});

describe('RateLimiter table', () => {
  /** The limiter as it was (a Map of buckets and a ring of keys): the model the table must equal. */
  function model(max: number) {
    const buckets = new Map<string, { balance: number; at: number; limited: number }>();
    const order: string[] = [];
    let oldest = 0;
    return (key: string, rate: number, window: number, slip: number, t: number): string => {
      let b = buckets.get(key);
      if (b === undefined) {
        if (order.length < max) order.push(key);
        else {
          buckets.delete(order[oldest]!);
          order[oldest] = key;
          oldest = (oldest + 1) % max;
        }
        b = { balance: rate * 1000, at: t, limited: 0 };
        buckets.set(key, b);
      } else {
        b.balance = Math.min(rate * 1000, b.balance + Math.max(0, t - b.at) * rate);
        b.at = t;
      }
      if (b.balance >= 1000) {
        b.balance -= 1000;
        b.limited = 0;
        return 'ok';
      }
      b.balance = Math.max(-window * rate * 1000, b.balance - 1000);
      b.limited++;
      return slip > 0 && b.limited % slip === 0 ? 'slip' : 'drop';
    };
  }

  test('growth, eviction of the oldest and deletion inside probe runs give the same verdicts as the map', () => {
    for (const max of [1, 7, 64, 300]) {
      const rand = mulberry32(max);
      const table = new RateLimiter(max);
      const ref = model(max);
      let t = 0;
      for (let i = 0; i < 20_000; i++) {
        t += Math.floor(rand() * 40);
        // Keys from a pool 3× the table: buckets are made, hit, evicted and made again.
        const key = `k${Math.floor(rand() * max * 3)}`;
        assert.equal(table.check(key, 3, 2, 2, t), ref(key, 3, 2, 2, t), `max ${max}, step ${i}, ${key}`);
        assert.ok(table.size <= max);
      }
      assert.equal(table.size, max);
    }
  });
});

describe('rrl name hash', () => {
  const wire = (text: string): Uint8Array => encodeMessage(queryMessage(text, RRType.A, { id: 1 })).subarray(12);
  const same = (x: { a: number; b: number }, y: { a: number; b: number }) => x.a === y.a && x.b === y.b;

  test('a name hashes the same from wire bytes as from text, in any case, with escapes', () => {
    for (const name of ['.', 'a.', 'www.example.com.', 'WwW.ExAmPlE.CoM.', 'a\\.b.example.', 'x\\032y.example.', '_srv._tcp.example.', 'a\\065.example.']) {
      assert.ok(same(hashNameWire(wire(name), 0, 7, { a: 0, b: 0 }), hashNameText(name, 7, { a: 0, b: 0 })), name);
    }
    assert.ok(same(hashNameText('WWW.example.', 0, { a: 0, b: 0 }), hashNameText('www.EXAMPLE.', 0, { a: 0, b: 0 })));
    assert.ok(same(hashNameText('aA.example.', 0, { a: 0, b: 0 }), hashNameText('a\\065.example.', 0, { a: 0, b: 0 })));
  });

  test('compression pointers are followed; loops and bad labels end the name without a throw', () => {
    // "www" + pointer to "example.com." at offset 6 (m2 points at a root label instead).
    const m = Uint8Array.from([3, 119, 119, 119, 0xc0, 6, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0]);
    const m2 = Uint8Array.from([3, 119, 119, 119, 0xc0, 6, 0, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0]);
    assert.ok(same(hashNameWire(m, 0, 0, { a: 0, b: 0 }), hashNameText('www.example.com.', 0, { a: 0, b: 0 })));
    assert.ok(!same(hashNameWire(m2, 0, 0, { a: 0, b: 0 }), hashNameText('www.example.com.', 0, { a: 0, b: 0 })));
    hashNameWire(Uint8Array.from([3, 97, 0xc0, 0]), 0, 0, { a: 0, b: 0 });
    hashNameWire(Uint8Array.from([0xc0, 0]), 0, 0, { a: 0, b: 0 });
    hashNameWire(Uint8Array.from([0x80, 1]), 0, 0, { a: 0, b: 0 });
    hashNameWire(Uint8Array.from([9, 1]), 0, 0, { a: 0, b: 0 });
  });

  test('different names, label splits, types and kinds part', () => {
    const seen = new Set<string>();
    const add = (h: { a: number; b: number }) => seen.add(`${h.a}:${h.b}`);
    for (let i = 0; i < 5000; i++) add(hashNameText(`h${i}.example.`, 0, { a: 0, b: 0 }));
    add(hashNameText('ab.c.', 0, { a: 0, b: 0 }));
    add(hashNameText('a.bc.', 0, { a: 0, b: 0 }));
    add(hashNameText('a.bc.', 1, { a: 0, b: 0 }));
    add(hashNameText('a.bc.', 1 << 16, { a: 0, b: 0 }));
    assert.equal(seen.size, 5004);
  });
});

// --- the finisher in the pipeline, with a real zone ---

const UDP_CLIENT: TransportInfo = { proto: 'udp', remoteAddress: '198.51.100.7', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };

const ZONE = `$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.80\nsub NS ns.sub\nns.sub A 198.51.100.53\n`;

function runtimeWith(rrl: string, extra = ''): Runtime {
  const config = parseConfigText(`rrl: ${rrl}\n${extra}`, 'test.yaml').config;
  return { config, zones: new ZoneSet([Zone.build('t.lab.', parseZone(ZONE, { origin: 't.lab.' }).records)]), generation: 1 };
}

function queryBytes(name: string, type: number, cookie?: Uint8Array): Uint8Array {
  return encodeMessage(queryMessage(name, type, { id: 9, edns: true, options: cookie ? [{ code: EdnsOptionCode.COOKIE, data: cookie }] : [] }));
}

type Seen = 'answer' | 'tc' | 'drop';

/** One pipeline for the whole test (the limiter lives in it), queries at time `ms`. */
function server(rt: Runtime) {
  const pipeline = new Pipeline(createUnits());
  return (name: string, type: number, ms: number, opts: { ip?: string; proto?: TransportProto; cookie?: Uint8Array } = {}): { seen: Seen; rcode: number; cookie?: Uint8Array } => {
    const raw = queryBytes(name, type, opts.cookie);
    const ctx = new QueryContext(raw, parseQuery(raw), { proto: opts.proto ?? 'udp', remoteAddress: opts.ip ?? '198.51.100.7', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 }, rt, ms);
    const v = pipeline.run(ctx);
    assert.ok(!(v instanceof Promise));
    if (v.kind === 'drop') return { seen: 'drop', rcode: -1 };
    const m = decodeMessage(ctx.response.prebuilt ?? encodeResponse(ctx));
    const c = m.edns?.options.find((o) => o.code === EdnsOptionCode.COOKIE)?.data;
    if (m.flags.tc) {
      assert.equal(m.answers.length + m.authorities.length + m.additionals.length, 0, 'a slipped response is empty');
      return { seen: 'tc', rcode: getRcode(m), cookie: c };
    }
    return { seen: 'answer', rcode: getRcode(m), cookie: c };
  };
}

const seen = (xs: { seen: Seen }[]) => xs.map((x) => x.seen);

describe('rrl finisher', () => {
  test('identical answers from one /24 are limited; another name, type or /24 has its own bucket', () => {
    const ask = server(runtimeWith('{ responsesPerSecond: 2 }'));
    assert.deepEqual(seen(Array.from({ length: 6 }, (_, i) => ask('www.t.lab.', RRType.A, 0, { ip: `198.51.100.${i + 1}` }))), ['answer', 'answer', 'drop', 'tc', 'drop', 'tc']);
    assert.equal(ask('ns.t.lab.', RRType.A, 0).seen, 'answer');
    assert.equal(ask('www.t.lab.', RRType.AAAA, 0).seen, 'answer');
    assert.equal(ask('www.t.lab.', RRType.A, 0, { ip: '198.51.101.1' }).seen, 'answer');
    // The four limited responses left a debt of 4: a second later (+2) the client is still limited,
    // three seconds after that (−3 + 6, capped at 2) two pass again and the slip count starts over.
    assert.equal(ask('www.t.lab.', RRType.A, 1000).seen, 'drop');
    assert.deepEqual(seen(Array.from({ length: 4 }, () => ask('www.t.lab.', RRType.A, 4000))), ['answer', 'answer', 'drop', 'tc']);
  });

  test('NXDOMAIN for different names share the zone bucket; referrals share the delegation point', () => {
    const ask = server(runtimeWith('{ responsesPerSecond: 5, nxdomainsPerSecond: 1, slip: 0 }'));
    const nx = ['a', 'b', 'c'].map((n) => ask(`${n}.t.lab.`, RRType.A, 0));
    assert.deepEqual(seen(nx), ['answer', 'drop', 'drop']);
    assert.equal(nx[0]!.rcode, Rcode.NXDOMAIN);
    const ref = Array.from({ length: 7 }, (_, i) => ask(`h${i}.sub.t.lab.`, RRType.A, 0));
    assert.deepEqual(seen(ref), ['answer', 'answer', 'answer', 'answer', 'answer', 'drop', 'drop']);
  });

  test('errors are limited per client regardless of name, and a slipped error keeps its rcode', () => {
    const ask = server(runtimeWith('{ responsesPerSecond: 5, errorsPerSecond: 1, slip: 1 }'));
    const got = ['x.example.', 'y.example.'].map((n) => ask(n, RRType.A, 0));
    assert.deepEqual(got.map((g) => [g.seen, g.rcode]), [['answer', Rcode.REFUSED], ['tc', Rcode.REFUSED]]);
  });

  test('cached answers are limited too', () => {
    const ask = server(runtimeWith('{ responsesPerSecond: 1, slip: 1 }'));
    // Without EDNS options the zone answer is stored and then served pre-encoded.
    assert.deepEqual(seen(Array.from({ length: 3 }, () => ask('www.t.lab.', RRType.A, 0))), ['answer', 'tc', 'tc']);
  });

  test('TCP, exempt prefixes and valid server cookies are never limited; logOnly limits nothing', () => {
    const ask = server(runtimeWith('{ responsesPerSecond: 1, exempt: ["203.0.113.0/24", "2001:db8::/32"] }', 'cookies: { mode: answer }\n'));
    assert.deepEqual(seen(Array.from({ length: 4 }, () => ask('www.t.lab.', RRType.A, 0, { proto: 'tcp' }))), ['answer', 'answer', 'answer', 'answer']);
    assert.deepEqual(seen(Array.from({ length: 4 }, () => ask('www.t.lab.', RRType.A, 0, { ip: '203.0.113.9' }))), ['answer', 'answer', 'answer', 'answer']);
    assert.deepEqual(seen(Array.from({ length: 4 }, () => ask('www.t.lab.', RRType.A, 0, { ip: '2001:db8::9' }))), ['answer', 'answer', 'answer', 'answer']);
    // The first query learns a server cookie (and spends the bucket); with it, nothing is limited.
    const client = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const first = ask('www.t.lab.', RRType.A, 0, { cookie: client });
    assert.equal(first.seen, 'answer');
    const full = new Uint8Array([...client, ...first.cookie!.subarray(8)]);
    assert.deepEqual(seen(Array.from({ length: 4 }, () => ask('www.t.lab.', RRType.A, 0, { cookie: full }))), ['answer', 'answer', 'answer', 'answer']);
    // A client cookie alone proves nothing.
    assert.notEqual(ask('www.t.lab.', RRType.A, 0, { cookie: client }).seen, 'answer');
    const log = server(runtimeWith('{ responsesPerSecond: 1, logOnly: true }'));
    assert.deepEqual(seen(Array.from({ length: 3 }, () => log('www.t.lab.', RRType.A, 0))), ['answer', 'answer', 'answer']);
  });

  test('IPv6 clients are grouped by /56', () => {
    const ask = server(runtimeWith('{ responsesPerSecond: 1, slip: 0 }'));
    assert.equal(ask('www.t.lab.', RRType.A, 0, { ip: '2001:db8:0:100::1' }).seen, 'answer');
    assert.equal(ask('www.t.lab.', RRType.A, 0, { ip: '2001:db8:0:1ff::2' }).seen, 'drop');
    assert.equal(ask('www.t.lab.', RRType.A, 0, { ip: '2001:db8:0:200::1' }).seen, 'answer');
  });

  test('configuration errors name the key and what was expected', () => {
    assert.throws(() => parseConfigText('rrl: { responsesPerSecond: 0 }\n', 'f.yaml'), /f\.yaml:1: rrl\.responsesPerSecond: expected at least 1/);
    assert.throws(() => parseConfigText('rrl: { responsesPerSecond: 5, exempt: ["198.51.100.1/24"] }\n', 'f.yaml'), /rrl\.exempt\[0\]: host bits set/);
    assert.throws(() => parseConfigText('rrl: { responsesPerSecond: 5, slip: 11 }\n', 'f.yaml'), /rrl\.slip: expected 0 to 10/);
    assert.throws(() => parseConfigText('rrl: on\n', 'f.yaml'), /rrl: expected off, or an object/);
  });

  test('on by default with 200 responses per second (as Debian ships NSD); rrl: off turns it off', () => {
    assert.equal(parseConfigText('log: { level: info }\n', 'f.yaml').config.rrl?.responsesPerSecond, 200);
    assert.equal(parseConfigText('rrl: { slip: 1 }\n', 'f.yaml').config.rrl?.responsesPerSecond, 200);
    assert.equal(parseConfigText('rrl: off\n', 'f.yaml').config.rrl, undefined);
    assert.equal(parseConfigText('rrl: false\n', 'f.yaml').config.rrl, undefined);
  });
});

describe('rrl logOnly', () => {
  test('answers everything and reports each response it would have limited, at most 10 lines a second', () => {
    const lines: Record<string, unknown>[] = [];
    const rt = runtimeWith('{ responsesPerSecond: 2, logOnly: true }');
    const pipeline = new Pipeline(createUnits(undefined, { warn: (msg, f) => lines.push({ msg, ...f }) }));
    const ask = (ms: number) => {
      const raw = queryBytes('www.t.lab.', RRType.A);
      const ctx = new QueryContext(raw, parseQuery(raw), UDP_CLIENT, rt, ms);
      const v = pipeline.run(ctx);
      assert.ok(!(v instanceof Promise));
      return v.kind === 'drop' ? 'drop' : decodeMessage(ctx.response.prebuilt ?? encodeResponse(ctx)).flags.tc ? 'tc' : 'answer';
    };
    // 40 identical responses in one second: 2 within the rate, 38 over it — all answered.
    const got = Array.from({ length: 40 }, () => ask(0));
    assert.deepEqual(new Set(got), new Set(['answer']));
    assert.equal(lines.length, 10);
    assert.deepEqual(lines[0], { msg: 'rrl logOnly: would limit', action: 'drop', prefix: '198.51.100.0/24', kind: 'answer', name: 'www.t.lab./1' });
    assert.equal(lines[1]!['action'], 'slip');
    // The next second: the first line says how many were not logged (38 - 10).
    ask(1000);
    assert.equal(lines.length, 11);
    assert.equal(lines[10]!['suppressedBefore'], 28);
  });

  test('without logOnly nothing is reported', () => {
    const lines: unknown[] = [];
    const rt = runtimeWith('{ responsesPerSecond: 1 }');
    const pipeline = new Pipeline(createUnits(undefined, { warn: (m) => lines.push(m) }));
    for (let i = 0; i < 5; i++) {
      const raw = queryBytes('www.t.lab.', RRType.A);
      pipeline.run(new QueryContext(raw, parseQuery(raw), UDP_CLIENT, rt, 0));
    }
    assert.equal(lines.length, 0);
  });
});

describe('rrl classify', () => {
  test('a pre-encoded response (cached, negative template) is classified as its decoded sections are', () => {
    const zone = `${ZONE}alias CNAME nowhere\nchain CNAME www\n*.wild TXT "w"\nempty.sub2 A 198.51.100.9\n`;
    const rt: Runtime = { config: parseConfigText('rrl: off\n', 'test.yaml').config, zones: new ZoneSet([Zone.build('t.lab.', parseZone(zone, { origin: 't.lab.' }).records)]), generation: 1 };
    const pipeline = new Pipeline(createUnits());
    const cases: [string, number, string][] = [
      ['www.t.lab.', RRType.A, 'answer'],
      ['WWW.T.lab.', RRType.A, 'answer'],
      ['chain.t.lab.', RRType.A, 'answer'],
      ['alias.t.lab.', RRType.A, 'nxdomain'],
      ['www.t.lab.', RRType.MX, 'nodata'],
      ['sub2.t.lab.', RRType.A, 'nodata'],
      ['nx.t.lab.', RRType.A, 'nxdomain'],
      ['a.b.nx.t.lab.', RRType.AAAA, 'nxdomain'],
      ['x.wild.t.lab.', RRType.TXT, 'answer'],
      ['x.wild.t.lab.', RRType.A, 'nodata'],
      ['h1.sub.t.lab.', RRType.A, 'referral'],
      ['sub.t.lab.', RRType.NS, 'referral'],
      ['elsewhere.example.', RRType.A, 'error'],
    ];
    const buckets = new Set<string>();
    const texts = new Set<string>();
    for (const [name, type, kind] of cases) {
      // Twice: the second query is answered from the answer cache where the first was stored.
      for (let round = 0; round < 2; round++) {
        const raw = encodeMessage(queryMessage(name, type, { id: 9 }));
        const ctx = new QueryContext(raw, parseQuery(raw), UDP_CLIENT, rt, 0);
        pipeline.run(ctx);
        const wire = ctx.response.prebuilt ?? encodeResponse(ctx);
        const r = ctx.response;
        r.prebuilt = wire;
        const fromWire = classify(ctx);
        const wireHash = { ...shapeNameHash(ctx, classifyShape(ctx), { a: 0, b: 0 }) };
        const m = decodeMessage(wire);
        r.prebuilt = undefined;
        r.rcode = getRcode(m);
        r.aa = m.flags.aa;
        r.answer = m.answers;
        r.authority = m.authorities;
        const fromSections = classify(ctx);
        assert.deepEqual(fromWire, fromSections, `${name} ${type} round ${round}`);
        // The bucket key (a hash, no text) is the same from the bytes as from the sections, too.
        assert.deepEqual(shapeNameHash(ctx, classifyShape(ctx), { a: 0, b: 0 }), wireHash, `${name} ${type} round ${round} hash`);
        buckets.add(`${wireHash.a}:${wireHash.b}`);
        texts.add(`${fromWire.kind} ${fromWire.name}`);
        assert.equal(fromWire.kind, kind, `${name} ${type}`);
      }
    }
    // As many buckets as distinct (kind, name) texts: hashes part what the text keys parted.
    assert.equal(buckets.size, texts.size);
  });

  test("a wildcard answer's bucket is its closest encloser and type (BIND: the wildcard's parent), on a miss and on a cache hit; an exact name's is its own", () => {
    // A wildcard with a sibling that exists, a deeper wildcard below empty non-terminals, a wildcard CNAME
    // (its chain goes on to www) and an exact CNAME into the wildcard (counted by its own name, the
    // question's: only a question name the wildcard stood for counts by the encloser, as BIND checks the first lookup).
    const zone = `${ZONE}*.wild TXT "w"\n*.wild A 198.51.100.9\nexact.wild TXT "e"\n*.deep.ent TXT "d"\n*.cn CNAME www\nchain CNAME q.wild\n`;
    const rt: Runtime = { config: parseConfigText('rrl: off\n', 'test.yaml').config, zones: new ZoneSet([Zone.build('t.lab.', parseZone(zone, { origin: 't.lab.' }).records)]), generation: 1 };
    const cases: [string, number, string][] = [
      ['x.wild.t.lab.', RRType.TXT, 'wild.t.lab./16'],
      ['Y.Wild.T.lab.', RRType.TXT, 'wild.t.lab./16'],
      ['a.b.c.wild.t.lab.', RRType.TXT, 'wild.t.lab./16'],
      ['x.wild.t.lab.', RRType.A, 'wild.t.lab./1'],
      ['exact.wild.t.lab.', RRType.TXT, 'exact.wild.t.lab./16'],
      ['*.wild.t.lab.', RRType.TXT, '*.wild.t.lab./16'],
      ['q.r.deep.ent.t.lab.', RRType.TXT, 'deep.ent.t.lab./16'],
      ['q.cn.t.lab.', RRType.A, 'cn.t.lab./1'],
      ['chain.t.lab.', RRType.TXT, 'chain.t.lab./16'],
      ['www.t.lab.', RRType.A, 'www.t.lab./1'],
    ];
    // Text keys (a context built by hand reads the question's text) and hash keys from the question's
    // bytes (the engine's reusable context) agree, on the miss that stores the answer and on its hit.
    for (const reusable of [false, true]) {
      const pipeline = new Pipeline(createUnits());
      const byName = new Map<string, string>();
      for (const [name, type, bucket] of cases) {
        for (let round = 0; round < 2; round++) {
          const raw = encodeMessage(queryMessage(name, type, { id: 9 }));
          const ctx = reusable ? QueryContext.reusable(UDP_CLIENT, rt).renew(raw, UDP_CLIENT, rt) : new QueryContext(raw, parseQuery(raw), UDP_CLIENT, rt, 0);
          pipeline.run(ctx);
          assert.equal(ctx.cacheMissHash >= 0, round === 0, `${name} round ${round}: a miss, then a hit`);
          const c = classify(ctx);
          assert.deepEqual([c.kind, c.name], ['answer', bucket], `${name} ${type} round ${round}`);
          const h = shapeNameHash(ctx, classifyShape(ctx), { a: 0, b: 0 });
          const key = `${h.a}:${h.b}`;
          if (!byName.has(bucket)) byName.set(bucket, key);
          assert.equal(key, byName.get(bucket), `${name} ${type} round ${round}: the bucket's hash`);
          assert.equal(key, `${hashNameText(bucket.slice(0, bucket.indexOf('/')), (1 << 16) | type, h).a}:${h.b}`, `${name}: the hash of the bucket's name`);
        }
      }
      // One hash per bucket name: names under one wildcard share it, the others part.
      assert.equal(new Set(byName.values()).size, byName.size);
    }
  });

  /**
   * Asks every case twice (the second an answer-cache hit where the first was stored), with a context built
   * by hand (the question's text) and with the engine's reusable one (its bytes): each response's kind and
   * bucket text are the case's, and its hash is the hash of that text — the same on a miss and on a hit,
   * from text and from bytes; distinct bucket texts have distinct hashes.
   */
  function assertBuckets(rt: Runtime, cases: readonly (readonly [string, number, ResponseKind, string, boolean?])[]): void {
    for (const reusable of [false, true]) {
      const pipeline = new Pipeline(createUnits());
      const byBucket = new Map<string, string>();
      for (const [name, type, kind, bucket, cached] of cases) {
        for (let round = 0; round < 2; round++) {
          const raw = encodeMessage(queryMessage(name, type, { id: 9 }));
          const ctx = reusable ? QueryContext.reusable(UDP_CLIENT, rt).renew(raw, UDP_CLIENT, rt) : new QueryContext(raw, parseQuery(raw), UDP_CLIENT, rt, 0);
          pipeline.run(ctx);
          if (cached) assert.equal(ctx.response.prebuilt !== undefined && ctx.cacheMissHash < 0, round === 1, `${name} round ${round}: a miss, then a hit`);
          const c = classify(ctx);
          assert.deepEqual([c.kind, c.name], [kind, bucket], `${name} ${type} round ${round}`);
          const h = shapeNameHash(ctx, classifyShape(ctx), { a: 0, b: 0 });
          const key = `${h.a}:${h.b}`;
          const slash = bucket.indexOf('/');
          const kindCode = { answer: 1, referral: 2, nodata: 3, nxdomain: 4, error: 5 }[kind] << 16;
          const want = hashNameText(slash < 0 ? bucket : bucket.slice(0, slash), kindCode | (kind === 'answer' ? type : 0), { a: 0, b: 0 });
          assert.equal(key, `${want.a}:${want.b}`, `${name} ${type} round ${round}: the hash of the bucket's name`);
          byBucket.set(`${kind} ${bucket}`, key);
        }
      }
      assert.equal(new Set(byBucket.values()).size, byBucket.size, 'one hash per bucket');
    }
  }

  test("a policy's answers count by the suffix its name pattern fixes (*.S: S, the longest that matched; exact: the name), else by the zone holding the name", () => {
    const rt = runtimeWith(
      'off',
      'pools:\n  - { name: p, prefixes: [198.18.20.0/24] }\npolicies:\n' +
        '  - { match: { qname: ["*.dyn.t.lab", "*.in.dyn.t.lab", "fixed.dyn.t.lab"] }, action: { pool: p } }\n' +
        '  - { match: { qname: "/^re-[0-9]+\\\\.t\\\\.lab$/" }, action: { records: ["A 203.0.113.2"] } }\n' +
        '  - { match: { qname: "*.out.example" }, action: { rcode: NODATA } }\n' +
        '  - { match: { qname: "/^any-/" }, action: { records: [\'TXT "x"\'] } }\n' +
        '  - { match: { qtype: AAAA }, action: { sinkhole: "2001:db8::1" } }\n',
    );
    assertBuckets(rt, [
      ['x.dyn.t.lab.', RRType.A, 'answer', 'dyn.t.lab./1'],
      ['A.b.Dyn.t.lab.', RRType.A, 'answer', 'dyn.t.lab./1'],
      ['y.in.dyn.t.lab.', RRType.A, 'answer', 'in.dyn.t.lab./1'],
      ['fixed.dyn.t.lab.', RRType.A, 'answer', 'fixed.dyn.t.lab./1'],
      // A regular expression fixes no suffix: the zone's apex; outside every zone, the root.
      ['re-7.t.lab.', RRType.A, 'answer', 't.lab./1'],
      ['re-8.t.lab.', RRType.A, 'answer', 't.lab./1'],
      ['any-1.else.example.', RRType.TXT, 'answer', './16'],
      // No qname test: the zone that holds the name (sub is a delegation inside t.lab, not a zone).
      ['www2.t.lab.', RRType.AAAA, 'answer', 't.lab./28'],
      ['h1.sub.t.lab.', RRType.AAAA, 'answer', 't.lab./28'],
      // NODATA with no zone to name (no SOA): by the pattern's suffix too, not per name.
      ['x.out.example.', RRType.A, 'nodata', 'out.example.'],
      ['y.z.out.example.', RRType.A, 'nodata', 'out.example.'],
      // Not a policy's: the zone's own buckets.
      ['www.t.lab.', RRType.A, 'answer', 'www.t.lab./1'],
    ]);
  });

  test("an echo zone's answers and delegations count by its apex; its apex and name server by their names; negative answers by the zone", () => {
    const rt = runtimeWith('off', 'echo:\n  - { zone: ec.lab., nsAddress: 127.0.0.1 }\n');
    assertBuckets(rt, [
      ['198.51.100.7.00.ec.lab.', RRType.A, 'answer', 'ec.lab./1', true],
      ['198.51.100.8.00.Ec.lab.', RRType.A, 'answer', 'ec.lab./1', true],
      ['198.51.100.9.a.box.ec.lab.', RRType.A, 'answer', 'ec.lab./1', true],
      ['198.51.100.9.ca.box.ec.lab.', RRType.A, 'answer', 'ec.lab./1', true],
      ['198.51.100.10.na.box2.ec.lab.', RRType.A, 'referral', 'ec.lab.', true],
      ['web.lab.nu.box3.ec.lab.', RRType.A, 'referral', 'ec.lab.', true],
      ['ec.lab.', RRType.SOA, 'answer', 'ec.lab./6', true],
      ['ns.ec.lab.', RRType.A, 'answer', 'ns.ec.lab./1', true],
      ['x.box.ec.lab.', RRType.A, 'nxdomain', 'ec.lab.'],
      ['box.ec.lab.', RRType.A, 'nodata', 'ec.lab.'],
    ]);
  });

  test('a malformed pre-encoded response is an error, not a throw', () => {
    const raw = queryBytes('www.t.lab.', RRType.A);
    const ctx = new QueryContext(raw, parseQuery(raw), UDP_CLIENT, runtimeWith('off'), 0);
    // NOERROR, no answers, one authority record whose name runs past the end.
    ctx.response.prebuilt = Uint8Array.from([0, 9, 0x84, 0, 0, 0, 0, 0, 0, 1, 0, 0, 5, 0x61]);
    assert.equal(classify(ctx).kind, 'error');
  });
});
