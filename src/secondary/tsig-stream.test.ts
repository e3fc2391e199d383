// The response verifier over RFC 8945 §5.3.1 streams with unsigned messages in between (no real primary
// here leaves any unsigned: knotd, named and NSD 4.6 sign each). The signed ones are made with the
// primary role's TsigStreamSigner: a message after unsigned ones is signed over their bytes followed by its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeMessage, queryMessage } from '../wire/message.js';
import { RRType } from '../wire/types.js';
import { algorithmByName } from '../tsig/algorithms.js';
import type { TsigKey } from '../tsig/keys.js';
import { TsigStreamSigner } from '../tsig/sign.js';
import { MAX_UNSIGNED, signRequest, TsigResponseVerifier } from './tsig-stream.js';

const KEY: TsigKey = { name: 'k.', algorithm: algorithmByName('hmac-sha256')!, secret: randomBytes(32) };
const NOW = 1_800_000_000;

/** A response message (header + question + one TXT answer) with text `i`, ID 7. */
function message(i: number): Uint8Array {
  const m = queryMessage('z.test.', RRType.AXFR, { id: 7 });
  m.flags.qr = true;
  m.answers.push({ name: `r${i}.z.test.`, type: RRType.TXT, class: 1, ttl: 60, data: { strings: [new TextEncoder().encode(`message ${i}`)] } });
  return encodeMessage(m);
}

/** Signs `msg` after the unsigned `before` ones: the signer digests them all, the TSIG goes on `msg` alone. */
function signAfter(signer: TsigStreamSigner, before: Uint8Array[], msg: Uint8Array): Uint8Array {
  const all = new Uint8Array(before.reduce((n, b) => n + b.length, 0) + msg.length);
  let p = 0;
  for (const b of before) {
    all.set(b, p);
    p += b.length;
  }
  all.set(msg, p);
  const out = signer.sign(all);
  const tsig = out.subarray(all.length);
  const signed = new Uint8Array(msg.length + tsig.length);
  signed.set(msg, 0);
  signed.set(tsig, msg.length);
  const ar = ((signed[10]! << 8) | signed[11]!) + 1;
  signed[10] = ar >> 8;
  signed[11] = ar & 0xff;
  return signed;
}

function stream(unsignedRuns: number[]): { requestMac: Uint8Array; messages: Uint8Array[] } {
  const req = signRequest(encodeMessage(queryMessage('z.test.', RRType.AXFR, { id: 7 })), KEY, 300, NOW);
  const signer = new TsigStreamSigner({ keyName: KEY.name, algorithm: KEY.algorithm.name, key: KEY, requestMac: req.mac, macSize: KEY.algorithm.size, fudge: 300, error: 0 }, () => NOW);
  const messages: Uint8Array[] = [signer.sign(message(0))];
  let i = 1;
  for (const run of unsignedRuns) {
    const unsigned = Array.from({ length: run }, () => message(i++));
    messages.push(...unsigned, signAfter(signer, unsigned, message(i++)));
  }
  return { requestMac: req.mac, messages };
}

test('unsigned messages are verified by the next signed one', () => {
  const { requestMac, messages } = stream([0, 3, MAX_UNSIGNED, 1]);
  const v = new TsigResponseVerifier(KEY, requestMac, 300, () => NOW);
  for (const m of messages) v.add(m);
  v.finish();
  assert.equal(v.verified, messages.length);
  assert.equal(v.signed, 5);
});

test('a changed unsigned message, 100 unsigned in a row, an unsigned end or an unsigned start fail', () => {
  const { requestMac, messages } = stream([3]);
  const changed = messages.map((m, i) => (i === 2 ? message(99) : m));
  const v = new TsigResponseVerifier(KEY, requestMac, 300, () => NOW);
  assert.throws(() => changed.forEach((m) => v.add(m)), /does not verify/);

  const long = stream([MAX_UNSIGNED + 1]);
  const w = new TsigResponseVerifier(KEY, long.requestMac, 300, () => NOW);
  assert.throws(() => long.messages.forEach((m) => w.add(m)), /more than 99/);

  const end = new TsigResponseVerifier(KEY, requestMac, 300, () => NOW);
  end.add(messages[0]!);
  end.add(messages[1]!);
  assert.throws(() => end.finish(), /unsigned/);

  const start = new TsigResponseVerifier(KEY, requestMac, 300, () => NOW);
  assert.throws(() => start.add(message(0)), /first response message is not signed/);

  // Signed at NOW, checked 301 s later with a fudge of 300: BADTIME.
  const late = new TsigResponseVerifier(KEY, requestMac, 300, () => NOW + 301);
  assert.throws(() => late.add(messages[0]!), /BADTIME/);
});
