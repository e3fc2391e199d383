// Real UDP and TCP exchanges for the stub resolver: one fresh socket per try (a new random source port,
// RFC 5452 §9.2), replies filtered by the caller's `accept`, TCP framed with the RFC 1035 §4.2.2 length.
import dgram from 'node:dgram';
import net from 'node:net';
import { MAX_STREAM_MESSAGE, streamFrame } from '../wire/frame.js';
import type { Exchange, ServerAddress } from './exchange.js';

export const udpTransport: Exchange = (server: ServerAddress, packet: Uint8Array, timeoutMs: number, accept: (reply: Uint8Array) => boolean) =>
  new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (v: Uint8Array | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on('error', () => finish(null));
    sock.on('message', (msg, rinfo) => {
      // Only the server we asked may answer (RFC 5452 §9.1), and only with a matching reply.
      if (rinfo.port !== server.port || normalise(rinfo.address) !== normalise(server.host)) return;
      const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
      if (accept(bytes)) finish(Uint8Array.from(bytes));
    });
    sock.send(packet, server.port, server.host, (err) => {
      if (err) finish(null);
    });
  });

export const tcpTransport: Exchange = (server: ServerAddress, packet: Uint8Array, timeoutMs: number, accept: (reply: Uint8Array) => boolean) =>
  new Promise((resolve) => {
    // A query no stream can frame gets no answer, as one that timed out.
    if (packet.length > MAX_STREAM_MESSAGE) return resolve(null);
    const sock = net.connect({ host: server.host, port: server.port });
    let done = false;
    let buf = Buffer.alloc(0);
    const finish = (v: Uint8Array | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on('error', () => finish(null));
    sock.on('close', () => finish(null));
    sock.on('connect', () => {
      sock.write(streamFrame(packet));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) return;
        const reply = Uint8Array.from(buf.subarray(2, 2 + n));
        buf = buf.subarray(2 + n);
        if (accept(reply)) return finish(reply);
      }
    });
  });

function normalise(host: string): string {
  return host.toLowerCase().replace(/^::ffff:/, '');
}
