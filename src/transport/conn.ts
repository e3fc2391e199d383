// Connection admission (total and per-client limits) and the timers of one stream connection
// (handshake, idle, per-query), shared by TCP, DoT and DoH so each enforces the same abuse limits.
import { formatCidr, parseAddress, prefixOf } from '../net/cidr.js';

/** The limits every stream transport (tcp, tls, https) applies; read again for each new connection. */
export interface StreamLimits {
  /** Concurrent connections of this process over every stream listener; a newcomer beyond it evicts. */
  maxConnections: number;
  /** Concurrent connections from one client (an IPv4 address, or an IPv6 /64). */
  maxPerClient: number;
  /** Concurrent connections from one client prefix (an IPv4 /24, an IPv6 /56). */
  maxPerPrefix: number;
  /** New connections per second one client prefix may open (a bucket holding one second's worth). */
  acceptRatePerPrefix: number;
  /** The idle and handshake timeouts shrink to this as the table fills from half to full. */
  busyTimeoutMs: number;
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

export type CloseReason = 'handshake-timeout' | 'idle-timeout' | 'query-timeout' | 'too-large' | 'evicted';

/**
 * IPv4 peers are counted by address; IPv6 peers by /64, since one host usually holds a whole /64
 * (RFC 6177) and could otherwise open its limit once per address.
 */
export function clientKey(remoteAddress: string): string {
  const a = parseAddress(remoteAddress);
  if (!a) return remoteAddress;
  return a.family === 4 ? formatCidr(prefixOf(a, 32)) : formatCidr(prefixOf(a, 64));
}

/**
 * The network a client sits in for fairness: an IPv4 /24 or an IPv6 /56 (a site's usual
 * assignment), the unit BIND's and Knot's RRL use too. One attacker rarely holds many of them.
 */
export function prefixKey(remoteAddress: string): string {
  const a = parseAddress(remoteAddress);
  if (!a) return remoteAddress;
  return a.family === 4 ? formatCidr(prefixOf(a, 24)) : formatCidr(prefixOf(a, 56));
}

/** Plain integers, read at scrape time (see /work/wt/notes/attack-counters.md). */
export interface GateCounters {
  /** Newcomers refused because the table was full and nothing could be evicted (maxConnections 0 room). */
  refusedTotal: number;
  refusedPerClient: number;
  refusedPerPrefix: number;
  /** Newcomers refused because their prefix opened more than acceptRatePerPrefix per second. */
  refusedAcceptRate: number;
  /** Connections closed to make room for a newcomer (the table was full). */
  evicted: number;
  /** Connections closed early by the busy (shortened) idle or handshake timeout. */
  idleShortened: number;
  timedOut: number;
  /** Connections that ended, for any reason (the memory relief watches this for churn). */
  closed: number;
  /** Connections offered, admitted or refused (the memory relief runs only while none arrive). */
  arrived: number;
}

/** What the gate reports through its log callback, at most once per LOG_INTERVAL_MS with a count. */
export type GateEvent = { event: 'evicted'; prefix: string; held: number; since: number } | { event: 'accept-rate'; prefix: string; since: number };

const LOG_INTERVAL_MS = 10_000;
/** Accept buckets kept at most (one per recently seen prefix); the oldest go first. */
const MAX_BUCKETS = 50_000;
/** Connections the sweep looks at per admission (the oldest first): bounded work per accept. */
const SWEEP = 16;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Admits new connections, evicts when full, and finds the connection a TLS socket or HTTP request
 * belongs to. Fairness follows Knot's and BIND's TCP client quotas: when the table is full a newcomer
 * is not refused; the least recently active connection of the prefix holding the most slots goes.
 * A client holding slots with a query every few seconds therefore cannot lock others out.
 */
export class ConnectionGate {
  private readonly perClient = new Map<string, number>();
  private readonly byPeer = new Map<string, Conn>();
  /** Per prefix, its connections in activity order (least recently active first). */
  private readonly prefixes = new Map<string, Map<Conn, true>>();
  /** Every connection in activity order (least recently active first). */
  private readonly lru = new Map<Conn, true>();
  private readonly buckets = new Map<string, Bucket>();
  readonly counters: GateCounters = { refusedTotal: 0, refusedPerClient: 0, refusedPerPrefix: 0, refusedAcceptRate: 0, evicted: 0, idleShortened: 0, timedOut: 0, closed: 0, arrived: 0 };
  private readonly lastLog = new Map<GateEvent['event'], { at: number; since: number }>();

  constructor(
    readonly limits: () => StreamLimits,
    readonly timers: Timers = realTimers,
    /** Called at most once per 10 s per kind of event, with how many happened since the last call. */
    private readonly onEvent: (e: GateEvent) => void = () => {},
  ) {}

