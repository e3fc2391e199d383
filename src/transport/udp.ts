// UDP listener: one datagram in, at most one datagram out (RFC 1035 §4.2.1).
import dgram from 'node:dgram';
import type { TransportInfo } from '../answer/context.js';
import type { Engine } from '../answer/engine.js';

export interface UdpListener {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export function listenUdp(engine: Engine, host: string, port: number, onError: (err: Error) => void): Promise<UdpListener> {
  // A colon, not net.isIPv6: the first isIPv6 compiles Node's IPv6 pattern (~13 ms of a server's start,
  // before its first answer); the listen address is a literal (config) or a host name, neither with one otherwise.
  const v6 = host.includes(':');
  const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
  let local = { address: host, port };
  socket.on('message', (msg, rinfo) => {
    const info: TransportInfo = { proto: 'udp', remoteAddress: rinfo.address, remotePort: rinfo.port, localAddress: local.address, localPort: local.port };
    const reply = engine.handle(msg, info);
    if (reply === null) return;
    if (reply instanceof Promise) {
      reply.then((r) => r && socket.send(r, rinfo.port, rinfo.address), onError);
      return;
    }
    socket.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      // A send to an unreachable client reports here; it must not bring the server down.
      socket.on('error', onError);
      const a = socket.address();
      local = { address: a.address, port: a.port };
      resolve({
        address: a.address,
        port: a.port,
        close: () => new Promise<void>((res) => socket.close(() => res())),
      });
    });
  });
}
