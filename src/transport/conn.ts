// Connection admission (total and per-client limits) and the timers of one stream connection
// (handshake, idle, per-query), shared by TCP, DoT and DoH so each enforces the same abuse limits.
import { formatCidr, parseAddress, prefixOf } from '../net/cidr.js';

/** The limits every stream transport (tcp, tls, https) applies; read again for each new connection. */
export interface StreamLimits {
  /** Concurrent connections of this process over every stream listener. */
  maxConnections: number;
  /** Concurrent connections from one client (an IPv4 address, or an IPv6 /64). */
  maxPerClient: number;
  /** From accept until the first query starts arriving (covers the TLS handshake and HTTP/2 preface). */
  handshakeTimeoutMs: number;
  /** From the last reply until the next query starts arriving (RFC 7766 §6.2.3). */
  idleTimeoutMs: number;
  /** From a query's first byte until its last: a client sending one byte at a time is cut. */
  queryTimeoutMs: number;
  /** Queries of one connection being answered at once (RFC 7766 §6.2.1.1 pipelining). */
  maxInFlight: number;
  /** Largest query accepted (TCP/TLS frame length, DoH body or decoded GET parameter). */
  maxQuerySize: number;
}

/** The clock and timer the connection timers use; tests drive a fake one. */
export interface Timers {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending connection timer must not keep a stopping process alive.
    t.unref();
    return t;
  },
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type CloseReason = 'handshake-timeout' | 'idle-timeout' | 'query-timeout' | 'too-large';

/**
 * IPv4 peers are counted by address; IPv6 peers by /64, since one host usually holds a whole /64
 * (RFC 6177) and could otherwise open its limit once per address.
 */
export function clientKey(remoteAddress: string): string {
  const a = parseAddress(remoteAddress);
  if (!a) return remoteAddress;
  return a.family === 4 ? formatCidr(prefixOf(a, 32)) : formatCidr(prefixOf(a, 64));
}

export interface GateCounters {
  refusedTotal: number;
  refusedPerClient: number;
  timedOut: number;
}

/** Admits or refuses new connections, and finds the connection a TLS socket or HTTP request belongs to. */
export class ConnectionGate {
  private readonly perClient = new Map<string, number>();
  private readonly byPeer = new Map<string, Conn>();
  readonly counters: GateCounters = { refusedTotal: 0, refusedPerClient: 0, timedOut: 0 };

  constructor(
    readonly limits: () => StreamLimits,
    readonly timers: Timers = realTimers,
  ) {}

  get connections(): number {
    return this.byPeer.size;
  }

  /**
   * A new connection from remote → local port. Over a limit: undefined, and the caller closes at once
   * rather than queueing, so the clients already connected keep their service.
   */
  admit(remoteAddress: string, remotePort: number, localPort: number, close: (reason: CloseReason) => void): Conn | undefined {
    const limits = this.limits();
    if (this.byPeer.size >= limits.maxConnections) {
      this.counters.refusedTotal++;
      return undefined;
    }
    const key = clientKey(remoteAddress);
    const n = this.perClient.get(key) ?? 0;
    if (n >= limits.maxPerClient) {
      this.counters.refusedPerClient++;
      return undefined;
    }
    this.perClient.set(key, n + 1);
    const peer = peerKey(remoteAddress, remotePort, localPort);
    const conn = new Conn(limits, this.timers, (reason) => {
      if (reason !== 'too-large') this.counters.timedOut++;
      close(reason);
    }, () => {
      this.byPeer.delete(peer);
      const left = (this.perClient.get(key) ?? 1) - 1;
      if (left <= 0) this.perClient.delete(key);
      else this.perClient.set(key, left);
    });
    this.byPeer.set(peer, conn);
    return conn;
  }

  /** The admitted connection with this peer; TLS and HTTP sockets report the same addresses as the raw socket. */
  find(remoteAddress: string, remotePort: number, localPort: number): Conn | undefined {
    return this.byPeer.get(peerKey(remoteAddress, remotePort, localPort));
  }
}

function peerKey(remoteAddress: string, remotePort: number, localPort: number): string {
  return `${remoteAddress}|${remotePort}|${localPort}`;
}

/**
 * One connection's single timer. At any moment the connection is waiting for its first query
 * (handshake timeout), receiving queries (the oldest started one must complete within the query
 * timeout), answering (no timer: the pipeline's own work), or idle (idle timeout since the last reply).
 * Bytes alone never reset a timer — only completed queries do — so a slowloris client gains nothing.
 */
export class Conn {
  private readonly receiving = new Map<number, number>();
  private nextId = 1;
  private processing = 0;
  private seenQuery = false;
  private idleSince: number;
  private readonly admittedAt: number;
  private timer: unknown;
  private deadline = Infinity;
  private closed = false;

  constructor(
    readonly limits: StreamLimits,
    private readonly timers: Timers,
    private readonly onExpire: (reason: CloseReason) => void,
    private readonly onRelease: () => void,
  ) {
    this.admittedAt = this.idleSince = timers.now();
    this.rearm();
  }

  /** A query's first byte (or an HTTP request's headers) arrived; returns its token. */
  messageStarted(): number {
    const id = this.nextId++;
    this.receiving.set(id, this.timers.now());
    this.seenQuery = true;
    this.rearm();
    return id;
  }

  /** The whole query arrived and goes to the pipeline. */
  messageReceived(id: number): void {
    if (!this.receiving.delete(id)) return;
    this.processing++;
    this.rearm();
  }

  /** A started query will never complete (stream reset, request aborted). */
  messageAbandoned(id: number): void {
    if (this.receiving.delete(id)) this.rearm();
  }

  /** A received query was answered (or dropped). */
  replied(): void {
    if (this.processing > 0) this.processing--;
    if (this.processing === 0) this.idleSince = this.timers.now();
    this.rearm();
  }

  /** Cut the connection for a reason other than a timer (a query larger than allowed). */
  reject(reason: CloseReason): void {
    if (this.closed) return;
    this.release();
    this.onExpire(reason);
  }

  get inFlight(): number {
    return this.processing;
  }

  /** The connection is gone: stop its timer and give its slot back. Safe to call twice. */
  release(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.onRelease();
  }

  private currentDeadline(): { at: number; reason: CloseReason } | undefined {
    if (this.receiving.size > 0) {
      let oldest = Infinity;
      for (const t of this.receiving.values()) if (t < oldest) oldest = t;
      return { at: oldest + this.limits.queryTimeoutMs, reason: 'query-timeout' };
    }
    if (this.processing > 0) return undefined;
    if (!this.seenQuery) return { at: this.admittedAt + this.limits.handshakeTimeoutMs, reason: 'handshake-timeout' };
    return { at: this.idleSince + this.limits.idleTimeoutMs, reason: 'idle-timeout' };
  }

  private rearm(): void {
    if (this.closed) return;
    const d = this.currentDeadline();
    const at = d?.at ?? Infinity;
    if (at === this.deadline) return;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.deadline = at;
    if (!d) return;
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      if (this.closed) return;
      this.release();
      this.onExpire(d.reason);
    }, Math.max(0, at - this.timers.now()));
  }
}
