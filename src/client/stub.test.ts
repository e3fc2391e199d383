// Stub resolver behaviour with a scripted transport: backoff, failover, same ID, TC fallback, EDNS fallback.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { RRType, Rcode, type Message } from '../wire/types.js';
import { Stub, StubTimeoutError, matches, parseServer, type ServerAddress, type Transport } from './stub.js';
import { udpTransport } from './socket.js';
import dgram from 'node:dgram';

interface Sent {
  via: 'udp' | 'tcp';
  server: string;
  timeout: number;
  id: number;
  edns: boolean;
}

/** A transport whose replies are scripted per try: a function of the query, or null for a timeout. */
function scripted(script: ((q: Message, via: 'udp' | 'tcp') => Message | null)[]): { transport: Transport; sent: Sent[] } {
  const sent: Sent[] = [];
  let i = 0;
  const ex =
    (via: 'udp' | 'tcp') =>
    async (server: ServerAddress, packet: Uint8Array, timeout: number, accept: (r: Uint8Array) => boolean) => {
      const q = decodeMessage(packet);
      sent.push({ via, server: `${server.host}:${server.port}`, timeout, id: q.id, edns: q.edns !== undefined });
      const step = script[i++];
      const reply = step ? step(q, via) : null;
      if (!reply) return null;
      const bytes = encodeMessage(reply);
      return accept(bytes) ? bytes : null;
    };
  return { transport: { udp: ex('udp'), tcp: ex('tcp') }, sent };
}

function reply(q: Message, patch: Partial<Message['flags']> = {}, answers: Message['answers'] = [], edns = true): Message {
  const m: Message = { ...q, flags: { ...q.flags, qr: true, ra: true, ...patch }, answers, authorities: [], additionals: [] };
  if (!edns) delete m.edns;
  return m;
}

const A = (q: Message) => reply(q, {}, [{ name: q.questions[0]!.name, type: RRType.A, class: 1, ttl: 60, data: { address: '198.51.100.7' } }]);
const servers = [parseServer('127.0.0.1:5301'), parseServer('127.0.0.2')];

