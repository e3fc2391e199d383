// Policies on the wire: every match attribute and every action through dig and kdig, rate limits,
// ECS scope, policy-owned zones, and `fluxdns explain`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, type DigOptions, type DigResult } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot, startFluxdns, type RunningServer } from '../helpers/servers.js';

const hour = 3600_000;
const soon = new Date(Date.now() + hour).toISOString();

const ZONE = `$ORIGIN t.lab.
$TTL 300
@ SOA ns hm 1 3600 600 86400 60
  NS ns
ns A 198.51.100.1
www A 198.51.100.2
qt A 198.51.100.3
tc A 198.51.100.4
big TXT ${Array.from({ length: 3 }, (_, i) => `"${String(i).repeat(200)}"`).join(' ')}
`;

const POLICIES = `
pools:
  - { name: both, prefixes: [198.18.11.0/24, "2001:db8:11::/64"] }
  - { name: p4, prefixes: [198.18.10.0/24], exclude: [198.18.10.0/25] }
  - { name: eu, prefixes: [198.18.12.0/24] }
  - { name: us, prefixes: [198.18.13.0/24] }
policies:
  - { name: exact, match: { qname: exact.t.lab }, action: { records: ["A 203.0.113.1"] } }
  - { name: regex, match: { qname: "/^re-[0-9]+\\\\.t\\\\.lab$/" }, action: { records: ["A 203.0.113.2"] } }
  - { name: qtype, match: { qname: qt.t.lab, qtype: TXT }, action: { records: ['TXT "by policy"'] } }
  - { name: subnet, match: { qname: sub.t.lab, clientSubnet: [198.51.100.0/24] }, action: { records: ["A 203.0.113.3"] } }
  - { name: resolver, match: { qname: res.t.lab, resolver: [127.0.0.2/32] }, action: { records: ["A 203.0.113.4"] } }
  - { name: tcp-only, match: { qname: tr.t.lab, transport: tcp }, action: { records: ["A 203.0.113.5"] } }
  - { name: ecs, match: { qname: ecs.t.lab, ecs: present }, action: { records: ["A 203.0.113.6"] } }
  - { name: cookie, match: { qname: ck.t.lab, cookie: valid }, action: { records: ["A 203.0.113.7"] } }
  - { name: later, match: { qname: time.t.lab, time: { after: "${soon}" } }, action: { records: ["A 203.0.113.8"] } }
  - { name: now, match: { qname: time.t.lab, time: { before: "${soon}" } }, action: { records: ["A 203.0.113.9"] } }
  - { name: pool, match: { qname: "*.pool.t.lab" }, action: { pool: both, ttl: 20, count: 2 } }
  - { name: weighted, match: { qname: w.t.lab }, action: { weighted: [{ address: 203.0.113.10, weight: 9 }, { address: 203.0.113.11, weight: 1 }] } }
  - { name: rotate, match: { qname: rr.t.lab }, action: { rotate: [203.0.113.21, 203.0.113.22, 203.0.113.23] } }
  - { name: geo, match: { qname: geo.t.lab }, action: { geo: { subnets: { "198.51.100.0/24": eu, "203.0.113.0/24": us }, default: eu } } }
  - { match: { qname: nx.t.lab }, action: { rcode: NXDOMAIN } }
  - { match: { qname: nodata.t.lab }, action: { rcode: NODATA } }
  - { match: { qname: refused.t.lab }, action: { rcode: REFUSED } }
  - { match: { qname: servfail.t.lab }, action: { rcode: SERVFAIL } }
  - { match: { qname: drop.t.lab }, action: { drop: true } }
  - { match: { qname: tc.t.lab }, action: { truncate: true } }
  - { match: { qname: sink.t.lab }, action: { sinkhole: 198.51.100.250, ttl: 42 } }
  - { name: limited, match: { qname: rl.t.lab }, rateLimit: { qps: 0.5, burst: 3, key: client, over: { rcode: REFUSED } }, action: { records: ["A 203.0.113.30"] } }
  - { name: owned, match: { qname: "*.own.lab", qtype: [A, AAAA] }, action: { pool: p4, ttl: 15 }, zone: own.lab }
  - { name: inner, match: { qname: gone.in.t.lab }, action: { rcode: NXDOMAIN }, zone: in.t.lab }
`;

