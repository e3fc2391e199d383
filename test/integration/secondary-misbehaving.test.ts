// fluxdns as a secondary of a primary that misbehaves: a small DNS server in this test answers the SOA
// query with a newer serial, then the IXFR or AXFR with a broken, truncated, foreign or older zone. The
// old version must keep serving, with a log line saying why; a lone SOA answering IXFR falls back to AXFR.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, soaSerial } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll, waitUntil, type Proc } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot } from '../helpers/servers.js';
import { udpExchange } from '../helpers/udp.js';
import { decodeMessage, encodeMessage, queryMessage } from '../../src/wire/message.js';
import { RRClass, RRType, type Message, type ResourceRecord } from '../../src/wire/types.js';

const ZONE = 'bad.lab.';
let dir = '';
let primaryPort = 0;
let port = 0;
let flux: Proc | undefined;
let udp: dgram.Socket | undefined;
let tcp: net.Server | undefined;
/** The serial the primary's SOA answer gives. */
let serial = 1;
/** How the primary answers an IXFR or AXFR on TCP. */
let transfer: (req: Message, sock: net.Socket) => void;
const asked: string[] = [];

const rr = (name: string, type: number, data: unknown): ResourceRecord => ({ name, type, class: RRClass.IN, ttl: 60, data: data as ResourceRecord['data'] });
const soa = (s: number) => rr(ZONE, RRType.SOA, { mname: `ns.${ZONE}`, rname: `hostmaster.${ZONE}`, serial: s, refresh: 3600, retry: 3600, expire: 86400, minimum: 60 });
/** The zone at serial `s`: v.bad.lab. tells the versions apart. */
const zone = (s: number) => [soa(s), rr(ZONE, RRType.NS, { target: `ns.${ZONE}` }), rr(`ns.${ZONE}`, RRType.A, { address: '198.51.100.1' }), rr(`v.${ZONE}`, RRType.A, { address: `198.51.100.${s}` }), soa(s)];

function answer(req: Message, answers: ResourceRecord[], id = req.id): Uint8Array {
  return encodeMessage({ id, flags: { qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 }, questions: req.questions, answers, authorities: [], additionals: [] });
}
/** A message with its 2-byte TCP length (RFC 1035 §4.2.2). */
function framed(b: Uint8Array): Buffer {
  const f = Buffer.alloc(b.length + 2);
  f.writeUInt16BE(b.length);
  f.set(b, 2);
  return f;
}
const axfrOf = (s: number) => (req: Message, sock: net.Socket) => sock.end(framed(answer(req, zone(s))));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-badprimary-'));
  primaryPort = await freePort();
  port = await freePort();
  udp = dgram.createSocket('udp4');
  udp.on('message', (m, from) => {
    const req = decodeMessage(m);
    udp!.send(answer(req, [soa(serial)]), from.port, from.address);
  });
  await new Promise<void>((r) => udp!.bind(primaryPort, '127.0.0.1', r));
  tcp = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const req = decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = Buffer.alloc(0);
      const type = req.questions[0]!.type;
      if (type === RRType.SOA) return void sock.end(framed(answer(req, [soa(serial)])));
      asked.push(type === RRType.IXFR ? 'IXFR' : 'AXFR');
      transfer(req, sock);
    });
  });
  await new Promise<void>((r) => tcp!.listen(primaryPort, '127.0.0.1', r));
  transfer = axfrOf(1);
  writeFileSync(join(dir, 'fluxdns.yaml'), `listen:
  - { proto: udp, address: "127.0.0.1:${port}" }
  - { proto: tcp, address: "127.0.0.1:${port}" }
rrl: off
zones:
  - name: ${ZONE}
    file: ${JSON.stringify(join(dir, 'bad.lab.zone'))}
    primaries: [ { address: "127.0.0.1:${primaryPort}" } ]
`);
  flux = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, 'fluxdns.yaml')], { name: `fluxdns:${port}`, cwd: repoRoot });
  await flux.waitFor(/fluxdns ready/, 90000, 'stdout');
});

