// The complete kernel data plane (issue 14 item 4, seed 000 §2.4, §4) in network namespaces the test
// creates and deletes: client, gateway (fluxdns drives an `inet` nftables table) and server (the
// service and a honeypot). An AAAA lease carries TCP over IPv6; maxHosts 2 refuses a third source in
// the kernel; an unleased address reaches the honeypot; revoke cuts an established flow and reports
// 1 (conntrack); scanner detection turned on by SIGHUP counts in the kernel: a scanner probing 50
// unleased addresses is blocklisted and denied; SIGHUP applies a
// changed pool to the kernel set and reopens the audit file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, stopAll, type Proc } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';

const tag = randomBytes(3).toString('hex');
const nsC = `fxk-${tag}-c`;
const nsG = `fxk-${tag}-g`;
const nsS = `fxk-${tag}-s`;
const table = `fxk${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'fluxdns-nftk-'));
const audit = join(dir, 'audit.jsonl');
const TOKEN = 'nft-kernel-test-token-0123456789';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (ns: string, ...args: string[]) => ip('netns', 'exec', ns, ...args);
const nft = (...args: string[]) => spawnSync('ip', ['netns', 'exec', nsG, 'nft', ...args], { encoding: 'utf8' });

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

// The service on 8080 (IPv4 and IPv6) and the honeypot on 9090: one line in, one line out.
const SERVER = `
import net from 'node:net';
const serve = (tag, port, host) => new Promise((r) => net.createServer((s) => { let b = ''; s.on('data', (d) => { b += d; let i; while ((i = b.indexOf('\\n')) >= 0) { const l = b.slice(0, i); b = b.slice(i + 1); s.write(tag + ' ' + s.remoteAddress + ' ' + l + '\\n'); } }); s.on('error', () => {}); }).listen(port, host, r));
await serve('srv', 8080, '198.18.2.1');
await serve('srv', 8080, '2001:db8:2::1');
await serve('hp', 9090, '198.18.2.1');
console.log('server ready');
`;

// probe HOST SRC: one connection to port 8080, one line, one reply (2 s limits: a dropped SYN is resent at 1 s and
// dropped again, while a process stalled a second on a loaded machine must not read as refused). hold HOST SRC N MS:
// N lines MS apart.
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

// scan SRC A1 A2 …: one connection to port 8080 of each address at once; prints how many got a reply line.
const SCANNER = `
import net from 'node:net';
const [src, ...hosts] = process.argv.slice(2);
const one = (host) => new Promise((res) => { const s = net.connect({ host, port: 8080, localAddress: src }); const t = setTimeout(() => { s.destroy(); res(false); }, 5000); s.on('connect', () => s.write('knock\\n')); s.on('data', () => { clearTimeout(t); s.destroy(); res(true); }); s.on('error', () => { clearTimeout(t); res(false); }); });
const got = await Promise.all(hosts.map(one));
console.log('answered ' + got.filter(Boolean).length + ' of ' + hosts.length);
`;

function probe(host: string, src: string): string {
  return inNs(nsC, process.execPath, join(dir, 'client.mjs'), 'probe', host, src).trim();
}

function hold(host: string, src: string, n: number, ms: number): Proc {
  return startProcess('ip', ['netns', 'exec', nsC, process.execPath, join(dir, 'client.mjs'), 'hold', host, src, String(n), String(ms)], { name: `hold ${host}` });
}

/** dig from the client namespace (source `src`): rcode and the addresses answered. */
function dig(name: string, type: 'A' | 'AAAA', src = '198.18.0.1'): { rcode: string; addresses: string[] } {
  const out = inNs(nsC, 'dig', '@198.18.0.2', '-p', '5300', '-b', src, '+norec', '+tries=1', '+time=3', name, type);
  const rcode = /status: (\w+)/.exec(out)?.[1] ?? 'none';
  const addresses = [...out.matchAll(new RegExp(`^\\S+\\s+\\d+\\s+IN\\s+${type}\\s+(\\S+)$`, 'gm'))].map((m) => m[1]!);
  return { rcode, addresses };
}

function caps(...args: string[]): string {
  return inNs(nsG, process.execPath, '--import', 'tsx', fluxdnsMain, 'caps', ...args, '--admin', '127.0.0.1:5398', '--token', TOKEN);
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 20000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function config(pools: string, scanners = true): string {
  return `listen:
  - { proto: udp, address: "198.18.0.2:5300" }
  - { proto: tcp, address: "198.18.0.2:5300" }
