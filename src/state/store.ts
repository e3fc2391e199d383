// The state store: leases (DNS answers as capabilities, seed 000) behind one narrow async interface.
//
// Everything the grant logic and the data planes share lives here, so that a Redis store (many DNS
// servers, many gateways) can replace the in-memory one without touching either. Every method is one
// round trip and every write that must not race (claiming an address, counting hosts and connections)
// is a single atomic method, which a Redis store implements as one Lua script.
//
// Units: times are milliseconds since the epoch; addresses are canonical text (formatAddress of
// src/net/cidr.ts: dotted quad, RFC 5952 IPv6); subnets are canonical CIDR text ("198.51.100.0/24").

/** Whom a lease is for (seed 000 §2.2): one resolver, one client subnet (ECS as On-Behalf-Of), or anyone. */
export type LeaseScope = 'resolver' | 'subnet' | 'shared';

export type LeaseProto = 'tcp' | 'udp';

/** A protocol and an inclusive port range the lease opens at its address ("tcp/80" is from = to = 80). */
export interface LeasePorts {
  readonly proto: LeaseProto;
  readonly from: number;
  readonly to: number;
}

/**
 * One granted capability: `address` (public, from the pool) translates to `targets` (private) for the
 * listed ports. Its life has four phases, each boundary a time in the lease:
 *
 *   grantedAt ── ttlUntil ──── liveUntil ────── graceUntil ──────── quarantineUntil
 *   │ DNS TTL    │ slack       │ grace: only      │ quarantine: no    │ deleted; the address
 *   │ (answers   │ (stretching │ sources already  │ translation, the  │ may be leased again
 *   │ reuse it)  │ resolvers)  │ seen keep access │ address unused    │
 *   └── live: any admitted source may open flows ─┘
 */
export interface Lease {
  /** Unique, opaque (random hex); names the lease in the audit log and the admin API. */
  readonly id: string;
  /** The service's key: its first configured name, lower case with the final dot. */
  readonly service: string;
  readonly scope: LeaseScope;
  /** resolver scope: the resolver's address; subnet scope: the OBO subnet (or the resolver without ECS); shared: "*". */
  readonly scopeKey: string;
  /** The resolver whose query obtained the lease (`caps revoke RESOLVER` matches it). */
  readonly resolver: string;
  /** The client subnet the query carried (ECS), verified or from a trusted resolver; for the audit log. */
  readonly ecs?: string;
  /** subnet scope: only sources inside this prefix are admitted (seed 000 §2.2: OBO-scoped translation). */
  readonly sourceSubnet?: string;
  readonly address: string;
  /** Private addresses, "IP" (the dialled port is kept) or "IP:PORT"; several balance new flows. */
  readonly targets: readonly string[];
  readonly ports: readonly LeasePorts[];
  /** The DNS TTL of the answer, seconds. */
  readonly ttl: number;
  readonly grantedAt: number;
  readonly ttlUntil: number;
  readonly liveUntil: number;
  readonly graceUntil: number;
  readonly quarantineUntil: number;
  /** Distinct sources that may use the lease (seed 000 §2.4 "only the first N hosts"); undefined = no limit. */
  readonly maxHosts?: number;
  /** Concurrent flows through the lease; undefined = no limit. */
  readonly maxConnections?: number;
  /** Sources refused for this lease (seed 000 §2.3: a capability with exceptions). */
  readonly exceptions: readonly string[];
  /** A denied query's lease: the targets are the honeypot (seed 000 §2.4 "Denied Capabilities"). */
  readonly honeypot: boolean;
  /** Set by revoke(): the lease admits nothing and its address is in quarantine. */
  readonly revoked?: boolean;
}

export type LeasePhase = 'live' | 'grace' | 'quarantine' | 'gone';

/** The address family of a canonical address text. */
export const familyOf = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);

/** The key of a scope, which holds at most one live lease: (service, scope key, address family). */
export const scopeIndex = (service: string, scopeKey: string, family: 4 | 6) => `${service}|${scopeKey}|${family}`;

