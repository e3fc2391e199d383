// DNS answers as capabilities on loopback, userspace backend: dig a service, connect to the granted
// 127.x address (reaches the backend), another pool address is refused, after TTL + slack a new
// source is refused and a seen one admitted until grace ends, revoke cuts an established flow, and
// the audit log holds every grant, flow, denial, expiry and revocation.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort } from '../helpers/ports.js';
import { dig } from '../helpers/dig.js';
import { fluxdnsMain, repoRoot, startFluxdns } from '../helpers/servers.js';

const TOKEN = 'integration-test-token-0123456789';

/** The backend: says hello with the client's address, then echoes lines until the client goes. */
function startBackend(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((s) => {
    s.on('error', () => s.destroy());
    s.write(`hello ${s.remoteAddress}\n`);
    s.on('data', (d) => s.write(`echo ${d.toString()}`));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, server })));
}

interface Conn {
  sock: net.Socket;
  /** Resolves with the next chunk, or rejects when the connection ends first. */
  next(): Promise<string>;
  closed: Promise<string>;
}

/** Connects from `localAddress`; resolves once the first bytes (the backend's hello) arrive. */
function connect(host: string, port: number, localAddress: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, localAddress });
    const chunks: string[] = [];
    const waiters: ((s: string | Error) => void)[] = [];
    let ended: string | undefined;
    const closed = new Promise<string>((r) => sock.on('close', () => r(ended ?? 'closed')));
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      const w = waiters.shift();
      if (w) w(d);
      else chunks.push(d);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => (ended = e.code ?? e.message));
    sock.on('close', () => {
      for (const w of waiters.splice(0)) w(new Error(ended ?? 'closed'));
    });
    const next = () =>
      new Promise<string>((res, rej) => {
        const c = chunks.shift();
        if (c !== undefined) return res(c);
        if (sock.destroyed) return rej(new Error(ended ?? 'closed'));
        waiters.push((x) => (x instanceof Error ? rej(x) : res(x)));
      });
    next().then(
      () => resolve({ sock, next, closed }),
      (e: Error) => reject(e),
    );
    setTimeout(() => reject(new Error('no hello within 3 s')), 3000).unref();
  });
}

