// Capabilities across machines (issue 14) on loopback: two `fluxdns serve` and two `fluxdns gateway`
// processes sharing one real redis-server. A lease granted through server A admits the client at
// gateway B; `seen` and grace are shared; revoke through either server cuts the flows at both
// gateways; caps list shows a lease once with where it is used; both servers granting to many
// resolvers at once never lease an address twice; and the faults: Redis killed and restarted from
// its AOF, a server killed and restarted, a gateway restarted — no live lease lost.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { freePort } from '../helpers/ports.js';
import { startProcess, type Proc } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';
import { askA } from '../helpers/udp.js';
import { startRedis } from '../helpers/redis.js';

const TOKEN = 'redis-integration-token-0123456789';
const SVC = 'svc.multi.lab';
const dir = mkdtempSync(join(tmpdir(), 'caps-redis-it-'));

/** The backend behind the gateways: says hello, then echoes. */
function startBackend(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((s) => {
    s.on('error', () => s.destroy());
    s.write(`hello ${s.remoteAddress}\n`);
    s.on('data', (d) => s.write(`echo ${d.toString()}`));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, server })));
}

/** A connection that got the backend's hello, or undefined when the gateway refused it. */
function connect(host: string, port: number, localAddress: string): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, localAddress });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(undefined);
    }, 5000);
    sock.once('data', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.on('error', () => {});
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

async function admitted(host: string, port: number, src: string): Promise<boolean> {
  const s = await connect(host, port, src);
  s?.destroy();
  return s !== undefined;
}

const ask = (port: number, src: string, name = SVC) => askA(port, src, name);

interface ListedLease {
  id: string;
  address: string;
  resolver: string;
  phase: string;
  liveUntil: number;
  graceUntil: number;
  hosts: string[];
  nodes: Record<string, number>;
}

async function list(adminPort: number): Promise<ListedLease[]> {
  const r = await fetch(`http://127.0.0.1:${adminPort}/caps`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  return ((await r.json()) as { leases: ListedLease[] }).leases;
}

async function runCaps(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'caps', ...args], { cwd: repoRoot, name: 'fluxdns caps' });
  const e = await p.exited;
  return { code: e.code, stdout: p.stdout, stderr: p.stderr };
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await cond()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Node {
  name: string;
  yaml: string;
  file: string;
  proc: Proc;
}

/** Starts `fluxdns serve` or `fluxdns gateway` with `yaml`; resolves once it says it is ready. */
async function start(kind: 'serve' | 'gateway', name: string, yaml: string): Promise<Node> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  const proc = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, kind, '--config', file], { cwd: repoRoot, name });
  await proc.waitFor(kind === 'serve' ? /fluxdns ready/ : /fluxdns gateway ready/, 90_000, 'stdout');
  return { name, yaml, file, proc };
}

async function restart(n: Node, kind: 'serve' | 'gateway'): Promise<Node> {
  return start(kind, n.name, n.yaml);
}

const kill9 = async (n: Node) => {
  process.kill(n.proc.pid, 'SIGKILL');
  await n.proc.exited;
};

