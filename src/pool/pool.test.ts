// Pools: exact span arithmetic, exclusions, and uniform answers for 1,000,000 distinct names (chi-square).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, formatAddress } from '../net/cidr.js';
import { parseConfigText } from '../config/load.js';
import { Engine } from '../answer/engine.js';
import { createUnits } from '../answer/units.js';
import { encodeMessage, queryMessage } from '../wire/message.js';
import { ZoneSet } from '../zone/tree.js';
import type { TransportInfo } from '../answer/context.js';
import { AddressPool } from './pool.js';
import { CryptoRandom, randomBelow, randomBelowNumber, type RandomSource } from './random.js';

const cidr = (s: string) => parseCidr(s)!;

/** Yields the bytes of a counter, so draws walk through every value in order. */
class Counter implements RandomSource {
  private n = 0;
  constructor(private readonly width: number) {}
  fill(out: Uint8Array): void {
    let v = this.n++;
    for (let i = out.length - 1; i >= 0; i--) {
      out[i] = i >= out.length - this.width ? v & 0xff : 0;
      v >>>= 8;
    }
  }
}

test('an IPv4 /24 offers 254 hosts: no network or broadcast address', () => {
  const pool = new AddressPool('p', [cidr('198.18.0.0/24')]);
  assert.equal(pool.size(4), 254n);
  const rng = new Counter(1);
  const seen = new Set<string>();
  for (let i = 0; i < 254; i++) seen.add(formatAddress(pool.pick(4, rng)!));
  assert.equal(seen.size, 254);
  assert.ok(!seen.has('198.18.0.0') && !seen.has('198.18.0.255'));
  assert.ok(seen.has('198.18.0.1') && seen.has('198.18.0.254'));
});

test('/31 and /32 prefixes keep every address (RFC 3021)', () => {
  assert.equal(new AddressPool('p', [cidr('198.18.0.0/31'), cidr('198.18.0.9/32')]).size(4), 3n);
});

test('exclusions and overlapping prefixes', () => {
  const pool = new AddressPool('p', [cidr('198.18.0.0/24'), cidr('198.18.0.128/25')], [cidr('198.18.0.0/25'), cidr('198.18.0.200/30')]);
  // .128–.254 (127 addresses) minus .200–.203.
  assert.equal(pool.size(4), 123n);
  const rng = new CryptoRandom();
  for (let i = 0; i < 2000; i++) {
    const a = pool.pick(4, rng)!;
    const last = a.bytes[3]!;
    assert.ok(last >= 128 && last <= 254 && (last < 200 || last > 203), formatAddress(a));
  }
  assert.equal(new AddressPool('p', [cidr('198.18.0.0/24')], [cidr('198.18.0.0/24')]).has(4), false);
});

test('IPv6 pools have 2^(128-L) addresses and draw inside the prefix', () => {
  const pool = new AddressPool('p', [cidr('2001:db8:18::/64')]);
  assert.equal(pool.size(6), 1n << 64n);
  assert.equal(pool.has(4), false);
  const rng = new CryptoRandom();
  for (let i = 0; i < 1000; i++) assert.match(formatAddress(pool.pick(6, rng)!), /^2001:db8:18:0?:/);
});

test('pickDistinct gives distinct addresses and never more than the pool holds', () => {
  const pool = new AddressPool('p', [cidr('198.18.0.0/30')]);
  const rng = new CryptoRandom();
  assert.equal(pool.pickDistinct(4, 5, rng).length, 2);
  const three = new AddressPool('p', [cidr('198.18.0.0/24')]).pickDistinct(4, 3, rng).map(formatAddress);
  assert.equal(new Set(three).size, 3);
});

test('randomBelow is exact at the edges', () => {
  const rng = new CryptoRandom();
  for (const n of [1n, 2n, 255n, 256n, 257n, (1n << 64n) + 1n]) {
    for (let i = 0; i < 200; i++) {
      const v = randomBelow(n, rng);
      assert.ok(v >= 0n && v < n);
    }
  }
});

/** A byte stream that can be replayed: two consumers given equal seeds see the same bytes. */
class Replay implements RandomSource {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }
  fill(out: Uint8Array): void {
    for (let i = 0; i < out.length; i++) {
      // xorshift32
      this.x ^= this.x << 13;
      this.x ^= this.x >>> 17;
      this.x ^= this.x << 5;
      out[i] = this.x & 0xff;
    }
  }
}

test('randomBelowNumber draws the same bytes and gives the same value as randomBelow', () => {
  for (const n of [1, 2, 3, 255, 256, 257, 65535, 65536, 131070, 2 ** 31 + 5, 2 ** 32, 2 ** 48]) {
    const a = new Replay(n);
    const b = new Replay(n);
    for (let i = 0; i < 300; i++) assert.equal(randomBelowNumber(n, a), Number(randomBelow(BigInt(n), b)), `n=${n} draw ${i}`);
  }
  assert.throws(() => randomBelowNumber(0, new Replay(1)), RangeError);
  assert.throws(() => randomBelowNumber(2 ** 48 + 1, new Replay(1)), RangeError);
});

