// Scanners caught (seed 000 §4), userspace backend on loopback: a source that dials 50 unleased pool
// addresses is blocklisted in the store, listed by `fluxdns caps scanners`, denied capabilities
// (reason scanner) and refused at the gateway; a legitimate client is not affected.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort } from '../helpers/ports.js';
import { dig } from '../helpers/dig.js';
import { fluxdnsMain, repoRoot, startFluxdns } from '../helpers/servers.js';

const TOKEN = 'scanner-test-token-0123456789';

/** One connection from `src`: "hello …" from the backend, or the error that ended it. */
function attempt(host: string, port: number, src: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: src });
    const t = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, 3000);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      clearTimeout(t);
      s.destroy();
      resolve(d.trim());
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(e.code ?? e.message);
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
  });
}

const caps = (adminPort: number, ...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', fluxdnsMain, 'caps', ...args, '--admin', `127.0.0.1:${adminPort}`, '--token', TOKEN], { cwd: repoRoot, encoding: 'utf8' });

test('userspace gateway: a scanner probing 50 unleased addresses is blocklisted, a legitimate client is not', { timeout: 90_000 }, async () => {
  const backend = net.createServer((s) => {
    s.on('error', () => s.destroy());
    s.end(`hello ${s.remoteAddress}\n`);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  after(() => backend.close());
  const backendPort = (backend.address() as net.AddressInfo).port;
  const [dns, svcPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'caps-scan-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const audit = join(dir, 'audit.jsonl');
  const server = await startFluxdns(
    `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }, { proto: tcp, address: "127.0.0.1:${dns}" }]
gateway:
  listeners: [{ prefixes: [127.82.0.0/24], ports: [tcp/${svcPort}] }]
pools: [{ name: caps, prefixes: [127.82.0.0/24] }]
services:
  - { name: svc.caps.lab, target: "127.0.0.1:${backendPort}", ports: [tcp/${svcPort}], pool: caps, ttl: 30, grace: 30 }
capabilities:
  scanners: { threshold: 20, window: 60, blockFor: 600 }
  audit: { file: ${JSON.stringify(audit)} }
  admin: { listen: "127.0.0.1:${adminPort}", token: ${TOKEN} }
`,
    dns,
  );
  after(() => server.stop());

  // Before any scan: detection is on, nobody is listed.
  const none = caps(adminPort, 'scanners');
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /^0 scanner\(s\) blocked; threshold 20 in 60s, blocked for 600s$/m);

  // The legitimate client gets its lease first.
  const legit = await dig(dns, 'svc.caps.lab', 'A', { extra: ['-b', '127.0.0.1'] });
  assert.equal(legit.rcode, 'NOERROR');
  const leased = legit.answer[0]!.data;
  assert.match(await attempt(leased, svcPort, '127.0.0.1'), /^hello /);

  // The scanner dials 50 pool addresses nobody leased: each one is refused (and counted).
  const targets = Array.from({ length: 50 }, (_, i) => `127.82.0.${100 + i}`).filter((a) => a !== leased);
  const results = await Promise.all(targets.map((a) => attempt(a, svcPort, '127.0.0.66')));
  assert.ok(results.every((r) => !r.startsWith('hello')), `nothing unleased answers: ${results.join(',')}`);

  // It is listed (the count crossed 20 within 60 s), with the attempts that crossed the threshold.
  const listed = caps(adminPort, 'scanners', '--json');
  assert.equal(listed.status, 0, listed.stderr);
  const l = JSON.parse(listed.stdout) as { scanners: Array<{ source: string; attempts: number; since: number; until: number }>; now: number };
  assert.deepEqual(l.scanners.map((s) => s.source), ['127.0.0.66']);
  const e = l.scanners[0]!;
  assert.ok(e.attempts >= 20);
  // Blocked for 600 s from the block (a second block by the rest of the scan extends it); still in force.
  assert.ok(e.until - e.since >= 600_000 && e.until - e.since < 660_000 && e.until > l.now, JSON.stringify(l));
  const text = caps(adminPort, 'scanners');
  assert.match(text.stdout, /^127\.0\.0\.66 {2}attempts \d+ {2}since \S+ {2}for \d+s more$/m);

  // Its next query for the service is denied; its flows to a leased address are refused too.
  const denied = await dig(dns, 'svc.caps.lab', 'A', { extra: ['-b', '127.0.0.66'] });
  assert.equal(denied.rcode, 'REFUSED');
  assert.equal(denied.answer.length, 0);
  assert.doesNotMatch(await attempt(leased, svcPort, '127.0.0.66'), /^hello/);

  // The legitimate client: a fresh query is answered, its lease still carries flows.
  const again = await dig(dns, 'svc.caps.lab', 'A', { extra: ['-b', '127.0.0.1'] });
  assert.equal(again.rcode, 'NOERROR');
  assert.equal(again.answer[0]!.data, leased, 'the same lease within its TTL');
  assert.equal(await attempt(leased, svcPort, '127.0.0.1'), 'hello 127.0.0.1');

  // The audit log: the block, the denial with reason scanner, the refused flows.
  await new Promise((r) => setTimeout(r, 300));
  const lines = readFileSync(audit, 'utf8').trim().split('\n').map((x) => JSON.parse(x) as Record<string, unknown>);
  const blocks = lines.filter((x) => x['event'] === 'scanner');
  assert.ok(blocks.length >= 1 && blocks.every((b) => b['source'] === '127.0.0.66'), JSON.stringify(blocks));
  assert.ok(lines.some((x) => x['event'] === 'deny' && x['reason'] === 'scanner: 127.0.0.66' && x['resolver'] === '127.0.0.66'));
  assert.ok(lines.some((x) => x['event'] === 'flow-denied' && x['source'] === '127.0.0.66' && x['reason'] === 'scanner'));
  assert.ok(!lines.some((x) => x['event'] === 'deny' && x['resolver'] === '127.0.0.1'), 'the legitimate client was never denied');
});
