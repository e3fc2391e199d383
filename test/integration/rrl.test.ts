// Response rate limiting over loopback: a burst of identical queries from one client is answered,
// truncated (slip) and dropped in the counts BIND's semantics give; so is a burst of distinct names
// under one wildcard (counted by the wildcard's parent), in JS and in the UDP addon's replays, and
// under a policy's name pattern (by its fixed suffix) or in an echo zone (by its apex; their replays:
// src/transport/udp-replay.test.ts); TCP, valid cookies and exempt prefixes are not limited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns } from '../helpers/servers.js';

after(() => stopAll());

// Names of their own (a..e) for the tests of one name's bucket; wildcards *.w and *.v for the tests of
// names a wildcard answers, which all count as its parent's (w.rl.lab, v.rl.lab).
const ZONE =
  `$ORIGIN rl.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n*.w A 198.51.100.80\n*.v A 198.51.100.80\n` +
  ['a', 'b', 'c', 'd', 'e'].map((n) => `${n} A 198.51.100.80\n`).join('');

// Rules that synthesize answers for any name below them: policy patterns *.dyn and *.pool (random
// addresses from a pool), an exact-name policy, and the echo zone ec.lab (seed 003: `A.B.C.D.00.ec.lab`
// answers A A.B.C.D).
const SYNTHESIZED =
  'pools:\n  - { name: p, prefixes: [198.18.20.0/24] }\n' +
  'policies:\n' +
  '  - { match: { qname: "*.dyn.rl.lab" }, action: { pool: p } }\n' +
  '  - { match: { qname: ["*.pool.rl.lab", "exact.rl.lab", "exact2.rl.lab"] }, action: { pool: p } }\n' +
  'echo:\n  - { zone: ec.lab., nsAddress: 127.0.0.1 }\n';

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(rrl: string, extra = ''): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-rrl-'));
  const zoneFile = join(dir, 'rl.lab.zone');
  writeFileSync(zoneFile, ZONE);
  const port = await freePort();
  const yaml = `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n  - { proto: tcp, address: "127.0.0.1:${port}" }\nrrl: ${rrl}\n${extra}zones:\n  - { name: rl.lab., file: ${JSON.stringify(zoneFile)} }\n`;
  // The readiness probe asks rl.lab SOA: a bucket of its own, unused by the tests.
  await startFluxdns(yaml, port, 'rl.lab.');
  return port;
}

interface Counts {
  answered: number;
  truncated: number;
  dropped: number;
}

/**
 * Sends `n` queries for `name` (or for name(i), the i-th) back to back from one socket, then waits for
 * stragglers; a response with TC=1 and no records counts as truncated, one with the answer as answered.
 */
function burst(port: number, name: string | ((i: number) => string), n: number, cookie?: Buffer): Promise<Counts> {
  const s = dgram.createSocket('udp4');
  const got = new Map<number, packet.Packet>();
  s.on('message', (m) => {
    const p = packet.decode(m);
    got.set(p.id!, p);
  });
  return new Promise((resolve) => {
    s.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < n; i++) {
        const q = packet.encode({
          type: 'query',
          id: i + 1,
          flags: 0,
          questions: [{ name: typeof name === 'string' ? name : name(i), type: 'A', class: 'IN' }],
          additionals: cookie ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 10, data: cookie }] } as unknown as packet.Answer] : [],
        });
        s.send(q, port, '127.0.0.1');
      }
      setTimeout(() => {
        s.close();
        const all = [...got.values()];
        const truncated = all.filter((p) => (p.flags! & packet.TRUNCATED_RESPONSE) !== 0);
        for (const t of truncated) assert.equal((t.answers ?? []).length, 0, 'a slipped response carries no records');
        const answered = all.length - truncated.length;
        for (const a of all.filter((p) => !truncated.includes(p))) assert.equal((a.answers ?? []).length, 1);
        resolve({ answered, truncated: truncated.length, dropped: n - all.length });
      }, 500);
    });
  });
}

