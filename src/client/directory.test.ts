// Directory server: answers for its alias and RFC 2136 UPDATE handling (adds, deletes, prerequisites, refusals).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { Writer } from '../wire/writer.js';
import { RRClass, RRType, Rcode, type Message, type TargetRdata } from '../wire/types.js';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Directory } from './directory.js';
import { signRequest } from '../secondary/tsig-stream.js';
import { keyRingOf } from '../tsig/keys.js';
import { tsigSchema } from '../tsig/schema.js';
import { findTsig, verifyRequest, verifyResponse } from '../tsig/verify.js';
import { parseTsigAt } from '../tsig/record.js';
import { addRecordsUpdate } from './update.js';

const APEX = '_chat_tcp.echo.lab.';
const LOCAL = '127.55.0.1';
const CLIENT = '127.0.0.9';
const OPEN = { allowUpdate: ['127.0.0.0/8'] };

function ask(d: Directory, name: string, type: number): Message {
  const q: Message = { id: 9, flags: { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 }, questions: [{ name, type, class: 1 }], answers: [], authorities: [], additionals: [] };
  return decodeMessage(d.handle(encodeMessage(q), LOCAL, CLIENT)!);
}

function update(d: Directory, msg: Message): number {
  return decodeMessage(d.handle(encodeMessage(msg), LOCAL, CLIENT)!).flags.rcode;
}

/** An UPDATE whose update section is raw records (class ANY/NONE deletes have empty rdata, RFC 2136 §2.5.2). */
function rawDelete(zone: string, name: string, type: number): Uint8Array {
  const w = new Writer(512);
  w.u16(7);
  w.u16(5 << 11);
  w.u16(1);
  w.u16(0);
  w.u16(1);
  w.u16(0);
  w.writeName(zone, false);
  w.u16(RRType.SOA);
  w.u16(RRClass.IN);
  w.writeName(name, false);
  w.u16(type);
  w.u16(RRClass.ANY);
  w.u32(0);
  w.u16(0);
  return w.finish();
}

const bob = (ttl = 60) => [
  { name: APEX, type: RRType.PTR, class: RRClass.IN, ttl, data: { target: `bob.${APEX}` } },
  { name: `bob.${APEX}`, type: RRType.SRV, class: RRClass.IN, ttl, data: { priority: 0, weight: 0, port: 5223, target: `bob.${APEX}` } },
  { name: `bob.${APEX}`, type: RRType.A, class: RRClass.IN, ttl, data: { address: '198.51.100.6' } },
];

