// TCP relay: one listening socket per (port, wildcard), or per served address, serves a prefix; each connection is decided, then spliced to its backend.
import net from 'node:net';
import { parseAddress, formatAddress } from '../net/cidr.js';
import type { Decide, Decision } from './decide.js';
import type { FlowRegistry, TrackedFlow } from './flows.js';
import { encodeProxyV2 } from './proxy-v2.js';
import type { Flow } from './types.js';
import { gatewayFds, type FdBudget } from '../server/descriptors.js';

export interface TcpRelayOptions {
  decide: Decide;
  registry: FlowRegistry;
  idleMs: () => number;
  onError: (msg: string, err: Error) => void;
  /** The descriptor budget each relay (client + upstream) draws from (default: the process's). */
  fds?: FdBudget;
  /** "address|port" of the relay's own backend connections (their local end), while open. */
  own: Set<string>;
}

/** The textual form the table uses (dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d). */
function canonical(addr: string | undefined): string | undefined {
  const a = addr === undefined ? undefined : parseAddress(addr);
  return a ? formatAddress(a) : undefined;
}

export function listenTcpRelay(host: string, port: number, ipv6Only: boolean, o: TcpRelayOptions): Promise<net.Server> {
  // allowHalfOpen: a client that shuts down its sending side still gets the backend's whole reply.
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => onConnection(sock, o));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only, exclusive: false }, () => {
      server.off('error', reject);
      server.on('error', (e) => o.onError('gateway tcp listener', e));
      resolve(server);
    });
  });
}

function onConnection(client: net.Socket, o: TcpRelayOptions): void {
  client.on('error', () => client.destroy());
  const src = canonical(client.remoteAddress);
  const dst = canonical(client.localAddress);
  if (!src || !dst || client.remotePort === undefined || client.localPort === undefined) {
    client.destroy();
    return;
  }
  const flow: Flow = { proto: 'tcp', src, srcPort: client.remotePort, dst, dstPort: client.localPort };
  let d: Decision | Promise<Decision>;
  try {
    d = o.decide(flow);
  } catch (e) {
    d = { refuse: `admit failed: ${(e as Error).message}`, quiet: false };
  }
  if (d instanceof Promise) {
    d.then(
      (x) => act(client, flow, x, o),
      (e: Error) => act(client, flow, { refuse: `admit failed: ${e.message}`, quiet: false }, o),
    );
  } else {
    act(client, flow, d, o);
  }
}

function act(client: net.Socket, flow: Flow, d: Decision, o: TcpRelayOptions): void {
  if (client.destroyed) return;
  if ('refuse' in d) {
    o.registry.stats.tcpRefused++;
    o.registry.emit({ type: 'refused', flow, reason: d.refuse });
    // The kernel finished the handshake already; "refuse" answers with RST, "drop" closes quietly (FIN).
    if (d.quiet) client.destroy();
    else client.resetAndDestroy();
    return;
  }
  // Two descriptors per relay (client and upstream); a spent budget closes the oldest flow first.
  let upstream: net.Socket | undefined;
  const lease = (o.fds ?? gatewayFds).acquire(flow.src, 2, () => {
    client.resetAndDestroy();
    upstream?.destroy();
  });
  if (!lease) {
    o.registry.stats.tcpRefused++;
    o.registry.emit({ type: 'refused', flow, reason: 'descriptor budget: source holds its share' });
    client.resetAndDestroy();
    return;
  }
  o.registry.stats.tcpAccepted++;
  if (d.honeypot) o.registry.stats.honeypot++;
  const { backend } = d;
  upstream = net.connect({ host: backend.host, port: backend.port, allowHalfOpen: true });
  const up = upstream;
  // Registered before the first write: a backend in this process (the demo's) sees the entry before any byte.
  let ownKey: string | undefined;
  up.once('connect', () => {
    ownKey = `${canonical(up.localAddress) ?? ''}|${up.localPort ?? 0}`;
    o.own.add(ownKey);
  });
  up.once('close', () => {
    if (ownKey) o.own.delete(ownKey);
  });
  const tracked: TrackedFlow = {
    flow,
    close: () => {
      client.resetAndDestroy();
      up.destroy();
    },
  };
  o.registry.add(tracked);
  o.registry.emit({ type: 'open', flow, verdict: d.honeypot ? 'honeypot' : 'backend', backend });
  if (backend.proxyProtocol) upstream.write(encodeProxyV2(flow));
  const idle = o.idleMs();
  client.setTimeout(idle, () => tracked.close());
  upstream.setTimeout(idle, () => tracked.close());
  // A backend that refuses or fails resets the client, as a direct connection would have been.
  upstream.on('error', () => {
    if (!client.destroyed) client.resetAndDestroy();
  });
  client.on('error', () => upstream.destroy());
  client.pipe(upstream);
  upstream.pipe(client);
  client.resume();
  const settle = (): void => {
    if (!client.destroyed || !up.destroyed) return;
    lease.release();
    o.registry.remove(tracked, client.bytesRead, client.bytesWritten);
  };
  // A side that closes without its FIN (error, reset, timeout) takes the other down with it; after
  // a FIN the pipe has already ended the other side's writing, and that side closes by itself.
  client.on('close', () => {
    if (!client.readableEnded) upstream.destroy();
    settle();
  });
  upstream.on('close', () => {
    if (!upstream.readableEnded && !client.destroyed) client.resetAndDestroy();
    settle();
  });
}