let server: RunningServer;
let port: number;
let conf: string;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-policy-'));
  writeFileSync(join(dir, 't.lab.zone'), ZONE);
  port = await freePort();
  conf = join(dir, 'fluxdns.yaml');
  const yaml = `listen:\n  - { proto: udp, address: "0.0.0.0:${port}" }\n  - { proto: tcp, address: "0.0.0.0:${port}" }\ncookies: { mode: answer }\nzones:\n  - { name: t.lab., file: t.lab.zone }\n${POLICIES}`;
  writeFileSync(conf, yaml);
  server = await startFluxdns(yaml.replace('file: t.lab.zone', `file: ${JSON.stringify(join(dir, 't.lab.zone'))}`), port, 't.lab.');
});
after(() => stopAll());

const q = (name: string, type = 'A', opts: DigOptions = {}): Promise<DigResult> => dig(port, name, type, opts);
const datas = (r: DigResult) => r.answer.map((a) => a.data);

describe('match attributes', () => {
  test('qname: exact, regex; other names fall through to the zone', async () => {
    assert.deepEqual(datas(await q('exact.t.lab')), ['203.0.113.1']);
    assert.deepEqual(datas(await q('EXACT.T.LAB')), ['203.0.113.1']);
    assert.deepEqual(datas(await q('re-42.t.lab')), ['203.0.113.2']);
    assert.equal((await q('re-x.t.lab')).rcode, 'NXDOMAIN');
    assert.deepEqual(datas(await q('www.t.lab')), ['198.51.100.2']);
  });

  test('qtype: only the listed type is decided by the policy', async () => {
    assert.deepEqual(datas(await q('qt.t.lab', 'TXT')), ['"by policy"']);
    assert.deepEqual(datas(await q('qt.t.lab', 'A')), ['198.51.100.3']);
  });

  test('clientSubnet: ECS when present (with scope), else the source address', async () => {
    const inside = await q('sub.t.lab', 'A', { extra: ['+subnet=198.51.100.7/24'] });
    assert.deepEqual(datas(inside), ['203.0.113.3']);
    assert.match(inside.raw, /CLIENT-SUBNET: 198\.51\.100\.0\/24\/24/);
    assert.equal((await q('sub.t.lab', 'A', { extra: ['+subnet=203.0.113.7/24'] })).rcode, 'NXDOMAIN');
    // A /16 reveals too little to decide a /24: no match, and the answer is valid for the whole /16.
    const coarse = await q('sub.t.lab', 'A', { extra: ['+subnet=198.51.0.0/16'] });
    assert.equal(coarse.rcode, 'NXDOMAIN');
    assert.match(coarse.raw, /CLIENT-SUBNET: 198\.51\.0\.0\/16\/16/);
    assert.equal((await q('sub.t.lab')).rcode, 'NXDOMAIN', '127.0.0.1 is not in 198.51.100.0/24');
    const kd = await q('sub.t.lab', 'A', { tool: 'kdig', extra: ['+subnet=198.51.100.9/24'] });
    assert.deepEqual(datas(kd), ['203.0.113.3']);
  });

  test('resolver: the source address', async () => {
    assert.deepEqual(datas(await q('res.t.lab', 'A', { extra: ['-b', '127.0.0.2'] })), ['203.0.113.4']);
    assert.equal((await q('res.t.lab', 'A', { extra: ['-b', '127.0.0.3'] })).rcode, 'NXDOMAIN');
  });

  test('transport and ecs presence', async () => {
    assert.deepEqual(datas(await q('tr.t.lab', 'A', { tcp: true })), ['203.0.113.5']);
    assert.equal((await q('tr.t.lab')).rcode, 'NXDOMAIN');
    assert.deepEqual(datas(await q('ecs.t.lab', 'A', { extra: ['+subnet=198.18.0.0/15'] })), ['203.0.113.6']);
    assert.equal((await q('ecs.t.lab')).rcode, 'NXDOMAIN');
  });

  test('cookie valid: only a query returning the server cookie this server issued', async () => {
    const first = await q('ck.t.lab', 'A', { extra: ['+cookie'] });
    assert.equal(first.rcode, 'NXDOMAIN', 'a client cookie alone is not a valid cookie');
    const cookie = /COOKIE: ([0-9a-f]{48,80})/.exec(first.raw)?.[1];
    assert.ok(cookie, `server cookie in ${first.raw}`);
    assert.deepEqual(datas(await q('ck.t.lab', 'A', { extra: [`+cookie=${cookie}`] })), ['203.0.113.7']);
    const forged = cookie.slice(0, -2) + (cookie.endsWith('00') ? '11' : '00');
    assert.equal((await q('ck.t.lab', 'A', { extra: [`+cookie=${forged}`] })).rcode, 'NXDOMAIN');
  });

  test('time windows: the policy after a future instant does not match yet; the one before it does', async () => {
    assert.deepEqual(datas(await q('time.t.lab')), ['203.0.113.9']);
  });
});