describe('rrl with replays (the UDP addon answers cache hits itself and checks rrl there)', () => {
  test('rrl on: dig gets replayed answers, and a burst is limited exactly as without replays', async () => {
    const metricsPort = await freePort();
    const port = await serve('{ responsesPerSecond: 2, slip: 2 }', `metrics: { listen: "127.0.0.1:${metricsPort}" }\n`);
    const replayed = () => metric(metricsPort, 'fluxdns_answer_cache_replayed_total');
    // dig (EDNS, no cookie): asked half a second apart, within the rate; the answer is cached, then kept
    // by the addon, then replayed.
    for (let i = 0; i < 4; i++) {
      const r = await dig(port, 'd.rl.lab', 'A');
      assert.deepEqual(r.answer.map((a) => a.data), ['198.51.100.80'], `dig ${i}`);
      await sleep(550);
    }
    assert.ok((await replayed()) >= 1, 'dig was answered by a replay');
    // Queries without EDNS (another key): three, half a second apart, then a second for the bucket to fill.
    for (let i = 0; i < 3; i++) await burst(port, 'e.rl.lab', 1);
    await sleep(600);
    const before = await replayed();
    // The bucket's two credits go to two replays; the 18 other queries are limited by the engine's rrl on
    // the bucket the addon spent: alternately dropped and truncated, as in the bursts above.
    assert.deepEqual(await burst(port, 'e.rl.lab', 20), { answered: 2, truncated: 9, dropped: 9 });
    assert.equal((await replayed()) - before, 2, 'the two answers were replays');
  });

  test("names under one wildcard: the addon's replays spend the wildcard parent's bucket, as the engine does", async () => {
    const metricsPort = await freePort();
    const port = await serve('{ responsesPerSecond: 4, slip: 2 }', `metrics: { listen: "127.0.0.1:${metricsPort}" }\n`);
    const replayed = () => metric(metricsPort, 'fluxdns_answer_cache_replayed_total');
    // Two names, three asks each, interleaved within the rate: stored on the second ask, kept by the addon.
    for (let i = 0; i < 3; i++) {
      for (const n of ['r1.w.rl.lab', 'r2.w.rl.lab']) {
        assert.deepEqual(await burst(port, n, 1), { answered: 1, truncated: 0, dropped: 0 });
        await sleep(300);
      }
    }
    await sleep(1100);
    const before = await replayed();
    // One bucket, w.rl.lab A, with 4 credits: 4 replays, then the engine limits the other 16 on it (with a
    // bucket per name, each name's 4 credits made 8 answers).
    assert.deepEqual(await burst(port, (i) => `r${(i % 2) + 1}.w.rl.lab`, 20), { answered: 4, truncated: 8, dropped: 8 });
    assert.equal((await replayed()) - before, 4, 'the four answers were replays');
  });
});