zones:
  - { name: caps.lab., file: ${join(dir, 'caps.lab.zone')} }
pools:
  - { name: caps, prefixes: [${pools}] }
services:
  - { name: app.caps.lab, target: [198.18.2.1, "2001:db8:2::1"], ports: [tcp/8080], pool: caps, ttl: 30, grace: 30 }
  - { name: hosts.caps.lab, target: 198.18.2.1, ports: [tcp/8080], pool: caps, ttl: 30, grace: 30, maxHosts: 2 }
  - { name: rev.caps.lab, target: 198.18.2.1, ports: [tcp/8080], pool: caps, ttl: 30, grace: 30 }
capabilities:
  backend: nftables
  honeypot: "198.18.2.1:9090"
${scanners ? '  scanners: { threshold: 20, window: 60, blockFor: 600 }\n' : ''}  audit: { file: ${JSON.stringify(audit)} }
  nftables: { table: ${table}, netns: ${nsG} }
  admin: { listen: "127.0.0.1:5398", token: ${TOKEN} }
`;
}

let fluxdns: Proc;

describe('the complete nftables data plane in network namespaces', () => {
  before(async () => {
    for (const ns of [nsC, nsG, nsS]) ip('netns', 'add', ns);
    ip('link', 'add', `fkc${tag}`, 'netns', nsC, 'type', 'veth', 'peer', 'name', `fkg${tag}`, 'netns', nsG);
    ip('link', 'add', `fks${tag}`, 'netns', nsS, 'type', 'veth', 'peer', 'name', `fkh${tag}`, 'netns', nsG);
    // Client: the resolver's address, four hosts, a scanner; and one IPv6 host.
    for (const a of ['198.18.0.1/30', '198.18.1.10/24', '198.18.1.11/24', '198.18.1.12/24', '198.18.1.13/24', '198.18.1.66/24']) inNs(nsC, 'ip', 'addr', 'add', a, 'dev', `fkc${tag}`);
    inNs(nsC, 'ip', '-6', 'addr', 'add', '2001:db8:1::10/64', 'dev', `fkc${tag}`, 'nodad');
    inNs(nsG, 'ip', 'addr', 'add', '198.18.0.2/30', 'dev', `fkg${tag}`);
    inNs(nsG, 'ip', '-6', 'addr', 'add', '2001:db8:1::1/64', 'dev', `fkg${tag}`, 'nodad');
    inNs(nsG, 'ip', 'addr', 'add', '198.18.2.2/30', 'dev', `fkh${tag}`);
    inNs(nsG, 'ip', '-6', 'addr', 'add', '2001:db8:2::2/64', 'dev', `fkh${tag}`, 'nodad');
    inNs(nsS, 'ip', 'addr', 'add', '198.18.2.1/30', 'dev', `fks${tag}`);
    inNs(nsS, 'ip', '-6', 'addr', 'add', '2001:db8:2::1/64', 'dev', `fks${tag}`, 'nodad');
    for (const [ns, dev] of [[nsC, `fkc${tag}`], [nsG, `fkg${tag}`], [nsG, `fkh${tag}`], [nsS, `fks${tag}`], [nsC, 'lo'], [nsG, 'lo'], [nsS, 'lo']] as const) inNs(ns, 'ip', 'link', 'set', dev, 'up');
    inNs(nsG, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    inNs(nsG, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
    inNs(nsC, 'ip', 'route', 'add', '198.18.64.0/23', 'via', '198.18.0.2');
    inNs(nsC, 'ip', '-6', 'route', 'add', '2001:db8:64::/64', 'via', '2001:db8:1::1');
    inNs(nsG, 'ip', 'route', 'add', '198.18.1.0/24', 'via', '198.18.0.1');
    inNs(nsS, 'ip', 'route', 'add', 'default', 'via', '198.18.2.2');
    inNs(nsS, 'ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:2::2');

    writeFileSync(join(dir, 'server.mjs'), SERVER);
    writeFileSync(join(dir, 'client.mjs'), CLIENT);
    writeFileSync(join(dir, 'scanner.mjs'), SCANNER);
    writeFileSync(join(dir, 'caps.lab.zone'), '$TTL 300\n@ SOA ns.caps.lab. host.caps.lab. 1 3600 600 86400 60\n@ NS ns.caps.lab.\nns A 198.18.0.2\n');
    // Scanner detection starts off; a SIGHUP turns it on (a test below).
    writeFileSync(join(dir, 'fluxdns.yaml'), config('198.18.64.0/24, "2001:db8:64::/120"', false));
    const server = startProcess('ip', ['netns', 'exec', nsS, process.execPath, join(dir, 'server.mjs')], { name: 'server' });
    await server.waitFor(/server ready/, 10000);
    fluxdns = startProcess('ip', ['netns', 'exec', nsG, process.execPath, '--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, 'fluxdns.yaml')], { cwd: repoRoot, name: 'fluxdns-nft-kernel' });
    await fluxdns.waitFor(/fluxdns ready/, 90_000, 'both');
    // With the addon built (npm install builds it), set elements go over raw netlink and the rest through libnftables, in-process.
    if (existsSync(join(repoRoot, 'native', 'build', 'Release', 'fluxdns_nft.node'))) assert.match(fluxdns.stdout + fluxdns.stderr, /"driver":"netlink \+ libnftables"/);
  });

  test('an AAAA lease carries a TCP connection over IPv6; an unleased IPv6 pool address is dropped', () => {
    const r = dig('app.caps.lab', 'AAAA');
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.addresses.length, 1);
    const address = r.addresses[0]!;
    assert.match(address, /^2001:db8:64::[0-9a-f]{1,2}$/);
    assert.equal(probe(address, '2001:db8:1::10'), 'srv 2001:db8:1::10 hi', 'translated to the IPv6 target');
    const other = address === '2001:db8:64::99' ? '2001:db8:64::98' : '2001:db8:64::99';
    // The honeypot is IPv4: an unleased IPv6 address leads nowhere.
    assert.equal(probe(other, '2001:db8:1::10'), 'timeout');
    // The same service's A lease translates to its IPv4 target.
    const v4 = dig('app.caps.lab', 'A');
    assert.equal(probe(v4.addresses[0]!, '198.18.1.10'), 'srv 198.18.1.10 hi');
  });

  test('maxHosts 2: two sources are admitted, the third is refused in the kernel, a known one still gets in', () => {
    const { addresses } = dig('hosts.caps.lab', 'A');
    const a = addresses[0]!;
    assert.equal(probe(a, '198.18.1.10'), 'srv 198.18.1.10 hi');
    assert.equal(probe(a, '198.18.1.11'), 'srv 198.18.1.11 hi');
    assert.equal(probe(a, '198.18.1.12'), 'timeout', 'the third source');
    assert.equal(probe(a, '198.18.1.10'), 'srv 198.18.1.10 hi', 'a source already counted');
    const set = nft('list', 'ruleset').stdout;
    const hostSet = /set h_[0-9a-f]+ \{[^}]*size 2[^}]*elements = \{ ([^}]*) \}/.exec(set);
    assert.ok(hostSet, set);
    assert.deepEqual(hostSet[1]!.split(',').map((e) => e.trim().split(' ')[0]).sort(), ['198.18.1.10', '198.18.1.11']);
  });

  test('a new flow to an unleased pool address reaches the honeypot', () => {
    assert.equal(probe('198.18.64.250', '198.18.1.13'), 'hp 198.18.1.13 hi');
  });

  test('caps revoke cuts an established flow and reports 1 flow cut', async () => {
    const { addresses } = dig('rev.caps.lab', 'A');
    const a = addresses[0]!;
    // Long enough to outlast the revoke command's start-up on a loaded machine; stopped once cut.
    const long = hold(a, '198.18.1.11', 100, 300);
    await long.waitFor(/^0 srv/m, 5000);
    const out = caps('revoke', a);
    assert.match(out, /revoked 1 lease\(s\), cut 1 flow\(s\)/);
    // Cut: every line after the revoke times out (two in a row is no passing loss).
    await long.waitFor(/^\d+ timeout\n\d+ timeout$/m, 10000);
    await long.stop();
    const lines = long.stdout.trim().split('\n');
    assert.match(lines.at(-1)!, /^\d+ timeout$/, `the established flow was cut: ${lines.join(' | ')}`);
    assert.ok(lines.length < 100, 'cut before the end');
    assert.equal(probe(a, '198.18.1.11'), 'timeout', 'a revoked address admits nothing new (not even the honeypot)');
  });

  test('SIGHUP turns scanner detection on (the next test shows the kernel counting)', async () => {
    assert.equal((JSON.parse(caps('scanners', '--json')) as { config: unknown }).config, null);
    writeFileSync(join(dir, 'fluxdns.yaml'), config('198.18.64.0/24, "2001:db8:64::/120"'));
    process.kill(fluxdns.pid, 'SIGHUP');
    await fluxdns.waitFor(/"msg":"reloaded"/, 20_000, 'both');
    await until('scanner detection on', () => ((JSON.parse(caps('scanners', '--json')) as { config: unknown }).config !== null ? true : undefined));
  });

  test('a scanner probing 50 unleased pool addresses is blocklisted and denied; a legitimate client is not', async () => {
    const legit = dig('app.caps.lab', 'A', '198.18.1.10');
    assert.equal(legit.rcode, 'NOERROR');
    const leased = new Set(JSON.parse(caps('list', '--json')).leases.map((l: { address: string }) => l.address) as string[]);
    const targets = Array.from({ length: 200 }, (_, i) => `198.18.64.${i + 20}`).filter((x) => !leased.has(x)).slice(0, 50);
    assert.equal(targets.length, 50);
    const scan = inNs(nsC, process.execPath, join(dir, 'scanner.mjs'), '198.18.1.66', ...targets).trim();
    // The probes reach the honeypot (unleased traffic goes there; on a loaded machine a few may not
    // answer in time) and each one counts, answered or not.
    const answered = Number(/^answered (\d+) of 50$/.exec(scan)?.[1] ?? -1);
    assert.ok(answered >= 40, scan);
    const listing = await until('the scanner to be listed', () => {
      const l = JSON.parse(caps('scanners', '--json')) as { scanners: Array<{ source: string; attempts: number }> };
      return l.scanners.length > 0 ? l : undefined;
    }, 60000);
    assert.deepEqual(listing.scanners.map((s) => s.source), ['198.18.1.66']);
    assert.ok(listing.scanners[0]!.attempts >= 20);
    assert.match(caps('scanners'), /^198\.18\.1\.66 {2}attempts \d+ {2}since /m);
    // Its next query for the service is denied (REFUSED: onDeny refuse); the kernel drops its new flows.
    assert.equal(dig('app.caps.lab', 'A', '198.18.1.66').rcode, 'REFUSED');
    assert.equal(probe(legit.addresses[0]!, '198.18.1.66'), 'timeout');
    assert.match(nft('list', 'set', 'inet', table, 'scanners').stdout, /elements = \{ 198\.18\.1\.66 /);
    // The legitimate client: answered, and its lease carries its flows.
    const again = dig('app.caps.lab', 'A', '198.18.1.10');
    assert.equal(again.rcode, 'NOERROR');
    assert.equal(probe(again.addresses[0]!, '198.18.1.10'), 'srv 198.18.1.10 hi');
    await until('the audit lines', () => (readFileSync(audit, 'utf8').includes('"reason":"scanner: 198.18.1.66"') ? true : undefined));
    const lines = readFileSync(audit, 'utf8').trim().split('\n').map((x) => JSON.parse(x) as Record<string, unknown>);
    assert.ok(lines.some((x) => x['event'] === 'scanner' && x['source'] === '198.18.1.66'));
    assert.ok(!lines.some((x) => x['event'] === 'scanner' && x['source'] !== '198.18.1.66'), 'nobody else was taken for a scanner');
  });

  test('SIGHUP: a changed pool reaches the kernel set; the audit file is reopened', async () => {
    assert.doesNotMatch(nft('list', 'set', 'inet', table, 'pool').stdout, /198\.18\.65\.0/);
    renameSync(audit, `${audit}.1`);
    writeFileSync(join(dir, 'fluxdns.yaml'), config('198.18.64.0/24, 198.18.65.0/24, "2001:db8:64::/120"'));
    process.kill(fluxdns.pid, 'SIGHUP');
    await until('the pool set to hold 198.18.65.0/24', () => (/elements = \{ 198\.18\.64\.0\/23 \}/.test(nft('list', 'set', 'inet', table, 'pool').stdout) ? true : undefined));
    // An address of the new prefix is now in the pool: unleased, so it reaches the honeypot.
    assert.equal(probe('198.18.65.7', '198.18.1.13'), 'hp 198.18.1.13 hi');
    const r = dig('rev.caps.lab', 'A', '198.18.1.12');
    assert.equal(r.rcode, 'NOERROR');
    await until('a new audit file', () => (existsSync(audit) && readFileSync(audit, 'utf8').includes('"resolver":"198.18.1.12"') ? true : undefined));
    assert.doesNotMatch(readFileSync(`${audit}.1`, 'utf8'), /"resolver":"198\.18\.1\.12"/, 'the rotated file gets nothing new');
    assert.match(readFileSync(`${audit}.1`, 'utf8'), /"event":"scanner"/);
  });
});
