// Directory server: answers for its alias and RFC 2136 UPDATE handling (adds, deletes, prerequisites, refusals).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { Writer } from '../wire/writer.js';
import { RRClass, RRType, Rcode, type Message, type TargetRdata } from '../wire/types.js';
import { Directory } from './directory.js';
import { addRecordsUpdate } from './update.js';

const APEX = '_chat_tcp.echo.lab.';
const LOCAL = '127.55.0.1';

function ask(d: Directory, name: string, type: number): Message {
  const q: Message = { id: 9, flags: { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 }, questions: [{ name, type, class: 1 }], answers: [], authorities: [], additionals: [] };
  return decodeMessage(d.handle(encodeMessage(q), LOCAL)!);
}

function update(d: Directory, msg: Message): number {
  return decodeMessage(d.handle(encodeMessage(msg), LOCAL)!).flags.rcode;
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
    const d = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp' });
    assert.equal(update(d, addRecordsUpdate(1, APEX, bob())), Rcode.NOERROR);
    assert.deepEqual(ask(d, APEX, RRType.PTR).answers.map((r) => (r.data as TargetRdata).target), [`bob.${APEX}`]);
    assert.equal(ask(d, `bob.${APEX}`, RRType.SRV).answers.length, 1);
    // A second add of the same record is not a duplicate.
    assert.equal(update(d, addRecordsUpdate(2, APEX, bob())), Rcode.NOERROR);
    assert.equal(ask(d, APEX, RRType.PTR).answers.length, 1);
    assert.equal(decodeMessage(d.handle(rawDelete(APEX, `bob.${APEX}`, RRType.SRV), LOCAL)!).flags.rcode, Rcode.NOERROR);
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
    assert.equal(decodeMessage(d.handle(bad, LOCAL)!).flags.rcode, Rcode.FORMERR);
    const notify: Message = { id: 3, flags: { qr: false, opcode: 4, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 }, questions: [{ name: APEX, type: RRType.SOA, class: 1 }], answers: [], authorities: [], additionals: [] };
    assert.equal(decodeMessage(d.handle(encodeMessage(notify), LOCAL)!).flags.rcode, Rcode.NOTIMP);
  });
});
