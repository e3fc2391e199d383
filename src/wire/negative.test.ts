// The negative answer's SOA template (negative.ts) gives the bytes the encoder's name compression gives,
// for every shape of zone SOA and question; where it cannot, the encoder takes the long way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Zone } from '../zone/tree.js';
import { parseZone } from '../zone/parser.js';
import { decodeMessage, encodeMessage, queryMessage } from './message.js';
import { negativeTemplateOf } from './negative.js';
import { RRType, type Message, type ResourceRecord } from './types.js';

function zoneWith(origin: string, soa: string): Zone {
  const text = `$TTL 3600\n@ IN SOA ${soa} 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 198.51.100.1\n`;
  return Zone.build(origin, parseZone(text, { origin, file: 'test.zone' }).records);
}

function response(qname: string, soa: ResourceRecord, edns: boolean): { msg: Message; query: Uint8Array } {
  const query = encodeMessage(queryMessage(qname, RRType.A, { id: 0x1234, edns }));
  const msg: Message = {
    id: 0x1234,
    flags: { qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 3 },
    questions: [{ name: qname, type: RRType.A, class: 1 }],
    answers: [],
    authorities: [soa],
    additionals: [],
    edns: edns ? { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options: [] } : undefined,
  };
  return { msg, query };
}

const SOAS: [string, string][] = [
  ['bench.lab.', 'ns1.bench.lab. hostmaster.bench.lab.'],
  ['bench.lab.', 'ns1.bench.lab. ns1.bench.lab.'],
  ['bench.lab.', 'NS1.Bench.lab. hostmaster.bench.lab.'],
  ['bench.lab.', 'ns1.other.net. hostmaster.other.net.'],
  ['bench.lab.', 'a.lab. b.a.lab.'],
  ['bench.lab.', 'bench.lab. bench.lab.'],
  ['bench.lab.', 'x.y.bench.lab. z.y.bench.lab.'],
  ['Bench.LAB.', 'ns1.bench.lab. hostmaster.bench.lab.'],
  ['lab.', 'ns.lab. . '],
];

const QNAMES = ['bench.lab.', 'BENCH.lab.', 'nx.bench.lab.', 'NX.Bench.Lab.', 'ns1.bench.lab.', 'a.ns1.bench.lab.', 'A.NS1.bench.lab.', 'hostmaster.bench.lab.',
  'q.hostmaster.bench.lab.', 'y.bench.lab.', 'x.y.bench.lab.', 'r.x.y.bench.lab.', 'z.y.bench.lab.', 'deep.er.still.bench.lab.', 'a\\.b.bench.lab.', 'b.a.lab.'];

test('the templated negative SOA encodes as the compression table would, for every SOA shape and question', () => {
  let templated = 0;
  for (const [origin, soa] of SOAS) {
    const zone = zoneWith(origin, soa);
    const neg = zone.negativeSoa();
    assert.ok(negativeTemplateOf(neg), `${origin} ${soa}: a template`);
    // The same record without its template (spread copies no hidden property): the long way.
    const plain: ResourceRecord = { ...neg };
    assert.equal(negativeTemplateOf(plain), undefined);
    for (const qname of QNAMES) {
      if (!zone.contains(qname)) continue;
      for (const edns of [false, true]) {
        const a = response(qname, neg, edns);
        const b = response(qname, plain, edns);
        const fast = encodeMessage(a.msg, { query: a.query, maxSize: 1232 });
        const slow = encodeMessage(b.msg, { query: b.query, maxSize: 1232 });
        assert.deepEqual(fast, slow, `${origin} SOA ${soa}, question ${qname}`);
        const back = decodeMessage(fast);
        assert.equal(back.authorities[0]!.type, RRType.SOA);
        assert.equal(back.authorities[0]!.ttl, 300);
        templated++;
      }
    }
  }
  assert.ok(templated > 100);
});

test('a negative answer too big for the limit is truncated the long way', () => {
  const zone = zoneWith('bench.lab.', 'ns1.bench.lab. hostmaster.bench.lab.');
  const a = response('nx.bench.lab.', zone.negativeSoa(), false);
  const out = encodeMessage(a.msg, { query: a.query, maxSize: 40 });
  const back = decodeMessage(out);
  assert.equal(back.flags.tc, true);
  assert.equal(back.authorities.length, 0);
});

test('the root zone and a name-less question take the long way', () => {
  const zone = zoneWith('.', 'a.root-servers.net. nstld.verisign-grs.com.');
  assert.equal(negativeTemplateOf(zone.negativeSoa()), undefined);
});
