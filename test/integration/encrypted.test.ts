// DoT (RFC 7858) and DoH (RFC 8484) as clients use them: kdig +tls/+https, curl over HTTP/2 and
// HTTP/1.1 (GET and POST), EDNS padding (RFC 8467), HTTP errors for bad requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import packet from 'dns-packet';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';
import { makeTestCert } from '../helpers/tls.js';

after(() => stopAll());

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-encrypted-'));
let server: RunningServer;
let port = 0;
let dot = 0;
let doh = 0;

before(async () => {
  const { cert, key } = makeTestCert(dir);
  const zone = join(dir, 't.lab.zone');
  writeFileSync(zone, '$ORIGIN t.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww 120 A 198.51.100.2\n');
  [port, dot, doh] = [await freePort(), await freePort(), await freePort()];
  const yaml =
    `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n  - { proto: tls, address: "127.0.0.1:${dot}", cert: ${cert}, key: ${key} }\n` +
    `  - { proto: https, address: "127.0.0.1:${doh}", cert: ${cert}, key: ${key} }\nlimits: { maxQuerySize: 4096 }\nzones:\n  - { name: t.lab., file: ${zone} }\n`;
  server = await startFluxdns(yaml, port, 't.lab.');
});
after(() => server?.stop());

function query(name: string, type: packet.RecordType, id = 0, padding = false): Buffer {
  return packet.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ name, type, class: 'IN' }],
    additionals: padding ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 12, length: 0 } as unknown as packet.PacketOpt] } as packet.Answer] : [],
  });
}

interface CurlResult {
  status: number;
  version: string;
  headers: Record<string, string>;
  body: Buffer;
}

let curlN = 0;
/** Runs curl against the DoH listener; the body and headers go through files so binary stays binary. */
function curl(args: string[], path = '/dns-query'): Promise<CurlResult> {
  const n = curlN++;
  const hdr = join(dir, `h${n}`);
  const out = join(dir, `b${n}`);
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-k', '--max-time', '10', '-D', hdr, '-o', out, ...args, `https://127.0.0.1:${doh}${path}`], (err, _o, errOut) => {
      if (err) return reject(new Error(`curl ${args.join(' ')}: ${err.message} ${errOut}`));
      const lines = readFileSync(hdr, 'utf8').trim().split(/\r?\n/);
      const m = /^HTTP\/([\d.]+) (\d+)/.exec(lines[0]!)!;
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ version: m[1]!, status: Number(m[2]), headers, body: readFileSync(out) });
    });
  });
}

describe('DNS over TLS', () => {
  test('kdig +tls gets the answer, padded to a multiple of 468 bytes', async () => {
    const r = await dig(dot, 'www.t.lab', 'A', { tool: 'kdig', extra: ['+tls'] });
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(r.answer.map((a) => a.data), ['198.51.100.2']);
    assert.match(r.raw, /TLS session/);
    assert.match(r.raw, /PADDING: \d+ B/);
    const size = Number(/Received (\d+) B/.exec(r.raw)![1]);
    assert.equal(size % 468, 0, `${size} bytes`);
  });

  test('kdig +tls +nopadding gets no padding', async () => {
    const r = await dig(dot, 'www.t.lab', 'A', { tool: 'kdig', extra: ['+tls', '+nopadding', '+edns'] });
    assert.deepEqual(r.answer.map((a) => a.data), ['198.51.100.2']);
    assert.doesNotMatch(r.raw, /PADDING/);
    assert.notEqual(Number(/Received (\d+) B/.exec(r.raw)![1]) % 468, 0);
  });

  test('ALPN "dot" is agreed, and pipelined queries on one connection are all answered', async () => {
    const s = tls.connect({ host: '127.0.0.1', port: dot, ALPNProtocols: ['dot'], rejectUnauthorized: false });
    await new Promise((r) => s.once('secureConnect', r));
    assert.equal(s.alpnProtocol, 'dot');
    const ids = [1, 2, 3, 4, 5];
    s.write(Buffer.concat(ids.map((id) => { const q = query('ns.t.lab', 'A', id); const f = Buffer.alloc(2); f.writeUInt16BE(q.length); return Buffer.concat([f, q]); })));
    const got = await new Promise<number[]>((resolve) => {
      let buf = Buffer.alloc(0);
      const seen: number[] = [];
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          seen.push(packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))).id!);
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (seen.length === ids.length) resolve(seen);
      });
    });
    assert.deepEqual(got.sort(), ids);
    s.destroy();
  });
});

