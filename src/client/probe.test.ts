// Probe algorithm (seed §4.1) against a scripted load-balanced group of caches, with injected time and randomness.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RRType, type Message, type ResourceRecord } from '../wire/types.js';
import { probe, type Querier } from './probe.js';
import { formatTable } from './probe-report.js';
import type { StubAnswer } from './stub.js';

const ZONE = 'echo.lab.';

/**
 * A group of `size` caches behind one address, queries spread round-robin (§4.1.1). Each cache keeps
 * what an A-method programming query stored for `ttl` seconds of the injected clock, and
 * "last write wins" only when `updatable`.
 */
function group(size: number, opts: { updatable: boolean; ttl: number; clock: { t: number } }): Querier {
  const caches = Array.from({ length: size }, () => new Map<string, { value: string; at: number }>());
  let next = 0;
  return {
    async query(name: string, type: number): Promise<StubAnswer> {
      const cache = caches[next++ % size]!;
      const msg: Message = {
        id: 1,
        flags: { qr: true, opcode: 0, aa: false, tc: false, rd: true, ra: true, z: false, ad: false, cd: false, rcode: 0 },
        questions: [{ name, type, class: 1 }],
        answers: [],
        authorities: [],
        additionals: [],
      };
      const labels = name.slice(0, -ZONE.length - 1).split('.');
      if (name === ZONE) msg.answers.push({ name, type: RRType.SOA, class: 1, ttl: 1, data: { mname: 'ns.', rname: 'h.', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } });
      else if (labels.length === 6 && labels[4] === 'a') {
        const alias = labels[5]!;
        const old = cache.get(alias);
        if (!old || opts.updatable || opts.clock.t - old.at > opts.ttl) cache.set(alias, { value: labels.slice(0, 4).join('.'), at: opts.clock.t });
      } else if (labels.length === 1) {
        const e = cache.get(labels[0]!);
        if (e && opts.clock.t - e.at <= opts.ttl) msg.answers.push({ name, type: RRType.A, class: 1, ttl: 1, data: { address: e.value } } as ResourceRecord);
      }
      return { message: msg, server: { host: '127.0.0.1', port: 53 }, via: 'udp', tries: 1 };
    },
  };
}

function seq(): () => number {
  let i = 0;
  return () => ((i++ * 0.37) % 1);
}

describe('probe', () => {
  test('a group of three caches: doubling reaches 4 programming queries; updatable; retention capped', async () => {
    const clock = { t: 0 };
    const r = await probe(group(3, { updatable: true, ttl: 1000, clock }), {
      resolver: 'lb',
      zone: ZONE,
      methods: ['a'],
      maxGroup: 8,
      retentionMax: 8,
      random: seq(),
      now: () => 0,
      sleep: async (ms) => {
        clock.t += ms / 1000;
      },
    });
    assert.equal(r.recursive, true);
    assert.deepEqual(r.methods.a, { stored: true, updatable: true, retention: { seconds: 8, capped: true }, group: 4 });
    assert.equal(clock.t, 8, 'checks at 1, 2, 4 and 8 seconds');
  });

  test('not updatable, and retention ends between checks', async () => {
    const clock = { t: 0 };
    const r = await probe(group(1, { updatable: false, ttl: 3, clock }), {
      resolver: 'one',
      zone: ZONE,
      methods: ['a'],
      retentionMax: 64,
      random: seq(),
      now: () => 0,
      sleep: async (ms) => {
        clock.t += ms / 1000;
      },
    });
    assert.deepEqual(r.methods.a, { stored: true, updatable: false, retention: { seconds: 2, capped: false }, group: 1 });
  });

  test('a group larger than the maximum reads as not stored; NR without addresses is not tested', async () => {
    const clock = { t: 0 };
    const r = await probe(group(5, { updatable: true, ttl: 1000, clock }), { resolver: 'big', zone: ZONE, methods: ['a', 'nr'], maxGroup: 2, random: seq(), now: () => 0, sleep: async () => {} });
    assert.deepEqual(r.methods.a, { stored: false, updatable: null, retention: null, group: null });
    assert.equal(r.methods.nr!.stored, null);
    assert.match(r.methods.nr!.note!, /--nr-address/);
    assert.match(formatTable([r], ['a', 'nr']), /^resolver\s+a\s+nr\nbig\s+no\s+n\/t\n/);
  });

  test('an authoritative server is reported as not a recursive resolver', async () => {
    const q: Querier = {
      async query(name, type) {
        const message: Message = { id: 1, flags: { qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 }, questions: [{ name, type, class: 1 }], answers: [], authorities: [], additionals: [] };
        return { message, server: { host: '127.0.0.1', port: 53 }, via: 'udp', tries: 1 };
      },
    };
    const r = await probe(q, { resolver: 'auth', zone: ZONE, now: () => 0 });
    assert.equal(r.recursive, false);
    assert.match(r.note!, /not a recursive resolver/);
    assert.deepEqual(r.methods, {});
  });
});
