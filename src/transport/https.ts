// DoH listener (RFC 8484): one TLS port serving HTTP/2 and HTTP/1.1 (ALPN "h2", "http/1.1"),
// GET ?dns= and POST application/dns-message at /dns-query, through the same engine and the same
// connection gate, timers and size caps as TCP and DoT.
import http2 from 'node:http2';
import { attackCounters } from '../observe/attack-counters.js';
import type { TransportInfo } from '../answer/context.js';
import type { Engine } from '../answer/engine.js';
import { parseQuery } from '../wire/fastpath.js';
import type { Conn, ConnectionGate } from './conn.js';
import { classifyRequest, DNS_MESSAGE, freshnessOf } from './doh.js';
import { listenStream } from './tcp.js';
import { readCertificate, type CertFiles, type EncryptedListener } from './tls.js';

type Request = http2.Http2ServerRequest;

/** Bytes of one request's header block (names + values + 32 per field, RFC 9113 §6.5.2): ample for DoH, whose GET carries at most ~87 KB of ?dns=. */
const MAX_HEADER_LIST = 96 * 1024;
/** HTTP/2 streams open now over every DoH connection of the process, and those refused over the cap. */
const streams = attackCounters.doh;
/** The process-wide cap: a quarter of every connection's full in-flight allowance, at least 256. */
function maxStreams(gate: ConnectionGate): number {
  const l = gate.limits();
  return Math.max(256, Math.floor((l.maxConnections * l.maxInFlight) / 4));
}
type Response = http2.Http2ServerResponse;

export async function listenHttps(engine: Engine, host: string, port: number, files: CertFiles, gate: ConnectionGate, onError: (err: Error) => void): Promise<EncryptedListener> {
  const limits = gate.limits();
  const server = http2.createSecureServer({
    ...readCertificate(files),
    allowHTTP1: true,
    handshakeTimeout: limits.handshakeTimeoutMs,
    // RFC 7766 §6.2.1.1's pipelining, as HTTP/2 streams: at most this many queries at once per connection.
    // Header blocks are small for DoH (a GET's ?dns= is at most 4/3 of maxQuerySize): cap them, so a
    // client cannot make the server buffer megabytes of headers per stream.
    settings: { maxConcurrentStreams: limits.maxInFlight, maxHeaderListSize: MAX_HEADER_LIST },
    maxHeaderListPairs: 64,
    // Per-session memory (nghttp2's buffers, queued frames): room for every stream's largest query and
    // a little more; beyond it the session is closed with ENHANCE_YOUR_CALM instead of growing.
    maxSessionMemory: Math.max(2, Math.ceil((limits.maxInFlight * limits.maxQuerySize) / 1e6) + 1),
    // A client that announces SETTINGS or PINGs without end is cut as well.
    maxOutstandingPings: 4,
    maxSettings: 16,
  });
  server.on('request', (req: Request, res: Response) => {
    const s = req.socket;
    const conn = gate.find(s.remoteAddress ?? '', s.remotePort ?? 0, s.localPort ?? 0);
    if (!conn) {
      req.socket.destroy();
      return;
    }
    // Streams over the process-wide cap are refused (RST_STREAM REFUSED_STREAM, RFC 9113 §8.7: safe to retry).
    if (req.httpVersionMajor === 2 && streams.liveStreams >= maxStreams(gate)) {
      streams.refusedStreams++;
      req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    streams.liveStreams++;
    res.once('close', () => streams.liveStreams--);
    handleRequest(engine, conn, req, res, onError);
  });
  // Broken clients end their own connection or stream, never the server.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  server.on('sessionError', () => {});
  server.on('clientError', (_err: Error, socket: { destroy(): void }) => socket.destroy());
  const inner = await listenStream(host, port, gate, (raw) => server.emit('connection', raw), onError);
  return {
    ...inner,
    get connections() {
      return inner.connections;
    },
    reloadCertificate: () => server.setSecureContext(readCertificate(files)),
  };
}

function handleRequest(engine: Engine, conn: Conn, req: Request, res: Response, onError: (err: Error) => void): void {
  const { maxQuerySize } = conn.limits;
  const token = conn.messageStarted();
  let done = false;
  const reply = (status: number, body: Uint8Array | string, headers: Record<string, string | number>) => {
    if (done) return;
    done = true;
    conn.messageReceived(token);
    const bytes = typeof body === 'string' ? Buffer.from(body + '\n') : body;
    if (!res.headersSent && !res.writableEnded) {
      res.writeHead(status, { ...headers, 'content-length': bytes.length });
      res.end(bytes);
    }
    conn.replied();
  };
  const refuse = (status: number, message: string, headers: Record<string, string> = {}) => {
    // HTTP/1.1 would have to read the rest of an unread body before the next request: close instead.
    const close: Record<string, string> = req.httpVersionMajor === 1 && !req.complete ? { connection: 'close' } : {};
    reply(status, message, { 'content-type': 'text/plain; charset=utf-8', ...close, ...headers });
  };
  req.on('close', () => {
    if (!done) conn.messageAbandoned(token);
    done = true;
  });
  req.on('error', () => {});

  const kind = classifyRequest(req.method, req.url, req.headers['content-type'], req.headers['content-length'], maxQuerySize);
  if (!kind.ok) {
    refuse(kind.status, kind.message, kind.headers);
    return;
  }
  const info: TransportInfo = {
    proto: 'https',
    remoteAddress: req.socket.remoteAddress ?? '',
    remotePort: req.socket.remotePort ?? 0,
    localAddress: req.socket.localAddress ?? '',
    localPort: req.socket.localPort ?? 0,
  };
  const answer = (query: Uint8Array) => {
    // RFC 8484 §4.2.1: a request that is not a DNS query gets 400, not a DNS error.
    if (query.length < 12) return refuse(400, 'not a DNS message (shorter than a header)');
    const view = parseQuery(query);
    if (view.qr) return refuse(400, 'not a DNS query (QR is set)');
    if (view.error) return refuse(400, `malformed DNS query: ${view.error.reason}`);
    const send = (wire: Uint8Array | null) => {
      // The pipeline decided to send nothing (a policy drop); HTTP must say something.
      if (wire === null) return refuse(403, 'query not answered by policy');
      reply(200, wire, { 'content-type': DNS_MESSAGE, 'cache-control': `max-age=${freshnessOf(wire)}` });
    };
    let out;
    try {
      out = engine.handle(query, info);
    } catch (err) {
      onError(err as Error);
      return refuse(500, 'internal error');
    }
    if (out instanceof Promise)
      out.then(send, (err: Error) => {
        onError(err);
        refuse(500, 'internal error');
      });
    else send(out);
  };

  if (kind.method === 'GET') {
    answer(kind.query);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    if (done) return;
    size += chunk.length;
    if (size > maxQuerySize) {
      refuse(413, `query larger than ${maxQuerySize} bytes`);
      // HTTP/1.1 cannot skip the rest of a body cheaply; HTTP/2 just resets the stream.
      if (req.httpVersionMajor === 1) res.once('finish', () => req.socket.destroy());
      else req.stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!done) answer(new Uint8Array(Buffer.concat(chunks, size)));
  });
}
