// TSIG (RFC 8945) against real tools: dig and kdig sign queries and verify fluxdns's signed answers over
// UDP and TCP; wrong secrets, unknown keys and stale clocks get NOTAUTH with the TSIG error; an answer too
// big for UDP comes back as question + TSIG with TC; a key from a BIND key file; a policy on `tsig`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';
import { algorithmByName } from '../../src/tsig/algorithms.js';
import type { TsigKey } from '../../src/tsig/keys.js';
import { parseTsigAt, read48 } from '../../src/tsig/record.js';
import { appendTsig } from '../../src/tsig/sign.js';
import { findTsig, verifyResponse } from '../../src/tsig/verify.js';
import { decodeMessage, encodeMessage, getRcode } from '../../src/wire/message.js';
import { Rcode, RRType } from '../../src/wire/types.js';
import { udpExchange } from '../helpers/udp.js';

const SECRET = Buffer.from('integration-tsig-secret-0123456789abcdef').toString('base64');
const FILE_SECRET = Buffer.from('a-secret-kept-in-a-bind-key-file-0123456').toString('base64');
const ZONE = `$ORIGIN ts.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.80\n${Array.from({ length: 12 }, (_, i) => `big TXT "${String(i).padStart(2, '0')}${'x'.repeat(60)}"`).join('\n')}\n`;

let server: RunningServer | undefined;
let port = 0;
let dir = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-tsig-'));
  writeFileSync(join(dir, 'ts.lab.zone'), ZONE);
  // What `tsig-keygen file-key` prints; the path is relative to the configuration file.
  writeFileSync(join(dir, 'file-key.key'), `key "file-key" {\n\talgorithm hmac-sha384;\n\tsecret "${FILE_SECRET}";\n};\n`);
  port = await freePort();
  const yaml = `listen:
  - { proto: udp, address: "127.0.0.1:${port}" }
  - { proto: tcp, address: "127.0.0.1:${port}" }
zones:
  - { name: ts.lab., file: ${JSON.stringify(join(dir, 'ts.lab.zone'))} }
tsig:
  keys:
    - { name: k256, secret: "${SECRET}" }
    - { name: k512, algorithm: hmac-sha512, secret: "${SECRET}" }
    - { name: file-key, algorithm: hmac-sha384, secretFile: ${JSON.stringify(join(dir, 'file-key.key'))} }
policies:
  - { name: signed-only, match: { qname: secret.ts.lab, tsig: valid }, action: { records: ['TXT "for signed queries only"'] } }
  - { name: others, match: { qname: secret.ts.lab }, action: { rcode: REFUSED } }
`;
  server = await startFluxdns(yaml, port, 'ts.lab.');
});

after(async () => {
  await server?.stop();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 15000 }, (_err, out, errOut) => resolve(`${out}${errOut}`));
  });
}

const digQ = (extra: string[], name = 'www.ts.lab', type = 'A') => run('dig', ['@127.0.0.1', '-p', String(port), '+norec', '+time=2', '+tries=1', ...extra, name, type]);
const kdigQ = (extra: string[], name = 'www.ts.lab', type = 'A') => run('kdig', ['@127.0.0.1', '-p', String(port), '+norec', '+time=2', '+retry=0', ...extra, name, type]);

/** dig's complaints when a response MAC does not verify or is missing. */
const DIG_FAILURE = /failure|could not be validated|expected a TSIG/i;

