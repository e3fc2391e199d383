// Redis Sentinel failover under fluxdns (issue 14): a primary, two replicas and a sentinel (real
// redis-server and redis-sentinel); fluxdns finds the primary through the sentinel and, with
// `waitReplicas: 1`, answers a grant only once a replica holds it (a grant no replica acknowledges
// fails closed). The primary is killed (-9): grants fail closed until the sentinel promotes a
// replica, then resume on it, and every lease answered before the failover still admits at the gateway. The gap between
// the kill and the first grant after it is printed (README: State store, "Sentinel failover").
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { freePort } from '../helpers/ports.js';
import { startProcess } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';
import { askA } from '../helpers/udp.js';
import { startRedis, startSentinel } from '../helpers/redis.js';

const TOKEN = 'sentinel-integration-token-0123456789';

const ask = (port: number, src: string, name = 'svc.sentinel.lab') => askA(port, src, name, 3000);

function admitted(host: string, port: number, src: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: src });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(5000, () => done(false));
    s.once('data', () => done(true));
    s.on('error', () => {});
    s.once('close', () => resolve(false));
  });
}

async function redisInfo(port: number, section: string): Promise<string> {
  const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
  c.on('error', () => {});
  await c.connect();
  try {
    return await c.info(section);
  } finally {
    await c.disconnect();
  }
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Sentinel failover: grants fail closed while no primary answers, then resume on the promoted replica; no replicated lease lost', { timeout: 120_000 }, async (t) => {
  const primary = await startRedis();
  // Two replicas: with waitReplicas: 1 the promoted one needs a replica of its own to grant again.
  const replica = await startRedis({ replicaOf: primary.port });
  const replica2 = await startRedis({ replicaOf: primary.port });
  after(async () => {
    await Promise.all([primary.stop(), replica.stop(), replica2.stop()]);
  });
  for (const r of [replica, replica2]) await until('the replicas in sync', async () => /master_link_status:up/.test(await redisInfo(r.port, 'replication')));
  const sentinel = await startSentinel(primary.port, 'fxprimary');
  after(() => sentinel.stop());
  // The sentinel knows the replicas (from the primary's INFO) before a failover can pick one.
  await until('the sentinel to see the replicas', async () => {
    const c = createClient({ socket: { host: '127.0.0.1', port: sentinel.port, reconnectStrategy: false } });
    c.on('error', () => {});
    await c.connect();
    try {
      const r = (await c.sendCommand(['SENTINEL', 'REPLICAS', 'fxprimary'])) as unknown[];
      return r.length === 2;
    } finally {
      await c.disconnect();
    }
  });

  const backend = net.createServer((s) => {
    s.on('error', () => s.destroy());
    s.end('hello\n');
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  after(() => backend.close());
  const backendPort = (backend.address() as net.AddressInfo).port;
  const [dns, svcPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'caps-sentinel-'));
  const file = join(dir, 'fluxdns.yaml');
  writeFileSync(
    file,
    `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }]
gateway:
  listeners: [{ prefixes: [127.84.0.0/24], ports: [tcp/${svcPort}] }]
pools: [{ name: s, prefixes: [127.84.0.0/24] }]
services:
  - { name: svc.sentinel.lab, target: "127.0.0.1:${backendPort}", ports: [tcp/${svcPort}], pool: s, ttl: 30, grace: 60 }
capabilities: { admin: { listen: "127.0.0.1:${adminPort}", token: ${TOKEN} } }
state:
  backend: redis
  timeoutMs: 300
  waitReplicas: 1
  node: sentinel-test
  sentinel: { sentinels: ["127.0.0.1:${sentinel.port}"], name: fxprimary }
log: { level: info }
`,
  );
  const srv = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', file], { cwd: repoRoot, name: 'fluxdns sentinel' });
  after(() => srv.stop());
  await srv.waitFor(/fluxdns ready/, 90_000, 'stdout');

  const before: string[] = [];
  for (let i = 1; i <= 10; i++) {
    const r = await ask(dns, `127.0.6.${i}`);
    assert.equal(r.rcode, 'NOERROR');
    before.push(r.address!);
  }
  // waitReplicas: 1 — a grant is answered only once the replica has it. With the replica stopped, a
  // grant fails closed (and its claim is released) instead of being answered unreplicated.
  for (const r of [replica, replica2]) process.kill(r.proc.pid, 'SIGSTOP');
  const unreplicated = await ask(dns, '127.0.6.99');
  for (const r of [replica, replica2]) process.kill(r.proc.pid, 'SIGCONT');
  assert.notEqual(unreplicated.rcode, 'NOERROR', 'a grant the replica did not acknowledge is not answered');
  assert.equal(unreplicated.address, undefined);
  assert.match(srv.stdout + srv.stderr, /grant not on 1 replica\(s\) within 300 ms/);
  // No waiting for replication before the crash: every answered grant is already on the replica.

  await primary.kill();
  const killedAt = Date.now();
  let failed = 0;
  let n = 0;
  let resumedAt = 0;
  while (Date.now() - killedAt < 60_000) {
    const r = await ask(dns, `127.0.7.${(n++ % 250) + 1}`);
    if (r.rcode === 'NOERROR') {
      resumedAt = Date.now();
      break;
    }
    assert.notEqual(r.rcode, 'TIMEOUT', 'no query hangs while Redis is away');
    failed++;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(resumedAt > 0, 'grants resumed on the promoted replica');
  assert.ok(failed > 0, 'grants failed closed while no primary answered');
  t.diagnostic(`sentinel failover: grants resumed ${resumedAt - killedAt} ms after kill -9 of the primary (down-after-milliseconds 1000); ${failed} grants failed closed meanwhile`);
  assert.match(srv.stdout + srv.stderr, new RegExp(`primary now redis://127\\.0\\.0\\.1:(${replica.port}|${replica2.port})`));

  const res = await fetch(`http://127.0.0.1:${adminPort}/caps`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const leases = ((await res.json()) as { leases: { address: string }[] }).leases.map((l) => l.address);
  assert.deepEqual(before.filter((a) => !leases.includes(a)), [], 'every lease granted before the failover is on the new primary');
  assert.equal(await admitted(before[0]!, svcPort, '127.0.0.1'), true, 'and admits at the gateway');
});