test('two servers and two gateways share one Redis: grants, seen and grace, list, revoke, race, faults', { timeout: 240_000 }, async (t) => {
  const redis = await startRedis();
  const backend = await startBackend();
  const nodes: Node[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.proc.stop()));
    backend.server.close();
    await redis.stop();
  });
  const [dnsA, dnsB, adminA, adminB, portA, portB] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()));
  const common = (node: string) => `pools: [{ name: multi, prefixes: [127.82.0.0/24] }]
services:
  - { name: ${SVC}, target: "127.0.0.1:${backend.port}", ports: [tcp/${portA}, tcp/${portB}], pool: multi, ttl: 2, grace: 60 }
state: { backend: redis, url: "${redis.url}", prefix: "it:", node: ${node} }
rrl: off
log: { level: warn }
`;
  const server = (node: string, dns: number, admin: number) => `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }]
capabilities:
  slack: 1
  quarantine: 600
  exhaustion: refuse
  admin: { listen: "127.0.0.1:${admin}", token: ${TOKEN} }
${common(node)}`;
  const gateway = (node: string, port: number) => `gateway:
  listeners: [{ prefixes: [127.82.0.0/24], ports: [tcp/${port}] }]
capabilities: { slack: 1, quarantine: 600 }
${common(node)}`;
  let srvA = await start('serve', 'server-a', server('server-a', dnsA, adminA));
  nodes.push(srvA);
  const srvB = await start('serve', 'server-b', server('server-b', dnsB, adminB));
  nodes.push(srvB);
  const gwA = await start('gateway', 'gw-a', gateway('gw-a', portA));
  nodes.push(gwA);
  let gwB = await start('gateway', 'gw-b', gateway('gw-b', portB));
  nodes.push(gwB);

  await t.test('a lease granted through server A admits the client at gateway B (and A); server B answers the same lease', async () => {
    const r = await ask(dnsA, '127.0.0.1');
    assert.equal(r.rcode, 'NOERROR');
    assert.match(r.address!, /^127\.82\.0\.\d+$/);
    assert.equal(await admitted(r.address!, portB, '127.0.0.1'), true, 'gateway B admits a lease server A granted');
    assert.equal(await admitted(r.address!, portA, '127.0.0.1'), true, 'gateway A too');
    const other = r.address === '127.82.0.9' ? '127.82.0.10' : '127.82.0.9';
    assert.equal(await admitted(other, portB, '127.0.0.1'), false, 'an address without a lease is refused');
    const again = await ask(dnsB, '127.0.0.1');
    assert.deepEqual(again, r, 'server B answers the resolver with the same lease');
  });

  await t.test('caps list through either server shows the lease once, with the gateways that use it', async () => {
    const address = (await ask(dnsA, '127.0.0.1')).address!;
    const a = await connect(address, portA, '127.0.0.1');
    const b = await connect(address, portB, '127.0.0.1');
    assert.ok(a && b);
    // A gateway reports a flow's open and close to the store as they happen; the previous test's probes
    // may still be closing, so wait (bounded) until the counts are this test's two flows.
    const want = { 'gw-a': 1, 'gw-b': 1 };
    let fromB = await list(adminB);
    for (const until = Date.now() + 10_000; !isDeepStrictEqual(fromB[0]?.nodes, want) && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 100));
      fromB = await list(adminB);
    }
    assert.deepEqual(fromB.map((l) => l.address), [address]);
    assert.deepEqual(fromB[0]!.nodes, want);
    assert.deepEqual(await list(adminA), fromB);
    const text = await runCaps(['list', '--admin', `127.0.0.1:${adminA}`, '--token', TOKEN]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.split('\n').filter((l) => l.includes(address)).length, 1);
    assert.match(text.stdout, /shared store \(node server-a\)/);
    assert.match(text.stdout, /at gw-a:1,gw-b:1\n/);
    a.destroy();
    b.destroy();
  });

  await t.test('seen and grace are shared: a source seen at gateway A keeps access at gateway B after the TTL; a new one does not', async () => {
    const [l] = await list(adminA);
    assert.ok(l!.hosts.includes('127.0.0.1'));
    await sleepUntil(l!.liveUntil + 200);
    assert.ok(Date.now() < l!.graceUntil - 5000, 'still in grace');
    assert.equal(await admitted(l!.address, portB, '127.0.0.7'), false, 'a source never seen is refused in grace');
    assert.equal(await admitted(l!.address, portB, '127.0.0.1'), true, 'the seen source is admitted in grace at the other gateway');
  });

  await t.test('caps revoke through server B cuts the flows at both gateways and reports each', async (t) => {
    const [l] = await list(adminA);
    const a = await connect(l!.address, portA, '127.0.0.1');
    const b = await connect(l!.address, portB, '127.0.0.1');
    assert.ok(a && b, 'the seen source opens flows at both gateways');
    const closed = [a, b].map((s) => new Promise((r) => s.once('close', r)));
    const open = (await list(adminA))[0]!.nodes;
    assert.ok(open['gw-a']! >= 1 && open['gw-b']! >= 1, JSON.stringify(open));
    const rev = await runCaps(['revoke', l!.address, '--admin', `127.0.0.1:${adminB}`, '--token', TOKEN]);
    assert.equal(rev.code, 0, rev.stderr);
    // Each gateway reports the flows it cut: those the store counted open there.
    const total = open['gw-a']! + open['gw-b']!;
    assert.match(rev.stdout, new RegExp(`revoked 1 lease\\(s\\), cut ${total} flow\\(s\\) \\(gw-a: ${open['gw-a']}, gw-b: ${open['gw-b']}, server-a: 0, server-b: 0\\)`));
    await Promise.all(closed);
    assert.equal(await admitted(l!.address, portA, '127.0.0.1'), false);
    assert.equal(await admitted(l!.address, portB, '127.0.0.1'), false);
    assert.equal((await list(adminA))[0]!.phase, 'quarantine');
  });

  await t.test('both servers granting to 80 resolvers at once: no address is leased twice', async () => {
    const answers = await Promise.all(Array.from({ length: 80 }, (_, i) => ask(i % 2 === 0 ? dnsA : dnsB, `127.0.2.${i + 1}`)));
    const granted = answers.filter((a) => a.rcode === 'NOERROR').map((a) => a.address!);
    assert.equal(granted.length, 80, answers.filter((a) => a.rcode !== 'NOERROR').map((a) => a.rcode).join(','));
    assert.equal(new Set(granted).size, 80, 'distinct addresses');
    const leases = (await list(adminA)).filter((l) => l.resolver.startsWith('127.0.2.'));
    assert.equal(leases.length, 80);
    assert.equal(new Set(leases.map((l) => l.address)).size, 80);
    const revoked = (await list(adminA)).find((l) => l.phase === 'quarantine')!;
    assert.ok(!granted.includes(revoked.address), 'the revoked address rests in quarantine');
  });

  await t.test('Redis killed (-9) and restarted from its AOF: every live lease is still there, grants resume', async () => {
    const before = await list(adminA);
    const live = before.find((l) => l.resolver === '127.0.2.1')!;
    const established = await connect(live.address, portA, '127.0.0.1');
    assert.ok(established);
    await redis.kill();
    assert.equal((await ask(dnsA, '127.0.3.1')).rcode, 'SERVFAIL', 'with Redis down a grant fails closed');
    assert.equal(await admitted(live.address, portB, '127.0.0.1'), false, 'a new flow is refused while the leases cannot be read');
    established.write('still here\n');
    assert.equal(await new Promise((r) => established.once('data', (d) => r(d.toString()))), 'echo still here\n', 'an established flow keeps working');
    await redis.restart();
    const gap = await until('grants after the Redis restart', async () => (await ask(dnsA, '127.0.3.2')).rcode === 'NOERROR');
    t.diagnostic(`grants resumed ${gap} ms after redis-server was ready again`);
    const afterRestart = await list(adminA);
    const ids = new Set(afterRestart.map((l) => l.id));
    assert.equal(before.filter((l) => !ids.has(l.id)).length, 0, 'no lease lost');
    assert.equal(afterRestart.length, before.length + 1);
    // The gateway reconnects to Redis on its own schedule (a server's grant succeeding says nothing about it).
    await until('a lease from before the crash admits at the gateways', () => admitted(live.address, portA, '127.0.0.1'), 10_000);
    established.write('after\n');
    assert.equal(await new Promise((r) => established.once('data', (d) => r(d.toString()))), 'echo after\n');
    established.destroy();
  });

  await t.test('a server killed (-9) and restarted: its leases keep working at the gateways, and it resumes granting', async () => {
    const fresh = await ask(dnsA, '127.0.4.1');
    assert.equal(fresh.rcode, 'NOERROR');
    const count = (await list(adminB)).length;
    await kill9(srvA);
    assert.equal(await admitted(fresh.address!, portB, '127.0.0.2'), true, 'gateway B admits a lease of the dead server');
    srvA = await restart(srvA, 'serve');
    nodes.push(srvA);
    const listed = await list(adminA);
    assert.equal(listed.length, count, 'the restarted server lists the same leases');
    assert.ok(listed.some((l) => l.address === fresh.address && l.resolver === '127.0.4.1'));
    assert.equal(await admitted(fresh.address!, portA, '127.0.0.2'), true, 'the lease still admits its seen source');
    const next = await ask(dnsA, '127.0.4.2');
    assert.equal(next.rcode, 'NOERROR', 'and it grants new leases');
    assert.equal(await admitted(next.address!, portB, '127.0.0.1'), true);
  });

  await t.test('a gateway restarted re-admits the live leases', async () => {
    const r = await ask(dnsB, '127.0.4.3');
    assert.equal(await admitted(r.address!, portA, '127.0.0.1'), true);
    await kill9(gwB);
    gwB = await restart(gwB, 'gateway');
    nodes.push(gwB);
    // Live, or in grace for the source seen at gateway A (the restart may outlast TTL + slack).
    assert.equal(await admitted(r.address!, portB, '127.0.0.1'), true);
    const l = (await list(adminA)).find((x) => x.address === r.address)!;
    if (Date.now() > l.liveUntil) assert.equal(await admitted(r.address!, portB, '127.0.0.9'), false, 'an unseen source in grace');
  });
});

