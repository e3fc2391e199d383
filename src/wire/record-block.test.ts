import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, queryMessage } from './message.js';
import { RRType, type Message, type ResourceRecord } from './types.js';
import { attachRecordBlock, recordBlockOf } from './record-block.js';
import { withWire, wireOf } from './pre-encoded.js';
import { nameToWire } from './name.js';

const raw = (rr: ResourceRecord) => (rr.data as { raw?: Uint8Array }).raw;

function rrsig(name: string, type: number, sigLen: number, ttl: number): ResourceRecord {
  const r = new Uint8Array(18 + 9 + sigLen).fill(7);
  r[0] = type >> 8;
  r[1] = type & 0xff;
  // Signer "example." in full (RRSIG names are never compressed).
  r.set([7, ...Buffer.from('example'), 0], 18);
  return { name, type: RRType.RRSIG, class: 1, ttl, data: { raw: r } };
}

function proof(label: string): ResourceRecord[] {
  const name = `${label}.example.`;
  const nsec3 = { name, type: RRType.NSEC3, class: 1, ttl: 300, data: { raw: Uint8Array.from([1, 0, 0, 0, 0, 20, ...new Uint8Array(20).fill(label.charCodeAt(0)), 0, 1, 0x40]) } };
  return [nsec3, rrsig(name, RRType.NSEC3, 64, 300), rrsig(name, RRType.NSEC3, 64, 300)];
}

/** Names lower-cased: a pointer into the question gives the owner the question's case (either way of writing). */
const lower = (rs: ResourceRecord[]) => rs.map((r) => ({ ...r, name: r.name.toLowerCase() }));

function response(qname: string, authority: ResourceRecord[]): Message {
  const q = queryMessage(qname, RRType.A, { edns: 1232, dnssecOk: true });
  return { ...q, flags: { ...q.flags, qr: true, aa: true, rcode: 3 }, authorities: authority };
}

test('an NSEC3 proof block encodes as the records would, in any question case, and truncates with its RRSIGs', () => {
  const a = proof('0p9mhaveqvm6t7vbl5lop2u3t2rp3tom');
  const b = proof('35mthgpgcu1qg68fab165klnsnk3dpvl');
  const plain = [...a, ...b].map((r) => ({ ...r }));
  attachRecordBlock(a, raw);
  attachRecordBlock(b, raw);
  assert.ok(recordBlockOf(a[0]!) && recordBlockOf(b[0]!));
  // Under a proof's owner: that owner is one pointer into the question, and the bytes after it move up.
  for (const qname of ['x.example.', 'X.Y.EXAMPLE.', 'example.', 'q.0P9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.', 'q.35mthgpgcu1qg68fab165klnsnk3dpvl.example.']) {
    const withBlocks = encodeMessage(response(qname, [...a, ...b]));
    const without = encodeMessage(response(qname, plain));
    // Same bytes as the compression table gives: the owner's parent points into the question, each RRSIG at its owner.
    assert.deepEqual(withBlocks, without, qname);
    assert.deepEqual(lower(decodeMessage(withBlocks).authorities), plain, qname);
    // Room for the first proof only: the second goes whole (RRSIGs with it) and TC is set.
    const cut = decodeMessage(encodeMessage(response(qname, [...a, ...b]), { maxSize: without.length - 10 }));
    assert.equal(cut.flags.tc, true);
    assert.deepEqual(lower(cut.authorities), plain.slice(0, 3));
  }
  // A question outside the owner's parent, or records that are not the block's own: written one by one.
  const other = decodeMessage(encodeMessage(response('x.example.org.', [...a])));
  assert.deepEqual(other.authorities, plain.slice(0, 3));
  const partial = decodeMessage(encodeMessage(response('x.example.', [a[0]!, a[1]!])));
  assert.deepEqual(partial.authorities, plain.slice(0, 2));
});

/** An SOA whose RDATA is its wire form (as a compiled zone holds it), MNAME ns1.example., RNAME hostmaster.example. */
function soaRecord(): ResourceRecord {
  const rdata = Uint8Array.from([3, ...Buffer.from('ns1'), 7, ...Buffer.from('example'), 0, 10, ...Buffer.from('hostmaster'), 7, ...Buffer.from('example'), 0, ...new Uint8Array(20).fill(1)]);
  return { name: 'example.', type: RRType.SOA, class: 1, ttl: 300, data: withWire({ mname: 'ns1.example.', rname: 'hostmaster.example.', serial: 0x01010101, refresh: 0x01010101, retry: 0x01010101, expire: 0x01010101, minimum: 0x01010101 }, rdata) };
}

function nsec(owner: string, next: string): ResourceRecord[] {
  const r: ResourceRecord = { name: owner, type: RRType.NSEC, class: 1, ttl: 300, data: { raw: Uint8Array.from([...nameToWire(next), 0, 1, 0x40]) } };
  return [r, rrsig(owner, RRType.NSEC, 64, 300)];
}

test('SOA and NSEC blocks give the bytes of the compression table: owners pointing into the question, into MNAME, at earlier owners', () => {
  const soaSet = [soaRecord(), rrsig('example.', RRType.SOA, 64, 300)];
  // ns1.example. is MNAME's name; b.a.example. compresses against the earlier a.example.
  const proofs = [nsec('a.example.', 'b.a.example.'), nsec('ns1.example.', 'z.example.'), nsec('b.a.example.', 'c.example.')];
  const copy = (rs: ResourceRecord[]) => rs.map((r) => ({ ...r }));
  const plain = [...copy(soaSet), ...proofs.flatMap(copy)];
  attachRecordBlock(soaSet, (rr) => raw(rr) ?? wireOf(rr.data));
  for (const p of proofs) attachRecordBlock(p, raw);
  assert.ok(recordBlockOf(soaSet[0]!) && proofs.every((p) => recordBlockOf(p[0]!)));
  const blocks = [...soaSet, ...proofs.flat()];
  for (const qname of ['x.example.', 'q.a.example.', 'X.NS1.Example.', 'example.', 'b.a.example.', 'deep.x.y.z.example.']) {
    const withBlocks = encodeMessage(response(qname, blocks), { maxSize: 1232, query: encodeMessage(queryMessage(qname, RRType.A)) });
    const without = encodeMessage(response(qname, plain), { maxSize: 1232, query: encodeMessage(queryMessage(qname, RRType.A)) });
    assert.deepEqual(withBlocks, without, qname);
    assert.deepEqual(decodeMessage(withBlocks).authorities.length, plain.length, qname);
  }
  // The blocks as the answer section's tail: after other names, still the same bytes.
  const msg = response('h.example.', blocks);
  msg.answers = [{ name: 'h.example.', type: RRType.CNAME, class: 1, ttl: 60, data: { target: 'ns1.example.' } }];
  const plainMsg = { ...msg, authorities: plain };
  assert.deepEqual(encodeMessage(msg), encodeMessage(plainMsg));
  // Records that only look like the block's (copies) are written one by one, and a block never joins another group.
  assert.deepEqual(encodeMessage(response('x.example.', [...copy(soaSet), ...proofs[0]!])), encodeMessage(response('x.example.', plain.slice(0, 4))));
  const extraSig = [...soaSet, rrsig('example.', RRType.SOA, 64, 300)];
  assert.equal(decodeMessage(encodeMessage(response('x.example.', extraSig))).authorities.length, 3);
});