describe('actions', () => {
  test('pool: A and AAAA from the pool, count distinct addresses, the TTL, NODATA for other types', async () => {
    const a = await q('x.pool.t.lab');
    assert.equal(a.answer.length, 2);
    assert.notEqual(a.answer[0]!.data, a.answer[1]!.data);
    for (const r of a.answer) {
      assert.match(r.data, /^198\.18\.11\.(\d+)$/);
      assert.equal(r.ttl, 20);
      assert.ok(r.name === 'x.pool.t.lab.');
    }
    const aaaa = await q('y.pool.t.lab', 'AAAA');
    for (const r of aaaa.answer) assert.match(r.data, /^2001:db8:11:0?:/);
    const mx = await q('x.pool.t.lab', 'MX');
    assert.equal(mx.rcode, 'NOERROR');
    assert.equal(mx.answer.length, 0);
    assert.equal(mx.authority[0]?.type, 'SOA');
    // Random addresses: twenty answers are not all the same.
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add((await q(`n${i}.pool.t.lab`)).answer[0]!.data);
    assert.ok(seen.size > 5, `only ${seen.size} distinct addresses`);
  });

  test('weighted: the heavier address is answered more often', async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 120; i++) {
      const d = (await q('w.t.lab')).answer[0]!.data;
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), ['203.0.113.10', '203.0.113.11']);
    assert.ok(counts.get('203.0.113.10')! > 3 * counts.get('203.0.113.11')!, JSON.stringify([...counts]));
  });

  test('rotate: every address each time, starting one further each time', async () => {
    const firsts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await q('rr.t.lab');
      assert.deepEqual([...datas(r)].sort(), ['203.0.113.21', '203.0.113.22', '203.0.113.23']);
      firsts.push(r.answer[0]!.data);
    }
    assert.equal(new Set(firsts).size, 3);
  });

  test('geo: the client subnet picks the point of presence, else the default', async () => {
    assert.match(datas(await q('geo.t.lab', 'A', { extra: ['+subnet=203.0.113.0/24'] }))[0]!, /^198\.18\.13\./);
    assert.match(datas(await q('geo.t.lab', 'A', { extra: ['+subnet=198.51.100.0/24'] }))[0]!, /^198\.18\.12\./);
    assert.match(datas(await q('geo.t.lab'))[0]!, /^198\.18\.12\./);
  });

  test('rcode actions: NXDOMAIN and NODATA with the SOA, REFUSED, SERVFAIL', async () => {
    const nx = await q('nx.t.lab');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.ok(nx.flags.has('aa'));
    assert.equal(nx.authority[0]?.type, 'SOA');
    assert.equal(nx.authority[0]?.name, 't.lab.', "the SOA of the file zone the name is in (the query's authority)");
    const nodata = await q('nodata.t.lab');
    assert.equal(nodata.rcode, 'NOERROR');
    assert.equal(nodata.answer.length, 0);
    assert.equal(nodata.authority[0]?.type, 'SOA');
    assert.equal(nodata.authority[0]?.name, 't.lab.');
    assert.equal((await q('refused.t.lab')).rcode, 'REFUSED');
    assert.equal((await q('servfail.t.lab')).rcode, 'SERVFAIL');
  });

  test('drop: no reply at all', async () => {
    await assert.rejects(q('drop.t.lab'), /no response|timed out|no servers/i);
  });

  test('truncate: TC over UDP, the zone answer over TCP', async () => {
    const udp = await q('tc.t.lab', 'A', { extra: ['+ignore'] });
    assert.ok(udp.flags.has('tc'));
    assert.equal(udp.answer.length, 0);
    assert.deepEqual(datas(await q('tc.t.lab', 'A', { tcp: true })), ['198.51.100.4']);
  });

  test('sinkhole: a fixed address with its TTL; NODATA for other families', async () => {
    const r = await q('sink.t.lab');
    assert.deepEqual(datas(r), ['198.51.100.250']);
    assert.equal(r.answer[0]!.ttl, 42);
    const v6 = await q('sink.t.lab', 'AAAA');
    assert.equal(v6.answer.length, 0);
    assert.equal(v6.rcode, 'NOERROR');
  });

  test('rate limit: the burst is answered, then the over action applies, per client', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push((await q('rl.t.lab', 'A', { extra: ['-b', '127.0.0.5'] })).rcode);
    assert.deepEqual(codes.slice(0, 3), ['NOERROR', 'NOERROR', 'NOERROR']);
    assert.ok(codes.slice(3).includes('REFUSED'), codes.join(' '));
    // Another client has its own bucket.
    assert.equal((await q('rl.t.lab', 'A', { extra: ['-b', '127.0.0.6'] })).rcode, 'NOERROR');
  });

  test('a policy-owned zone: pool answers for any name, SOA and NS at the apex, NODATA otherwise', async () => {
    const a = await q('anything.at.all.own.lab');
    assert.ok(a.flags.has('aa'));
    assert.match(a.answer[0]!.data, /^198\.18\.10\.(1[3-9]\d|2[0-4]\d|25[0-4])$/, 'inside the pool, outside the exclusion');
    assert.equal(a.answer[0]!.ttl, 15);
    assert.equal((await q('own.lab', 'SOA')).answer[0]?.type, 'SOA');
    assert.equal((await q('own.lab', 'NS')).answer[0]?.data, 'ns1.own.lab.');
    const txt = await q('x.own.lab', 'TXT');
    assert.equal(txt.rcode, 'NOERROR');
    assert.equal(txt.authority[0]?.type, 'SOA');
    assert.equal(txt.authority[0]?.name, 'own.lab.', "the policy-owned zone's own SOA");
    // A policy-owned zone inside a file zone: its negative answers carry its own SOA, the deepest authority's.
    const inner = await q('gone.in.t.lab');
    assert.equal(inner.rcode, 'NXDOMAIN');
    assert.equal(inner.authority[0]?.name, 'in.t.lab.');
    assert.equal((await q('other.lab')).rcode, 'REFUSED');
  });
});

