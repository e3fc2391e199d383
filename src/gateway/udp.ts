// UDP relay: per-flow state (client, dialled address) → a socket toward the backend, replies sent from the dialled address, idle expiry.
import dgram from 'node:dgram';
import { formatAddress, parseAddress } from '../net/cidr.js';
import type { Decide, Decision } from './decide.js';
import { IdleClock, type FlowRegistry, type TrackedFlow } from './flows.js';
import { encodeProxyV2 } from './proxy-v2.js';
import type { Backend, Flow } from './types.js';
import { gatewayFds, type FdBudget, type FdLease } from '../server/descriptors.js';

export interface UdpRelayOptions {
  decide: Decide;
  registry: FlowRegistry;
  idleMs: () => number;
  maxFlows: () => number;
  now: () => number;
  onError: (msg: string, err: Error) => void;
  /** The descriptor budget each flow's upstream socket draws from (default: the process's). */
  fds?: FdBudget;
}

interface UdpFlow {
  tracked: TrackedFlow;
  /** The socket bound to the dialled address: replies leave from it, so the client sees that source. */
  listen: dgram.Socket;
  upstream?: dgram.Socket;
  backend?: Backend;
  backendHost?: string;
  header?: Buffer;
  /** Datagrams that arrived while an asynchronous admit hook was deciding. */
  pending: Buffer[];
  bytesIn: number;
  bytesOut: number;
  /** The upstream socket's descriptor, from the budget. */
  lease?: FdLease;
}

const MAX_PENDING = 16;

const canonical = (a: string): string | undefined => {
  const p = parseAddress(a);
  return p ? formatAddress(p) : undefined;
};

/**
 * Node's dgram cannot read a datagram's destination address (no IP_PKTINFO) nor choose the source
 * address per send on a wildcard socket, so the relay binds one socket per served (address, port):
 * the socket itself says which address was dialled, and replies sent through it come from that
 * address. The kernel prefers these exact binds over any wildcard socket on the same port.
 */
