import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, queryMessage } from '../../wire/message.js';
import { RRType, type Message, type ResourceRecord } from '../../wire/types.js';

/** An RRSIG covering `type` at `name` with a signature of `sigLen` bytes (only the type covered matters here). */
function rrsig(name: string, type: number, sigLen: number): ResourceRecord {
  const raw = new Uint8Array(18 + 1 + sigLen);
  raw[0] = type >> 8;
  raw[1] = type & 0xff;
  raw[2] = 13;
  return { name, type: RRType.RRSIG, class: 1, ttl: 300, data: { raw } };
}

function response(authority: ResourceRecord[]): Message {
  const q = queryMessage('a.example.', RRType.A);
  return { ...q, flags: { ...q.flags, qr: true, aa: true, rcode: 3 }, authorities: authority };
}

test('RFC 4035 §3.1.1: an RRset whose RRSIG does not fit is left out with it, and TC is set', () => {
  const soa = { name: 'example.', type: RRType.SOA, class: 1, ttl: 300, data: { mname: 'ns.example.', rname: 'h.example.', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } } as ResourceRecord;
  const nsec = { name: 'example.', type: RRType.NSEC, class: 1, ttl: 300, data: { raw: Uint8Array.from([1, 0x62, 7, ...Buffer.from('example'), 0, 0, 1, 0x40]) } } as ResourceRecord;
  const records = [soa, rrsig('example.', RRType.SOA, 64), nsec, rrsig('example.', RRType.NSEC, 64)];
  const whole = encodeMessage(response(records));
  // Room for everything but the NSEC's RRSIG: the NSEC goes too.
  const cut = decodeMessage(encodeMessage(response(records), { maxSize: whole.length - 10 }));
  assert.equal(cut.flags.tc, true);
  assert.deepEqual(
    cut.authorities.map((r) => r.type),
    [RRType.SOA, RRType.RRSIG],
  );
  const all = decodeMessage(encodeMessage(response(records), { maxSize: whole.length }));
  assert.equal(all.flags.tc, false);
  assert.equal(all.authorities.length, 4);
});
