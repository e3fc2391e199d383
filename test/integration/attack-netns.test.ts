// Attacks from many source addresses (issue 16), in network namespaces: fluxdns in one namespace, the
// attackers and the legitimate client in another, joined by a veth pair. The client namespace holds
// AnyIP routes (`ip route add local PREFIX dev lo`, and net.ipv6.ip_nonlocal_bind=1 there for IPv6),
// so a process in it can send from any address of 198.18.0.0/16 (256 IPv4 /24s) and of
// 2001:db8:1000::/48 (256 IPv6 /56s); the legitimate client sends from another range (198.51.100.7,
// 2001:db8:2000::7). Each side runs in its own process (test/helpers/attack-driver.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatScores, v4Sources, v6Sources, type Scores } from '../helpers/attack.js';
import { startProcess, stopAll, type Proc } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';
import { makeTestCert } from '../helpers/tls.js';

const tag = randomBytes(3).toString('hex');
const nsS = `fluxatk-${tag}-s`;
const nsC = `fluxatk-${tag}-c`;
const dir = mkdtempSync(join(tmpdir(), 'fluxdns-attack-netns-'));
const driver = join(repoRoot, 'test', 'helpers', 'attack-driver.ts');

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** The server's addresses on the veth link; it listens on 53 (UDP, TCP), 853 (DoT) and 443 (DoH) of each. */
const V4 = '203.0.113.2';
const V6 = '2001:db8::2';
const LEGIT = [
  { label: 'v4', host: V4, dns: 53, dot: 853, doh: 443, localAddress: '198.51.100.7' },
  { label: 'v6', host: V6, dns: 53, dot: 853, doh: 443, localAddress: '2001:db8:2000::7' },
];
/** 256 IPv4 /24s and 256 IPv6 /56s, one address in each. */
const MANY_V4 = v4Sources('198.18', 256);
const MANY_V6 = v6Sources('2001:db8:1000', 256);
const TABLE = 200;
const PER_PREFIX = 32;

