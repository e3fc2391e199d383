// The nftables data plane end to end: client, gateway and server namespaces; fluxdns in the gateway
// drives a kernel table; dig in the client obtains leases; TCP connections prove what the table admits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, stopAll, type Proc } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';

const tag = randomBytes(3).toString('hex');
const nsC = `fxnft-${tag}-c`;
const nsG = `fxnft-${tag}-g`;
const nsS = `fxnft-${tag}-s`;
const table = `fxt${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'fluxdns-nft-'));
const TOKEN = 'nft-test-token-0123456789';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (ns: string, ...args: string[]) => ip('netns', 'exec', ns, ...args);
const nftList = (what: string) => spawnSync('ip', ['netns', 'exec', nsG, 'nft', 'list', ...what.split(' ')], { encoding: 'utf8' });

after(async () => {
  await stopAll();
  // Deleting the namespaces deletes their veths and the gateway's nftables table with them.
  for (const ns of [nsC, nsG, nsS]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // not created
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const SERVER = `
import net from 'node:net';
net.createServer((s) => { let b = ''; s.on('data', (d) => { b += d; let i; while ((i = b.indexOf('\\n')) >= 0) { const l = b.slice(0, i); b = b.slice(i + 1); s.write('srv ' + s.remoteAddress + ' ' + l + '\\n'); } }); s.on('error', () => {}); })
  .listen(8080, '198.18.2.1', () => console.log('server ready'));
`;

// probe HOST SRC: one connection, one line, one reply (2 s limits: a dropped SYN is resent after 1 s and dropped
// again, while a process that stalls a second on a loaded machine must not read as refused). hold HOST SRC N MS: one
// connection, N lines MS apart.
const CLIENT = `
import net from 'node:net';
const [mode, host, src, n, ms] = process.argv.slice(2);
const s = net.connect({ host, port: 8080, localAddress: src });
let buf = '', wait = null;
s.on('data', (d) => { buf += d; if (wait && buf.includes('\\n')) { const l = buf.slice(0, buf.indexOf('\\n')); buf = ''; const w = wait; wait = null; w(l); } });
const ask = (line) => new Promise((res) => { const t = setTimeout(() => { wait = null; res('timeout'); }, 2000); wait = (l) => { clearTimeout(t); res(l); }; s.write(line + '\\n'); });
s.on('error', (e) => { if (wait) { const w = wait; wait = null; w(e.code); } else if (mode === 'probe') { console.log(e.code); process.exit(0); } });
const ct = setTimeout(() => { console.log('timeout'); process.exit(0); }, 2000);
s.on('connect', async () => {
  clearTimeout(ct);
  if (mode === 'probe') { console.log(await ask('hi')); process.exit(0); }
  console.log('connected');
  for (let i = 0; i < Number(n); i++) { console.log(i + ' ' + (await ask('ping' + i))); await new Promise((r) => setTimeout(r, Number(ms))); }
  process.exit(0);
});
`;

/** One connection from `src` in the client namespace: the server's reply line, "timeout" or an error code. */
function probe(host: string, src: string): string {
  return inNs(nsC, process.execPath, join(dir, 'client.mjs'), 'probe', host, src).trim();
}

function hold(host: string, src: string, n: number, ms: number): Proc {
  return startProcess('ip', ['netns', 'exec', nsC, process.execPath, join(dir, 'client.mjs'), 'hold', host, src, String(n), String(ms)], { name: `hold ${host}` });
}

function dig(name: string, ...extra: string[]): { address: string; ttl: number } {
  const out = inNs(nsC, 'dig', '@198.18.0.2', '-p', '5300', '+norec', '+noall', '+answer', '+tries=1', '+time=3', ...extra, name, 'A').trim();
  const m = /\s(\d+)\s+IN\s+A\s+(\S+)$/m.exec(out);
  assert.ok(m, `no A record for ${name}: ${JSON.stringify(out)}`);
  return { ttl: Number(m[1]), address: m[2]! };
}

function config(): string {
  return `listen:
  - { proto: udp, address: "198.18.0.2:5300" }
  - { proto: tcp, address: "198.18.0.2:5300" }
zones:
  - { name: caps.lab., file: ${join(dir, 'caps.lab.zone')} }