describe('rrl', () => {
  let port = 0;
  before(async () => {
    // 2 per second, slip 2: a burst of 30 within well under a second gets 2 answers, then the 28
    // limited responses alternate drop, truncated.
    port = await serve('{ responsesPerSecond: 2, slip: 2 }', 'cookies: { mode: answer }\n');
  });

  test('a burst of identical queries: 2 answered, 14 truncated, 14 dropped', async () => {
    assert.deepEqual(await burst(port, 'a.rl.lab', 30), { answered: 2, truncated: 14, dropped: 14 });
  });

  test("distinct names under one wildcard share its parent's bucket (BIND: random.wild.example); another wildcard has its own", async () => {
    // 30 names, one to three labels below w.rl.lab, asked once each: as limited as 30 asks of one name.
    assert.deepEqual(await burst(port, (i) => (i % 3 === 0 ? `x${i}.y${i}.w.rl.lab` : `n${i}.w.rl.lab`), 30), { answered: 2, truncated: 14, dropped: 14 });
    assert.deepEqual(await burst(port, (i) => `n${i}.v.rl.lab`, 6), { answered: 2, truncated: 2, dropped: 2 });
  });

  test('dig sees a truncated answer and falls back to TCP, which is never limited', async () => {
    await burst(port, 'b.rl.lab', 10);
    const out = await new Promise<string>((res) =>
      execFile('dig', ['@127.0.0.1', '-p', String(port), '+norec', '+nocookie', '+time=1', '+tries=1', 'b.rl.lab', 'A'], (_e, o) => res(o)),
    );
    // The limited response is either dropped (dig times out) or truncated (dig retries over TCP).
    if (!/timed out/.test(out)) assert.match(out, /Truncated, retrying in TCP mode[\s\S]*198\.51\.100\.80/, out);
    for (let i = 0; i < 5; i++) assert.equal((await dig(port, 'b.rl.lab', 'A', { tcp: true })).answer.length, 1);
  });

  test('a valid server cookie exempts the client: a burst of 30 is answered in full', async () => {
    const first = await dig(port, 'c.rl.lab', 'A', { extra: ['+cookie=0102030405060708'] });
    const m = /COOKIE: ([0-9a-f]{48})/.exec(first.raw);
    assert.ok(m, first.raw);
    assert.deepEqual(await burst(port, 'c.rl.lab', 30, Buffer.from(m[1]!, 'hex')), { answered: 30, truncated: 0, dropped: 0 });
    // A client cookie alone proves nothing.
    assert.notEqual((await burst(port, 'c.rl.lab', 10, Buffer.from('0102030405060708', 'hex'))).answered, 10);
  });

  test('slip 0 drops every limited response; exempt prefixes and logOnly answer everything', async () => {
    const zero = await serve('{ responsesPerSecond: 2, slip: 0 }');
    assert.deepEqual(await burst(zero, 'a.rl.lab', 20), { answered: 2, truncated: 0, dropped: 18 });
    const exempt = await serve('{ responsesPerSecond: 2, exempt: ["127.0.0.0/8"] }');
    assert.deepEqual(await burst(exempt, 'a.rl.lab', 20), { answered: 20, truncated: 0, dropped: 0 });
    const logOnly = await serve('{ responsesPerSecond: 2, logOnly: true }');
    assert.deepEqual(await burst(logOnly, 'a.rl.lab', 20), { answered: 20, truncated: 0, dropped: 0 });
  });
});

describe('rrl of answers a policy pattern or an echo zone synthesizes (counted by the rule, as a wildcard by its parent)', () => {
  let port = 0;
  before(async () => {
    port = await serve('{ responsesPerSecond: 2, slip: 2 }', SYNTHESIZED);
  });

  test('30 distinct names under a policy pattern share its fixed suffix\'s bucket; another pattern has its own, an exact name too', async () => {
    // Random pool addresses for 30 names one or two labels below dyn.rl.lab: as limited as 30 asks of one name.
    assert.deepEqual(await burst(port, (i) => (i % 3 === 0 ? `x${i}.y${i}.dyn.rl.lab` : `n${i}.dyn.rl.lab`), 30), { answered: 2, truncated: 14, dropped: 14 });
    assert.deepEqual(await burst(port, (i) => `n${i}.pool.rl.lab`, 6), { answered: 2, truncated: 2, dropped: 2 });
    // The same policy's exact names are fixed names: a bucket each.
    assert.deepEqual(await burst(port, (i) => (i % 2 === 0 ? 'exact.rl.lab' : 'exact2.rl.lab'), 8), { answered: 4, truncated: 2, dropped: 2 });
  });

  test("30 distinct names in an echo zone share the apex's bucket", async () => {
    assert.deepEqual(await burst(port, (i) => `198.51.${i}.${i % 7}.00.ec.lab`, 30), { answered: 2, truncated: 14, dropped: 14 });
  });
});
