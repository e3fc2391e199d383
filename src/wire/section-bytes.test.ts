import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockSection, blockSectionOf, decodeMessage, encodeMessage, queryMessage } from './message.js';
import { RRType, type Message, type ResourceRecord } from './types.js';
import { attachRecordBlock, recordBlockOf } from './record-block.js';
import { withWire, wireOf } from './pre-encoded.js';
import { nameToWire } from './name.js';
import { sectionBytesStats } from './section-bytes.js';

const raw = (rr: ResourceRecord) => (rr.data as { raw?: Uint8Array }).raw;

function rrsig(name: string, type: number): ResourceRecord {
  const r = new Uint8Array(18 + 9 + 64).fill(7);
  r[0] = type >> 8;
  r[1] = type & 0xff;
  r.set([7, ...Buffer.from('example'), 0], 18);
  return { name, type: RRType.RRSIG, class: 1, ttl: 300, data: { raw: r } };
}

function soaSet(): ResourceRecord[] {
  const rdata = Uint8Array.from([3, ...Buffer.from('ns1'), 7, ...Buffer.from('example'), 0, 10, ...Buffer.from('hostmaster'), 7, ...Buffer.from('example'), 0, ...new Uint8Array(20).fill(1)]);
  const soa: ResourceRecord = { name: 'example.', type: RRType.SOA, class: 1, ttl: 300, data: withWire({ mname: 'ns1.example.', rname: 'hostmaster.example.', serial: 0x01010101, refresh: 0x01010101, retry: 0x01010101, expire: 0x01010101, minimum: 0x01010101 }, rdata) };
  const set = [soa, rrsig('example.', RRType.SOA)];
  attachRecordBlock(set, (rr) => raw(rr) ?? wireOf(rr.data));
  return set;
}

function nsec(owner: string, next: string): ResourceRecord[] {
  const set = [{ name: owner, type: RRType.NSEC, class: 1, ttl: 300, data: { raw: Uint8Array.from([...nameToWire(next), 0, 1, 0x40]) } }, rrsig(owner, RRType.NSEC)];
  attachRecordBlock(set, raw);
  return set;
}

function response(qname: string, authority: ResourceRecord[], maxSize = 1232): Uint8Array {
  const q = queryMessage(qname, RRType.A, { id: 7, edns: 1232, dnssecOk: true });
  const msg: Message = { ...q, flags: { ...q.flags, qr: true, aa: true, rcode: 3 }, authorities: authority };
  return encodeMessage(msg, { maxSize, query: encodeMessage(q) });
}

test('a block section copied from its last bytes gives what the compression table gives, for every question', () => {
  // Owners under the apex, one below a host (h5), one sharing MNAME's label (ns1): each a way a question's
  // suffix could lengthen a name's compression.
  const sections = [
    [...soaSet(), ...nsec('h5.example.', 'h6.example.')],
    [...soaSet(), ...nsec('a.example.', 'b.example.'), ...nsec('example.', 'a.example.')],
    [...soaSet(), ...nsec('a.h5.example.', 'b.h5.example.'), ...nsec('ns1.example.', 'z.example.')],
  ];
  for (const s of sections) blockSection(s);
  const questions = ['x1.example.', 'ZZ.Example.', 'r1.h5.example.', 'R2.H5.EXAMPLE.', 'h5.example.', 'a.example.', 'q.a.example.', 'ns1.example.', 'x.ns1.example.', 'q.a.h5.example.', 'example.', 'x.example.org.', 'hostmaster.example.', `${'l'.repeat(60)}.${'m'.repeat(60)}.h5.example.`, 'b.x1.example.'];
  const before = sectionBytesStats.hits;
  for (let round = 0; round < 3; round++) {
    for (const s of sections) {
      for (const qname of round === 1 ? [...questions].reverse() : questions) {
        // The same records without the section's memo: blocks found one by one, or no blocks at all.
        const general = response(qname, [...s]);
        const plain = response(qname, s.map((r) => ({ ...r })));
        assert.deepEqual(general, plain, qname);
        assert.deepEqual(response(qname, s), general, `${qname} round ${round}`);
        // Too small for the whole section: truncated as before.
        assert.deepEqual(response(qname, s, general.length - 20), response(qname, [...s], general.length - 20), qname);
        assert.equal(decodeMessage(response(qname, s)).authorities.length, s.length);
      }
    }
  }
  // The copies were taken (from the third write of a section on), not only the general path.
  assert.ok(sectionBytesStats.hits - before > questions.length * sections.length, `${sectionBytesStats.hits - before} copies`);
});

test('a section given its blocks (blockSectionOf) writes as its records one by one', () => {
  // An NSEC3 NXDOMAIN's shape: the SOA set, then proof sets of distinct owners, the blocks known per set.
  const sets = [soaSet(), nsec('h5.example.', 'h6.example.'), nsec('a.example.', 'b.example.'), nsec('example.', 'a.example.')];
  const blocks = sets.map((s) => recordBlockOf(s[0]!)!);
  assert.ok(blocks.every((b, i) => b.records === sets[i]));
  const questions = ['x1.example.', 'ZZ.Example.', 'r1.h5.example.', 'q.a.example.', 'example.', 'x.example.org.'];
  for (const qname of questions) {
    const section = sets.flat();
    blockSectionOf(section, blocks);
    const plain = response(qname, section.map((r) => ({ ...r })));
    const before = sectionBytesStats.hits;
    for (let k = 0; k < 3; k++) assert.deepEqual(response(qname, section), plain, `${qname} write ${k}`);
    assert.deepEqual(response(qname, section, plain.length - 20), response(qname, section.map((r) => ({ ...r })), plain.length - 20), qname);
    // Taken as a section of blocks: its third write is a copy of its bytes.
    if (qname !== 'x.example.org.') assert.equal(sectionBytesStats.hits - before, 1, qname);
  }
});

test('sections beginning with one SOA set share its bytes, and write what the compression table gives', () => {
  // One SOA set as a zone has it, in many NXDOMAIN sections (one per covering NSEC). The first question
  // below ns1 lengthens MNAME's compression: that section's head is not the shared one, and must not be taken as it.
  const soa = soaSet();
  const owners = ['h1', 'h2', 'ns1', 'h3', 'a.h4'];
  const sections = owners.map((o) => {
    const s = [...soa, ...nsec(`${o}.example.`, `z${o}.example.`)];
    blockSection(s);
    return s;
  });
  const questions = (o: string) => [`x.${o}.example.`, `Y.${o.toUpperCase()}.EXAMPLE.`, `${'q'.repeat(40)}.${o}.example.`, `r.${o}.example.`];
  const before = { ...sectionBytesStats };
  for (let round = 0; round < 3; round++) {
    for (const [k, s] of sections.entries()) {
      for (const qname of round === 1 ? questions(owners[k]!).reverse() : questions(owners[k]!)) {
        const plain = response(qname, s.map((r) => ({ ...r })));
        assert.deepEqual(response(qname, s), plain, `${qname} round ${round}`);
        assert.deepEqual(response(qname, s, plain.length - 30), response(qname, s.map((r) => ({ ...r })), plain.length - 30), qname);
      }
    }
  }
  const copies = sectionBytesStats.hits - before.hits;
  const shared = sectionBytesStats.sharedHeads - before.sharedHeads;
  assert.ok(copies > owners.length * 4, `${copies} copies`);
  // Every section but ns1's (whose head is its own) copies the shared head.
  assert.ok(shared > 0 && shared < copies, `${shared} of ${copies} with the shared head`);
});
