// Abuse limits on TCP, DoT and DoH: hundreds of idle connections leave other clients served, the
// per-client limit refuses one address's (N+1)th connection but not another's, slowloris clients
// and silent connections are cut by the query and handshake timeouts, oversized frames close.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import packet from 'dns-packet';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';
import { makeTestCert, type TestCert } from '../helpers/tls.js';

after(() => stopAll());

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-abuse-'));
const IDLE_PER_ADDRESS = Number(process.env.FLUXDNS_ABUSE_IDLE ?? 60);
let cert: TestCert;
let zone: string;

interface Ports {
  tcp: number;
  dot: number;
  doh: number;
}

async function serve(limits: string): Promise<{ server: RunningServer; ports: Ports }> {
  const ports = { tcp: await freePort(), dot: await freePort(), doh: await freePort() };
  const yaml =
    `listen:\n  - { proto: udp, address: "127.0.0.1:${ports.tcp}" }\n  - { proto: tcp, address: "127.0.0.1:${ports.tcp}" }\n` +
    `  - { proto: tls, address: "127.0.0.1:${ports.dot}", cert: ${cert.cert}, key: ${cert.key} }\n` +
    `  - { proto: https, address: "127.0.0.1:${ports.doh}", cert: ${cert.cert}, key: ${cert.key} }\n` +
    `limits: ${limits}\nzones:\n  - { name: t.lab., file: ${zone} }\n`;
  return { server: await startFluxdns(yaml, ports.tcp, 't.lab.'), ports };
}

before(() => {
  cert = makeTestCert(dir);
  zone = join(dir, 't.lab.zone');
  writeFileSync(zone, '$ORIGIN t.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\n');
});

function frame(id: number): Buffer {
  const q = packet.encode({ type: 'query', id, flags: 0, questions: [{ name: 'www.t.lab', type: 'A', class: 'IN' }] });
  const f = Buffer.alloc(2 + q.length);
  f.writeUInt16BE(q.length, 0);
  q.copy(f, 2);
  return f;
}

/** A connection from a chosen loopback address; resolves once connected, or false when refused/closed first. */
function open(port: number, localAddress: string, secure = false): Promise<net.Socket | false> {
  return new Promise((resolve) => {
    const raw = net.connect({ host: '127.0.0.1', port, localAddress });
    const s = secure ? tls.connect({ socket: raw, rejectUnauthorized: false, ALPNProtocols: ['dot'] }) : raw;
    s.once(secure ? 'secureConnect' : 'connect', () => resolve(s));
    s.once('error', () => resolve(false));
    s.once('close', () => resolve(false));
  });
}

/** Resolves with how the connection ended: 'closed' (by the server) or 'open' after waitMs. */
function outcome(s: net.Socket, waitMs: number): Promise<'closed' | 'open'> {
  if (s.destroyed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('open'), waitMs);
    s.once('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
  });
}

/** Sends one query on the socket and resolves with the answer's ID, or null if the connection ends first. */
function ask(s: net.Socket, id: number): Promise<number | null> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))).id!);
    });
    s.once('close', () => resolve(null));
    s.write(frame(id));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('connection limits', () => {
  let server: RunningServer;
  let ports: Ports;
  before(async () => {
    // 420 connections from one /24 within a second or two: above the default accept rate per prefix (200/s).
    ({ server, ports } = await serve('{ tcpHandshakeTimeout: 60, tcpIdleTimeout: 60, tcpAcceptRatePerPrefix: 5000 }'));
  });
  after(() => server?.stop());

  test('hundreds of idle TCP, DoT and stalled-handshake connections: a fresh client is still served on each transport', async () => {
    const idle: net.Socket[] = [];
    // Five addresses below the default per-client limit (64) for plain TCP, one for DoT, one for stalled DoH handshakes.
    const plan: [number, string, boolean][] = [];
    for (let a = 10; a < 15; a++) for (let i = 0; i < IDLE_PER_ADDRESS; i++) plan.push([ports.tcp, `127.0.0.${a}`, false]);
    for (let i = 0; i < IDLE_PER_ADDRESS; i++) plan.push([ports.dot, '127.0.0.15', true]);
    for (let i = 0; i < IDLE_PER_ADDRESS; i++) plan.push([ports.doh, '127.0.0.16', false]);
    for (let i = 0; i < plan.length; i += 50) {
      const batch = await Promise.all(plan.slice(i, i + 50).map(([p, a, s]) => open(p, a, s)));
      for (const s of batch) {
        assert.ok(s, 'every idle connection within the limits is accepted');
        idle.push(s);
      }
    }
    assert.equal(idle.length, 7 * IDLE_PER_ADDRESS);
    const tcp = await dig(ports.tcp, 'www.t.lab', 'A', { tcp: true });
    assert.deepEqual(tcp.answer.map((a) => a.data), ['198.51.100.2']);
    const dot = await dig(ports.dot, 'www.t.lab', 'A', { tool: 'kdig', extra: ['+tls'] });
    assert.deepEqual(dot.answer.map((a) => a.data), ['198.51.100.2']);
    const doh = await dig(ports.doh, 'www.t.lab', 'A', { tool: 'kdig', extra: ['+https'] });
    assert.deepEqual(doh.answer.map((a) => a.data), ['198.51.100.2']);
    // The idle ones were not sacrificed for them.
    assert.equal(idle.filter((s) => s.destroyed).length, 0);
    for (const s of idle) s.destroy();
  });

  test('the per-client limit refuses the 65th connection from 127.0.0.2 while 127.0.0.3 still connects and is answered', async () => {
    const held: net.Socket[] = [];
    for (let i = 0; i < 64; i++) {
      const s = await open(ports.tcp, '127.0.0.2');
      assert.ok(s, `connection ${i + 1} of 127.0.0.2 is accepted`);
      held.push(s);
    }
    const extra = await open(ports.tcp, '127.0.0.2');
    const refused = extra === false || (await outcome(extra, 1000)) === 'closed';
    assert.ok(refused, 'the 65th connection from one address is closed at once');
    // DoT counts against the same limit: the client's TCP slots are all taken.
    const extraTls = await open(ports.dot, '127.0.0.2', true);
    assert.equal(extraTls, false, 'a DoT connection from the same address is refused too');
    const other = await open(ports.tcp, '127.0.0.3');
    assert.ok(other, 'another address still connects');
    assert.equal(await ask(other, 321), 321);
    other.destroy();
    for (const s of held) s.destroy();
    await sleep(100);
    const again = await open(ports.tcp, '127.0.0.2');
    assert.ok(again, 'slots come back when connections close');
    again.destroy();
  });
});

