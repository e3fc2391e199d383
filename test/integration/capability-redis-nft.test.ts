// An nftables gateway sharing Redis with a DNS server (issue 14): `fluxdns gateway` with the nftables
// backend drives a table in a network namespace this test creates; `fluxdns serve` on the host grants.
// A lease granted before the gateway starts is in the table after its start (reconciled with the
// store); one granted while it runs arrives through the announcement; a revocation through the
// server puts the address in the table's `revoked` set. Two nftables gateways share the hosts their
// kernels record in `seen` and the scanner blocks made anywhere, while they run.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { startProcess } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';
import { askA } from '../helpers/udp.js';
import { startRedis } from '../helpers/redis.js';

const TOKEN = 'redis-nft-test-token-0123456789';
const tag = randomBytes(3).toString('hex');
const ns = `fxrn-${tag}`;
const table = `fxrn${tag}`;

const ask = (port: number, src: string, name = 'svc.nft.lab') => askA(port, src, name);

const nft = (...what: string[]) => spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', ...what], { encoding: 'utf8' }).stdout;

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('an nftables gateway in a namespace applies the grants and revocations of a server sharing its Redis', { timeout: 120_000 }, async () => {
  execFileSync('ip', ['netns', 'add', ns]);
  after(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
  });
  const redis = await startRedis({ aof: false });
  after(() => redis.stop());
  const [dns, admin] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'caps-redis-nft-'));
  const common = `pools: [{ name: n, prefixes: [198.18.40.0/24] }]
services: [{ name: svc.nft.lab, target: 198.18.41.1, ports: [tcp/8080], pool: n, ttl: 60, grace: 60 }]
state: { backend: redis, url: "${redis.url}", prefix: "nft:" }
rrl: off
log: { level: warn }
`;
  writeFileSync(join(dir, 'serve.yaml'), `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }]\ncapabilities: { admin: { listen: "127.0.0.1:${admin}", token: ${TOKEN} } }\n${common}`);
  writeFileSync(join(dir, 'gateway.yaml'), `capabilities:\n  backend: nftables\n  nftables: { table: ${table}, netns: ${ns} }\n${common}`);
  const srv = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, 'serve.yaml')], { cwd: repoRoot, name: 'serve' });
  after(() => srv.stop());
  await srv.waitFor(/fluxdns ready/, 90_000);

  const early = await ask(dns, '127.0.9.1');
  assert.equal(early.rcode, 'NOERROR');
  const gw = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'gateway', '--config', join(dir, 'gateway.yaml')], { cwd: repoRoot, name: 'gateway' });
  after(() => gw.stop());
  await gw.waitFor(/fluxdns gateway ready: no listeners \(capabilities: nftables, store shared\)/, 30_000);
  assert.match(nft('table', 'inet', table), new RegExp(early.address!.replace(/\./g, '\\.')), 'a lease granted before the gateway started is reconciled into its table');

  const late = await ask(dns, '127.0.9.2');
  assert.equal(late.rcode, 'NOERROR');
  await until('the announced grant in the table', () => nft('table', 'inet', table).includes(late.address!));

  const res = await fetch(`http://127.0.0.1:${admin}/caps/revoke`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ target: late.address }) });
  const body = (await res.json()) as { revoked: unknown[]; where: Record<string, number> };
  assert.equal(body.revoked.length, 1);
  assert.equal(Object.keys(body.where).length, 2, 'the server and the gateway answered');
  await until('the revoked address in the revoked set', () => /elements = \{[^}]*/.exec(nft('set', 'inet', table, 'revoked'))?.[0].includes(late.address!) ?? false);
});

/** One TCP connection from `src`; resolves with what ended it (the data, or the error code). */
function dial(host: string, port: number, src: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: src });
    const t = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, 3000);
    const done = (r: string) => {
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    s.on('data', (d: Buffer) => done(d.toString().trim()));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.on('close', () => done('closed'));
  });
}

