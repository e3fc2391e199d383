// An nftables gateway sharing Redis with a DNS server (issue 14): `fluxdns gateway` with the nftables
// backend drives a table in a network namespace this test creates; `fluxdns serve` on the host grants.
// A lease granted before the gateway starts is in the table after its start (reconciled with the
// store); one granted while it runs arrives through the announcement; a revocation through the
// server puts the address in the table's `revoked` set.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import { freePort } from '../helpers/ports.js';
import { startProcess } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';
import { startRedis } from '../helpers/redis.js';

const TOKEN = 'redis-nft-test-token-0123456789';
const tag = randomBytes(3).toString('hex');
const ns = `fxrn-${tag}`;
const table = `fxrn${tag}`;

function ask(port: number, src: string): Promise<{ rcode: string; address?: string }> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const id = Math.floor(Math.random() * 65535);
    const timer = setTimeout(() => {
      sock.close();
      resolve({ rcode: 'TIMEOUT' });
    }, 4000);
    sock.on('message', (m) => {
      const p = packet.decode(m);
      if (p.id !== id) return;
      clearTimeout(timer);
      sock.close();
      const a = p.answers?.find((r) => r.type === 'A') as { data: string } | undefined;
      resolve({ rcode: (p as { rcode?: string }).rcode ?? 'NOERROR', address: a?.data });
    });
    sock.bind(0, src, () => sock.send(packet.encode({ type: 'query', id, flags: 0, questions: [{ type: 'A', name: 'svc.nft.lab' }] }), port, '127.0.0.1'));
  });
}

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
