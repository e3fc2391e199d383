// Cross-verification against real signers: queries signed by kdig, dig (truncated MAC) and nsupdate
// (an UPDATE) are captured on a UDP socket this test binds on loopback and verified by our code.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { parseQuery } from '../wire/fastpath.js';
import { algorithmByName } from './algorithms.js';
import type { TsigKey } from './keys.js';
import { parseTsigAt } from './record.js';
import { verifyRequest } from './verify.js';

const SECRET = Buffer.from('captured-by-fluxdns-tsig-test-0123').toString('base64');

const sockets: dgram.Socket[] = [];
after(() => {
  for (const s of sockets) s.close();
});

/** Runs `tool` against a fresh socket and resolves with the first datagram it sends. */
async function capture(tool: string, args: (port: number) => string[], stdin?: (port: number) => string): Promise<Buffer> {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((res) => socket.bind(0, '127.0.0.1', () => res()));
  const port = socket.address().port;
  const first = new Promise<Buffer>((res) => socket.once('message', (m) => res(m)));
  const child = execFile(tool, args(port), { timeout: 10000 }, () => {});
  if (stdin !== undefined) child.stdin?.end(stdin(port));
  const msg = await first;
  child.kill();
  return msg;
}

function check(raw: Buffer, key: TsigKey, macSize: number): void {
  const q = parseQuery(raw);
  assert.equal(q.error, undefined);
  assert.notEqual(q.tsigAt, undefined, 'the query carries a TSIG, last');
  const rec = parseTsigAt(raw, q.tsigAt!);
  assert.equal(rec.keyName.toLowerCase(), key.name);
  assert.equal(rec.algorithm.toLowerCase(), key.algorithm.name);
  assert.equal(rec.mac.length, macSize);
  // Verified at the time it was signed, so the check does not depend on how long the tool took.
  const ring = new Map([[key.name, key]]);
  assert.equal(verifyRequest(raw, q.tsigAt!, ring, 300, rec.timeSigned).kind, 'valid');
  // The same bytes under another secret do not verify.
  assert.equal(verifyRequest(raw, q.tsigAt!, new Map([[key.name, { ...key, secret: Buffer.from('other') }]]), 300, rec.timeSigned).kind, 'badsig');
  // The signer's clock is this machine's: within the fudge of ours.
  assert.ok(Math.abs(rec.timeSigned - Date.now() / 1000) < 300);
}

const key = (name: string, alg: string): TsigKey => ({ name, algorithm: algorithmByName(alg)!, secret: Buffer.from(SECRET, 'base64') });

describe('signed queries from real tools verify', () => {
  for (const alg of ['hmac-sha256', 'hmac-sha512', 'hmac-sha1']) {
    test(`kdig -y ${alg}`, async () => {
      const raw = await capture('kdig', (p) => ['@127.0.0.1', '-p', String(p), '+time=1', '+retry=0', '-y', `${alg}:kdig-key:${SECRET}`, 'www.example.lab', 'A']);
      check(raw, key('kdig-key.', alg), algorithmByName(alg)!.size);
    });
  }

  test('dig -y hmac-sha256-128 (a truncated MAC, RFC 8945 §5.2.2.1)', async () => {
    const raw = await capture('dig', (p) => ['@127.0.0.1', '-p', String(p), '+time=1', '+tries=1', '-y', `hmac-sha256-128:dig-key:${SECRET}`, 'www.example.lab', 'SOA']);
    check(raw, key('dig-key.', 'hmac-sha256'), 16);
  });

  test('nsupdate -y hmac-sha256 (an UPDATE message)', async () => {
    const raw = await capture('nsupdate', () => ['-y', `hmac-sha256:update-key:${SECRET}`, '-u', '1', '-r', '0', '-t', '1'], (p) =>
      `server 127.0.0.1 ${p}\nzone example.lab\nupdate add x.example.lab 300 A 198.51.100.9\nsend\n`);
    check(raw, key('update-key.', 'hmac-sha256'), 32);
    assert.equal(parseQuery(raw).opcode, 5);
  });
});