export class UdpRelay {
  private readonly flows = new Map<string, UdpFlow>();
  private readonly idle: IdleClock<string>;
  private readonly sockets: dgram.Socket[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: UdpRelayOptions) {
    this.idle = new IdleClock(o.now);
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  /** Binds one served address (or, with `sink`, a wildcard that discards what no exact socket took). */
  bind(host: string, port: number, opts: { reuseAddr: boolean; sink?: boolean }): Promise<dgram.Socket> {
    const family = parseAddress(host)?.family === 6 || host.includes(':') ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type: family, reuseAddr: opts.reuseAddr, ipv6Only: family === 'udp6' });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: host, port, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', (e) => this.o.onError('gateway udp socket', e));
        const dst = canonical(host)!;
        if (opts.sink) {
          // "drop" for addresses outside the served prefixes: take the datagram so the kernel sends no ICMP.
          sock.on('message', (_m, r) => this.refused({ proto: 'udp', src: canonical(r.address) ?? r.address, srcPort: r.port, dst: '*', dstPort: port }, 'address not served'));
        } else {
          sock.on('message', (m, r) => this.onDatagram(sock, dst, port, m, r));
        }
        this.sockets.push(sock);
        resolve(sock);
      });
    });
  }

  private refused(flow: Flow, reason: string): void {
    this.o.registry.stats.udpRefused++;
    this.o.registry.emit({ type: 'refused', flow, reason });
  }

  private onDatagram(listen: dgram.Socket, dst: string, dstPort: number, msg: Buffer, r: dgram.RemoteInfo): void {
    const src = canonical(r.address);
    if (!src) return;
    const key = `${src}|${r.port}|${dst}|${dstPort}`;
    const f = this.flows.get(key);
    if (f) {
      this.idle.touch(key);
      if (f.upstream && f.backend) this.forward(f, msg);
      else if (f.pending.length < MAX_PENDING) f.pending.push(msg);
      return;
    }
    const flow: Flow = { proto: 'udp', src, srcPort: r.port, dst, dstPort };
    if (this.flows.size >= this.o.maxFlows()) {
      this.refused(flow, 'flow table full');
      return;
    }
    let d: Decision | Promise<Decision>;
    try {
      d = this.o.decide(flow);
    } catch (e) {
      d = { refuse: `admit failed: ${(e as Error).message}`, quiet: true };
    }
    if (!(d instanceof Promise)) {
      if ('refuse' in d) this.refused(flow, d.refuse);
      else this.open(key, flow, listen, d, [msg]);
      return;
    }
    // Hold the key while the hook decides, so a burst of datagrams makes one flow, not many.
    const holder = this.newFlow(key, flow, listen);
    holder.pending.push(msg);
    d.then(
      (x) => this.settle(key, holder, x),
      (e: Error) => this.settle(key, holder, { refuse: `admit failed: ${e.message}`, quiet: true }),
    );
  }

  private settle(key: string, holder: UdpFlow, d: Decision): void {
    if (this.flows.get(key) !== holder) return;
    this.flows.delete(key);
    this.idle.delete(key);
    if ('refuse' in d) this.refused(holder.tracked.flow, d.refuse);
    else this.open(key, holder.tracked.flow, holder.listen, d, holder.pending);
  }

  private newFlow(key: string, flow: Flow, listen: dgram.Socket): UdpFlow {
    const f: UdpFlow = { tracked: { flow, close: () => this.closeFlow(key) }, listen, pending: [], bytesIn: 0, bytesOut: 0 };
    this.flows.set(key, f);
    this.idle.touch(key);
    return f;
  }

  private open(key: string, flow: Flow, listen: dgram.Socket, d: { backend: Backend; honeypot: boolean }, first: Buffer[]): void {
    // One descriptor per flow: a source over its share is refused; a spent budget closes the oldest flow.
    const lease = (this.o.fds ?? gatewayFds).acquire(flow.src, 1, () => this.closeFlow(key));
    if (!lease) {
      this.refused(flow, 'descriptor budget: source holds its share');
      return;
    }
    const f = this.newFlow(key, flow, listen);
    f.lease = lease;
    const { registry } = this.o;
    registry.stats.udpFlows++;
    if (d.honeypot) registry.stats.honeypot++;
    registry.add(f.tracked);
    registry.emit({ type: 'open', flow, verdict: d.honeypot ? 'honeypot' : 'backend', backend: d.backend });
    f.backend = d.backend;
    f.backendHost = canonical(d.backend.host);
    if (d.backend.proxyProtocol) f.header = encodeProxyV2(flow);
    const up = dgram.createSocket(parseAddress(d.backend.host)?.family === 6 ? 'udp6' : 'udp4');
    f.upstream = up;
    up.on('error', () => this.closeFlow(key));
    up.on('message', (m, r) => {
      // Only the backend may answer through this flow.
      if (r.port !== d.backend.port || canonical(r.address) !== f.backendHost) return;
      f.bytesOut += m.length;
      this.idle.touch(key);
      listen.send(m, flow.srcPort, flow.src);
    });
    for (const m of first) this.forward(f, m);
  }

  private forward(f: UdpFlow, msg: Buffer): void {
    f.bytesIn += msg.length;
    // PROXY v2 over UDP (as dnsdist and PowerDNS accept it): the header precedes every datagram.
    const out = f.header ? Buffer.concat([f.header, msg]) : msg;
    f.upstream!.send(out, f.backend!.port, f.backend!.host);
  }

  private closeFlow(key: string): void {
    const f = this.flows.get(key);
    if (!f) return;
    this.flows.delete(key);
    this.idle.delete(key);
    f.lease?.release();
    if (f.upstream) {
      try {
        f.upstream.close();
      } catch {
        // already closed after an error
      }
    }
    this.o.registry.remove(f.tracked, f.bytesIn, f.bytesOut);
  }

  /** Ends flows idle for udpIdleTimeout; returns how many. Runs every second; tests call it with their clock. */
  sweep(): number {
    const gone = this.idle.expired(this.o.idleMs());
    for (const k of gone) this.closeFlow(k);
    return gone.length;
  }

  get flowCount(): number {
    return this.flows.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const k of [...this.flows.keys()]) this.closeFlow(k);
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets.length = 0;
  }
}