test('memory store with a file: leases survive kill -9 of the server; their addresses stay out of the draw', { timeout: 120_000 }, async () => {
  const backend = await startBackend();
  const [dns, svcPort] = [await freePort(), await freePort()];
  const file = join(dir, 'mem-leases');
  const yaml = `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }]
gateway:
  listeners: [{ prefixes: [127.83.0.0/30], ports: [tcp/${svcPort}] }]
pools: [{ name: tiny, prefixes: [127.83.0.0/30] }]
services:
  - { name: ${SVC}, target: "127.0.0.1:${backend.port}", ports: [tcp/${svcPort}], pool: tiny, ttl: 30, grace: 60 }
capabilities: { exhaustion: refuse }
state: { backend: memory, file: ${JSON.stringify(file)} }
log: { level: warn }
`;
  let srv = await start('serve', 'mem', yaml);
  after(async () => {
    await srv.proc.stop();
    backend.server.close();
  });
  // Lease the whole pool.
  const granted = [];
  for (let i = 1; i <= 5; i++) {
    const r = await ask(dns, `127.0.5.${i}`);
    if (r.rcode !== 'NOERROR') break;
    granted.push(r);
  }
  assert.ok(granted.length >= 2 && granted.length <= 4, `granted ${granted.length}`);
  assert.equal((await ask(dns, '127.0.5.9')).rcode, 'SERVFAIL', 'the pool is exhausted');
  await kill9(srv);
  srv = await restart(srv, 'serve');
  assert.equal((await ask(dns, '127.0.5.6')).rcode, 'SERVFAIL', 'after the crash every address is still leased');
  assert.deepEqual(await ask(dns, '127.0.5.2'), granted[1], 'a resolver gets its lease back (TTL 30 s)');
  assert.equal(await admitted(granted[0]!.address!, svcPort, '127.0.0.1'), true, 'and the translation is in force');
});

