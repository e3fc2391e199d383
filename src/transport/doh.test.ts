// DoH request classification, base64url and freshness lifetime (RFC 8484 §4.1, §5.1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../wire/message.js';
import { RRType, type Message } from '../wire/types.js';
import { classifyRequest, decodeBase64Url, encodeBase64Url, freshnessOf } from './doh.js';

// RFC 8484 §4.1.1's example: www.example.com A with ID 0.
const RFC_GET = 'AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB';

describe('base64url', () => {
  test('the RFC 8484 example decodes to a 33-byte query and encodes back', () => {
    const q = decodeBase64Url(RFC_GET)!;
    assert.equal(q.length, 33);
    assert.equal(encodeBase64Url(q), RFC_GET);
  });
  test('padding, standard base64 characters and impossible lengths are refused', () => {
    assert.equal(decodeBase64Url('AAE='), undefined);
    assert.equal(decodeBase64Url('a+b/'), undefined);
    assert.equal(decodeBase64Url('AAAAA'), undefined);
    assert.deepEqual(decodeBase64Url('-_8'), Uint8Array.of(0xfb, 0xff));
  });
});

describe('classifyRequest', () => {
  const c = (method: string, target: string, type?: string, length?: string, max = 65535) => classifyRequest(method, target, type, length, max);
  test('GET with a dns parameter, POST with application/dns-message', () => {
    const g = c('GET', `/dns-query?dns=${RFC_GET}`);
    assert.ok(g.ok && g.method === 'GET' && g.query.length === 33);
    assert.deepEqual(c('POST', '/dns-query', 'application/dns-message'), { ok: true, method: 'POST' });
    assert.deepEqual(c('POST', '/dns-query', 'Application/DNS-Message; charset=x'), { ok: true, method: 'POST' });
  });
  test('each wrong request gets its status', () => {
    const status = (r: ReturnType<typeof classifyRequest>) => (r.ok ? 200 : r.status);
    assert.equal(status(c('GET', '/other?dns=' + RFC_GET)), 404);
    assert.equal(status(c('GET', '/dns-query')), 400);
    assert.equal(status(c('GET', '/dns-query?dns=AAE=')), 400);
    assert.equal(status(c('POST', '/dns-query', 'text/plain')), 415);
    assert.equal(status(c('POST', '/dns-query')), 415);
    assert.equal(status(c('POST', '/dns-query', 'application/dns-message', '70000')), 413);
    assert.equal(status(c('GET', `/dns-query?dns=${RFC_GET}`, undefined, undefined, 20)), 413);
    const put = c('PUT', '/dns-query', 'application/dns-message');
    assert.ok(!put.ok && put.status === 405 && put.headers?.allow === 'GET, POST');
  });
});

describe('freshnessOf', () => {
  const base: Message = {
    id: 0,
    flags: { qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: 'a.example.', type: RRType.A, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
  };
  const a = (ttl: number) => ({ name: 'a.example.', type: RRType.A, class: 1, ttl, data: { address: '198.51.100.1' } });
  test('the smallest TTL of answer, authority and additional records, OPT excluded', () => {
    const msg = { ...base, answers: [a(300), a(60)], additionals: [a(120)], edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: true, z: 0, options: [] } };
    assert.equal(freshnessOf(encodeMessage(msg)), 60);
  });
  test('no records (an error) or a truncated message: 0', () => {
    assert.equal(freshnessOf(encodeMessage(base)), 0);
    assert.equal(freshnessOf(encodeMessage({ ...base, answers: [a(30)] }).subarray(0, 40)), 0);
  });
});
