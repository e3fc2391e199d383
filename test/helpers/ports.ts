// Finds a port on 127.0.0.1 that is free for both UDP and TCP at the moment of the call.
import { createServer, type Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';

function listenTcp(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(srv));
  });
}

function bindUdp(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    sock.once('error', () => {
      sock.close();
      resolve(null);
    });
    sock.bind({ address: '127.0.0.1', port, exclusive: true }, () => resolve(sock));
  });
}

function closeTcp(srv: Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

function closeUdp(sock: Socket): Promise<void> {
  return new Promise((resolve) => sock.close(() => resolve()));
}

const handedOut = new Set<number>();

/**
 * Returns a port that was just bound successfully on 127.0.0.1 for TCP and UDP, then released.
 * Ports already handed out by this process are never returned twice. Random start points keep
 * test files running in parallel (separate processes) from racing for the same kernel pick.
 */
export async function freePort(attempts = 50): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    // Alternate between a kernel-chosen port and a random one in a high range.
    const candidate = i % 2 === 0 ? 0 : 20000 + Math.floor(Math.random() * 30000);
    const tcp = await listenTcp(candidate);
    if (!tcp) continue;
    const addr = tcp.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    if (port === 0 || handedOut.has(port)) {
      await closeTcp(tcp);
      continue;
    }
    const udp = await bindUdp(port);
    await closeTcp(tcp);
    if (!udp) continue;
    await closeUdp(udp);
    handedOut.add(port);
    return port;
  }
  throw new Error(`freePort: no port free for both UDP and TCP after ${attempts} attempts`);
}