test('workers: 2 with services on the Redis store: both workers grant from one lease table', { timeout: 120_000 }, async () => {
  const redis = await startRedis({ aof: false });
  const [dns, adminPort] = [await freePort(), await freePort()];
  const yaml = `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }]
workers: 2
pools: [{ name: w, prefixes: [127.85.0.0/24] }]
services:
  - { name: ${SVC}, target: "127.0.0.1:9", ports: [tcp/80], pool: w, ttl: 30 }
capabilities: { exhaustion: refuse, admin: { listen: "127.0.0.1:${adminPort}", token: ${TOKEN} } }
# 40 grants at once from two workers: at load 20 a command can outlast the 500 ms default and fail closed (SERVFAIL).
state: { backend: redis, url: "${redis.url}", timeoutMs: 5000 }
log: { level: warn }
`;
  const srv = await start('serve', 'workers', yaml);
  after(async () => {
    await srv.proc.stop();
    await redis.stop();
  });
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(dns, `127.0.8.${i + 1}`)));
  assert.deepEqual([...new Set(answers.map((a) => a.rcode))], ['NOERROR']);
  assert.equal(new Set(answers.map((a) => a.address)).size, 40, 'no address twice across the workers');
  // Each resolver asking again gets its own lease back, whichever worker answers.
  for (const [i, a] of answers.slice(0, 8).entries()) assert.deepEqual(await ask(dns, `127.0.8.${i + 1}`), a);
});
