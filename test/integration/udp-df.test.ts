// IPv4 replies of the UDP addon go out with DF set (IP_MTU_DISCOVER = IP_PMTUDISC_PROBE, RFC 9715 §3.1):
// the option is read back with getsockopt, and a reply larger than the interface MTU — which the kernel
// would otherwise fragment — goes out truncated (TC: header, question and the OPT record) so the client retries
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

/** An OPT record: root owner, type 41, payload 1232, a DNS cookie option (10) of 8 bytes. */
const OPT = '0000290' + '4d0' + '00000000' + '000c' + '000a0008' + '0102030405060708';

/** An OPT record carrying 1,400 bytes of padding (option 12): too long for the interface even alone. */
const BIG_OPT = '0000290' + '4d0' + '00000000' + '057c' + '000c0578' + '00'.repeat(1400);

/** A TSIG record's start: owner k., type 250, class ANY, TTL 0 (its RDATA does not matter here). */
const TSIG = '016b0000fa00ff00000000';

/**
 * Runs in the namespace: the addon answers each query with 1,500 bytes more than it asked — query 0x1234
 * with one answer of zeros, query 0x5678 with a TXT answer whose owner points to the question and the
 * OPT record after it, query 0x9abc with the TXT answer and a TSIG record, which cannot be cut (its
 * truncated form must be signed too), query 0xdef0 with the TXT answer and an OPT record so large that the
 * truncated reply, which keeps it, is refused too — and prints what the client got for each; then the same over ::1.
 */
const child = `
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
const addon = createRequire(import.meta.url)(${JSON.stringify(addonPath)});
const opt = Buffer.from(${JSON.stringify(OPT)}, 'hex');
const tsig = Buffer.from(${JSON.stringify(TSIG)}, 'hex');
const bigOpt = Buffer.from(${JSON.stringify(BIG_OPT)}, 'hex');
const answer = (sock) => (count) => {
  const meta = new Int32Array(sock.recvMeta), recv = new Uint8Array(sock.recv), send = new Uint8Array(sock.send), sm = new Int32Array(sock.sendMeta);
  let off = 0;
  for (let i = 0; i < count; i++) {
    const q = recv.subarray(i * sock.slot, i * sock.slot + meta[i * 8]);
    const len = q.length + 1500;
    send.fill(0, off, off + len);
    send.set(q, off);
    send[off + 2] |= 0x80;
    send[off + 7] = 1; // one answer: the bytes after the question
    if (q[0] === 0x56 || q[0] === 0x9a || q[0] === 0xde) {
      const last = q[0] === 0x56 ? opt : q[0] === 0xde ? bigOpt : Buffer.concat([tsig, Buffer.from([0, 2, 0xab, 0xcd])]);
      const rr = off + q.length;
      send.set([0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60], rr);
      const rdlen = 1500 - 12 - last.length;
      send[rr + 10] = rdlen >> 8;
      send[rr + 11] = rdlen & 255;
      send.set(last, rr + 12 + rdlen);
      send[off + 11] = 1; // and the OPT or TSIG record
    }
    sm[i * 8] = i; sm[i * 8 + 1] = off; sm[i * 8 + 2] = len; sm[i * 8 + 3] = 0;
    off += len;
  }
  return count;
};
const query = (id) => Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 98, 105, 103, 3, 108, 97, 98, 0, 0, 16, 0, 1]);
const seen = (m) => ({ length: m.length, id: m.readUInt16BE(0), tc: (m[2] & 2) !== 0, counts: [m.readUInt16BE(4), m.readUInt16BE(6), m.readUInt16BE(8), m.readUInt16BE(10)], rest: m.subarray(12).toString('hex') });
/** Sends each query in turn on a fresh socket of the family; a query without a reply in 300 ms gets null. */
async function ask(host, ids) {
  const s = addon.open(host, 0, 8, false, (count) => answer(s)(count));
  const c = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const got = [];
  for (const id of ids) {
    got.push(await new Promise((resolve) => {
      const t = setTimeout(() => { c.off('message', on); resolve(null); }, 300);
      const on = (m) => { clearTimeout(t); c.off('message', on); resolve(seen(m)); };
      c.on('message', on);
      c.send(query(id), s.port, host);
    }));
  }
  const st = addon.stats(s);
  c.close();
  addon.close(s);
  return { got, mtuDiscover: st.mtu_discover, truncatedReplies: st.truncated_replies, sendErrors: st.send_errors };
}
console.log(JSON.stringify({ v4: await ask('127.0.0.1', [0x1234, 0x5678, 0x9abc, 0xdef0]), v6: await ask('::1', [0x1234]) }));
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
    type Seen = { length: number; id: number; tc: boolean; counts: number[]; rest: string } | null;
    type Run = { got: Seen[]; mtuDiscover: number; truncatedReplies: number; sendErrors: number };
    const r = JSON.parse(out.trim()) as { v4: Run; v6: Run };
    // IP_PMTUDISC_PROBE (3): DF set, path MTU from ICMP ignored; IPV6_PMTUDISC_PROBE (3) likewise.
    assert.equal(r.v4.mtuDiscover, 3);
    assert.equal(r.v6.mtuDiscover, 3);
    const question = '03626967036c61620000100001';
    assert.deepEqual(r.v4.got, [
      // No OPT in the reply: header and question only.
      { length: 25, id: 0x1234, tc: true, counts: [1, 0, 0, 0], rest: question },
      // The OPT record stays (RFC 6891 §7), found after an answer whose owner is a pointer.
      { length: 25 + OPT.length / 2, id: 0x5678, tc: true, counts: [1, 0, 0, 1], rest: question + OPT },
      // A TSIG-signed reply is not sent unsigned: nothing goes out, counted as a send error.
      null,
      // Its truncated form (the OPT kept) is still too long: a send error, not a truncated reply too.
      null,
    ]);
    assert.equal(r.v4.truncatedReplies, 2);
    assert.equal(r.v4.sendErrors, 2);
    // IPv6: not fragmented at the source either; cut the same way.
    assert.deepEqual(r.v6.got, [{ length: 25, id: 0x1234, tc: true, counts: [1, 0, 0, 0], rest: question }]);
    assert.equal(r.v6.truncatedReplies, 1);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