describe('stub resolver', () => {
  test('parses server addresses and rejects names', () => {
    assert.deepEqual(parseServer('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseServer('127.0.0.1'), { host: '127.0.0.1', port: 53 });
    assert.deepEqual(parseServer('[::1]:5300'), { host: '::1', port: 5300 });
    assert.deepEqual(parseServer('::1'), { host: '::1', port: 53 });
    assert.throws(() => parseServer('resolver.example'), /expected a server as IP/);
    assert.throws(() => parseServer('127.0.0.1:70000'), /expected a server/);
  });

  test('answers from the first server on the first try', async () => {
    const { transport, sent } = scripted([A]);
    const r = await new Stub({ servers, transport, randomId: () => 77 }).query('x.lab.', RRType.A);
    assert.equal(r.via, 'udp');
    assert.equal(r.tries, 1);
    assert.deepEqual(r.message.answers.map((a) => a.data), [{ address: '198.51.100.7' }]);
    assert.deepEqual(sent, [{ via: 'udp', server: '127.0.0.1:5301', timeout: 1000, id: 77, edns: true }]);
  });

  test('timeouts: alternate servers each round, doubling the timeout, the same ID throughout', async () => {
    const { transport, sent } = scripted([() => null, () => null, () => null, A]);
    let ids = 100;
    const r = await new Stub({ servers, transport, timeoutMs: 250, randomId: () => ids++ }).query('x.lab.', RRType.A);
    assert.equal(r.server.host, '127.0.0.2');
    assert.equal(r.tries, 4);
    assert.deepEqual(
      sent.map((s) => [s.server, s.timeout, s.id]),
      [
        ['127.0.0.1:5301', 250, 100],
        ['127.0.0.2:53', 250, 100],
        ['127.0.0.1:5301', 500, 100],
        ['127.0.0.2:53', 500, 100],
      ],
    );
  });

  test('gives up after the configured rounds with an error naming the servers', async () => {
    const { transport, sent } = scripted([]);
    await assert.rejects(new Stub({ servers, transport, retries: 1 }).query('x.lab.', RRType.A), (e: unknown) => {
      assert.ok(e instanceof StubTimeoutError);
      assert.match(e.message, /no answer for x\.lab\. type 1 from 127\.0\.0\.1:5301, 127\.0\.0\.2:53 after 4 tries/);
      return true;
    });
    assert.equal(sent.length, 4);
  });

  test('a truncated UDP answer is repeated over TCP to the same server', async () => {
    const { transport, sent } = scripted([(q) => reply(q, { tc: true }), A]);
    const r = await new Stub({ servers, transport }).query('x.lab.', RRType.A);
    assert.equal(r.via, 'tcp');
    assert.equal(r.tries, 2);
    assert.deepEqual(sent.map((s) => [s.via, s.server]), [['udp', '127.0.0.1:5301'], ['tcp', '127.0.0.1:5301']]);
  });

  test('SERVFAIL moves on to the next server; if all fail, the last error is returned', async () => {
    const fail = (q: Message) => reply(q, { rcode: Rcode.SERVFAIL });
    const one = scripted([fail, A]);
    assert.equal((await new Stub({ servers, transport: one.transport }).query('x.lab.', RRType.A)).server.host, '127.0.0.2');
    const all = scripted([fail, fail]);
    const r = await new Stub({ servers, transport: all.transport }).query('x.lab.', RRType.A);
    assert.equal(r.message.flags.rcode, Rcode.SERVFAIL);
    assert.equal(all.sent.length, 2);
  });

  test('FORMERR without OPT: the query is repeated without EDNS (RFC 6891 §7)', async () => {
    const { transport, sent } = scripted([(q) => reply(q, { rcode: Rcode.FORMERR }, [], false), (q) => (q.edns ? null : A(q))]);
    const r = await new Stub({ servers: [servers[0]!], transport }).query('x.lab.', RRType.A);
    assert.equal(r.message.answers.length, 1);
    assert.deepEqual(sent.map((s) => s.edns), [true, false]);
  });

  test('replies with another ID or question are not accepted', () => {
    const stub = new Stub({ servers, randomId: () => 5 });
    const q = stub.buildQuery('x.lab.', RRType.A);
    assert.equal(matches(q, encodeMessage(A(q))), true);
    assert.equal(matches(q, encodeMessage({ ...A(q), id: 6 })), false);
    assert.equal(matches(q, encodeMessage({ ...A(q), questions: [{ name: 'y.lab.', type: RRType.A, class: 1 }] })), false);
    assert.equal(matches(q, encodeMessage({ ...A(q), questions: [{ name: 'X.LAB.', type: RRType.A, class: 1 }] })), true);
    assert.equal(matches(q, encodeMessage(q)), false, 'a query is not a reply');
  });

  test('real UDP socket: ignores a forged reply and takes the matching one', async () => {
    const srv = dgram.createSocket('udp4');
    await new Promise<void>((r) => srv.bind(0, '127.0.0.1', () => r()));
    const port = srv.address().port;
    srv.on('message', (m, rinfo) => {
      const q = decodeMessage(m);
      srv.send(encodeMessage({ ...A(q), id: (q.id + 1) & 0xffff }), rinfo.port, rinfo.address);
      srv.send(encodeMessage(A(q)), rinfo.port, rinfo.address);
    });
    try {
      const r = await new Stub({ servers: [{ host: '127.0.0.1', port }], transport: { udp: udpTransport, tcp: udpTransport } }).query('x.lab.', RRType.A);
      assert.deepEqual(r.message.answers[0]!.data, { address: '198.51.100.7' });
    } finally {
      srv.close();
    }
  });
});
