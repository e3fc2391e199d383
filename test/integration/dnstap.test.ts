// dnstap through the real readers: dnstap-read (bind9-dnsutils) decodes what fluxdns wrote to a file
// and, through fstrm_capture (fstrm-bin), to a socket; a reader that stops reading never stops answering.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import packet from 'dns-packet';
import { Control, ControlReader, controlFrame } from '../../src/observe/dnstap/fstrm.js';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';

after(() => stopAll());

const execFileP = promisify(execFile);
const ZONE = `$ORIGIN tap.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${Array.from({ length: 20 }, (_, i) => `h${i} A 198.18.0.${i}`).join('\n')}\n`;

async function serve(dir: string, extra: string): Promise<{ server: RunningServer; port: number }> {
  writeFileSync(join(dir, 'tap.lab.zone'), ZONE);
  const port = await freePort();
  const yaml = `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n  - { proto: tcp, address: "127.0.0.1:${port}" }\nzones:\n  - { name: tap.lab., file: ${JSON.stringify(join(dir, 'tap.lab.zone'))} }\n${extra}\n`;
  return { server: await startFluxdns(yaml, port, 'tap.lab.'), port };
}

/** One UDP query from `source` (a loopback address), answered before it returns; the client's port is returned. */
function queryFrom(source: string, port: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no answer to ${name}`));
    }, 10000);
    s.on('message', () => {
      clearTimeout(timer);
      const p = s.address().port;
      s.close();
      resolve(p);
    });
    s.bind(0, source, () => s.send(packet.encode({ id: 7, type: 'query', questions: [{ name, type: 'A' }] }), port, '127.0.0.1'));
  });
}

/** The sequence this test sends: names and source addresses; returns what dnstap-read must show, in order. */
async function sendSequence(port: number): Promise<string[]> {
  const want: string[] = [];
  for (let i = 0; i < 6; i++) {
    const source = `127.0.0.${10 + (i % 3)}`;
    const name = `h${i}.tap.lab`;
    const p = await queryFrom(source, port, name);
    want.push(`AQ ${source}:${p} -> 127.0.0.1:${port} UDP ${name}/IN/A`, `AR ${source}:${p} <- 127.0.0.1:${port} UDP ${name}/IN/A`);
  }
  return want;
}

/** dnstap-read's lines without the timestamp and size, leaving out the readiness probe (SOA). */
async function dnstapRead(file: string): Promise<string[]> {
  const { stdout } = await execFileP('dnstap-read', [file]);
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('/SOA'))
    .map((l) => l.replace(/^\S+ \S+ /, '').replace(/ \d+b /, ' '));
}

test('dnstap file output: dnstap-read shows the queries and responses in order with addresses and names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnstap-'));
  try {
    const file = join(dir, 'fluxdns.dnstap');
    const { server, port } = await serve(dir, `dnstap: { file: ${JSON.stringify(file)}, identity: tap-test, version: "v-test" }`);
    const want = await sendSequence(port);
    const tcp = await dig(port, 'h9.tap.lab', 'A', { extra: ['+tcp'] });
    assert.deepEqual(tcp.answer.map((a) => a.data), ['198.18.0.9']);
    // SIGTERM: the stream is finished with STOP, as dnstap-read expects.
    await server.stop();
    const lines = await dnstapRead(file);
    assert.deepEqual(lines.slice(0, want.length), want);
    assert.equal(lines.length, want.length + 2);
    assert.match(lines[want.length]!, /^AQ 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ TCP h9\.tap\.lab\/IN\/A$/);
    assert.match(lines[want.length + 1]!, /^AR 127\.0\.0\.1:\d+ <- 127\.0\.0\.1:\d+ TCP h9\.tap\.lab\/IN\/A$/);
    const { stdout } = await execFileP('dnstap-read', ['-y', file]);
    assert.match(stdout, /identity: tap-test/);
    assert.match(stdout, /version: v-test/);
    assert.match(stdout, /ANSWER_SECTION:\n\s+- 'h3\.tap\.lab\. 300 IN A 198\.18\.0\.3'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dnstap socket output through fstrm_capture (bidirectional Frame Streams)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnstap-'));
  try {
    const sock = join(dir, 'dnstap.sock');
    const out = join(dir, 'captured.dnstap');
    const capture = startProcess('fstrm_capture', ['-t', 'protobuf:dnstap.Dnstap', '-u', sock, '-w', out], { name: 'fstrm_capture' });
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(sock), `fstrm_capture did not create ${sock}\n${capture.describe()}`);
    const { server, port } = await serve(dir, `dnstap: { socket: ${JSON.stringify(sock)} }`);
    await server.proc.waitFor(/dnstap connected/, 10000, 'stderr');
    const want = await sendSequence(port);
    await server.stop();
    await capture.stop();
    assert.deepEqual(await dnstapRead(out), want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader that stops reading: answering goes on, the queue drops and counts the drops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnstap-'));
  const sock = join(dir, 'stalled.sock');
  // Accepts the stream (READY → ACCEPT), then never reads again.
  let started = false;
  const stalled = createServer((c) => {
    const reader = new ControlReader();
    c.on('data', (chunk) => {
      for (const t of reader.push(chunk)) {
        if (t === Control.READY) c.write(controlFrame(Control.ACCEPT));
        if (t === Control.START) {
          started = true;
          c.pause();
        }
      }
    });
    c.on('error', () => {});
  });
  await new Promise<void>((r) => stalled.listen(sock, r));
  const metricsPort = await freePort();
  // rrl: off — one client sends thousands of queries, which response rate limiting (on by default) would slip or drop.
  const { server, port } = await serve(dir, `dnstap: { socket: ${JSON.stringify(sock)}, queueSize: 16 }\nmetrics: { listen: "127.0.0.1:${metricsPort}" }\nrrl: off`);
  try {
    for (let i = 0; i < 200 && !started; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(started, 'fluxdns opened the dnstap stream');
    // Enough queries to fill the socket's buffers many times over (each query is two frames of ~100 bytes).
    const client = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 22 });
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    const answered = new Set<number>();
    client.on('message', (m) => answered.add(m.readUInt16BE(0)));
    const TOTAL = 6000;
    for (let start = 0; start < TOTAL; start += 300) {
      for (let i = start; i < start + 300; i++) client.send(packet.encode({ id: i, type: 'query', questions: [{ name: `h${i % 20}.tap.lab`, type: 'A' }] }), port, '127.0.0.1');
      // Each chunk is answered (UDP may lose a datagram on a loaded machine: resend what is missing).
      for (let round = 0; round < 50; round++) {
        const missing = [];
        for (let i = start; i < start + 300; i++) if (!answered.has(i)) missing.push(i);
        if (missing.length === 0) break;
        if (round % 10 === 9) for (const i of missing) client.send(packet.encode({ id: i, type: 'query', questions: [{ name: `h${i % 20}.tap.lab`, type: 'A' }] }), port, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    client.close();
    assert.equal(answered.size, TOTAL);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const dropped = Number(/^fluxdns_dnstap_dropped_total (\d+)$/m.exec(text)?.[1]);
    const frames = Number(/^fluxdns_dnstap_frames_total (\d+)$/m.exec(text)?.[1]);
    assert.ok(dropped > 0, `drops counted: ${dropped}`);
    assert.ok(frames > 0 && frames < 2 * TOTAL, `frames written before the reader stalled: ${frames}`);
  } finally {
    await server.stop();
    stalled.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
