// The raw netlink path of the nftables data plane (driver auto: set elements over NETLINK_NETFILTER,
// netlink.ts) in a network namespace this test creates: every kind of element it writes reads back
// from the kernel (nft -j) the same as what libnftables writes for the same leases; expiry and
// revoke remove them; and a grant whose install fails (the table deleted behind fluxdns's back)
// fails closed: SERVFAIL to dig, no lease in the kernel, a log line naming the set and the error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NftablesDataPlane } from '../../src/capability/nftables/backend.js';
import type { Lease } from '../../src/state/store.js';
import { parseDig } from '../helpers/dig.js';
import { startProcess, stopAll, waitUntil } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';

const tag = randomBytes(3).toString('hex');
const ns = `fxnl-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'fluxdns-nftnl-'));
const inNs = (...args: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const planes: NftablesDataPlane[] = [];

after(async () => {
  for (const p of planes) await p.close().catch(() => {});
  await stopAll();
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

/** Every element of the table's lease and block sets, keyed by set, timeouts left out (they tick). */
function elementsOf(table: string): Record<string, string[]> {
  const j = JSON.parse(inNs('nft', '-j', 'list', 'table', 'inet', table)) as { nftables: Array<{ set?: { name: string; elem?: unknown[] }; map?: { name: string; elem?: unknown[] } }> };
  const out: Record<string, string[]> = {};
  for (const x of j.nftables) {
    const s = x.set ?? x.map;
    if (!s || !s.elem?.length || /^(pool6?|probes6?|h_.*)$/.test(s.name)) continue;
    out[s.name] = s.elem
      .map((e) => {
        const el = (e as { elem?: Record<string, unknown> }).elem;
        // A map element is [key, data]; a set element with a timeout is { elem: { val, timeout, expires } }.
        if (Array.isArray(e)) {
          const [k, d] = e as [unknown, unknown];
          const kv = (k as { elem?: { val?: unknown } }).elem?.val ?? k;
          return `${JSON.stringify(kv)} : ${JSON.stringify(d)}`;
        }
        return JSON.stringify(el ? el['val'] : e);
      })
      .sort();
  }
  return out;
}

const now = Date.now();
function lease(id: string, over: Partial<Lease>): Lease {
  return {
    id,
    service: 'app.lab.',
    scope: 'shared',
    scopeKey: '*',
    resolver: '127.0.0.1',
    address: '198.18.64.1',
    targets: ['198.51.100.10'],
    ports: [{ proto: 'tcp', from: 443, to: 443 }],
    ttl: 20,
    grantedAt: now,
    ttlUntil: now + 20_000,
    liveUntil: now + 25_000,
    graceUntil: now + 85_000,
    quarantineUntil: now + 100_000,
    exceptions: [],
    honeypot: false,
    ...over,
  } as Lease;
}

/** One of each element shape the ruleset writes. */
const LEASES: Lease[] = [
  lease('a1', { scope: 'subnet', scopeKey: '100.64.0.0/24', sourceSubnet: '100.64.0.0/24', address: '198.18.64.1', targets: ['198.51.100.10:8443'] }),
  lease('a2', { address: '198.18.64.2', targets: ['198.51.100.10', '198.51.100.11', '198.51.100.12'], ports: [{ proto: 'udp', from: 1000, to: 2000 }, { proto: 'tcp', from: 80, to: 80 }] }),
  lease('a3', { address: '198.18.64.3', exceptions: ['100.64.9.0/24', '100.64.8.8'], maxConnections: 4 }),
  lease('a4', { address: '198.18.64.4', maxConnections: 4, honeypot: true }),
  lease('a5', { address: '2001:db8:64::5', targets: ['2001:db8:1::10', '198.51.100.10'], scope: 'subnet', scopeKey: '2001:db8:100::/56', sourceSubnet: '2001:db8:100::/56', exceptions: ['2001:db8:100:1::/64'] }),
  lease('a6', { address: '198.18.64.6', maxHosts: 2 }),
  lease('a7', { scope: 'subnet', scopeKey: '100.64.2.0/24', sourceSubnet: '100.64.2.0/24', address: '198.18.64.7', targets: ['198.51.100.10', '198.51.100.11:8443'] }),
  lease('a8', { address: '2001:db8:64::8', targets: ['2001:db8:1::10'], ports: [{ proto: 'tcp', from: 8000, to: 8010 }] }),
];

describe('nftables raw netlink path', () => {
  before(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    inNs('ip', 'link', 'set', 'lo', 'up');
  });

  test('every element kind reads back from the kernel as libnftables writes it; expiry and revoke remove them', async () => {
    const mk = (table: string, driver: 'auto' | 'libnftables') => {
      const p = new NftablesDataPlane({ table, family: 'inet', netns: ns, pools: ['198.18.64.0/24', '2001:db8:64::/48'], seenTimeout: 90, driver });
      planes.push(p);
      return p;
    };
    const nl = mk(`fxa${tag}`, 'auto');
    const text = mk(`fxb${tag}`, 'libnftables');
    assert.equal(nl.driver, 'netlink + libnftables');
    assert.equal(text.driver, 'libnftables');
    for (const p of [nl, text]) {
      await p.start();
      await p.reconcile([]);
      // Concurrent calls: merged into one transaction per flush.
      await Promise.all(LEASES.map((l) => p.install(l)));
      await p.addSeen('198.18.64.1', '100.64.0.7');
      await p.addSeen('2001:db8:64::5', '2001:db8:100::7');
      await p.blockScanner('203.0.113.9', Date.now() + 30_000);
    }
    const a = elementsOf(`fxa${tag}`);
    const b = elementsOf(`fxb${tag}`);
    // The shapes are all there: subnet-scoped targets (exact per prefix length, and slotted), round robin
    // slots, port ranges, exceptions, the honeypot and limit sets, IPv6, seen pairs, a scanner, a maxHosts jump.
    const sets = ['caps_src_port_x_24', 'caps_src', 'caps_src_port', 'caps', 'caps_x', 'caps_live', 'caps_live_x', 'caps_grace', 'caps_grace_x', 'except', 'hp', 'mc_4', 'hostlim'];
    for (const set of [...sets, 'caps6_src_x_56', 'caps6', 'caps6_live', 'caps6_live_x', 'except6', 'seen', 'seen6', 'scanners']) {
      assert.ok(a[set]?.length, `no elements in ${set}: ${JSON.stringify(a)}`);
    }
    assert.equal(a['caps']!.length, 8); // a2: three targets × two port entries; a4 (honeypot), a6 (maxHosts): one each
    assert.deepEqual(a['caps_x'], ['{"concat":["198.18.64.3","tcp",443]} : "198.51.100.10"']);
    assert.deepEqual(a, b);

    // Expiry of one lease and revoke of another, through netlink.
    await nl.expire(LEASES[1]!);
    assert.equal(await nl.revoke([{ ...LEASES[0]!, revoked: true }]), 0);
    const after = elementsOf(`fxa${tag}`);
    assert.equal(after['caps']!.length, 2, 'the round-robin lease is gone');
    assert.ok(!JSON.stringify(after['caps']).includes('198.18.64.2'));
    assert.equal(after['caps_src_port_x_24'], undefined, 'the revoked lease is gone');
    assert.ok(!JSON.stringify(after['caps_live']).includes('198.18.64.2') && !JSON.stringify(after['caps_live_x']).includes('198.18.64.1'));
    assert.ok(JSON.stringify(after['caps_live_x']).includes('198.18.64.3') && JSON.stringify(after['caps_live']).includes('198.18.64.7'), 'other leases stay');
    assert.deepEqual(after['revoked'], ['"198.18.64.1"']);
  });

  test('in a merged transaction, a lease that fails half way is taken out whole and the others commit', async () => {
    const p = new NftablesDataPlane({ table: `fxr${tag}`, family: 'inet', netns: ns, pools: ['198.18.64.0/24'], seenTimeout: 90 });
    planes.push(p);
    await p.start();
    await p.reconcile([]);
    await p.install(lease('b1', { address: '198.18.64.20', ports: [{ proto: 'tcp', from: 80, to: 80 }] }));
    // b2 adds its tcp/443 elements, then finds tcp/80 of the address leading elsewhere: it fails, and its
    // tcp/443 elements must not reach the kernel with b3's.
    const results = await Promise.allSettled([
      p.install(lease('b2', { address: '198.18.64.20', targets: ['198.51.100.99'], ports: [{ proto: 'tcp', from: 443, to: 443 }, { proto: 'tcp', from: 80, to: 80 }] })),
      p.install(lease('b3', { address: '198.18.64.21' })),
    ]);
    assert.equal(results[0].status, 'rejected');
    assert.match(String((results[0] as PromiseRejectedResult).reason), /already leads to 198\.51\.100\.10/);
    assert.equal(results[1].status, 'fulfilled');
    const els = elementsOf(`fxr${tag}`);
    assert.deepEqual(els['caps_x'], ['{"concat":["198.18.64.20","tcp",80]} : "198.51.100.10"', '{"concat":["198.18.64.21","tcp",443]} : "198.51.100.10"']);
    assert.equal(els['caps_live_x']!.length, 2);
    assert.deepEqual(p.installed().sort(), ['b1', 'b3']);
  });

  test('a grant whose install fails is answered SERVFAIL, leaves nothing in the kernel, and is logged with the cause', async () => {
    const table = `fxs${tag}`;
    writeFileSync(join(dir, 'lab.zone'), '$TTL 300\n@ SOA ns.lab. host.lab. 1 3600 600 86400 60\n@ NS ns.lab.\nns A 127.0.0.1\n');
    writeFileSync(
      join(dir, 'fluxdns.yaml'),
      `listen:
  - { proto: udp, address: "127.0.0.1:5300" }