/** True when the gateway relays a connection from `src` to `host` (the backend says hello). */
async function admitted(host: string, port: number, src: string): Promise<boolean> {
  try {
    const c = await connect(host, port, src);
    c.sock.destroy();
    return true;
  } catch {
    return false;
  }
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

// A bound against a hang: at load 20 the server and each of the three fluxdns commands take ~7-10 s to start.
test('userspace capabilities on loopback', { timeout: 180_000 }, async () => {
  const backend = await startBackend();
  after(() => backend.server.close());
  const [dns, svcPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'caps-it-'));
  const audit = join(dir, 'audit.jsonl');
  const server = await startFluxdns(
    `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }, { proto: tcp, address: "127.0.0.1:${dns}" }]
gateway:
  listeners: [{ prefixes: [127.81.0.0/24], ports: [tcp/${svcPort}] }]
pools: [{ name: caps, prefixes: [127.81.0.0/24] }]
services:
  - { name: svc.caps.lab, target: "127.0.0.1:${backend.port}", ports: [tcp/${svcPort}], pool: caps, ttl: 1, grace: 3 }
  # Step 5's lease must outlast two fluxdns commands' start-up (~7 s each at load 20) before the revoke.
  - { name: svc2.caps.lab, target: "127.0.0.1:${backend.port}", ports: [tcp/${svcPort}], pool: caps, ttl: 1, grace: 120 }
capabilities:
  slack: 1
  quarantine: 30
  audit: { file: ${JSON.stringify(audit)} }
  admin: { listen: "127.0.0.1:${adminPort}", token: ${TOKEN} }
`,
    dns,
  );
  after(() => server.stop());

  // 1. A grant: an address of the pool, TTL 1; the translation is in force when the answer arrives.
  const r = await dig(dns, 'svc.caps.lab', 'A');
  // The grant is before this instant (dig may take a second to start on a loaded machine, so not
  // after the instant it was started): checks that a phase is over wait from here.
  const tAnswer = Date.now();
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.answer.length, 1);
  const a1 = r.answer[0]!.data;
  assert.match(a1, /^127\.81\.0\.\d+$/);
  assert.equal(r.answer[0]!.ttl, 1);
  assert.ok(r.flags.has('aa'));

  // 2. The granted address reaches the backend; another address of the pool is refused.
  const kept = await connect(a1, svcPort, '127.0.0.1');
  kept.sock.write('ping\n');
  assert.equal(await kept.next(), 'echo ping\n');
  const other = a1 === '127.81.0.9' ? '127.81.0.10' : '127.81.0.9';
  assert.equal(await admitted(other, svcPort, '127.0.0.1'), false, 'an address without a lease is refused');
  assert.equal(await admitted(a1, svcPort, '127.0.0.3'), true, 'another client of the same resolver, while live');

  // 3. After TTL + slack: a new source is refused, the seen ones keep access (grace, seed 000 §3.2).
  await sleepUntil(tAnswer + 2300);
  assert.equal(await admitted(a1, svcPort, '127.0.0.2'), false, 'a new source after TTL + slack');
  assert.equal(await admitted(a1, svcPort, '127.0.0.1'), true, 'a seen source during grace');
  kept.sock.write('still there\n');
  assert.equal(await kept.next(), 'echo still there\n', 'the established flow survives expiry');

  // 4. After grace nobody gets in; the established flow still works (as Linux NAT keeps conntrack).
  await sleepUntil(tAnswer + 5600);
  assert.equal(await admitted(a1, svcPort, '127.0.0.1'), false, 'grace is over');
  kept.sock.write('and now\n');
  assert.equal(await kept.next(), 'echo and now\n');

  // 5. A new lease (the old one's TTL ran out), a flow through it, and a revocation that cuts it.
  const r2 = await dig(dns, 'svc2.caps.lab', 'A');
  const a2 = r2.answer[0]!.data;
  assert.notEqual(a2, a1, 'the old address rests in quarantine');
  const victim = await connect(a2, svcPort, '127.0.0.1');
  const list = spawnSync(process.execPath, ['--import', 'tsx', fluxdnsMain, 'caps', 'list', '--admin', `127.0.0.1:${adminPort}`, '--token', TOKEN], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  // The phase depends on how long the command took to start (TTL 1 + slack 1): live on a quiet machine.
  assert.match(list.stdout, new RegExp(`svc2\\.caps\\.lab\\.\\s+${a2.replace(/\./g, '\\.')}\\s+tcp/${svcPort} -> 127\\.0\\.0\\.1:${backend.port}\\s+(live|grace|quarantine) ttl \\d+s  resolver 127\\.0\\.0\\.1  hosts `), 'a lease scoped to its resolver names it once');
  const rev = spawnSync(process.execPath, ['--import', 'tsx', fluxdnsMain, 'caps', 'revoke', a2, '--admin', `127.0.0.1:${adminPort}`, '--token', TOKEN], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(rev.status, 0, rev.stderr);
  assert.match(rev.stdout, /revoked 1 lease\(s\), cut 1 flow\(s\)/);
  assert.match(await victim.closed, /ECONNRESET|closed/);
  assert.equal(await admitted(a2, svcPort, '127.0.0.1'), false, 'a revoked lease admits nothing');
  kept.sock.destroy();

  // 6. A wrong token is refused by the admin API.
  const bad = spawnSync(process.execPath, ['--import', 'tsx', fluxdnsMain, 'caps', 'list', '--admin', `127.0.0.1:${adminPort}`, '--token', 'wrong-token-wrong-token'], { cwd: repoRoot, encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /401/);

  // 7. The audit log: grants, admitted flows, denials with reasons, expiry, revocation.
  await new Promise((res) => setTimeout(res, 300));
  const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const of = (event: string) => lines.filter((l) => l['event'] === event);
  assert.deepEqual(of('grant').map((g) => [g['address'], g['ttl'], g['scope'], g['resolver']]), [[a1, 1, 'resolver', '127.0.0.1'], [a2, 1, 'resolver', '127.0.0.1']]);
  assert.ok(of('flow').some((f) => f['source'] === '127.0.0.1' && f['address'] === a1 && f['phase'] === 'grace'));
  const reasons = of('flow-denied').map((f) => `${String(f['source'])} ${String(f['reason'])}`);
  assert.ok(reasons.includes('127.0.0.1 no lease'), reasons.join('; '));
  assert.ok(reasons.includes('127.0.0.2 grace: source not seen while live'), reasons.join('; '));
  assert.ok(reasons.includes('127.0.0.1 expired'), reasons.join('; '));
  assert.ok(reasons.includes('127.0.0.1 revoked'), reasons.join('; '));
  assert.ok(of('expire').some((e) => e['address'] === a1 && e['hosts'] === 2));
  assert.deepEqual(of('revoke').map((e) => [e['address'], e['cut']]), [[a2, 1]]);
});