describe('DNS over HTTPS', () => {
  test('kdig +https (HTTP/2 POST) and +https-get answer, padded', async () => {
    const post = await dig(doh, 'www.t.lab', 'A', { tool: 'kdig', extra: ['+https'] });
    assert.match(post.raw, /HTTP session \(HTTP\/2-POST\)-\(127\.0\.0\.1\/dns-query\)-\(status: 200\)/);
    assert.deepEqual(post.answer.map((a) => a.data), ['198.51.100.2']);
    assert.equal(Number(/Received (\d+) B/.exec(post.raw)![1]) % 468, 0);
    const get = await dig(doh, 'ns.t.lab', 'A', { tool: 'kdig', extra: ['+https-get'] });
    assert.match(get.raw, /HTTP session \(HTTP\/2-GET\)/);
    assert.deepEqual(get.answer.map((a) => a.data), ['198.51.100.1']);
  });

  test('curl --http2 POST of application/dns-message: the answer, its ID, max-age = smallest TTL', async () => {
    const file = join(dir, 'q.bin');
    writeFileSync(file, query('www.t.lab', 'A', 4660));
    const r = await curl(['--http2', '-H', 'content-type: application/dns-message', '-H', 'accept: application/dns-message', '--data-binary', `@${file}`]);
    assert.equal(r.version, '2');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/dns-message');
    assert.equal(r.headers['cache-control'], 'max-age=120');
    const m = packet.decode(r.body);
    assert.equal(m.id, 4660, 'whatever ID came is answered');
    assert.deepEqual(m.answers!.map((a) => (a as { data: unknown }).data), ['198.51.100.2']);
  });

  test('curl GET ?dns= over HTTP/2 and HTTP/1.1; a negative answer lives as long as its SOA', async () => {
    const b64 = query('missing.t.lab', 'A').toString('base64url');
    for (const [flag, version] of [['--http2', '2'], ['--http1.1', '1.1']] as const) {
      const r = await curl([flag], `/dns-query?dns=${b64}`);
      assert.equal(r.version, version);
      assert.equal(r.status, 200);
      assert.equal(packet.decode(r.body).flags! & 0xf, 3, 'NXDOMAIN');
      assert.equal(r.headers['cache-control'], 'max-age=60');
    }
  });

  test('curl --http1.1 POST answers too', async () => {
    const file = join(dir, 'q1.bin');
    writeFileSync(file, query('ns.t.lab', 'A', 7));
    const r = await curl(['--http1.1', '-H', 'content-type: application/dns-message', '--data-binary', `@${file}`]);
    assert.equal(r.version, '1.1');
    assert.deepEqual(packet.decode(r.body).answers!.map((a) => (a as { data: unknown }).data), ['198.51.100.1']);
  });

  test('wrong path 404, method 405, content type 415, bad base64url or DNS 400, oversized body 413', async () => {
    const q = join(dir, 'q2.bin');
    writeFileSync(q, query('ns.t.lab', 'A'));
    const short = join(dir, 'short.bin');
    writeFileSync(short, 'abc');
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(5000));
    const response = packet.encode({ type: 'response', id: 1, flags: 0x8000, questions: [{ name: 'ns.t.lab', type: 'A', class: 'IN' }] });
    const resp = join(dir, 'resp.bin');
    writeFileSync(resp, response);
    const dnsType = ['-H', 'content-type: application/dns-message'];
    const cases: [string[], string, number][] = [
      [['--http2'], `/other?dns=${query('ns.t.lab', 'A').toString('base64url')}`, 404],
      [['--http2', '-X', 'PUT', ...dnsType, '--data-binary', `@${q}`], '/dns-query', 405],
      [['--http2', '-H', 'content-type: text/plain', '--data-binary', `@${q}`], '/dns-query', 415],
      [['--http2'], '/dns-query?dns=AAE=', 400],
      [['--http2'], '/dns-query', 400],
      [['--http2', ...dnsType, '--data-binary', `@${short}`], '/dns-query', 400],
      [['--http2', ...dnsType, '--data-binary', `@${resp}`], '/dns-query', 400],
      [['--http2', ...dnsType, '--data-binary', `@${big}`], '/dns-query', 413],
      [['--http1.1', ...dnsType, '--data-binary', `@${big}`], '/dns-query', 413],
      [['--http2', ...dnsType, '-H', 'transfer-encoding: chunked', '--data-binary', `@${big}`], '/dns-query', 413],
    ];
    for (const [args, path, status] of cases) {
      const r = await curl(args, path);
      assert.equal(r.status, status, `${args.join(' ')} ${path}: ${r.body.toString()}`);
    }
    const put = await curl(['--http2', '-X', 'DELETE']);
    assert.equal(put.headers['allow'], 'GET, POST');
    // The server still answers afterwards.
    const ok = await curl(['--http2', ...dnsType, '--data-binary', `@${q}`]);
    assert.equal(ok.status, 200);
  });
});