/** Where a lease is in its life at `now`. A revoked lease is in quarantine until it is gone. */
export function leasePhase(l: Lease, now: number): LeasePhase {
  if (now >= l.quarantineUntil) return 'gone';
  if (l.revoked || now >= l.graceUntil) return 'quarantine';
  if (now >= l.liveUntil) return 'grace';
  return 'live';
}

/** True when two port lists share a (proto, port): such leases cannot share an address (seed 000 §3.3). */
export function portsOverlap(a: readonly LeasePorts[], b: readonly LeasePorts[]): boolean {
  return a.some((x) => b.some((y) => x.proto === y.proto && x.from <= y.to && y.from <= x.to));
}

/** True when the lease opens (proto, port). */
export function leaseCovers(l: Lease, proto: LeaseProto, port: number): boolean {
  return l.ports.some((p) => p.proto === proto && p.from <= port && port <= p.to);
}

export interface ClaimOptions {
  /**
   * Pool exhaustion with the `share` rule: the address may already hold leases of the same service
   * with the same targets (the translation is identical; only attribution to one resolver is lost).
   */
  share?: boolean;
}

/** What addSource() did (seed 000 §3.2 "seen" sources and §2.4 host fan-in limits, in one atomic step). */
export type SourceResult = 'added' | 'known' | 'full';

/** What sweep() moved: leases whose grace ended (translation to remove) and leases deleted after quarantine. */
export interface SweepResult {
  readonly expired: readonly Lease[];
  readonly purged: readonly Lease[];
}

/**
 * A source blocklisted as a scanner (seed 000 §4: traffic to unleased addresses is unproductive, so
 * "scanners can be readily identified"): it is denied capabilities until `until`.
 */
export interface ScannerEntry {
  readonly source: string;
  /** Unproductive attempts counted in the window that crossed the threshold. */
  readonly attempts: number;
  /** When it was blocked and until when, ms since the epoch. */
  readonly since: number;
  readonly until: number;
}

/** A change to the shared state, published so every process's data plane applies it (Redis store). */
export interface StateEvent {
  /**
   * grant, revoke, expire: `leases` changed. source: a host was recorded for a lease for the first time
   * (`seen`), so every data plane admits it in grace (issue 14: grace and `seen` are shared).
   * scanner: a source was blocklisted (or its block extended), so every data plane blocks it now.
   */
  readonly type: 'grant' | 'revoke' | 'expire' | 'source' | 'scanner';
  /** The leases changed (grant, revoke, expire); empty for source and scanner events. */
  readonly leases: readonly Lease[];
  /** The node (state.node) whose call made the change; it applied the change itself. */
  readonly origin: string;
  /** revoke: the revoker waits for each other node's `cut` reply with this reference. */
  readonly ref?: string;
  /** source: the lease, its address and the host recorded. */
  readonly source?: { readonly id: string; readonly address: string; readonly source: string };
  /** scanner: the block in force. */
  readonly scanner?: ScannerEntry;
}

/** A node's answer to a revoke event: how many flows it cut. */
export interface CutReply {
  readonly ref: string;
  readonly origin: string;
  readonly cut: number;
}

export interface StateStore {
  /**
   * True when other processes share the store (Redis): leases may appear, end and be revoked by
   * others, announced through subscribe(). False for the in-memory store.
   */
  readonly shared: boolean;

  /** This process's name in the shared state (where a flow was admitted, who revoked). */
  readonly node: string;
  /**
   * The lease of (service, scopeKey) whose DNS TTL has not ended and that is not revoked, if any: a
   * repeat query inside the TTL gets the same address with the remaining TTL. A and AAAA queries
   * hold separate leases: `family` is the address family of the lease's address.
   */
  findLease(service: string, scopeKey: string, family: 4 | 6): Promise<Lease | undefined>;

  /**
   * Atomically records `lease` unless its address holds a lease that is not gone (live, grace or
   * quarantine) with overlapping ports; with `share`, leases of the same service and targets do not
   * count. Also makes it the lease of (service, scopeKey). Returns false, writing nothing, on conflict.
   */
  claim(lease: Lease, opts?: ClaimOptions): Promise<boolean>;

