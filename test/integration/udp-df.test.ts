// IPv4 replies of the UDP addon go out with DF set (IP_MTU_DISCOVER = IP_PMTUDISC_PROBE, RFC 9715 §3.1):
// the option is read back with getsockopt, and a reply larger than the interface MTU — which the kernel
// would otherwise fragment — goes out truncated (TC, header and question only) so the client retries
// over TCP. The oversized reply is sent in a network namespace of its own whose loopback MTU is 1280.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/servers.js';

const addonPath = join(repoRoot, 'native', 'build', 'Release', 'fluxdns_udp.node');

/** Runs in the namespace: the addon answers one query with 1,500 bytes more than it asked; prints what the client got. */
const child = `
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
const addon = createRequire(import.meta.url)(${JSON.stringify(addonPath)});
let sock;
const onBatch = (count) => {
  const meta = new Int32Array(sock.recvMeta), recv = new Uint8Array(sock.recv), send = new Uint8Array(sock.send), sm = new Int32Array(sock.sendMeta);
  const len = meta[0];
  send.fill(0, 0, len + 1500);
  send.set(recv.subarray(0, len), 0);
  send[2] |= 0x80;
  send[7] = 1; // one answer: the 1,500 bytes after the question (never parsed)
  sm[0] = 0; sm[1] = 0; sm[2] = len + 1500; sm[3] = 0;
  return 1;
};
sock = addon.open('127.0.0.1', 0, 8, false, onBatch);
const c = dgram.createSocket('udp4');
const q = Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 98, 105, 103, 3, 108, 97, 98, 0, 0, 1, 0, 1]);
const t = setTimeout(() => { console.log(JSON.stringify({ timeout: true })); process.exit(1); }, 3000);
c.on('message', (m) => {
  clearTimeout(t);
  const st = addon.stats(sock);
  console.log(JSON.stringify({ length: m.length, id: m.readUInt16BE(0), tc: (m[2] & 2) !== 0, counts: [m.readUInt16BE(4), m.readUInt16BE(6), m.readUInt16BE(8), m.readUInt16BE(10)], question: m.subarray(12).toString('hex'), mtuDiscover: st.mtu_discover, truncatedReplies: st.truncated_replies }));
  c.close();
  addon.close(sock);
});
c.send(q, sock.port, '127.0.0.1');
`;

test('IPv4 replies set DF; one larger than the interface MTU goes out truncated (TC), not fragmented', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for a network namespace');
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-df-'));
  const script = join(dir, 'child.mjs');
  writeFileSync(script, child);
  const ns = `fluxdns-df-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'mtu', '1280', 'up']);
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, script], { encoding: 'utf8', timeout: 10000 });
    const got = JSON.parse(out.trim()) as { length: number; id: number; tc: boolean; counts: number[]; question: string; mtuDiscover: number; truncatedReplies: number };
    // IP_PMTUDISC_PROBE (3): DF set, path MTU from ICMP ignored.
    assert.equal(got.mtuDiscover, 3);
    assert.deepEqual(
      { length: got.length, id: got.id, tc: got.tc, counts: got.counts, question: got.question, truncatedReplies: got.truncatedReplies },
      { length: 25, id: 0x1234, tc: true, counts: [1, 0, 0, 0], question: '03626967036c61620000010001', truncatedReplies: 1 },
    );
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
