// NOTIFY out against a real UDP socket playing the secondary: resent past the old 8-try limit at a
// capped interval, each condition logged once; signed with the target's key, acknowledged only by an
// answer that verifies; targets dropped from the configuration stop being resent.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Notifier, pendingKey, type NotifyTarget } from './notify.js';
import { keyRingOf } from '../tsig/keys.js';
import { tsigSchema } from '../tsig/schema.js';
import { appendTsig } from '../tsig/sign.js';
import { findTsig, verifyRequest } from '../tsig/verify.js';
import { parseTsigAt } from '../tsig/record.js';
import { configSchema } from '../config/schema.js';
import { Primary } from './primary.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage } from '../wire/message.js';
import { Opcode, RRClass, RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';

const ZONE = 'notify.lab.';
const soa = (serial: number): ResourceRecord<SOARdata> => ({ name: ZONE, type: RRType.SOA, class: RRClass.IN, ttl: 60, data: { mname: `ns.${ZONE}`, rname: `h.${ZONE}`, serial, refresh: 60, retry: 60, expire: 600, minimum: 60 } });
const ring = keyRingOf(tsigSchema.parse({ keys: [{ name: 'notify-key', secret: Buffer.alloc(32, 7).toString('base64') }] }));
const KEY = ring.get('notify-key.')!;

interface Line {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function logger(lines: Line[]) {
  return { info: (msg: string, fields: Record<string, unknown>) => lines.push({ level: 'info', msg, fields }), warn: (msg: string, fields: Record<string, unknown>) => lines.push({ level: 'warn', msg, fields }) };
}

/** A UDP socket on loopback that records each NOTIFY and answers it as `reply` says. */
async function secondary(reply: (raw: Uint8Array, n: number) => Uint8Array | undefined): Promise<{ target: NotifyTarget; got: Uint8Array[]; close(): void }> {
  const s = dgram.createSocket('udp4');
  const got: Uint8Array[] = [];
  s.on('message', (m, rinfo) => {
    got.push(new Uint8Array(m));
    const out = reply(new Uint8Array(m), got.length);
    if (out) s.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  return { target: { target: `127.0.0.1:${port}`, host: '127.0.0.1', port }, got, close: () => s.close() };
}

/** The answer to a NOTIFY: same ID and question, QR set (RFC 1996 §4.7). */
function answerOf(raw: Uint8Array): Uint8Array {
  const at = findTsig(raw);
  const out = new Uint8Array(raw.subarray(0, at ?? raw.length));
  out[2] = out[2]! | 0x80;
  // The answer carries the question only.
  out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
  out[5] = 1;
  let p = 12;
  while (out[p] !== 0) p += out[p]! + 1;
  return out.slice(0, p + 1 + 4);
}

function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
}

const notifiers: Notifier[] = [];
after(() => notifiers.forEach((n) => n.close()));

describe('Notifier', () => {
  test('unanswered: resent past maxTries at the capped interval, said once; the answer that comes is acknowledged once', { timeout: 30_000 }, async () => {
    let answer = false;
    const sec = await secondary((raw) => (answer ? answerOf(raw) : undefined));
    const lines: Line[] = [];
    const n = new Notifier(logger(lines), { maxTries: 3, firstRetryMs: 5, maxRetryMs: 20 });
    notifiers.push(n);
    n.notify(ZONE, soa(5), [sec.target]);
    await until(() => sec.got.length >= 12);
    assert.equal(n.waiting, 1, 'still resending after 12 sends');
    assert.equal(lines.filter((l) => l.msg.startsWith('NOTIFY unanswered')).length, 1);
    for (const raw of sec.got) assert.equal(decodeMessage(raw).flags.opcode, Opcode.NOTIFY);
    answer = true;
    await until(() => n.waiting === 0);
    const acks = lines.filter((l) => l.msg === 'NOTIFY acknowledged');
    assert.equal(acks.length, 1);
    assert.equal(acks[0]!.fields.serial, 5);
    const sent = sec.got.length;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(sec.got.length, sent, 'no send after the acknowledgement');
    sec.close();
  });

  test('signed with the target key; an unsigned answer is no acknowledgement (said once), a signed one is', { timeout: 30_000 }, async () => {
    let signAnswers = false;
    const sec = await secondary((raw) => {
      const at = findTsig(raw);
      assert.ok(at !== undefined, 'the NOTIFY carries a TSIG');
      const v = verifyRequest(raw, at, ring, 300, Math.floor(Date.now() / 1000));
      assert.equal(v.kind, 'valid');
      if (!signAnswers) return answerOf(raw);
      return appendTsig(answerOf(raw), { keyName: KEY.name, algorithm: KEY.algorithm.name, key: KEY, requestMac: (v as { record: { mac: Uint8Array } }).record.mac, macSize: KEY.algorithm.size, fudge: 300, error: 0 }, Math.floor(Date.now() / 1000));
    });
    const lines: Line[] = [];
    const n = new Notifier(logger(lines), { maxTries: 3, firstRetryMs: 5, maxRetryMs: 20 });
    notifiers.push(n);
    n.notify(ZONE, soa(9), [{ ...sec.target, key: KEY }]);
    await until(() => sec.got.length >= 5);
    assert.equal(n.waiting, 1);
    assert.equal(lines.filter((l) => l.msg.startsWith('NOTIFY answer failed TSIG verification')).length, 1);
    signAnswers = true;
    await until(() => n.waiting === 0);
    const ack = lines.find((l) => l.msg === 'NOTIFY acknowledged');
    assert.equal(ack?.fields.key, 'notify-key.');
    sec.close();
  });

  test('a refusal is an answer: logged once with its rcode, not resent', { timeout: 30_000 }, async () => {
    const sec = await secondary((raw) => {
      const a = answerOf(raw);
      a[3] = (a[3]! & 0xf0) | 5; // REFUSED
      return a;
    });
    const lines: Line[] = [];
    const n = new Notifier(logger(lines), { firstRetryMs: 5, maxRetryMs: 20 });
    notifiers.push(n);
    n.notify(ZONE, soa(3), [sec.target]);
    await until(() => n.waiting === 0);
    assert.deepEqual(lines.map((l) => [l.msg, l.fields.rcode]), [['NOTIFY refused by the secondary', 'REFUSED']]);
    sec.close();
  });

  test('retain: a target no longer configured stops being resent; a newer serial replaces the old one', { timeout: 30_000 }, async () => {
    const a = await secondary(() => undefined);
    const b = await secondary(() => undefined);
    const n = new Notifier(logger([]), { firstRetryMs: 5, maxRetryMs: 10 });
    notifiers.push(n);
    n.notify(ZONE, soa(1), [a.target, b.target]);
    n.notify(ZONE, soa(2), [a.target]);
    assert.equal(n.waiting, 2);
    await until(() => b.got.length >= 3);
    n.retain(new Set([pendingKey(ZONE, a.target)]));
    assert.equal(n.waiting, 1);
    const before = b.got.length;
    await until(() => a.got.length >= 8);
    assert.equal(b.got.length, before, 'the dropped target got nothing more');
    const serials = a.got.slice(1).map((raw) => (decodeMessage(raw).answers[0]!.data as SOARdata).serial);
    assert.ok(serials.every((s) => s === 2), `after the newer serial only it is resent: ${serials.join(',')}`);
    a.close();
    b.close();
  });

  test('the primary role takes the resend settings from notify: and the TSIG fudge from tsig.fudge', { timeout: 30_000 }, async () => {
    const sec = await secondary(() => undefined);
    const dir = mkdtempSync(join(tmpdir(), 'fluxdns-notify-conf-'));
    const config = configSchema.parse({
      tsig: { fudge: 120, keys: [{ name: 'notify-key', secret: Buffer.alloc(32, 7).toString('base64') }] },
      notify: { tries: 2, firstRetry: 0.01, maxRetry: 0.03 },
      zones: [{ name: ZONE, file: join(dir, 'zone'), notify: [{ address: sec.target.target, tsigKey: 'notify-key' }] }],
    });
    const lines: Line[] = [];
    const zone = (serial: number) => Zone.build(ZONE, [soa(serial), { name: ZONE, type: RRType.NS, class: RRClass.IN, ttl: 60, data: { target: `ns.${ZONE}` } }]);
    const p = new Primary({ logger: { ...logger(lines), error: (msg: string, fields: Record<string, unknown>) => lines.push({ level: 'error', msg, fields }) }, writer: true });
    try {
      const before = p.start(new ZoneSet([zone(1)]), config);
      p.reconcile(before, new ZoneSet([zone(2)]), config);
      // 2 tries at 10 then 20 ms, then every 30 ms: the defaults (1 s, 2 s, 4 s …) would send 1 in this time.
      await until(() => sec.got.length >= 6);
      assert.equal(lines.filter((l) => l.msg.startsWith('NOTIFY unanswered')).length, 1);
      for (const raw of sec.got) assert.equal(parseTsigAt(raw, findTsig(raw)!).fudge, 120);
    } finally {
      p.close(new ZoneSet([]), config);
      sec.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