test('two nftables gateways share `seen` and scanner blocks through Redis while they run', { timeout: 120_000 }, async () => {
  const nsB = `${ns}b`;
  const tableA = `${table}a`;
  const tableB = `${table}b`;
  for (const n of [`${ns}a`, nsB]) {
    execFileSync('ip', ['netns', 'add', n]);
    after(() => {
      try {
        execFileSync('ip', ['netns', 'del', n]);
      } catch {
        // already gone
      }
    });
  }
  const nftIn = (n: string, ...what: string[]) => spawnSync('ip', ['netns', 'exec', n, 'nft', ...what], { encoding: 'utf8' });
  const redis = await startRedis({ aof: false });
  after(() => redis.stop());
  const [dns, admin, svcPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'caps-redis-nft2-'));
  // The server is also a userspace gateway on loopback pool addresses (where the scanner dials); the
  // two nftables gateways hold the same pool in their namespaces' tables.
  const common = `pools: [{ name: n, prefixes: [127.84.0.0/24] }]
services: [{ name: svc.nft.lab, target: "127.0.0.1:9", ports: [tcp/${svcPort}], pool: n, ttl: 60, grace: 60 }]
state: { backend: redis, url: "${redis.url}", prefix: "nft2:" }
rrl: off
log: { level: warn }
`;
  writeFileSync(
    join(dir, 'serve.yaml'),
    `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }]
gateway:
  listeners: [{ prefixes: [127.84.0.0/24], ports: [tcp/${svcPort}] }]
capabilities:
  admin: { listen: "127.0.0.1:${admin}", token: ${TOKEN} }
  scanners: { threshold: 10, window: 60, blockFor: 600 }
${common}`,
  );
  for (const [n, t] of [[`${ns}a`, tableA], [nsB, tableB]] as const) {
    writeFileSync(join(dir, `gateway-${t}.yaml`), `capabilities:\n  backend: nftables\n  nftables: { table: ${t}, netns: ${n} }\n${common}`);
  }
  const srv = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, 'serve.yaml')], { cwd: repoRoot, name: 'serve' });
  after(() => srv.stop());
  await srv.waitFor(/fluxdns ready/, 90_000);
  for (const t of [tableA, tableB]) {
    const gw = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'gateway', '--config', join(dir, `gateway-${t}.yaml`)], { cwd: repoRoot, name: `gateway ${t}` });
    after(() => gw.stop());
    await gw.waitFor(/fluxdns gateway ready/, 60_000);
  }

  const lease = await ask(dns, '127.0.9.3', 'svc.nft.lab');
  assert.equal(lease.rcode, 'NOERROR');
  const addr = lease.address!;
  await until('the grant in both tables', () => nftIn(`${ns}a`, 'list', 'table', 'inet', tableA).stdout.includes(addr) && nftIn(nsB, 'list', 'table', 'inet', tableB).stdout.includes(addr));

  // The kernel of gateway A records a host in `seen` (as its rule does on a host's first flow):
  // gateway B admits that host in grace too, and the store lists it as a host of the lease.
  // (Checked before the add: once A's next read of its set comes, B may have it within milliseconds.)
  const seenB = () => nftIn(nsB, 'list', 'set', 'inet', tableB, 'seen').stdout;
  assert.doesNotMatch(seenB(), /127\.0\.0\.77/, 'B has not seen the host by itself');
  const add = nftIn(`${ns}a`, 'add', 'element', 'inet', tableA, 'seen', `{ 127.0.0.77 . ${addr} timeout 60s }`);
  assert.equal(add.status, 0, add.stderr);
  await until("gateway A's host in gateway B's seen set", () => new RegExp(`127\\.0\\.0\\.77 \\. ${addr.replace(/\./g, '\\.')}`).test(seenB()));
  const listed = (await (await fetch(`http://127.0.0.1:${admin}/caps`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { leases: Array<{ address: string; hosts: string[] }> };
  assert.deepEqual(listed.leases.find((l) => l.address === addr)?.hosts, ['127.0.0.77']);

  // A scanner caught by the server's userspace gateway is blocked in both kernels at once, not at their next start.
  const targets = Array.from({ length: 15 }, (_, i) => `127.84.0.${200 + i}`).filter((a) => a !== addr);
  const results = await Promise.all(targets.map((a) => dial(a, svcPort, '127.0.0.66')));
  assert.ok(results.every((r) => !r.startsWith('hello')), results.join(','));
  for (const [n, t] of [[`${ns}a`, tableA], [nsB, tableB]] as const) {
    await until(`the scanner in ${t}'s scanners set`, () => /127\.0\.0\.66/.test(nftIn(n, 'list', 'set', 'inet', t, 'scanners').stdout));
  }
});

test('two servers with nftables sharing Redis, half the pool in quarantine: each kernel holds only what the store granted', { timeout: 180_000 }, async () => {
  // Each server installs a new lease while its claim is in flight (core.ts installAhead). The first
  // address drawn is often in quarantine (revoked below) or taken by the other server at the same
  // moment; the store refuses it and the install is taken back. Afterwards both tables' live
  // elements are exactly the store's live leases: nothing the store did not grant.
  const nsA = `${ns}ra`;
  const nsB = `${ns}rb`;
  for (const n of [nsA, nsB]) {
    execFileSync('ip', ['netns', 'add', n]);
    after(() => {
      try {
        execFileSync('ip', ['netns', 'del', n]);
      } catch {
        // already gone
      }
    });
  }
  const redis = await startRedis({ aof: false });
  after(() => redis.stop());
  const dir = mkdtempSync(join(tmpdir(), 'caps-redis-nft3-'));
  const admin = await freePort();
  const servers: Array<{ dns: number; ns: string; table: string }> = [];
  for (const [n, t] of [[nsA, `${table}ra`], [nsB, `${table}rb`]] as const) {
    const dns = await freePort();
    servers.push({ dns, ns: n, table: t });
    writeFileSync(
      join(dir, `${t}.yaml`),
      `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }]
pools: [{ name: n, prefixes: [198.18.44.0/27] }]
services: [{ name: svc.nft.lab, target: 198.18.45.1, ports: [tcp/8080], pool: n, ttl: 60, grace: 60 }]
capabilities:
  backend: nftables
  exhaustion: refuse
  nftables: { table: ${t}, netns: ${n} }
${servers.length === 1 ? `  admin: { listen: "127.0.0.1:${admin}", token: ${TOKEN} }\n` : ''}state: { backend: redis, url: "${redis.url}", prefix: "race:" }
rrl: off
log: { level: warn }
`,
    );
    const srv = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, `${t}.yaml`)], { cwd: repoRoot, name: `serve ${t}` });
    after(() => srv.stop());
    await srv.waitFor(/fluxdns ready/, 90_000);
  }
  const auth = { authorization: `Bearer ${TOKEN}` };
  /** Resolvers 127.0.10.FROM… asking at once, alternately through each server: the addresses answered. */
  const burst = async (from: number, n: number) => {
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => ask(servers[i % 2]!.dns, `127.0.10.${from + i}`)));
    const got = answers.filter((a) => a.rcode === 'NOERROR' && a.address).map((a) => a.address!);
    assert.equal(got.length, n, `every resolver got a lease: ${answers.map((a) => a.rcode).join(',')}`);
    assert.equal(new Set(got).size, n, `no address answered twice: ${got.join(' ')}`);
    return got;
  };
  // Half the pool leased, then revoked: in quarantine (no new lease may take it) and not installed anywhere.
  for (const a of await burst(1, 16)) {
    const r = await fetch(`http://127.0.0.1:${admin}/caps/revoke`, { method: 'POST', headers: auth, body: JSON.stringify({ target: a }) });
    assert.equal(((await r.json()) as { revoked: unknown[] }).revoked.length, 1);
  }
  const granted = (await burst(101, 14)).sort();
  const listed = (await (await fetch(`http://127.0.0.1:${admin}/caps`, { headers: auth })).json()) as { leases: Array<{ address: string; phase: string }> };
  const stored = listed.leases.filter((l) => l.phase === 'live').map((l) => l.address).sort();
  assert.deepEqual(granted, stored, 'the live leases in the store are the ones answered');
  const live = (s: { ns: string; table: string }) =>
    [...(/elements = \{([^}]*)\}/.exec(spawnSync('ip', ['netns', 'exec', s.ns, 'nft', 'list', 'set', 'inet', s.table, 'caps_live_x'], { encoding: 'utf8' }).stdout)?.[1] ?? '').matchAll(/198\.18\.44\.\d+/g)].map((m) => m[0]).sort();
  for (const s of servers) {
    // The other server's grants arrive through the announcements: wait for them, then compare.
    await until(`${s.table}'s live addresses equal to the store's`, () => JSON.stringify(live(s)) === JSON.stringify(stored), 10_000).catch(() => {
      assert.deepEqual(live(s), stored, `${s.table}: nothing the store did not grant`);
    });
  }
});