zones:
  - { name: lab., file: ${join(dir, 'lab.zone')} }
pools:
  - { name: p, prefixes: [198.18.64.0/24] }
services:
  - { name: app.lab, target: 198.51.100.10, ports: [tcp/443], pool: p, ttl: 20, grace: 60, scope: subnet }
capabilities:
  backend: nftables
  trustedResolvers: [127.0.0.0/8]
  nftables: { table: ${table} }
`,
    );
    const server = startProcess('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, 'fluxdns.yaml')], { cwd: repoRoot, name: 'fluxdns-nl' });
    await server.waitFor(/fluxdns ready/, 90_000, 'both');
    assert.match(server.stdout + server.stderr, /driver":"netlink \+ libnftables/);
    const ask = (ecs: string) => parseDig(inNs('dig', '@127.0.0.1', '-p', '5300', '+norec', '+tries=1', '+time=5', `+subnet=${ecs}`, 'app.lab', 'A'));

    const ok = ask('100.64.1.0/24');
    assert.equal(ok.rcode, 'NOERROR');
    const addr = ok.answer.find((r) => r.type === 'A')?.data;
    assert.ok(addr, ok.raw);
    // Installed before the answer left: the kernel already holds the subnet-scoped translation.
    assert.match(inNs('nft', 'list', 'map', 'inet', table, 'caps_src_x_24'), new RegExp(`100\\.64\\.1\\.0 \\. ${addr!.replace(/\./g, '\\.')} \\. tcp \\. 443`));
    // The second /24 grant needs no new map: it goes over netlink alone.
    const second = ask('100.64.3.0/24');
    assert.equal(second.rcode, 'NOERROR', second.raw);

    inNs('nft', 'delete', 'table', 'inet', table);
    const failed = ask('100.64.2.0/24');
    assert.equal(failed.rcode, 'SERVFAIL', failed.raw);
    assert.equal(failed.answer.length, 0);
    assert.ok(
      await waitUntil(() => /capability install failed/.test(server.stdout + server.stderr), 10_000),
      server.stdout + server.stderr,
    );
    assert.match(server.stdout + server.stderr, /add element inet fxs[0-9a-f]+ caps_src_x_24: No such file or directory/);
    assert.equal(spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', table]).status, 1, 'nothing recreated the table behind the failure');
    await server.stop();
  });
});