test('pickText is the text of the address pick() draws from the same bytes (IPv4 spans, exclusions, IPv6)', () => {
  const pools = [
    new AddressPool('one', [cidr('198.18.0.0/15')]),
    new AddressPool('holes', [cidr('198.18.0.0/24'), cidr('203.0.113.0/28'), cidr('198.51.100.7/32')], [cidr('198.18.0.64/26')]),
    new AddressPool('v6', [cidr('2001:db8::/64')]),
  ];
  for (const pool of pools) {
    const family = pool.has(4) ? 4 : 6;
    const a = new Replay(7);
    const b = new Replay(7);
    for (let i = 0; i < 2000; i++) {
      const text = pool.pickText(family, a)!;
      assert.equal(text, formatAddress(pool.pick(family, b)!));
      if (family === 4) assert.ok(pool.contains(parseCidr(text)!), text);
    }
  }
  assert.equal(new AddressPool('v4only', [cidr('198.18.0.0/24')]).pickText(6, new Replay(1)), undefined);
});

/** Upper critical value of chi-square with k degrees of freedom at z standard deviations (Wilson–Hilferty). */
function chiSquareCritical(k: number, z: number): number {
  const a = 2 / (9 * k);
  return k * (1 - a + z * Math.sqrt(a)) ** 3;
}

function chiSquare(counts: number[], expected: number): number {
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };

/**
 * Sends `n` queries for distinct names h0000000.cdn.lab … through the real pipeline; returns each answer's
 * rdata. rrl off: from one client within a moment, the names under one pattern share one rrl bucket (a
 * policy's answers count by the pattern's suffix), which the default 200 a second would limit.
 */
function answers(config: string, type: 1 | 28, n: number, onRdata: (rdata: Uint8Array) => void): void {
  const { config: c } = parseConfigText(`rrl: off\n${config}`, 'pool.yaml', '/tmp');
  const engine = new Engine({ config: c, zones: new ZoneSet([]), generation: 1 }, createUnits());
  const query = Buffer.from(
    encodeMessage(queryMessage('h0000000.cdn.lab.', type, { id: 7 })),
  );
  const rdlen = type === 1 ? 4 : 16;
  for (let i = 0; i < n; i++) {
    // The name's eight characters at offset 13 become the query number: every name is distinct.
    query.write(i.toString(36).padStart(7, '0'), 14, 'latin1');
    const reply = engine.handle(query, udp) as Uint8Array;
    assert.equal((reply[6]! << 8) | reply[7]!, 1, 'one answer record');
    onRdata(reply.subarray(reply.length - rdlen));
  }
}

test('1,000,000 distinct names from one /24: all inside, uniform (chi-square)', () => {
  const counts = new Array<number>(256).fill(0);
  answers('pools: [{ name: cdn, prefixes: [198.18.7.0/24] }]\npolicies: [{ match: { qname: "*.cdn.lab" }, action: { pool: cdn } }]\n', 1, 1_000_000, (rd) => {
    assert.ok(rd[0] === 198 && rd[1] === 18 && rd[2] === 7);
    counts[rd[3]!]!++;
  });
  assert.equal(counts[0], 0, 'network address never answered');
  assert.equal(counts[255], 0, 'broadcast address never answered');
  const hosts = counts.slice(1, 255);
  const chi = chiSquare(hosts, 1_000_000 / 254);
  // z = 5: a correct generator fails this about once in 3.5 million runs.
  assert.ok(chi < chiSquareCritical(253, 5), `chi-square ${chi.toFixed(1)} over ${chiSquareCritical(253, 5).toFixed(1)}`);
});

test('1,000,000 distinct names from one IPv6 /64: all inside, uniform in high and low bits (chi-square)', () => {
  const high = new Array<number>(256).fill(0);
  const low = new Array<number>(256).fill(0);
  const prefix = [0x20, 0x01, 0x0d, 0xb8, 0, 0x18, 0, 0];
  answers('pools: [{ name: cdn, prefixes: ["2001:db8:18::/64"] }]\npolicies: [{ match: { qname: "*.cdn.lab" }, action: { pool: cdn } }]\n', 28, 1_000_000, (rd) => {
    for (let i = 0; i < 8; i++) if (rd[i] !== prefix[i]) assert.fail('answer outside 2001:db8:18::/64');
    high[rd[8]!]!++;
    low[rd[15]!]!++;
  });
  for (const counts of [high, low]) {
    const chi = chiSquare(counts, 1_000_000 / 256);
    assert.ok(chi < chiSquareCritical(255, 5), `chi-square ${chi.toFixed(1)}`);
  }
});