pools:
  - { name: caps, prefixes: [198.18.64.0/24] }
services:
  - { name: app.caps.lab, target: 198.18.2.1, ports: [tcp/8080], pool: caps, ttl: 3, grace: 6 }
  - { name: sub.caps.lab, target: 198.18.2.1, ports: [tcp/8080], pool: caps, ttl: 10, grace: 3, scope: subnet }
capabilities:
  backend: nftables
  slack: 0
  trustedResolvers: [198.18.0.0/30]
  # The nft -i driver here (the fallback without the libnftables addon); capability-nft-kernel.test.ts runs the addon.
  nftables: { table: ${table}, netns: ${nsG}, driver: nft }
  admin: { listen: "127.0.0.1:5399", token: ${TOKEN} }
`;
}

async function startFluxdns(): Promise<Proc> {
  const p = startProcess('ip', ['netns', 'exec', nsG, process.execPath, '--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, 'fluxdns.yaml')], { cwd: repoRoot, name: 'fluxdns-nft' });
  await p.waitFor(/fluxdns ready/, 90_000, 'both');
  return p;
}

let fluxdns: Proc;

describe('nftables data plane in network namespaces', () => {
  before(async () => {
    for (const ns of [nsC, nsG, nsS]) ip('netns', 'add', ns);
    ip('link', 'add', `fnc${tag}`, 'netns', nsC, 'type', 'veth', 'peer', 'name', `fng${tag}`, 'netns', nsG);
    ip('link', 'add', `fns${tag}`, 'netns', nsS, 'type', 'veth', 'peer', 'name', `fnh${tag}`, 'netns', nsG);
    // Client: the resolver's address, two hosts of the OBO subnet 198.18.1.0/24 and one outside it.
    for (const a of ['198.18.0.1/30', '198.18.1.10/24', '198.18.1.11/24', '198.18.3.10/24']) inNs(nsC, 'ip', 'addr', 'add', a, 'dev', `fnc${tag}`);
    inNs(nsG, 'ip', 'addr', 'add', '198.18.0.2/30', 'dev', `fng${tag}`);
    inNs(nsG, 'ip', 'addr', 'add', '198.18.2.2/30', 'dev', `fnh${tag}`);
    inNs(nsS, 'ip', 'addr', 'add', '198.18.2.1/30', 'dev', `fns${tag}`);
    for (const [ns, dev] of [[nsC, `fnc${tag}`], [nsG, `fng${tag}`], [nsG, `fnh${tag}`], [nsS, `fns${tag}`], [nsC, 'lo'], [nsG, 'lo'], [nsS, 'lo']] as const) inNs(ns, 'ip', 'link', 'set', dev, 'up');
    inNs(nsG, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    inNs(nsC, 'ip', 'route', 'add', '198.18.64.0/24', 'via', '198.18.0.2');
    inNs(nsC, 'ip', 'route', 'add', '198.18.2.0/30', 'via', '198.18.0.2');
    for (const net of ['198.18.1.0/24', '198.18.3.0/24']) inNs(nsG, 'ip', 'route', 'add', net, 'via', '198.18.0.1');
    inNs(nsS, 'ip', 'route', 'add', 'default', 'via', '198.18.2.2');

    writeFileSync(join(dir, 'server.mjs'), SERVER);
    writeFileSync(join(dir, 'client.mjs'), CLIENT);
    writeFileSync(join(dir, 'caps.lab.zone'), '$TTL 300\n@ SOA ns.caps.lab. host.caps.lab. 1 3600 600 86400 60\n@ NS ns.caps.lab.\nns A 198.18.0.2\n');
    writeFileSync(join(dir, 'fluxdns.yaml'), config());
    const server = startProcess('ip', ['netns', 'exec', nsS, process.execPath, join(dir, 'server.mjs')], { name: 'server' });
    await server.waitFor(/server ready/, 10000);
    fluxdns = await startFluxdns();
  });

  test('before a query nothing in the pool is reachable; the server itself is, directly', () => {
    assert.equal(probe('198.18.2.1', '198.18.1.10'), 'srv 198.18.1.10 hi', 'routing works without the pool');
    for (const a of ['198.18.64.1', '198.18.64.77', '198.18.64.200']) assert.equal(probe(a, '198.18.1.10'), 'timeout', a);
    assert.match(nftList(`table inet ${table}`).stdout, /map caps \{/);
  });

  test('a query installs the translation; after the TTL only seen sources get in, established flows survive, then grace ends', async () => {
    const { address, ttl } = dig('app.caps.lab');
    const t0 = Date.now();
    assert.ok(address.startsWith('198.18.64.') && ttl <= 3, `${address} ttl ${ttl}`);
    assert.equal(probe(address, '198.18.1.10'), 'srv 198.18.1.10 hi');
    // An established connection that outlives live and grace: 22 lines 500 ms apart. The windows are
    // seconds wide because starting a probe takes over a second on a loaded machine.
    const long = hold(address, '198.18.1.10', 22, 500);
    await long.waitFor(/connected/, 3000);
    await sleep(Math.max(0, t0 + 3500 - Date.now()));
    // The seen source first: grace ends 9 s after the grant, and each probe costs a process start.
    assert.equal(probe(address, '198.18.1.10'), 'srv 198.18.1.10 hi', 'a seen source during grace');
    assert.equal(probe(address, '198.18.1.11'), 'timeout', 'an unseen source after the TTL');
    await sleep(Math.max(0, t0 + 9600 - Date.now()));
    assert.equal(probe(address, '198.18.1.10'), 'timeout', 'the seen source after grace');
    await long.exited;
    const lines = long.stdout.trim().split('\n').slice(1);
    assert.equal(lines.length, 22);
    lines.forEach((l, i) => assert.equal(l, `${i} srv 198.18.1.10 ping${i}`, 'the established flow kept working'));
  });

  test('subnet scope admits only sources inside the OBO subnet', () => {
    const { address } = dig('sub.caps.lab', '+subnet=198.18.1.0/24');
    assert.equal(probe(address, '198.18.3.10'), 'timeout', 'outside the OBO subnet');
    assert.equal(probe(address, '198.18.1.11'), 'srv 198.18.1.11 hi', 'inside the OBO subnet');
  });

  test('caps revoke cuts an established flow and refuses new ones', async () => {
    const { address } = dig('app.caps.lab');
    // Long enough to outlast the revoke command's start-up on a loaded machine; stopped once cut.
    const long = hold(address, '198.18.1.10', 100, 300);
    await long.waitFor(/^0 srv/m, 5000);
    const out = inNs(nsG, process.execPath, '--import', 'tsx', fluxdnsMain, 'caps', 'revoke', address, '--admin', '127.0.0.1:5399', '--token', TOKEN);
    assert.match(out, /revoked 1 lease\(s\), cut 1 flow\(s\)/);
    // Cut: the lines after the revoke time out (two in a row is no passing loss).
    await long.waitFor(/^\d+ timeout\n\d+ timeout$/m, 10000);
    await long.stop();
    const lines = long.stdout.trim().split('\n');
    assert.match(lines.at(-1)!, /^\d+ timeout$/, `the established flow was cut: ${lines.join(' | ')}`);
    assert.ok(lines.length < 100, 'cut before the end');
    assert.equal(probe(address, '198.18.1.10'), 'timeout');
  });

  test('a crash leaves the table, a restart reconciles it with the (empty) store, a clean shutdown deletes it', async () => {
    const { address } = dig('app.caps.lab');
    assert.equal(probe(address, '198.18.1.11'), 'srv 198.18.1.11 hi');
    process.kill(fluxdns.pid, 'SIGKILL');
    await fluxdns.exited;
    // One target, one port: the lease is in the exact (hash) map.
    assert.match(nftList(`map inet ${table} caps_x`).stdout, new RegExp(address.replace(/\./g, '\\.')), 'the lease survives the crash in the kernel');
    fluxdns = await startFluxdns();
    assert.doesNotMatch(nftList(`map inet ${table} caps_x`).stdout, new RegExp(address.replace(/\./g, '\\.')), 'reconcile removed what no lease backs');
    assert.equal(probe(address, '198.18.1.11'), 'timeout');
    await fluxdns.stop();
    assert.notEqual(nftList(`table inet ${table}`).status, 0, 'the table is gone after SIGTERM');
  });
});