describe('timeouts and size caps', () => {
  let server: RunningServer;
  let ports: Ports;
  before(async () => {
    ({ server, ports } = await serve('{ tcpHandshakeTimeout: 1.5, tcpQueryTimeout: 1, tcpIdleTimeout: 30, maxQuerySize: 512 }'));
  });
  after(() => server?.stop());

  /** Sends a query one byte every 200 ms (6 s in all); the server must cut it and never answer. */
  async function slowloris(s: net.Socket): Promise<{ answered: boolean; bytesSent: number; total: number }> {
    const f = frame(99);
    let answered = false;
    s.on('data', () => (answered = true));
    let sent = 0;
    const closed = outcome(s, 15000);
    for (; sent < f.length && !s.destroyed; sent++) {
      s.write(f.subarray(sent, sent + 1));
      await Promise.race([sleep(200), closed]);
    }
    assert.equal(await closed, 'closed');
    return { answered, bytesSent: sent, total: f.length };
  }

  test('a TCP client sending its query one byte at a time is cut by tcpQueryTimeout, others are served meanwhile', async () => {
    const s = (await open(ports.tcp, '127.0.0.1')) as net.Socket;
    const [r, meanwhile] = await Promise.all([slowloris(s), sleep(500).then(() => dig(ports.tcp, 'www.t.lab', 'A', { tcp: true }))]);
    assert.equal(r.answered, false);
    assert.ok(r.bytesSent < r.total, `cut after ${r.bytesSent} of ${r.total} bytes`);
    assert.deepEqual(meanwhile.answer.map((a) => a.data), ['198.51.100.2']);
  });

  test('the same over DoT', async () => {
    const s = (await open(ports.dot, '127.0.0.1', true)) as net.Socket;
    // Start at once: the handshake timeout (1.5 s) runs until the first byte of a query.
    const r = await slowloris(s);
    assert.equal(r.answered, false);
    assert.ok(r.bytesSent < r.total, `cut after ${r.bytesSent} of ${r.total} bytes`);
  });

  test('silent connections are cut by tcpHandshakeTimeout: plain TCP, DoT after its handshake, DoH before its handshake', async () => {
    const socks = [(await open(ports.tcp, '127.0.0.1')) as net.Socket, (await open(ports.dot, '127.0.0.1', true)) as net.Socket, (await open(ports.doh, '127.0.0.1')) as net.Socket];
    assert.deepEqual(await Promise.all(socks.map((s) => outcome(s, 10000))), ['closed', 'closed', 'closed']);
  });

  test('a connection that keeps answering in time stays open past the handshake timeout', async () => {
    const s = (await open(ports.tcp, '127.0.0.1')) as net.Socket;
    for (let i = 0; i < 3; i++) {
      assert.equal(await ask(s, 500 + i), 500 + i);
      s.removeAllListeners('data');
      s.removeAllListeners('close');
      await sleep(1000);
    }
    assert.equal(s.destroyed, false);
    s.destroy();
  });

  test('a TCP or DoT frame longer than maxQuerySize closes the connection', async () => {
    for (const secure of [false, true]) {
      const s = (await open(secure ? ports.dot : ports.tcp, '127.0.0.1', secure)) as net.Socket;
      const head = Buffer.alloc(2);
      head.writeUInt16BE(1000, 0);
      s.write(head);
      assert.equal(await outcome(s, 5000), 'closed', secure ? 'DoT' : 'TCP');
    }
  });
});