describe('tsig with dig and kdig', () => {
  test('dig -y hmac-sha256 over UDP and TCP: NOERROR, a TSIG pseudosection, no verify failure', async () => {
    for (const tcp of [[], ['+tcp']]) {
      const out = await digQ([...tcp, '-y', `hmac-sha256:k256:${SECRET}`]);
      assert.match(out, /status: NOERROR/, out);
      assert.match(out, /www\.ts\.lab\.\s+300\s+IN\s+A\s+198\.51\.100\.80/, out);
      assert.match(out, /;; TSIG PSEUDOSECTION:\s*\nk256\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0/, out);
      assert.doesNotMatch(out, DIG_FAILURE, out);
    }
  });

  test('dig -y hmac-sha256-128: a truncated request MAC gets a 16-byte response MAC that dig verifies', async () => {
    const out = await digQ(['-y', `hmac-sha256-128:k256:${SECRET}`]);
    assert.match(out, /status: NOERROR/, out);
    assert.match(out, /TSIG\s+hmac-sha256\. \d+ 300 16 /, out);
    assert.doesNotMatch(out, DIG_FAILURE, out);
  });

  test('kdig -y hmac-sha512 and hmac-sha256 (UDP, TCP): verified replies', async () => {
    for (const [alg, name, tcp] of [['hmac-sha512', 'k512', false], ['hmac-sha256', 'k256', true]] as const) {
      const out = await kdigQ([...(tcp ? ['+tcp'] : []), '-y', `${alg}:${name}:${SECRET}`]);
      assert.match(out, /status: NOERROR/, out);
      assert.match(out, new RegExp(`;; TSIG PSEUDOSECTION:\\s*\\n${name}\\.\\s+0\\s+ANY\\s+TSIG\\s+${alg}\\.`), out);
      assert.doesNotMatch(out, /WARNING|failed to verify/i, out);
    }
  });

  test('a key read from a BIND key file (secretFile), hmac-sha384', async () => {
    const out = await digQ(['-y', `hmac-sha384:file-key:${FILE_SECRET}`]);
    assert.match(out, /status: NOERROR/, out);
    assert.match(out, /TSIG\s+hmac-sha384\./, out);
    assert.doesNotMatch(out, DIG_FAILURE, out);
  });

  test('a wrong secret: NOTAUTH, BADSIG (dig and kdig show it)', async () => {
    const wrong = Buffer.from('not-the-secret').toString('base64');
    const out = await digQ(['-y', `hmac-sha256:k256:${wrong}`]);
    assert.match(out, /status: NOTAUTH/, out);
    assert.match(out, /TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADSIG 0/, out);
    const k = await kdigQ(['-y', `hmac-sha256:k256:${wrong}`]);
    assert.match(k, /status: BADSIG/, k);
  });

  test('an unknown key: NOTAUTH, BADKEY', async () => {
    const out = await digQ(['-y', `hmac-sha256:nobody:${SECRET}`]);
    assert.match(out, /status: NOTAUTH/, out);
    assert.match(out, /TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/, out);
  });

  test('an answer too big for UDP: question + TSIG with TC, then dig retries over TCP and verifies the whole answer', async () => {
    const udp = await digQ(['+noedns', '+ignore', '-y', `hmac-sha256:k256:${SECRET}`], 'big.ts.lab', 'TXT');
    assert.match(udp, /flags: qr aa tc;.*ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1/, udp);
    assert.match(udp, /status: NOERROR/, udp);
    assert.doesNotMatch(udp, DIG_FAILURE, udp);
    const retried = await digQ(['+noedns', '-y', `hmac-sha256:k256:${SECRET}`], 'big.ts.lab', 'TXT');
    assert.match(retried, /Truncated, retrying in TCP mode/, retried);
    assert.match(retried, /ANSWER: 12,/, retried);
    assert.doesNotMatch(retried, DIG_FAILURE, retried);
  });

  test('policy match tsig: valid answers only signed queries', async () => {
    const signed = await digQ(['-y', `hmac-sha256:k256:${SECRET}`], 'secret.ts.lab', 'TXT');
    assert.match(signed, /secret\.ts\.lab\.\s+300\s+IN\s+TXT\s+"for signed queries only"/, signed);
    assert.doesNotMatch(signed, DIG_FAILURE, signed);
    const plain = await digQ([], 'secret.ts.lab', 'TXT');
    assert.match(plain, /status: REFUSED/, plain);
  });
});

describe('tsig with a crafted stale query', () => {
  const key: TsigKey = { name: 'k256.', algorithm: algorithmByName('hmac-sha256')!, secret: Buffer.from(SECRET, 'base64') };

  async function exchange(raw: Uint8Array): Promise<Uint8Array> {
    const reply = await udpExchange(raw, port);
    if (!reply) throw new Error('no reply');
    return new Uint8Array(reply);
  }


  test('signed an hour ago: NOTAUTH, BADTIME, signed with the request time and the server clock in Other Data', async () => {
    const query = encodeMessage({
      id: 0x7777,
      flags: { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
      questions: [{ name: 'www.ts.lab.', type: RRType.A, class: 1 }],
      answers: [],
      authorities: [],
      additionals: [],
    });
    const stale = Math.floor(Date.now() / 1000) - 3600;
    const raw = appendTsig(query, { keyName: key.name, algorithm: key.algorithm.name, key, macSize: 32, fudge: 300, error: 0 }, stale);
    const reply = await exchange(raw);
    assert.equal(getRcode(decodeMessage(reply)), Rcode.NOTAUTH);
    const at = findTsig(reply)!;
    const rec = parseTsigAt(reply, at);
    assert.equal(rec.error, 18);
    assert.equal(rec.timeSigned, stale);
    const serverTime = read48(rec.other, 0);
    assert.ok(Math.abs(serverTime - (stale + 3600)) < 60, `server time ${serverTime}`);
    const requestMac = parseTsigAt(raw, findTsig(raw)!).mac;
    const v = verifyResponse(reply, at, key, requestMac);
    assert.ok(v.ok, v.reason);
  });
});
