// The transfer client against NSD on a long AXFR (over a hundred messages, each signed and chained, RFC 8945
// §5.3.1): every message verifies; a flipped byte in a middle message, a TSIG stripped from one (the next
// MAC does not cover it as an unsigned message) or another secret fails the transfer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll, type Proc } from '../helpers/proc.js';
import { nsdConfig, waitForSoa } from '../helpers/servers.js';
import net from 'node:net';
import { axfr, parseResponse } from '../../src/secondary/xfr-client.js';
import { encodeMessage, queryMessage } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { TsigResponseVerifier, signRequest } from '../../src/secondary/tsig-stream.js';
import { algorithmByName } from '../../src/tsig/algorithms.js';
import { findTsig } from '../../src/tsig/verify.js';
import type { TsigKey } from '../../src/tsig/keys.js';

const ZONE = 'big.test.';
const RECORDS = 30000;
const SECRET = randomBytes(32);
const KEY: TsigKey = { name: 'xfr-key.', algorithm: algorithmByName('hmac-sha256')!, secret: SECRET };
let dir = '';
let port = 0;
let nsd: Proc | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-secondary-nsd-'));
  port = await freePort();
  const lines = [`$ORIGIN ${ZONE}`, '$TTL 60', '@ SOA ns hostmaster 1 60 10 600 60', '  NS ns', 'ns A 198.51.100.1'];
  for (let i = 0; i < RECORDS; i++) lines.push(`r${i} TXT "record ${i} of a zone long enough for more than ninety-six messages"`);
  writeFileSync(join(dir, 'big.zone'), lines.join('\n') + '\n');
  const conf =
    nsdConfig(dir, { address: '127.0.0.1', port, zones: [{ name: ZONE, file: join(dir, 'big.zone') }] }) +
    `  provide-xfr: 127.0.0.1 xfr-key\nkey:\n  name: xfr-key\n  algorithm: hmac-sha256\n  secret: "${SECRET.toString('base64')}"\n`;
  writeFileSync(join(dir, 'nsd.conf'), conf);
  nsd = startProcess('nsd', ['-d', '-c', join(dir, 'nsd.conf'), '-P', join(dir, 'nsd.pid')], { name: `nsd:${port}`, cwd: dir });
  await waitForSoa(nsd, port, ZONE, 60000);
});

after(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('TSIG over a long AXFR from NSD', { timeout: 120000 }, () => {
  test('every record arrives; each of the 100-odd messages is verified', async () => {
    const r = await axfr({ host: '127.0.0.1', port, key: KEY }, ZONE);
    assert.equal(r.kind, 'full');
    if (r.kind !== 'full') return;
    assert.equal(r.records.length, RECORDS + 3);
    assert.ok(r.messages > 96, `${r.messages} messages`);
    assert.equal(r.signedMessages, r.messages, 'NSD 4.6 signs every message; each was verified');
  });

  test('a changed byte, a stripped TSIG or a wrong key fails verification', async () => {
    // Capture the stream once with a raw exchange, then replay it through the verifier.
    const { messages, requestMac, signedAt } = await captureStream();
    const first = new TsigResponseVerifier(KEY, requestMac, 300, () => signedAt);
    for (const m of messages) first.add(m);
    first.finish();
    assert.equal(first.signed, messages.length);
    // Flip one byte in the middle of the second message.
    const tampered = messages.map((m, i) => {
      if (i !== 1) return m;
      const c = m.slice();
      c[c.length >> 1]! ^= 0x20;
      return c;
    });
    const v = new TsigResponseVerifier(KEY, requestMac, 300, () => signedAt);
    assert.throws(() => {
      for (const m of tampered) v.add(m);
      v.finish();
    }, /does not verify|BADSIG/);
    // The TSIG taken off the second message: it now counts as unsigned, and the third message's MAC
    // (computed by NSD over the second's MAC, not over its bytes) does not verify.
    const stripped = messages.map((m, i) => {
      if (i !== 1) return m;
      const at = findTsig(m)!;
      const c = m.slice(0, at);
      const ar = ((c[10]! << 8) | c[11]!) - 1;
      c[10] = ar >> 8;
      c[11] = ar & 0xff;
      return c;
    });
    const w = new TsigResponseVerifier(KEY, requestMac, 300, () => signedAt);
    w.add(stripped[0]!);
    w.add(stripped[1]!);
    assert.throws(() => w.add(stripped[2]!), /does not verify/);
    const wrong = new TsigResponseVerifier({ ...KEY, secret: randomBytes(32) }, requestMac, 300, () => signedAt);
    assert.throws(() => wrong.add(messages[0]!), /does not verify/);
  });
});

/** One signed AXFR over TCP, its response messages kept as they came. */
async function captureStream(): Promise<{ messages: Uint8Array[]; requestMac: Uint8Array; signedAt: number }> {
  const now = Math.floor(Date.now() / 1000);
  const signed = signRequest(encodeMessage(queryMessage(ZONE, RRType.AXFR, { id: 4242 })), KEY, 300, now);
  const sock = net.connect({ host: '127.0.0.1', port });
  const framed = Buffer.alloc(2 + signed.wire.length);
  framed.writeUInt16BE(signed.wire.length, 0);
  framed.set(signed.wire, 2);
  sock.write(framed);
  const chunks: Buffer[] = [];
  const messages: Uint8Array[] = [];
  let soas = 0;
  await new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      let buf = Buffer.concat(chunks);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = new Uint8Array(buf.subarray(2, 2 + len));
        messages.push(msg);
        // The zone's SOA opens and closes the stream (RFC 5936 §2.2).
        soas += parseResponse(msg).answers.filter((a) => a.type === RRType.SOA).length;
        buf = buf.subarray(2 + len);
      }
      chunks.length = 0;
      if (buf.length > 0) chunks.push(buf);
      if (soas >= 2) {
        sock.destroy();
        resolve();
      }
    });
  });
  return { messages, requestMac: signed.mac, signedAt: now };
}