  get connections(): number {
    return this.byPeer.size;
  }

  /**
   * The idle and handshake timeouts for the table as full as it is now: as configured up to half
   * full, then shrinking linearly to busyTimeoutMs when full (Unbound and Knot shorten idle
   * connections under load the same way, so slots turn over while an attack holds them).
   */
  timeouts(limits = this.limits()): { idleMs: number; handshakeMs: number } {
    const fill = this.byPeer.size / limits.maxConnections;
    if (fill <= 0.5) return { idleMs: limits.idleTimeoutMs, handshakeMs: limits.handshakeTimeoutMs };
    const k = Math.max(0, (1 - fill) / 0.5);
    const scale = (full: number) => {
      const floor = Math.min(full, limits.busyTimeoutMs);
      return floor + (full - floor) * k;
    };
    return { idleMs: scale(limits.idleTimeoutMs), handshakeMs: scale(limits.handshakeTimeoutMs) };
  }

  /**
   * A new connection from remote → local port. Refused (undefined; the caller closes at once) when
   * its prefix connects too fast or its address or prefix holds its limit; admitted otherwise, after
   * evicting another connection if the table is full.
   */
  admit(remoteAddress: string, remotePort: number, localPort: number, close: (reason: CloseReason) => void): Conn | undefined {
    this.counters.arrived++;
    const limits = this.limits();
    const now = this.timers.now();
    const prefix = prefixKey(remoteAddress);
    if (!this.takeToken(prefix, limits.acceptRatePerPrefix, now)) {
      this.counters.refusedAcceptRate++;
      this.log({ event: 'accept-rate', prefix, since: 0 }, now);
      return undefined;
    }
    const key = clientKey(remoteAddress);
    const n = this.perClient.get(key) ?? 0;
    if (n >= limits.maxPerClient) {
      this.counters.refusedPerClient++;
      return undefined;
    }
    const mine = this.prefixes.get(prefix);
    if ((mine?.size ?? 0) >= limits.maxPerPrefix) {
      this.counters.refusedPerPrefix++;
      return undefined;
    }
    this.sweep(limits, now);
    if (this.byPeer.size >= limits.maxConnections && !this.evictOne(now)) {
      this.counters.refusedTotal++;
      return undefined;
    }
    this.perClient.set(key, n + 1);
    const peer = peerKey(remoteAddress, remotePort, localPort);
    let members = mine;
    if (!members) this.prefixes.set(prefix, (members = new Map()));
    const group = members;
    const conn: Conn = new Conn(
      limits,
      this.timers,
      () => this.timeouts(),
      (reason) => {
        if (reason !== 'too-large' && reason !== 'evicted') this.counters.timedOut++;
        close(reason);
      },
      () => {
        this.counters.closed++;
        this.byPeer.delete(peer);
        this.lru.delete(conn);
        group.delete(conn);
        if (group.size === 0 && this.prefixes.get(prefix) === group) this.prefixes.delete(prefix);
        const left = (this.perClient.get(key) ?? 1) - 1;
        if (left <= 0) this.perClient.delete(key);
        else this.perClient.set(key, left);
      },
      () => {
        // Activity moves the connection to the end of both orders.
        this.lru.delete(conn);
        this.lru.set(conn, true);
        group.delete(conn);
        group.set(conn, true);
      },
      prefix,
    );
    this.byPeer.set(peer, conn);
    this.lru.set(conn, true);
    group.set(conn, true);
    return conn;
  }

  /** The admitted connection with this peer; TLS and HTTP sockets report the same addresses as the raw socket. */
  find(remoteAddress: string, remotePort: number, localPort: number): Conn | undefined {
    return this.byPeer.get(peerKey(remoteAddress, remotePort, localPort));
  }

  /** Connections held by each prefix, largest first (for the log and tests). */
  holders(): { prefix: string; connections: number }[] {
    return [...this.prefixes].map(([prefix, m]) => ({ prefix, connections: m.size })).sort((a, b) => b.connections - a.connections);
  }

