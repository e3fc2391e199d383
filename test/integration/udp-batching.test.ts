// UDP through a real fluxdns process on both paths: node:dgram when `udp.batching: off`, and the
// native recvmmsg/sendmmsg path with `workers: 2`, where each worker binds its own SO_REUSEPORT socket.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';

after(() => stopAll());

const HOSTS = 200;
const ZONE = `$ORIGIN ub.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${Array.from({ length: HOSTS }, (_, i) => `h${i} A 198.18.${i >> 8}.${i & 0xff}`).join('\n')}\n`;

async function serve(extra: string): Promise<{ server: RunningServer; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-udpb-'));
  const zoneFile = join(dir, 'ub.lab.zone');
  writeFileSync(zoneFile, ZONE);
  const port = await freePort();
  const yaml = `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n  - { proto: tcp, address: "127.0.0.1:${port}" }\n${extra}\nzones:\n  - { name: ub.lab., file: ${JSON.stringify(zoneFile)} }\n`;
  return { server: await startFluxdns(yaml, port, 'ub.lab.'), port };
}

/** The "UDP transport" log lines: which path each serving process uses. */
function modes(server: RunningServer): { mode: string; detail: string }[] {
  return server.proc.stderr
    .split('\n')
    .filter((l) => l.includes('"UDP transport"'))
    .map((l) => JSON.parse(l) as { mode: string; detail: string });
}

/** Sends one query per host from `sockets` client sockets (distinct source ports) and checks every answer. */
async function burst(port: number, sockets: number): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: sockets }, () => new Promise<dgram.Socket>((r) => {
      const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
      s.bind(0, '127.0.0.1', () => r(s));
    })),
  );
  const answers = new Map<number, string>();
  for (const c of clients) {
    c.on('message', (m) => {
      const p = packet.decode(m);
      const a = p.answers?.[0];
      if (a?.type === 'A') answers.set(p.id!, `${p.questions![0]!.name} ${String(a.data)}`);
    });
  }
  for (let i = 0; i < HOSTS; i++) clients[i % sockets]!.send(packet.encode({ id: i + 1, type: 'query', questions: [{ name: `h${i}.ub.lab`, type: 'A' }] }), port, '127.0.0.1');
  const deadline = Date.now() + 5000;
  while (answers.size < HOSTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const c of clients) c.close();
  for (let i = 0; i < HOSTS; i++) assert.equal(answers.get(i + 1), `h${i}.ub.lab 198.18.${i >> 8}.${i & 0xff}`, `query ${i + 1}`);
  return answers.size;
}

test('udp.batching: off serves through node:dgram', async () => {
  const { server, port } = await serve('udp: { batching: off }');
  try {
    assert.deepEqual(modes(server).map((m) => m.mode), ['dgram']);
    assert.match(modes(server)[0]!.detail, /udp\.batching is off/);
    const r = await dig(port, 'h7.ub.lab', 'A');
    assert.deepEqual(r.answer.map((a) => a.data), ['198.18.0.7']);
    assert.equal(await burst(port, 4), HOSTS);
  } finally {
    await server.stop();
  }
});

test('workers: 2 with batching: each worker binds its own SO_REUSEPORT socket and answers', async () => {
  const { server, port } = await serve('workers: 2');
  try {
    // Each worker logs its path once; the second may still be starting when the first answers.
    for (let i = 0; i < 100 && modes(server).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const m = modes(server);
    assert.deepEqual(m.map((x) => x.mode), ['recvmmsg', 'recvmmsg'], server.proc.describe());
    assert.ok(m.every((x) => /SO_REUSEPORT/.test(x.detail)));
    // Two UDP sockets on the port (with cluster's shared dgram handle there would be one, in the primary).
    const sockets = execFileSync('ss', ['-H', '-u', '-a', '-n', 'sport', '=', `:${port}`], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(sockets.length, 2, sockets.join('\n'));
    // 16 source ports: the kernel hashes flows over the two sockets.
    assert.equal(await burst(port, 16), HOSTS);
    const tcp = await dig(port, 'h9.ub.lab', 'A', { tcp: true });
    assert.deepEqual(tcp.answer.map((a) => a.data), ['198.18.0.9']);
  } finally {
    await server.stop();
  }
});
