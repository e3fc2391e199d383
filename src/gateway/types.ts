// The gateway's public types: a flow, the verdict on it, and the hooks a control plane plugs in.
import type { Address } from '../net/cidr.js';

export type Proto = 'tcp' | 'udp';

/** A new flow as the gateway sees it before deciding: who dialled which (address, port). */
export interface Flow {
  readonly proto: Proto;
  /** Client address, IPv4-mapped IPv6 already unmapped. */
  readonly src: string;
  readonly srcPort: number;
  /** The address the client dialled (seed 002 §3.3: the socket no longer tells which one). */
  readonly dst: string;
  readonly dstPort: number;
}

/** Where a flow is relayed. */
export interface Backend {
  readonly host: string;
  readonly port: number;
  /** Send a PROXY protocol v2 header first so the backend sees the client's address. */
  readonly proxyProtocol: boolean;
}

/**
 * The decision on a new flow. `refuse` resets a TCP connection (RST) or discards a datagram;
 * `honeypot` relays like `backend` but is counted apart (seed 000: traffic to addresses without a
 * live lease may go to a honeypot).
 */
export type Verdict = { backend: Backend } | { refuse: string } | { honeypot: Backend };

/**
 * Consulted for every new flow before the static dispatch table. Return undefined to fall through to
 * the table; a promise is awaited (a lease lookup in a shared store, for example).
 */
export type Admit = (flow: Flow) => Verdict | undefined | Promise<Verdict | undefined>;

export type FlowEvent =
  | { type: 'open'; flow: Flow; verdict: 'backend' | 'honeypot'; backend: Backend }
  | { type: 'refused'; flow: Flow; reason: string }
  | { type: 'close'; flow: Flow; bytesIn: number; bytesOut: number };

export interface GatewayHooks {
  admit?: Admit;
  /** Per-flow accounting; called synchronously, keep it cheap. */
  onFlow?: (e: FlowEvent) => void;
}

/** Counters since start (per process). */
export interface GatewayStats {
  tcpAccepted: number;
  tcpRefused: number;
  udpFlows: number;
  udpRefused: number;
  honeypot: number;
  active: number;
}

export type { Address };
