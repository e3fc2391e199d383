// Key-value client: query names per method and values read back from the answers the seed prints.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RRType, type Message, type ResourceRecord } from '../wire/types.js';
import { extractValue, normalise, programmingQuery, retrievalQuery, type KvSpec } from './kv.js';

const Z = 'echo3.netfuture.ch.';
const rr = (name: string, type: number, data: ResourceRecord['data']): ResourceRecord => ({ name, type, class: 1, ttl: 9985, data });
function msg(qname: string, qtype: number, answers: ResourceRecord[], authorities: ResourceRecord[] = []): Message {
  return {
    id: 1,
    flags: { qr: true, opcode: 0, aa: false, tc: false, rd: true, ra: true, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: qname, type: qtype, class: 1 }],
    answers,
    authorities,
    additionals: [],
  };
}
const A = (m: KvSpec['method']): KvSpec => ({ method: m, type: 'A' });

describe('kv client', () => {
  test('programming and retrieving queries per method (seed §2.4–2.8)', () => {
    assert.deepEqual(programmingQuery(A('cca'), Z, 'mynotebook', '134.34.165.165'), { name: `134.34.165.165.cca.mynotebook.${Z}`, type: RRType.A });
    assert.deepEqual(programmingQuery({ method: 'a', type: 'TXT' }, Z, 'mynotebook', 'key=value'), { name: `key=value.a.mynotebook.${Z}`, type: RRType.TXT });
    assert.deepEqual(programmingQuery({ method: 'a', type: 'SRV' }, Z, 'mynotebook', 'host.name:22'), { name: `host.name-22.a.mynotebook.${Z}`, type: RRType.SRV });
    assert.deepEqual(programmingQuery(A('ccu'), Z, 'mynotebook', 'stateless-dns'), { name: `stateless-dns.ccu.mynotebook.${Z}`, type: RRType.A });
    assert.deepEqual(retrievalQuery(A('cca'), Z, 'mynotebook'), { name: `mynotebook.${Z}`, type: RRType.A });
    assert.deepEqual(retrievalQuery(A('da'), Z, 'mynotebook', 'anything'), { name: `anything.mynotebook.${Z}`, type: RRType.A });
    assert.deepEqual(retrievalQuery(A('nu'), Z, 'mynotebook'), { name: `mynotebook.${Z}`, type: RRType.NS });
    assert.throws(() => programmingQuery(A('a'), Z, 'my.notebook', '198.51.100.1'), /one label/);
    assert.throws(() => programmingQuery(A('a'), Z, 'k', 'not-an-ip'), /IPv4/);
  });

  test('CCA retrieval (§2.6.1): the CNAME to the echo domain and its A', () => {
    const q = `mynotebook.${Z}`;
    const m = msg(q, RRType.A, [rr(q, RRType.CNAME, { target: `134.34.165.165.00.${Z}` }), rr(`134.34.165.165.00.${Z}`, RRType.A, { address: '134.34.165.165' })]);
    assert.equal(extractValue(A('cca'), Z, 'mynotebook', q, m), '134.34.165.165');
    assert.equal(extractValue(A('cca'), Z, 'mynotebook', q, msg(q, RRType.A, [])), undefined);
  });

  test('CCU retrieval (§2.6.3): the data is the .xy target', () => {
    const q = `mynotebook.${Z}`;
    const m = msg(q, RRType.A, [rr(q, RRType.CNAME, { target: 'stateless-dns.xy.' })]);
    assert.equal(extractValue(A('ccu'), Z, 'mynotebook', q, m), 'stateless-dns');
  });

  test('DA retrieval and retrieve-or-store (§2.7.1, §2.7.4): the value behind the cached DNAME wins', () => {
    const q = `134.34.205.68.da.mynotebook.${Z}`;
    const m = msg(q, RRType.A, [
      rr(`mynotebook.${Z}`, RRType.DNAME, { target: `00.134.34.165.165.00.${Z}` }),
      rr(q, RRType.CNAME, { target: `134.34.205.68.da.00.134.34.165.165.00.${Z}` }),
      rr(`134.34.205.68.da.00.134.34.165.165.00.${Z}`, RRType.A, { address: '134.34.165.165' }),
    ]);
    assert.equal(extractValue(A('da'), Z, 'mynotebook', q, m), '134.34.165.165');
  });

  test('DU retrieval (§2.7.3): data from the DNAME or the synthesized CNAME', () => {
    const q = `anything.mynotebook.${Z}`;
    const m = msg(q, RRType.A, [rr(`mynotebook.${Z}`, RRType.DNAME, { target: '00.stateless-dns.xy.' }), rr(q, RRType.CNAME, { target: 'anything.00.stateless-dns.xy.' })]);
    assert.equal(extractValue(A('du'), Z, 'mynotebook', q, m), 'stateless-dns');
    const dnameOnly = msg(q, RRType.A, [rr(`mynotebook.${Z}`, RRType.DNAME, { target: '00.stateless-dns.xy.' })]);
    assert.equal(extractValue(A('du'), Z, 'mynotebook', q, dnameOnly), 'stateless-dns');
  });

  test('NA and NU retrieval (§2.8.1–2.8.2): the NS target, in the answer or the authority section', () => {
    const q = `mynotebook.${Z}`;
    const na = msg(q, RRType.NS, [], [rr(q, RRType.NS, { target: `134.34.165.165.00.${Z}` })]);
    assert.equal(extractValue(A('na'), Z, 'mynotebook', q, na), '134.34.165.165');
    const nu = msg(q, RRType.NS, [rr(q, RRType.NS, { target: 'stateless-dns.xy.' })]);
    assert.equal(extractValue(A('nu'), Z, 'mynotebook', q, nu), 'stateless-dns');
  });

  test('TXT and SRV values read back as they were put', () => {
    const q = `k.${Z}`;
    const txt = msg(q, RRType.TXT, [rr(q, RRType.TXT, { strings: [new TextEncoder().encode('key=value')] })]);
    assert.equal(extractValue({ method: 'a', type: 'TXT' }, Z, 'k', q, txt), 'key=value');
    const srv = msg(q, RRType.SRV, [rr(q, RRType.SRV, { priority: 0, weight: 1, port: 22, target: 'host.name.' })]);
    assert.equal(extractValue({ method: 'a', type: 'SRV' }, Z, 'k', q, srv), 'host.name:22');
    assert.equal(normalise({ method: 'a', type: 'SRV' }, 'host.name.:22'), 'host.name:22');
    assert.equal(normalise({ method: 'a', type: 'AAAA' }, '2001:DB8:0::7'), '2001:db8::7');
  });
});
