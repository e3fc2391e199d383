// DoT listener (RFC 7858): TLS on a connection admitted by the shared gate, then the same stream
// framing, in-flight cap and timers as plain TCP. ALPN "dot" (RFC 7858 has none; "dot" is the
// IANA-registered identifier, RFC 9461 §3).
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Engine } from '../answer/engine.js';
import type { ConnectionGate } from './conn.js';
import { serveStream, transportInfo } from './stream.js';
import { listenStream, type StreamListener } from './tcp.js';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface EncryptedListener extends StreamListener {
  /** Re-reads the certificate and key (on reload); connections already open keep the old ones. */
  reloadCertificate(): void;
}

/** Reads a PEM certificate chain and key, naming the file that cannot be read. */
export function readCertificate(files: CertFiles): { cert: Buffer; key: Buffer } {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`${what} ${path}: ${(e as Error).message}`);
    }
  };
  const pair = { cert: read('certificate', files.cert), key: read('key', files.key) };
  // Parse once now so a bad PEM is a clear start-up error, not a failure of every handshake.
  try {
    tls.createSecureContext(pair);
  } catch (e) {
    throw new Error(`certificate ${files.cert} / key ${files.key}: ${(e as Error).message}`);
  }
  return pair;
}

export async function listenTls(engine: Engine, host: string, port: number, files: CertFiles, gate: ConnectionGate, onError: (err: Error) => void): Promise<EncryptedListener> {
  const tlsServer = tls.createServer({
    ...readCertificate(files),
    ALPNProtocols: ['dot'],
    // The gate's handshake timer cuts slow handshakes first; this is a backstop.
    handshakeTimeout: gate.limits().handshakeTimeoutMs,
  });
  tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
    const info = transportInfo('tls', socket);
    const conn = gate.find(info.remoteAddress, info.remotePort, info.localPort);
    if (!conn) {
      socket.destroy();
      return;
    }
    serveStream(engine, socket, info, conn, onError);
  });
  // A failed handshake (a port scanner, a client that distrusts the certificate) closes that connection only.
  tlsServer.on('tlsClientError', (_err, socket) => socket.destroy());
  const inner = await listenStream(host, port, gate, (raw) => tlsServer.emit('connection', raw), onError);
  return {
    ...inner,
    get connections() {
      return inner.connections;
    },
    reloadCertificate: () => tlsServer.setSecureContext(readCertificate(files)),
  };
}