  /**
   * Optional, for stores across a network (Redis): findLease() and claim() in one atomic round trip.
   * When (service, scopeKey, family of the address) of `lease` has a lease that findLease() would
   * return with at least `minRemainingMs` of its TTL left, that lease comes back and nothing is
   * written; otherwise `lease` is claimed as claim() would (`claimed` false on conflict).
   */
  findOrClaim?(lease: Lease, minRemainingMs: number, opts?: ClaimOptions): Promise<{ existing: Lease } | { claimed: boolean }>;

  /** Deletes a lease at once (a claim whose installation failed); its address is free again. */
  release(id: string): Promise<void>;

  get(id: string): Promise<Lease | undefined>;

  /** Leases at `address` that are not gone, oldest first. */
  leasesAt(address: string): Promise<Lease[]>;

  /** Every lease that is not gone, oldest first. */
  list(): Promise<Lease[]>;

  /**
   * Ends a lease now: no new flows, no grace; the address rests in quarantine for `quarantineMs` from
   * now. Returns the revoked lease, or undefined if it is unknown, gone or already revoked.
   */
  revoke(id: string, quarantineMs: number): Promise<Lease | undefined>;

  /**
   * Records `source` as a host of the lease unless that would exceed `maxHosts` ("full"); "known"
   * when it was already recorded. The recorded hosts are the seen set that grace admits.
   */
  addSource(id: string, source: string, maxHosts?: number): Promise<SourceResult>;

  /** True when `source` used the lease while it was live (or was recorded by the data plane). */
  hasSource(id: string, source: string): Promise<boolean>;

  /** Sources recorded for the lease. */
  sources(id: string): Promise<string[]>;

  /** Counts one more concurrent flow (at this node) unless `max` are open in all; false when full. */
  openFlow(id: string, max?: number): Promise<boolean>;

  /** A flow counted by openFlow() at this node ended. */
  closeFlow(id: string): Promise<void>;

  /** Flows open now through the lease. */
  flows(id: string): Promise<number>;

  /** Flows admitted through the lease by node (state.node) that are open now; a node that admitted any is listed. */
  flowsByNode(id: string): Promise<Record<string, number>>;

  /**
   * Takes a token from the bucket `key` (rate `qps`, size `burst`, seed 000 §2.1 rate limits);
   * false when empty. Only shared stores are asked: a single process keeps its buckets in memory.
   */
  takeToken(key: string, qps: number, burst: number): Promise<boolean>;

  /**
   * Moves time forward: returns leases whose grace ended since the last sweep (each once) and deletes
   * leases past quarantine (with their sources and counters), returning them.
   */
  sweep(): Promise<SweepResult>;

  /**
   * Counts `n` unproductive attempts by `source` (flows or packets to pool addresses no lease admits,
   * honeypot traffic included) in a fixed window of `windowMs` that starts at the source's first
   * attempt after the previous window ended; returns the count in the current window. Atomic.
   */
  countUnproductive(source: string, n: number, windowMs: number): Promise<number>;

  /**
   * Blocklists `source` as a scanner for `blockMs` from now (a block in force is extended, never
   * shortened) and resets its attempt count; returns the entry.
   */
  blockScanner(source: string, attempts: number, blockMs: number): Promise<ScannerEntry>;

  /** The block in force for `source`, if any. */
  scanner(source: string): Promise<ScannerEntry | undefined>;

  /** Every block in force, oldest first. */
  scanners(): Promise<ScannerEntry[]>;

  /**
   * Shared stores: calls `onEvent` for every change another node makes (grant, revoke, expire, a new
   * source of a lease, a scanner block) and
   * `onCut` for replies to this node's revocations. The in-memory store has no other nodes.
   */
  subscribe(onEvent: (e: StateEvent) => void, onCut?: (r: CutReply) => void): Promise<void>;

  /**
   * Shared stores: announces revoked leases to every other node (each cuts its flows and replies
   * with replyCut(ref, n)); resolves with the number of nodes that received it (0 in memory).
   * Grants are announced by claim() and expiries by sweep() in the same atomic step.
   */
  announceRevoke(leases: readonly Lease[], ref: string): Promise<number>;

  /** Shared stores: tells the revoker (`ref`) how many flows this node cut. */
  replyCut(ref: string, cut: number): Promise<void>;

  close(): Promise<void>;
}