  /** Token bucket per prefix: `rate` per second, holding at most one second's worth. */
  private takeToken(prefix: string, rate: number, now: number): boolean {
    let b = this.buckets.get(prefix);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: rate, at: now };
      this.buckets.set(prefix, b);
    } else {
      b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * Closes the oldest connections that are past the busy timeouts. Each connection's own timer was
   * armed with the timeout of its moment; the table filling since then shortens it, applied here.
   */
  private sweep(limits: StreamLimits, now: number): void {
    if (this.byPeer.size < limits.maxConnections / 2) return;
    const t = this.timeouts(limits);
    let looked = 0;
    for (const conn of this.lru.keys()) {
      if (looked++ >= SWEEP) break;
      const reason = conn.expiredUnder(now, t.idleMs, t.handshakeMs);
      if (reason) {
        this.counters.idleShortened++;
        conn.expire(reason);
      }
    }
  }

  /**
   * Closes the least recently active connection of the prefix holding the most slots. A connection
   * still waiting for its first answer is spared for its first GRACE (half the busy timeout, at most
   * a second): otherwise a client asking over TCP, DoT and DoH at once holds 3 slots, more than each
   * of hundreds of attacking /24s holding one, and its own new connections would be the ones to go.
   * Among prefixes holding the most slots the first with a connection past that grace loses one; if
   * every connection is within it (all new), the largest prefix's least recently active goes anyway.
   */
  private evictOne(now: number): boolean {
    const grace = Math.min(1000, this.limits().busyTimeoutMs / 2);
    let bestSize = 0;
    let victim: Conn | undefined;
    let name = '';
    let biggest: Map<Conn, true> | undefined;
    let biggestName = '';
    for (const [p, m] of this.prefixes) {
      if (!biggest || m.size > biggest.size) {
        biggest = m;
        biggestName = p;
      }
      if (m.size <= bestSize) continue;
      // Activity order: the first connection past its grace is this prefix's least recently active one.
      for (const c of m.keys()) {
        if (c.served || now - c.admittedAt >= grace) {
          victim = c;
          bestSize = m.size;
          name = p;
          break;
        }
      }
    }
    if (!victim) {
      victim = biggest?.keys().next().value;
      name = biggestName;
      bestSize = biggest?.size ?? 0;
    }
    if (!victim) return false;
    this.counters.evicted++;
    victim.expire('evicted');
    this.log({ event: 'evicted', prefix: name, held: bestSize, since: 0 }, now);
    return true;
  }

  private log(e: GateEvent, now: number): void {
    const last = this.lastLog.get(e.event);
    if (last && now - last.at < LOG_INTERVAL_MS) {
      last.since++;
      return;
    }
    this.lastLog.set(e.event, { at: now, since: 0 });
    this.onEvent({ ...e, since: (last?.since ?? 0) + 1 });
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
  private answered = false;
  private idleSince: number;
  /** When the gate admitted it. */
  readonly admittedAt: number;
  private timer: unknown;
  private deadline = Infinity;
  private closed = false;

  constructor(
    readonly limits: StreamLimits,
    private readonly timers: Timers,
    /** The idle and handshake timeouts for how full the table is now. */
    private readonly timeouts: () => { idleMs: number; handshakeMs: number },
    private readonly onExpire: (reason: CloseReason) => void,
    private readonly onRelease: () => void,
    private readonly onActivity: () => void = () => {},
    /** The client prefix the connection counts against. */
    readonly prefix = '',
  ) {
    this.admittedAt = this.idleSince = timers.now();
    this.rearm();
  }

  /** Why the connection should close under these (shortened) timeouts, or undefined while it is within them. */
  expiredUnder(now: number, idleMs: number, handshakeMs: number): CloseReason | undefined {
    if (this.closed || this.receiving.size > 0 || this.processing > 0) return undefined;
    if (!this.seenQuery) return now - this.admittedAt >= handshakeMs ? 'handshake-timeout' : undefined;
    return now - this.idleSince >= idleMs ? 'idle-timeout' : undefined;
  }

  /** Closes the connection now for `reason` (evicted, or a timeout shortened after its timer was armed). */
  expire(reason: CloseReason): void {
    if (this.closed) return;
    this.release();
    this.onExpire(reason);
  }

  /** A query started or was answered: the gate's activity order (eviction's "least recently active"). */
  private touch(): void {
    this.onActivity();
  }

  /** A query's first byte (or an HTTP request's headers) arrived; returns its token. */
  messageStarted(): number {
    const id = this.nextId++;
    this.receiving.set(id, this.timers.now());
    this.seenQuery = true;
    this.touch();
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
    this.answered = true;
    if (this.processing > 0) this.processing--;
    if (this.processing === 0) this.idleSince = this.timers.now();
    this.touch();
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

  /** Whether a query of this connection has been answered (eviction spares new connections until then). */
  get served(): boolean {
    return this.answered;
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
    const t = this.timeouts();
    if (!this.seenQuery) return { at: this.admittedAt + t.handshakeMs, reason: 'handshake-timeout' };
    return { at: this.idleSince + t.idleMs, reason: 'idle-timeout' };
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