describe('directory', () => {
  test('answers as the NR target (§2.8.3): the apex and nr.apex resolve to its own address, with NS and glue', () => {
    const d = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp' });
    const a = ask(d, APEX, RRType.A);
    assert.equal(a.flags.aa, true);
    assert.deepEqual(a.answers.map((r) => r.data), [{ address: LOCAL }]);
    assert.deepEqual(a.authorities.map((r) => (r.data as TargetRdata).target), [`nr.${APEX}`]);
    assert.deepEqual(ask(d, `nr.${APEX}`, RRType.A).answers.map((r) => r.data), [{ address: LOCAL }]);
    assert.equal(ask(d, `nobody.${APEX}`, RRType.A).flags.rcode, Rcode.NXDOMAIN);
    assert.equal(ask(d, '_other_tcp.echo.lab.', RRType.A).flags.rcode, Rcode.REFUSED);
  });

  test('UPDATE adds PTR/SRV/A, deletes an RRset, and refuses names, types and zones it does not take', () => {
    const d = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp', ...OPEN });
    assert.equal(update(d, addRecordsUpdate(1, APEX, bob())), Rcode.NOERROR);
    assert.deepEqual(ask(d, APEX, RRType.PTR).answers.map((r) => (r.data as TargetRdata).target), [`bob.${APEX}`]);
    assert.equal(ask(d, `bob.${APEX}`, RRType.SRV).answers.length, 1);
    // A second add of the same record is not a duplicate.
    assert.equal(update(d, addRecordsUpdate(2, APEX, bob())), Rcode.NOERROR);
    assert.equal(ask(d, APEX, RRType.PTR).answers.length, 1);
    assert.equal(decodeMessage(d.handle(rawDelete(APEX, `bob.${APEX}`, RRType.SRV), LOCAL, CLIENT)!).flags.rcode, Rcode.NOERROR);
    assert.equal(ask(d, `bob.${APEX}`, RRType.SRV).answers.length, 0);
    assert.equal(ask(d, `bob.${APEX}`, RRType.A).answers.length, 1);
    // Outside the alias, an unaccepted type, and the apex A are refused; nothing is applied.
    assert.equal(update(d, addRecordsUpdate(3, 'other.echo.lab.', bob())), Rcode.NOTAUTH);
    assert.equal(update(d, addRecordsUpdate(4, APEX, [{ name: `x.${APEX}`, type: RRType.NS, class: RRClass.IN, ttl: 1, data: { target: 'ns.' } }])), Rcode.REFUSED);
    assert.equal(update(d, addRecordsUpdate(5, APEX, [...bob(), { name: APEX, type: RRType.A, class: RRClass.IN, ttl: 1, data: { address: '198.51.100.9' } }])), Rcode.REFUSED);
    assert.equal(update(d, addRecordsUpdate(6, APEX, [{ name: 'elsewhere.lab.', type: RRType.A, class: RRClass.IN, ttl: 1, data: { address: '198.51.100.9' } }])), Rcode.NOTZONE);
  });

  test('malformed UPDATE is FORMERR, other opcodes NOTIMP', () => {
    const d = new Directory({ zone: 'echo.lab.' });
    const bad = rawDelete(APEX, `bob.${APEX}`, RRType.SRV).slice(0, 20);
    assert.equal(decodeMessage(d.handle(bad, LOCAL, CLIENT)!).flags.rcode, Rcode.FORMERR);
    const notify: Message = { id: 3, flags: { qr: false, opcode: 4, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 }, questions: [{ name: APEX, type: RRType.SOA, class: 1 }], answers: [], authorities: [], additionals: [] };
    assert.equal(decodeMessage(d.handle(encodeMessage(notify), LOCAL, CLIENT)!).flags.rcode, Rcode.NOTIMP);
  });

  test('updates get the zones\' access control: default deny, prefixes, TSIG keys (NOTAUTH with a bad MAC), signed answers', () => {
    const closed = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp' });
    assert.equal(update(closed, addRecordsUpdate(1, APEX, bob())), Rcode.REFUSED);
    assert.equal(ask(closed, APEX, RRType.PTR).answers.length, 0);
    // The operator's own registration goes through the same path without the list.
    assert.equal(closed.registerLocal(APEX, bob()), Rcode.NOERROR);
    assert.equal(ask(closed, APEX, RRType.PTR).answers.length, 1);

    const tsig = tsigSchema.parse({ keys: [{ name: 'dir-key', secret: Buffer.alloc(32, 7).toString('base64') }] });
    const other = tsigSchema.parse({ keys: [{ name: 'dir-key', secret: Buffer.alloc(32, 8).toString('base64') }] });
    const key = keyRingOf(tsig).get('dir-key.')!;
    const d = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp', tsig, allowUpdate: [{ key: 'dir-key.' }, '198.51.100.0/24'] });
    // Unsigned from an address not listed: REFUSED; from a listed prefix: allowed.
    assert.equal(update(d, addRecordsUpdate(2, APEX, bob())), Rcode.REFUSED);
    assert.equal(decodeMessage(d.handle(encodeMessage(addRecordsUpdate(3, APEX, bob())), LOCAL, '198.51.100.77')!).flags.rcode, Rcode.NOERROR);
    // Signed with the listed key: allowed, and the answer is signed with it (RFC 8945 §5.3).
    const carol = [{ name: `carol.${APEX}`, type: RRType.A, class: RRClass.IN, ttl: 60, data: { address: '198.51.100.7' } }];
    const signed = signRequest(encodeMessage(addRecordsUpdate(4, APEX, carol)), key, 300);
    const out = d.handle(signed.wire, LOCAL, CLIENT)!;
    assert.equal(decodeMessage(out).flags.rcode, Rcode.NOERROR);
    assert.equal(verifyResponse(out, findTsig(out)!, key, signed.mac).ok, true);
    assert.equal(ask(d, `carol.${APEX}`, RRType.A).answers.length, 1);
    // The same key name with another secret: NOTAUTH, an unsigned BADSIG TSIG, nothing applied.
    const forged = signRequest(encodeMessage(addRecordsUpdate(5, APEX, [{ ...carol[0]!, name: `mallory.${APEX}` }])), keyRingOf(other).get('dir-key.')!, 300);
    const bad = d.handle(forged.wire, LOCAL, CLIENT)!;
    assert.equal(decodeMessage(bad).flags.rcode, Rcode.NOTAUTH);
    const t = parseTsigAt(bad, findTsig(bad)!);
    assert.equal(t.error, 16);
    assert.equal(t.mac.length, 0);
    assert.equal(ask(d, `mallory.${APEX}`, RRType.A).flags.rcode, Rcode.NXDOMAIN);
    // The request the test signed really verifies against the directory's ring (the check above is not vacuous).
    assert.equal(verifyRequest(signed.wire, findTsig(signed.wire)!, keyRingOf(tsig), 300, Math.floor(Date.now() / 1000)).kind, 'valid');
  });

  test('RFC 2136 as for zones: prerequisites, the serial raised per update, a CNAME beside data refused', () => {
    const d = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp', ...OPEN });
    const serial = () => (ask(d, APEX, RRType.SOA).answers[0]!.data as { serial: number }).serial;
    assert.equal(serial(), 1);
    assert.equal(update(d, addRecordsUpdate(1, APEX, bob())), Rcode.NOERROR);
    assert.equal(serial(), 2);
    // A repeated add changes nothing and keeps the serial.
    assert.equal(update(d, addRecordsUpdate(2, APEX, bob())), Rcode.NOERROR);
    assert.equal(serial(), 2);
    // Prerequisite "name not in use" (class NONE, type ANY) on bob: YXDOMAIN, nothing applied.
    const m = addRecordsUpdate(3, APEX, [{ name: `eve.${APEX}`, type: RRType.A, class: RRClass.IN, ttl: 60, data: { address: '198.51.100.8' } }]);
    m.answers = [{ name: `bob.${APEX}`, type: RRType.ANY, class: RRClass.NONE, ttl: 0, data: { raw: new Uint8Array(0) } as never }];
    assert.equal(update(d, m), Rcode.YXDOMAIN);
    assert.equal(ask(d, `eve.${APEX}`, RRType.A).flags.rcode, Rcode.NXDOMAIN);
    assert.equal(serial(), 2);
  });

  test('with a journal folder, each update is on disk before the answer and a new directory replays it; a torn tail is cut', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dir-jnl-'));
    try {
      const d = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp', journalDir: dir, ...OPEN });
      assert.equal(update(d, addRecordsUpdate(1, APEX, bob())), Rcode.NOERROR);
      const [file] = readdirSync(dir);
      assert.equal(file, '_chat_tcp.echo.lab.jnl');
      const afterFirst = statSync(join(dir, file!)).size;
      assert.ok(afterFirst > 8);
      assert.equal(decodeMessage(d.handle(rawDelete(APEX, `bob.${APEX}`, RRType.SRV), LOCAL, CLIENT)!).flags.rcode, Rcode.NOERROR);
      assert.ok(statSync(join(dir, file!)).size > afterFirst);
      void d.close();
      const again = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp', journalDir: dir, ...OPEN });
      assert.deepEqual(ask(again, APEX, RRType.PTR).answers.map((r) => (r.data as TargetRdata).target), [`bob.${APEX}`]);
      assert.equal(ask(again, `bob.${APEX}`, RRType.SRV).answers.length, 0);
      assert.equal(ask(again, `bob.${APEX}`, RRType.A).answers.length, 1);
      assert.equal((ask(again, APEX, RRType.SOA).answers[0]!.data as { serial: number }).serial, 3);
      void again.close();
      // A crash mid-append leaves a torn entry: it is cut, the first update stays.
      truncateSync(join(dir, file!), statSync(join(dir, file!)).size - 5);
      const torn = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp', journalDir: dir, ...OPEN });
      assert.equal(ask(torn, `bob.${APEX}`, RRType.SRV).answers.length, 1);
      assert.equal((ask(torn, APEX, RRType.SOA).answers[0]!.data as { serial: number }).serial, 2);
      // And the journal takes new entries after the cut.
      assert.equal(update(torn, addRecordsUpdate(9, APEX, [{ name: `dave.${APEX}`, type: RRType.A, class: RRClass.IN, ttl: 60, data: { address: '198.51.100.9' } }])), Rcode.NOERROR);
      void torn.close();
      const last = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp', journalDir: dir, ...OPEN });
      assert.equal(ask(last, `dave.${APEX}`, RRType.A).answers.length, 1);
      void last.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
