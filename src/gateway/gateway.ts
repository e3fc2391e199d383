// The data plane: opens the prefix listeners, decides each new flow, relays it; update() swaps the table on reload.
import type net from 'node:net';
import { formatAddress, parseAddress } from '../net/cidr.js';
import type { Logger } from '../observe/log.js';
import { makeDecide } from './decide.js';
import { FlowRegistry } from './flows.js';
import type { GatewayConfig } from './schema.js';
import { addressesOf, DispatchTable } from './table.js';
import { listenTcpRelay } from './tcp.js';
import type { GatewayHooks, GatewayStats, Proto } from './types.js';
import { UdpRelay } from './udp.js';
import { gatewayFds, planProcessDescriptors } from '../server/descriptors.js';

export interface GatewayListener {
  proto: Proto;
  /** The bound address: a wildcard for TCP, one served address per socket for UDP. */
  address: string;
  port: number;
}

export interface Gateway {
  readonly listeners: readonly GatewayListener[];
  stats(): GatewayStats;
  /** Flows open now to `dst` (all when omitted). */
  activeFlows(dst?: string): number;
  /** Closes every established flow to `dst`; returns how many. */
  cut(dst: string): number;
  /** Ends idle UDP flows now (normally every second). */
  sweep(): number;
  /** Swaps the dispatch table and timeouts; false (nothing changed) when the listeners differ, which needs a restart. */
  update(next: GatewayConfig): boolean;
  /**
   * Whether a connection from `address`:`port` is one of this gateway's own backend connections:
   * a backend in the same process believes a PROXY v2 header only from those (demo hello backend).
   */
  ownsConnection(address: string, port: number): boolean;
  close(): Promise<void>;
}

export interface GatewayOptions {
  logger: Logger;
  hooks?: GatewayHooks;
  /** Milliseconds clock for UDP idle expiry; injected by tests. */
  now?: () => number;
}

const listenersKey = (g: GatewayConfig): string => JSON.stringify([g.listeners, g.bind ?? null, g.unmatched]);

export async function startGateway(initial: GatewayConfig, opts: GatewayOptions): Promise<Gateway> {
  let config = initial;
  let table = new DispatchTable(config);
  const registry = new FlowRegistry(opts.hooks?.onFlow);
  const decide = makeDecide({ table: () => table, unmatched: () => config.unmatched, admit: opts.hooks?.admit });
  const onError = (msg: string, err: Error) => opts.logger.warn(msg, { err: err.message });
  const udp = new UdpRelay({
    decide,
    registry,
    idleMs: () => config.udpIdleTimeout * 1000,
    maxFlows: () => config.udpMaxFlows,
    now: opts.now ?? Date.now,
    onError,
  });
  const tcpServers: net.Server[] = [];
  const own = new Set<string>();
  const listeners: GatewayListener[] = [];
  const closeAll = async () => {
    registry.closeAll();
    await Promise.all([udp.close(), ...tcpServers.map((s) => new Promise<void>((r) => s.close(() => r())))]);
  };
  try {
    for (const l of table.listeners()) {
      const families = new Set(l.served.map((c) => c.family));
      if (l.proto === 'tcp') {
        // One socket per (port, family) for the whole prefix; the socket's local address tells which address was dialled.
        // bind: each opens one per served address instead, so nothing outside the prefixes is bound
        // (a loopback prefix stays loopback-only: a wildcard would accept handshakes from other hosts).
        const binds =
          config.bind === 'each'
            ? l.served.flatMap((c) => [...addressesOf(c)].map((a) => ({ host: a, v6only: c.family === 6 })))
            : config.bind === '::'
              ? [{ host: '::', v6only: false }]
              : [...families].sort().map((f) => ({ host: f === 4 ? '0.0.0.0' : '::', v6only: true }));
        for (const b of binds) {
          tcpServers.push(await listenTcpRelay(b.host, l.port, b.v6only, { decide, registry, idleMs: () => config.tcpIdleTimeout * 1000, onError, own }));
          listeners.push({ proto: 'tcp', address: b.host, port: l.port });
        }
      } else {
        // drop needs every socket on the port to share it with the wildcard sink (SO_REUSEADDR on all).
        const reuseAddr = config.unmatched === 'drop';
        for (const c of l.served) {
          for (const a of addressesOf(c)) {
            await udp.bind(a, l.port, { reuseAddr });
            listeners.push({ proto: 'udp', address: a, port: l.port });
          }
        }
        if (reuseAddr) for (const f of families) await udp.bind(f === 4 ? '0.0.0.0' : '::', l.port, { reuseAddr, sink: true });
      }
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  // The gateway's own sockets come out of its descriptor share; flows and relays get the rest.
  const fds = planProcessDescriptors({ listeners: 0, tcpMaxConnections: 0, gateway: config });
  if (fds.fresh) {
    opts.logger.info('descriptor budget', { limit: fds.limit, hard: fds.nofile.hard, raised: fds.nofile.how, reserve: fds.reserve, gateway: fds.gateway });
    for (const w of fds.warnings) opts.logger.warn(w);
  }
  gatewayFds.setCapacity(fds.gateway - listeners.length);
  gatewayFds.perSource = Math.max(16, Math.floor(gatewayFds.capacity / 8));
  opts.logger.info('gateway descriptor budget', { listeningSockets: listeners.length, flows: gatewayFds.capacity, perSource: gatewayFds.perSource });
  if (gatewayFds.capacity < 16) opts.logger.warn(`the gateway has ${gatewayFds.capacity} descriptors left for flows (limit ${fds.limit}, ${listeners.length} listening sockets): raise LimitNOFILE= or ulimit -n`);
  const canon = (a: string) => {
    const p = parseAddress(a);
    return p ? formatAddress(p) : a;
  };
  return {
    listeners,
    stats: () => ({ ...registry.stats }),
    activeFlows: (dst) => registry.count(dst === undefined ? undefined : canon(dst)),
    cut: (dst) => registry.cut(canon(dst)),
    sweep: () => udp.sweep(),
    update(next) {
      if (listenersKey(next) !== listenersKey(config)) {
        opts.logger.warn('gateway listener changes take effect on restart; dispatch table unchanged');
        return false;
      }
      table = new DispatchTable(next);
      config = next;
      return true;
    },
    ownsConnection: (address, port) => own.has(`${canon(address)}|${port}`),
    close: closeAll,
  };
}

/** "tcp 0.0.0.0:80, udp 127.77.0.1:53 (+255 more)" for the ready line. */
export function describeListeners(ls: readonly GatewayListener[]): string {
  const groups = new Map<string, GatewayListener[]>();
  for (const l of ls) {
    const k = `${l.proto}/${l.port}`;
    groups.set(k, [...(groups.get(k) ?? []), l]);
  }
  return [...groups.values()]
    .map((g) => {
      const f = g[0]!;
      const host = f.address.includes(':') ? `[${f.address}]` : f.address;
      return `gateway ${f.proto} ${host}:${f.port}${g.length > 1 ? ` (+${g.length - 1} more)` : ''}`;
    })
    .join(', ');
}
