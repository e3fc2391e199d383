// TCP listener: 2-byte length framing (RFC 1035 §4.2.2), several queries per connection answered
// as each completes (RFC 7766 §6.2.1.1), an idle timeout and a connection limit.
import net from 'node:net';
import type { TransportInfo } from '../answer/context.js';
import type { Engine } from '../answer/engine.js';

export interface TcpOptions {
  idleTimeoutMs: number;
  maxConnections: number;
  maxInFlight: number;
}

export interface TcpListener {
  readonly address: string;
  readonly port: number;
  readonly connections: number;
  close(): Promise<void>;
}

export function listenTcp(engine: Engine, host: string, port: number, opts: () => TcpOptions, onError: (err: Error) => void): Promise<TcpListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => {
    if (sockets.size >= opts().maxConnections) {
      // Over the limit: close at once rather than queue, so existing clients keep their service.
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(engine, socket, opts(), onError);
  });
  server.on('error', onError);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: net.isIPv6(host) }, () => {
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

function serveConnection(engine: Engine, socket: net.Socket, opts: TcpOptions, onError: (err: Error) => void): void {
  const info: TransportInfo = {
    proto: 'tcp',
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
  let buffered: Buffer = Buffer.alloc(0);
  let inFlight = 0;
  let closed = false;
  socket.setTimeout(opts.idleTimeoutMs);
  socket.on('timeout', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    closed = true;
  });

  const send = (reply: Uint8Array | null) => {
    inFlight--;
    if (closed) return;
    if (reply !== null) {
      const frame = Buffer.allocUnsafe(2 + reply.length);
      frame.writeUInt16BE(reply.length, 0);
      frame.set(reply, 2);
      socket.write(frame);
    }
    if (socket.isPaused() && inFlight < opts.maxInFlight) {
      socket.resume();
      drain();
    }
  };

  const drain = () => {
    while (buffered.length >= 2 && inFlight < opts.maxInFlight) {
      const len = buffered.readUInt16BE(0);
      if (buffered.length < 2 + len) return;
      const msg = buffered.subarray(2, 2 + len);
      buffered = buffered.subarray(2 + len);
      inFlight++;
      const reply = engine.handle(msg, info);
      if (reply instanceof Promise) reply.then(send, (err: Error) => {
        onError(err);
        send(null);
      });
      else send(reply);
    }
    if (inFlight >= opts.maxInFlight) socket.pause();
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    drain();
  });
}
