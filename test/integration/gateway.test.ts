// `fluxdns gateway` on loopback: many 127.x addresses of a served prefix reach the right backend by
// (address, port), PROXY v2 reaches a parsing backend, UDP replies come from the dialled address,
// unmatched traffic is refused; and `fluxdns serve` runs the gateway beside DNS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProxyV2 } from '../../src/gateway/proxy-v2.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll, type Proc } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-gateway-'));
const closers: Array<() => void> = [];
after(async () => {
  await stopAll();
  for (const c of closers) c();
  rmSync(dir, { recursive: true, force: true });
});

/** A TCP backend that answers "NAME saw SRC:PORT→DST:PORT: DATA" once the client has sent a line, reading a PROXY v2 header first when asked. */
async function tcpBackend(name: string, proxy: boolean): Promise<number> {
  const port = await freePort();
  const srv = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let who = `${s.remoteAddress}:${s.remotePort}`;
      let body = buf;
      if (proxy) {
        const h = decodeProxyV2(buf);
        if (h === 'incomplete') return;
        if (h instanceof Error) return void s.end(`${name} bad header: ${h.message}\n`);
        who = `${h.src}:${h.srcPort}→${h.dst}:${h.dstPort}`;
        body = buf.subarray(h.length);
      }
      if (!body.includes(0x0a)) return;
      s.end(`${name} saw ${who}: ${body.toString().trim()}\n`);
    });
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  closers.push(() => srv.close());
  return port;
}

/** A UDP backend that answers each datagram with "NAME: DATA". */
async function udpBackend(name: string): Promise<number> {
  const port = await freePort();
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(`${name}: ${m.toString()}`, r.port, r.address));
  await new Promise<void>((r) => s.bind(port, '127.0.0.1', r));
  closers.push(() => s.close());
  return port;
}

type TcpResult = { reply: string; localPort: number } | { error: string };

function tcpAsk(host: string, port: number, line: string): Promise<TcpResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let out = '';
    let localPort = 0;
    s.on('connect', () => {
      localPort = s.localPort!;
      s.write(line + '\n');
    });
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve({ reply: out, localPort }));
    s.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    s.setTimeout(5000, () => {
      s.destroy();
      resolve({ error: 'timeout' });
    });
  });
}

function udpAsk(host: string, port: number, text: string, waitMs = 2000): Promise<{ reply: string; from: string; fromPort: number } | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, waitMs);
    s.on('message', (m, r) => {
      clearTimeout(t);
      s.close();
      resolve({ reply: m.toString(), from: r.address, fromPort: r.port });
    });
    s.send(text, port, host);
  });
}

/** Deterministic spread of addresses over a /16 (no randomness: a failure names the address). */
function spread(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}.${(i * 37) % 256}.${(i * 101 + 7) % 256}`);
}

describe('fluxdns gateway on loopback prefixes', () => {
  let gw: Proc;
  let p1: number;
  let p2: number;
  before(async () => {
    const [a, b, c, u] = await Promise.all([tcpBackend('A', false), tcpBackend('B', false), tcpBackend('C', true), udpBackend('U')]);
    p1 = await freePort();
    p2 = await freePort();
    const conf = join(dir, 'gateway.yaml');
    writeFileSync(
      conf,
      `gateway:
  listeners:
    - { prefixes: ["127.77.0.0/16", "127.79.0.0/24"], ports: ["tcp/${p1}", "tcp/${p2}"] }
    - { prefixes: ["127.78.0.0/28"], ports: ["udp/${p1}"] }
  dispatch:
    - { prefix: 127.77.1.0/24, proto: tcp, ports: ${p1}, backend: "127.0.0.1:${a}" }
    - { prefix: 127.77.0.0/16, proto: tcp, ports: "${p1}", backend: "127.0.0.1:${b}" }
    - { prefix: 127.77.0.0/16, proto: tcp, ports: "${p2}-${p2}", backend: "127.0.0.1:${c}", proxyProtocol: true }
    - { prefix: 127.78.0.0/29, proto: udp, ports: ${p1}, backend: "127.0.0.1:${u}" }
`,
    );
    gw = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'gateway', '--config', conf], { cwd: repoRoot, name: 'gateway' });
    await gw.waitFor(/fluxdns gateway ready/, 90_000);
  });

  test('the ready line lists one TCP socket per port and one UDP socket per served address', () => {
    // The order of the sockets follows the free ports the test drew, so each is checked on its own.
    const line = /fluxdns gateway ready: (.*)/.exec(gw.stdout)?.[1] ?? gw.stdout;
    const parts = line.split(', ').sort();
    assert.deepEqual(parts, [`gateway tcp 0.0.0.0:${p1}`, `gateway tcp 0.0.0.0:${p2}`, `gateway udp 127.78.0.0:${p1} (+15 more)`].sort());
  });

  test('connections to many addresses of the prefix reach the backend chosen by (address, port)', async () => {
    const targets = [...spread('127.77', 48), '127.77.1.1', '127.77.1.254', '127.77.0.1', '127.77.255.255'];
    const results = await Promise.all(targets.map((t) => tcpAsk(t, p1, `hello ${t}`)));
    targets.forEach((t, i) => {
      const r = results[i]!;
      assert.ok('reply' in r, `${t}: ${JSON.stringify(r)}`);
      // First match wins: 127.77.1.0/24 is listed before the whole /16.
      const want = t.startsWith('127.77.1.') ? 'A' : 'B';
      assert.match(r.reply, new RegExp(`^${want} saw 127\\.0\\.0\\.1:\\d+: hello ${t.replace(/\./g, '\\.')}\\n$`), t);
    });
  });

  test('PROXY v2 tells the backend the client and the dialled address', async () => {
    for (const t of ['127.77.9.9', '127.77.200.3']) {
      const r = await tcpAsk(t, p2, 'who am I');
      assert.ok('reply' in r, `${t}: ${JSON.stringify(r)}`);
      assert.equal(r.reply, `C saw 127.0.0.1:${r.localPort}→${t}:${p2}: who am I\n`);
    }
  });

  test('unmatched connections are reset: outside every prefix, and in a served prefix without a dispatch entry', async () => {
    for (const [host, port] of [['127.0.0.1', p1], ['127.79.0.5', p1], ['127.79.0.5', p2], ['127.76.1.1', p2]] as const) {
      const r = await tcpAsk(host, port, 'x');
      assert.deepEqual(r, { error: 'ECONNRESET' }, `${host}:${port}`);
    }
  });

  test('UDP replies come from the address the client dialled, per-flow, and unmatched datagrams get nothing', async () => {
    for (let i = 0; i < 8; i++) {
      const host = `127.78.0.${i}`;
      const r = await udpAsk(host, p1, `ping ${i}`);
      assert.deepEqual(r && { reply: r.reply, from: r.from, fromPort: r.fromPort }, { reply: `U: ping ${i}`, from: host, fromPort: p1 }, host);
    }
    // 127.78.0.8/29 is served (a socket exists) but no dispatch entry matches: dropped.
    assert.equal(await udpAsk('127.78.0.9', p1, 'nobody', 700), null);
  });
});
