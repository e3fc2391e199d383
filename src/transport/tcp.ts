// TCP listener: admits connections through the shared gate, then serves them with the stream
// framing (RFC 1035 §4.2.2, RFC 7766) in stream.ts.
import net from 'node:net';
import type { Engine } from '../answer/engine.js';
import type { Conn, ConnectionGate } from './conn.js';
import { serveStream, transportInfo } from './stream.js';

export interface StreamListener {
  readonly address: string;
  readonly port: number;
  /** Connections open on this listener. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Accepts on host:port, admits each connection through the gate (closing it at once when a limit is
 * reached) and hands admitted sockets to `serve`. DoT and DoH accept the same way, so every limit
 * is checked before any TLS work is spent on a connection.
 */
export function listenStream(host: string, port: number, gate: ConnectionGate, serve: (socket: net.Socket, conn: Conn) => void, onError: (err: Error) => void): Promise<StreamListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    const conn = gate.admit(socket.remoteAddress ?? '', socket.remotePort ?? 0, socket.localPort ?? 0, () => socket.destroy());
    if (!conn) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      conn.release();
    });
    // Until a TLS or HTTP layer is stacked on it, a reset from the client must not be unhandled.
    socket.on('error', () => socket.destroy());
    serve(socket, conn);
  });
  server.on('error', onError);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A colon, not net.isIPv6 (see listenUdp: the pattern's first use costs ~13 ms of the start).
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
      server.off('error', reject);
      const a = server.address() as net.AddressInfo;
      resolve({
        address: a.address,
        port: a.port,
        get connections() {
          return sockets.size;
        },
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}

export function listenTcp(engine: Engine, host: string, port: number, gate: ConnectionGate, onError: (err: Error) => void): Promise<StreamListener> {
  return listenStream(
    host,
    port,
    gate,
    (socket, conn) => serveStream(engine, socket, transportInfo('tcp', socket), conn, onError),
    onError,
  );
}