after(async () => {
  await stopAll();
  // Deleting a namespace deletes the veth end inside it, and with it the peer.
  for (const ns of [nsS, nsC]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // not created
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the driver in the client namespace with this spec. */
function drive(spec: object, name: string): Proc {
  return startProcess('ip', ['netns', 'exec', nsC, process.execPath, '--import', 'tsx', driver, JSON.stringify(spec)], { cwd: repoRoot, name });
}

/** The JSON after the driver's `result ` line, once it printed one (it exits then, or is stopped). */
async function result<T>(p: Proc, timeoutMs: number): Promise<T> {
  await p.waitFor(/^result .*$/m, timeoutMs);
  return JSON.parse(/^result (.*)$/m.exec(p.stdout)![1]!) as T;
}

/** The last number the driver printed after `word` (its progress lines). */
const lastCount = (p: Proc, word: string) => Number([...p.stdout.matchAll(new RegExp(`${word} (\\d+)`, 'g'))].pop()?.[1] ?? 0);

function assertShare(score: Scores, min: number, label: string): void {
  // The figures for the README's robustness section.
  process.stdout.write(`# netns ${label}: ${formatScores(score)}\n`);
  assert.deepEqual(Object.keys(score).sort(), ['doh/v4', 'doh/v6', 'dot/v4', 'dot/v6', 'tcp/v4', 'tcp/v6']);
  for (const [k, s] of Object.entries(score)) {
    assert.ok(s.asked >= 5, `${label}: ${k} asked only ${s.asked}`);
    assert.ok(s.answered / s.asked >= min, `${label}: ${k} answered ${s.answered} of ${s.asked} (need ${min * 100} %)`);
  }
}

describe('attacks from hundreds of IPv4 /24s and IPv6 /56s, in network namespaces', () => {
  let server: Proc;
  before(async () => {
    const vc = `fac${tag}`;
    const vs = `fas${tag}`;
    ip('netns', 'add', nsS);
    ip('netns', 'add', nsC);
    ip('link', 'add', vc, 'netns', nsC, 'type', 'veth', 'peer', 'name', vs, 'netns', nsS);
    ip('-n', nsC, 'addr', 'add', '203.0.113.1/30', 'dev', vc);
    ip('-n', nsS, 'addr', 'add', `${V4}/30`, 'dev', vs);
    ip('-n', nsC, '-6', 'addr', 'add', '2001:db8::1/64', 'dev', vc, 'nodad');
    ip('-n', nsS, '-6', 'addr', 'add', `${V6}/64`, 'dev', vs, 'nodad');
    for (const [ns, dev] of [[nsC, vc], [nsS, vs], [nsC, 'lo'], [nsS, 'lo']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
    // AnyIP in the client namespace: every address of these prefixes is local there.
    for (const p of ['198.18.0.0/16', '198.51.100.0/24']) {
      ip('-n', nsC, 'route', 'add', 'local', p, 'dev', 'lo');
      ip('-n', nsS, 'route', 'add', p, 'via', '203.0.113.1');
    }
    for (const p of ['2001:db8:1000::/48', '2001:db8:2000::/48', '2001:db8:3000::/48']) {
      ip('-n', nsC, '-6', 'route', 'add', 'local', p, 'dev', 'lo');
      ip('-n', nsS, '-6', 'route', 'add', p, 'via', '2001:db8::1');
    }
    // IPv6 binds to an AnyIP address only with non-local binding allowed (a per-namespace setting).
    ip('netns', 'exec', nsC, 'sysctl', '-qw', 'net.ipv6.ip_nonlocal_bind=1');

    const cert = makeTestCert(dir);
    const zone = join(dir, 't.lab.zone');
    writeFileSync(zone, '$ORIGIN t.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\n');
    const listen = [V4, `[${V6}]`].flatMap((h) => [
      `  - { proto: udp, address: "${h}:53" }`,
      `  - { proto: tcp, address: "${h}:53" }`,
      `  - { proto: tls, address: "${h}:853", cert: ${cert.cert}, key: ${cert.key} }`,
      `  - { proto: https, address: "${h}:443", cert: ${cert.cert}, key: ${cert.key} }`,
    ]);
    const conf = join(dir, 'fluxdns.yaml');
    writeFileSync(
      conf,
      `listen:\n${listen.join('\n')}\nlog: { level: warn }\nzones:\n  - { name: t.lab., file: ${zone} }\n` +
        // A small table keeps the test cheap; the attacks outnumber it.
        `limits: { tcpMaxConnections: ${TABLE}, tcpMaxConnectionsPerPrefix: ${PER_PREFIX}, tcpIdleTimeout: 10, tcpHandshakeTimeout: 5 }\n`,
    );
    server = startProcess('ip', ['netns', 'exec', nsS, process.execPath, '--expose-gc', '--import', 'tsx', fluxdnsMain, 'serve', '--config', conf], { cwd: repoRoot, name: 'fluxdns-netns' });
    await server.waitFor(/fluxdns ready/, 90_000);
  });

  test(`512 slot holders, one in each of 256 /24s and 256 /56s, a query every 4 s, back 3 s after eviction: the legitimate client keeps ≥ 90 % over TCP, DoT and DoH, IPv4 and IPv6`, async () => {
    // Evicted holders come back 3 s later. Back after 1 s, their ≈ 300 reconnections a second outran what
    // the server accepts on this loaded 2-core machine: 100–150 connections waited in port 53's accept
    // queue and a legitimate TCP connection behind them timed out (DoT and DoH, on their own ports, did
    // not); that is a reconnect flood, measured in the next test, not slot holding.
    const attack = drive({ mode: 'hold', host: V4, port: 53, sources: MANY_V4, perSource: 1, everyMs: 4000, reconnectMs: 3000 }, 'holders-v4');
    const attack6 = drive({ mode: 'hold', host: V6, port: 53, sources: MANY_V6, perSource: 1, everyMs: 4000, reconnectMs: 3000 }, 'holders-v6');
    // The table is full before the legitimate client starts.
    await Promise.all([attack.waitFor(/opened (2[0-9]{2}|[3-9][0-9]{2})/, 60_000), attack6.waitFor(/opened (2[0-9]{2}|[3-9][0-9]{2})/, 60_000)]);
    const legit = drive({ mode: 'legit', targets: LEGIT, seconds: 6 }, 'legit');
    const score = await result<Scores>(legit, 90_000);
    const opened = lastCount(attack, 'opened') + lastCount(attack6, 'opened');
    await Promise.all([attack.stop(), attack6.stop()]);
    assert.ok(opened > 512, `the holders opened ${opened} connections (reconnecting after each eviction)`);
    assertShare(score, 0.9, `slot holding from 256 /24s and 256 /56s (${opened} connections opened)`);
    assert.ok(server.running);
  });

  test('a reconnect flood from 256 /24s and 256 /56s: the legitimate client keeps ≥ 90 %', async () => {
    const flood = drive({ mode: 'flood', host: V4, port: 53, sources: MANY_V4, loops: 24 }, 'flood-v4');
    const flood6 = drive({ mode: 'flood', host: V6, port: 53, sources: MANY_V6, loops: 24 }, 'flood-v6');
    await Promise.all([flood.waitFor(/attempts [1-9]/, 60_000), flood6.waitFor(/attempts [1-9]/, 60_000)]);
    const legit = drive({ mode: 'legit', targets: LEGIT, seconds: 6 }, 'legit');
    const score = await result<Scores>(legit, 90_000);
    const attempts = lastCount(flood, 'attempts') + lastCount(flood6, 'attempts');
    await Promise.all([flood.stop(), flood6.stop()]);
    assert.ok(attempts > 1000, `the flood made ${attempts} connection attempts`);
    assertShare(score, 0.9, `reconnect flood from 256 /24s and 256 /56s (${attempts} attempts)`);
    assert.ok(server.running);
  });

  test(`per-prefix limit on IPv6 /56s: 64 connections from 16 /64s of one /56 get ${PER_PREFIX} slots; the next /56 of the same /48 gets its own`, async () => {
    // 2001:db8:3000:1100::/56 holds the /64s 2001:db8:3000:1100 … 110f; four addresses in each.
    const oneSlash56 = Array.from({ length: 64 }, (_, i) => `2001:db8:3000:11${(i % 16).toString(16).padStart(2, '0')}::${Math.floor(i / 16) + 1}`);
    // 2001:db8:3000:1200::/56: the neighbouring /56, same /48.
    const next56 = Array.from({ length: 16 }, (_, i) => `2001:db8:3000:12${i.toString(16).padStart(2, '0')}::1`);
    const counter = drive({ mode: 'count', host: V6, port: 53, groups: { oneSlash56, next56 } }, 'count-56');
    const got = await result<Record<string, number>>(counter, 90_000);
    process.stdout.write(`# netns per-prefix /56: ${JSON.stringify(got)}\n`);
    assert.equal(got.oneSlash56, PER_PREFIX, `one /56 holds at most tcpMaxConnectionsPerPrefix (${PER_PREFIX}) connections, over all its /64s`);
    assert.equal(got.next56, 16, 'the neighbouring /56 is counted apart');
    assert.equal(got.stillOpen, PER_PREFIX + 16, 'the admitted connections stay open');
  });
});