after(async () => {
  await stopAll();
  udp?.close();
  tcp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The address v.bad.lab. has: the version served. */
async function served(): Promise<string | undefined> {
  return (await dig(port, `v.${ZONE}`, 'A')).answer[0]?.data;
}

/**
 * The primary now has serial `next` and answers transfers with `how`; a NOTIFY from its address makes
 * fluxdns ask. Resolves with the log lines of that refresh, once it transferred or failed.
 */
async function refreshWith(next: number, how: typeof transfer): Promise<string> {
  serial = next;
  transfer = how;
  const mark = flux!.stderr.length;
  const q = queryMessage(ZONE, RRType.SOA, { id: 4321 });
  const ack = await udpExchange(encodeMessage({ ...q, flags: { ...q.flags, opcode: 4, aa: true, rd: false } }), port, { from: '127.0.0.1' });
  assert.ok(ack, 'NOTIFY answered');
  const since = () => flux!.stderr.slice(mark);
  assert.ok(await waitUntil(() => /"secondary zone transferred"|"secondary refresh failed"/.test(since()), 20000), since());
  return since();
}

describe('fluxdns as a secondary of a misbehaving primary', { timeout: 180000 }, () => {
  test('the first AXFR is served', async () => {
    assert.ok(await waitUntil(() => /"secondary zone transferred"/.test(flux!.stderr), 30000), flux!.stderr);
    assert.equal(await soaSerial(port, ZONE), 1);
    assert.equal(await served(), '198.51.100.1');
  });

  test('broken transfers are refused and logged; serial 1 keeps serving', async () => {
    const cases: [string, typeof transfer, RegExp][] = [
      ['cut in the middle of a message', (req, sock) => { const f = framed(answer(req, zone(2))); sock.end(f.subarray(0, f.length - 20)); }, /closed in the middle of a message/],
      ['garbage bytes', (_req, sock) => sock.end(Buffer.concat([Buffer.from([0, 40]), Buffer.alloc(40, 0xff)])), /malformed message 1/],
      ['no closing SOA', (req, sock) => sock.end(framed(answer(req, zone(2).slice(0, -1)))), /closed the connection before the transfer was complete/],
      ['another message ID', (req, sock) => sock.end(framed(answer(req, zone(2), (req.id + 1) & 0xffff))), /does not answer our request/],
      ['a record outside the zone', (req, sock) => sock.end(framed(answer(req, [...zone(2).slice(0, -1), rr('evil.example.', RRType.A, { address: '203.0.113.66' }), soa(2)]))), /keeping serial 1: evil\.example\. A is outside the zone/],
      ['a length prefix larger than what follows', (_req, sock) => { sock.write(Buffer.from([0xff, 0xff, 1, 2, 3])); setTimeout(() => sock.destroy(), 100); }, /closed in the middle of a message/],
    ];
    for (const [what, how, why] of cases) {
      const log = await refreshWith(2, how);
      assert.match(log, /"secondary refresh failed"/, what);
      assert.match(log, why, `${what}\n${log}`);
      assert.doesNotMatch(log, /"secondary zone transferred"/, what);
      assert.equal(await soaSerial(port, ZONE), 1, what);
      assert.equal(await served(), '198.51.100.1', what);
    }
    assert.equal((await dig(port, 'evil.example.', 'A')).rcode, 'REFUSED');
    assert.ok(flux!.running);
  });

  test('an IXFR answered by a lone SOA newer than ours (RFC 1995 §2 means: up to date) is retried as AXFR', async () => {
    asked.length = 0;
    const log = await refreshWith(3, (req, sock) => (req.questions[0]!.type === RRType.IXFR ? sock.end(framed(answer(req, [soa(3)]))) : axfrOf(3)(req, sock)));
    assert.deepEqual(asked, ['IXFR', 'AXFR']);
    assert.match(log, /IXFR failed; falling back to AXFR[^\n]*SOA alone, serial 3, newer than ours 1/);
    assert.match(log, /"secondary zone transferred"[^\n]*"serial":3[^\n]*"via":"AXFR"/);
    assert.equal(await served(), '198.51.100.3');
  });

  test('a transfer older than ours, after a SOA that said newer, is refused: the zone never goes back', async () => {
    for (const [what, how] of [['AXFR-style IXFR of serial 2', axfrOf(2)], ['same serial as ours', axfrOf(3)]] as const) {
      const log = await refreshWith(4, how);
      assert.match(log, /"secondary refresh failed"[^\n]*is not newer than ours; keeping serial 3/, `${what}\n${log}`);
      assert.equal(await soaSerial(port, ZONE), 3, what);
      assert.equal(await served(), '198.51.100.3', what);
    }
    // The primary's real serial 4 still comes in.
    const log = await refreshWith(4, axfrOf(4));
    assert.match(log, /"secondary zone transferred"[^\n]*"serial":4/);
    assert.equal(await served(), '198.51.100.4');
  });
});