describe('fluxdns explain', () => {
  const explain = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', fluxdnsMain, 'explain', '--config', conf, ...args], { cwd: repoRoot, encoding: 'utf8' });

  test('names the matching policy, why the earlier ones did not match, and the answer', () => {
    const r = explain('--qname', 'sub.t.lab', '--client', '127.0.0.1', '--ecs', '198.51.100.0/24');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /policy 1 "exact": no — qname exact\.t\.lab: qname is sub\.t\.lab\./);
    assert.match(r.stdout, /policy 4 "subnet": MATCH \(qname sub\.t\.lab; clientSubnet 198\.51\.100\.0\/24\)/);
    assert.match(r.stdout, /action: records A 203\.0\.113\.3/);
    assert.match(r.stdout, /answer: NOERROR \(aa\)\n  answer:\n    sub\.t\.lab\. 300 IN A 203\.0\.113\.3/);
  });

  test('a client outside the subnet, and a name no policy matches', () => {
    const r = explain('--qname', 'sub.t.lab', '--client', '203.0.113.1');
    assert.match(r.stdout, /policy 4 "subnet": no — clientSubnet 198\.51\.100\.0\/24: the source address is in none of them/);
    assert.match(r.stdout, /no policy matched: the zones answer\nanswer: NXDOMAIN/);
    const c = explain('--qname', 'ck.t.lab', '--cookie', 'valid');
    assert.match(c.stdout, /"cookie": MATCH/);
  });

  test('bad arguments are usage errors', () => {
    assert.equal(explain('--qname', 'x.t.lab', '--client', 'nope').status, 2);
    assert.equal(explain('--client', '127.0.0.1').status, 2);
  });
});
