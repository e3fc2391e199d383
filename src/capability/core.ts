// The capability core (seed 000): leases granted, reused, installed, revoked and swept, over one store
// and one data plane; shared by the DNS responder, the gateway hooks and the admin API.
import { readFileSync } from 'node:fs';
import { Stub, parseServer, type ServerAddress } from '../client/stub.js';
import type { Config } from '../config/schema.js';
import { formatAddress, parseAddress, parseCidr, type Family } from '../net/cidr.js';
import type { Logger } from '../observe/log.js';
import { CryptoRandom, type RandomSource } from '../pool/random.js';
import { MemoryStore } from '../state/memory.js';
import { familyOf, scopeIndex, type CutReply, type Lease, type LeaseScope, type ScannerEntry, type StateEvent, type StateStore } from '../state/store.js';
import { allocate } from './allocate.js';
import { MemoryAudit, type AuditLog } from './audit.js';
import type { DataPlane } from './dataplane.js';
import { OboVerifier } from './obo.js';
import { parseTrustAnchor } from '../dnssec/validate.js';
import { perConfig } from '../config/per-config.js';
import type { CompiledService } from './services.js';

/** The parsed trust anchors of an `obo` block (checked by the schema), once per loaded configuration. */
const oboAnchorsOf = perConfig((obo: { trustAnchors: readonly string[] }) => obo.trustAnchors.map(parseTrustAnchor));

export interface LeaseRequest {
  svc: CompiledService;
  family: Family;
  /** The resolver's address (the query's source), canonical. */
  resolver: string;
  /** The client subnet the query carried (canonical CIDR), for the audit log. */
  ecs?: string;
  /** subnet scope with a verified (or trusted) OBO: the only sources admitted. */
  sourceSubnet?: string;
  exceptions: readonly string[];
  /** A denied query's lease to the honeypot (seed 000 §2.4). */
  honeypot: boolean;
  config: Config;
}

export type LeaseResult =
  | { kind: 'granted'; lease: Lease; ttl: number; reused: boolean; shared: boolean }
  | { kind: 'exhausted' }
  | { kind: 'install-failed'; error: string }
  /** The state store did not answer (Redis unreachable): fail closed unless failOpen. */
  | { kind: 'store-failed'; error: string };

export interface CapabilityCounters {
  grants: number;
  reused: number;
  shared: number;
  exhausted: number;
  installFailures: number;
  /** Grants the state store could not record (failed closed, or answered unrecorded with failOpen). */
  storeFailures: number;
  revoked: number;
  expired: number;
  /** Sources blocklisted as scanners (each block or extension). */
  scanners: number;
  denied: Record<string, number>;
}

export interface CapabilitiesOptions {
  store?: StateStore;
  dataPlane?: DataPlane;
  audit?: AuditLog;
  /** ms since the epoch; injected so leases, grace and quarantine are exact in tests. */
  now?: () => number;
  rng?: RandomSource;
  logger?: Logger;
}

/** A data plane for a process without a gateway: the store is all there is to install into. */
export const STORE_ONLY: DataPlane = {
  name: 'store-only',
  tracksSeen: false,
  install: async () => {},
  expire: async () => {},
  revoke: async () => 0,
  reconcile: async () => {},
  close: async () => {},
};

export class Capabilities {
  readonly store: StateStore;
  dataPlane: DataPlane;
  readonly audit: AuditLog;
  readonly now: () => number;
  readonly rng: RandomSource;
  readonly obo: OboVerifier;
  readonly counters: CapabilityCounters = { grants: 0, reused: 0, shared: 0, exhausted: 0, installFailures: 0, storeFailures: 0, revoked: 0, expired: 0, scanners: 0, denied: {} };
  private readonly logger?: Logger;
  private configSource?: () => Config;
  private lastConfig?: Config;
  private sweeper?: NodeJS.Timeout;
  private stubs = new Map<string, Stub>();
  /** Revocations of this node waiting for other nodes' cut counts (shared store). */
  private readonly cutWaits = new Map<string, (r: CutReply) => void>();
  private readonly idBytes = Buffer.alloc(8);
  /** (service, scope, family) → ttlUntil of the live lease this node granted, reused or was told of (installAhead). */
  private readonly liveScopes = new Map<string, number>();

  constructor(opts: CapabilitiesOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.store = opts.store ?? new MemoryStore(this.now);
    this.dataPlane = opts.dataPlane ?? STORE_ONLY;
    this.audit = opts.audit ?? new MemoryAudit(false);
    this.rng = opts.rng ?? new CryptoRandom();
    this.logger = opts.logger;
    this.obo = new OboVerifier({
      stub: () => this.stubFor(this.config().capabilities.obo.resolvers),
      trusted: () => this.config().capabilities.trustedResolvers.map((c) => parseCidr(c)!),
      cacheMs: () => this.config().capabilities.obo.cacheSeconds * 1000,
      timeoutMs: () => this.config().capabilities.obo.timeoutMs,
      requireDnssec: () => this.config().capabilities.obo.requireDnssec,
      trustAnchors: () => oboAnchorsOf(this.config().capabilities.obo),
      now: this.now,
    });
  }

  /** Where the current configuration comes from (the engine's runtime; a reload swaps it). */
  bind(source: () => Config): void {
    this.configSource = source;
  }

  config(): Config {
    const c = this.configSource?.() ?? this.lastConfig;
    if (!c) throw new Error('capabilities: no configuration bound yet');
    return c;
  }

  /** Counts a denial by reason (the responder decides; this keeps the numbers in one place). */
  denied(reason: string): void {
    const k = reason.replace(/:.*/, '');
    this.counters.denied[k] = (this.counters.denied[k] ?? 0) + 1;
  }

  /**
   * The lease for a query that policy allowed: the live one of (service, scope) with its remaining
   * TTL, or a new one drawn from the pool, claimed in the store and installed in the data plane
   * before this resolves (seed 000 §2: the answer leaves only with its translation in force).
   */
  async lease(req: LeaseRequest): Promise<LeaseResult> {
    try {
      return await this.leaseFromStore(req);
    } catch (e) {
      // The store failed (Redis unreachable or too slow): no lease was recorded, so no gateway
      // sharing the store would admit its flows. Fail closed unless failOpen says otherwise.
      this.counters.storeFailures++;
      const error = (e as Error).message;
      this.logger?.error('capability grant: state store failed', { service: req.svc.key, err: error, failOpen: req.config.capabilities.failOpen });
      if (!req.config.capabilities.failOpen) return { kind: 'store-failed', error };
      return this.leaseUnrecorded(req, error);
    }
  }

  /**
   * failOpen with the store down: an address drawn at random and installed in this process's data
   * plane only (an nftables backend here enforces it; gateways elsewhere do not know it).
   */
  private async leaseUnrecorded(req: LeaseRequest, storeError: string): Promise<LeaseResult> {
    const address = req.svc.pool.pickText(req.family, this.rng);
    if (!address) return { kind: 'exhausted' };
    const t = this.now();
    const ttl = req.svc.config.ttl;
    const caps = req.config.capabilities;
    const liveUntil = t + (ttl + caps.slack) * 1000;
    const lease: Lease = {
      id: this.newId(),
      service: req.svc.key,
      scope: req.svc.config.scope,
      scopeKey: req.resolver,
      resolver: req.resolver,
      address,
      targets: req.honeypot ? [req.svc.config.honeypot!] : req.svc.targets,
      ports: req.svc.ports,
      ttl,
      grantedAt: t,
      ttlUntil: t + ttl * 1000,
      liveUntil,
      graceUntil: liveUntil + req.svc.config.grace * 1000,
      quarantineUntil: liveUntil + (req.svc.config.grace + caps.quarantine) * 1000,
      exceptions: req.exceptions,
      honeypot: req.honeypot,
    };
    try {
      await this.dataPlane.install(lease);
    } catch {
      // failOpen: the answer goes out anyway.
    }
    this.audit.write({ event: 'grant', resolver: req.resolver, ecs: req.ecs, service: req.svc.key, address: lease.address, ttl, scope: lease.scope, lease: lease.id, reused: false, unrecorded: storeError });
    return { kind: 'granted', lease, ttl, reused: false, shared: false };
  }

  private async leaseFromStore(req: LeaseRequest): Promise<LeaseResult> {
    this.lastConfig = req.config;
    const { svc, config } = req;
    const caps = config.capabilities;
    const scope: LeaseScope = svc.config.scope;
    const base = scope === 'shared' ? '*' : scope === 'subnet' ? req.sourceSubnet ?? req.resolver : req.resolver;
    const scopeKey = req.honeypot ? `honeypot:${base}` : base;
    const t = this.now();
    const ttl = svc.config.ttl;
    const targets = req.honeypot ? [svc.config.honeypot!] : svc.targets;
    const ttlUntil = t + ttl * 1000;
    const liveUntil = ttlUntil + caps.slack * 1000;
    const graceUntil = liveUntil + svc.config.grace * 1000;
    const make = (address: string): Lease => ({
      id: this.newId(),
      service: svc.key,
      scope,
      scopeKey,
      resolver: req.resolver,
      ecs: req.ecs,
      sourceSubnet: scope === 'subnet' ? req.sourceSubnet : undefined,
      address,
      targets,
      ports: svc.ports,
      ttl,
      grantedAt: t,
      ttlUntil,
      liveUntil,
      graceUntil,
      quarantineUntil: graceUntil + caps.quarantine * 1000,
      maxHosts: svc.config.maxHosts,
      maxConnections: svc.config.maxConnections,
      exceptions: req.exceptions,
      honeypot: req.honeypot,
    });
    // A remote store answers "the live lease of this scope, or this new one claimed" in one round trip
    // (the first random draw goes with the question); the in-memory store is asked twice.
    let existing: Lease | undefined;
    let first: Lease | undefined;
    /** The install of `first` made while its claim was in flight (see installAhead). */
    let ahead = false;
    if (this.store.findOrClaim) {
      const address = svc.pool.pickText(req.family, this.rng);
      if (address) {
        const candidate = make(address);
        let r: Awaited<ReturnType<NonNullable<StateStore['findOrClaim']>>>;
        // The claim is asked first and the install made ahead starts after it (installAhead).
        const claim = this.store.findOrClaim(candidate, 1000);
        const early = this.installAhead(candidate, req.family, t);
        try {
          r = await claim;
        } catch (e) {
          if (early) await this.withdraw(candidate, early);
          throw e;
        }
        if ('existing' in r) existing = r.existing;
        else if (r.claimed) first = candidate;
        if (early) {
          // Claimed: the install made ahead is the lease's (if it failed, it is tried again below).
          // Not claimed: nothing of it stays in the kernel before this grant goes on.
          if (first) ahead = await early;
          else await this.withdraw(candidate, early);
        }
      } else existing = await this.store.findLease(svc.key, scopeKey, req.family);
    } else existing = await this.store.findLease(svc.key, scopeKey, req.family);
    if (existing) {
      const remaining = Math.floor((existing.ttlUntil - t) / 1000);
      if (remaining >= 1) {
        this.noteScope(existing);
        this.counters.reused++;
        this.audit.write({ event: 'grant', resolver: req.resolver, ecs: req.ecs, service: svc.key, address: existing.address, ttl: remaining, scope, lease: existing.id, reused: true, honeypot: req.honeypot || undefined });
        return { kind: 'granted', lease: existing, ttl: remaining, reused: true, shared: false };
      }
    }
    const got = first ? ({ ok: true, lease: first, shared: false } as const) : await allocate({ store: this.store, pool: svc.pool, family: req.family, rng: this.rng, now: t, make, exhaustion: caps.exhaustion });
    if (!got.ok) {
      this.counters.exhausted++;
      this.audit.write({ event: 'exhausted', service: svc.key, pool: svc.pool.name, rule: caps.exhaustion });
      this.logger?.warn('capability pool exhausted', { service: svc.key, pool: svc.pool.name, rule: caps.exhaustion });
      return { kind: 'exhausted' };
    }
    const lease = got.lease;
    try {
      if (!ahead) await this.dataPlane.install(lease);
    } catch (e) {
      this.counters.installFailures++;
      const error = (e as Error).message;
      this.logger?.error('capability install failed', { lease: lease.id, address: lease.address, err: error, failOpen: caps.failOpen });
      if (!caps.failOpen) {
        await this.store.release(lease.id);
        return { kind: 'install-failed', error };
      }
    }
    this.noteScope(lease);
    this.counters.grants++;
    if (got.shared) this.counters.shared++;
    this.audit.write({
      event: 'grant',
      resolver: req.resolver,
      ecs: req.ecs,
      service: svc.key,
      address: lease.address,
      ttl,
      scope,
      lease: lease.id,
      reused: false,
      honeypot: req.honeypot || undefined,
      exceptions: lease.exceptions.length > 0 ? [...lease.exceptions] : undefined,
      shared: got.shared || undefined,
    });
    return { kind: 'granted', lease, ttl, reused: false, shared: got.shared };
  }

  /**
   * With a shared store whose claim is a round trip and a data plane whose install is one too
   * (nftables): the candidate's install starts now, beside its claim, so a new grant waits for the
   * slower of the two instead of their sum (issue 14: nftables + Redis p99). Not when this node knows
   * a live lease of the scope (the store would hand that one back: an install and its withdrawal for
   * nothing), nor when the data plane has any of the candidate's elements for another lease. The
   * kernel then holds a translation the store has not granted yet for one Redis round trip: only for
   * an address and ports no lease installed here uses, only towards this service's targets for the
   * scope asking; it is taken back (withdraw) before the grant goes on when the claim is refused.
   * Resolves true once installed, false when the install failed (the grant then installs as usual).
   *
   * The install starts at setImmediate, after the claim went out: node-redis writes a command when
   * it uncorks its socket there, while the install's netlink batch would be handed to the thread
   * pool at once. With Redis on the server's CPU (bench:grants --redis-cpu server) that order put the
   * kernel commit in front of the claim's script and AOF fsync on the one core; now the claim is in
   * Redis first and the commit runs while Redis waits for the disk.
   */
  private installAhead(candidate: Lease, family: Family, now: number): Promise<boolean> | undefined {
    if (!this.dataPlane.canInstallAhead) return undefined;
    const known = this.liveScopes.get(scopeIndex(candidate.service, candidate.scopeKey, family));
    if (known !== undefined && known - now >= 1000) return undefined;
    if (!this.dataPlane.canInstallAhead(candidate)) return undefined;
    return new Promise<boolean>((resolve) =>
      setImmediate(() =>
        this.dataPlane.install(candidate).then(
          () => resolve(true),
          () => resolve(false),
        ),
      ),
    );
  }

  /** Takes back an install made ahead of a claim the store refused (expire() never rejects). */
  private async withdraw(candidate: Lease, early: Promise<boolean>): Promise<void> {
    if (await early) await this.dataPlane.expire(candidate);
  }

  /** Remembers the lease of its scope until its TTL ends (installAhead skips scopes with one). */
  private noteScope(l: Lease): void {
    if (!this.dataPlane.canInstallAhead || l.revoked) return;
    const k = scopeIndex(l.service, l.scopeKey, familyOf(l.address));
    const known = this.liveScopes.get(k);
    if (known !== undefined && known >= l.ttlUntil) return;
    this.liveScopes.delete(k);
    this.liveScopes.set(k, l.ttlUntil);
  }

  /**
   * `fluxdns caps revoke ADDRESS|RESOLVER`: every lease at that public address or granted to that
   * resolver ends now, its established flows are cut, its address rests in quarantine.
   */
  async revoke(target: string, by = 'admin'): Promise<{ leases: Lease[]; cut: number; where: Record<string, number> }> {
    const a = parseAddress(target);
    if (!a) throw new Error(`expected an IPv4 or IPv6 address, found ${JSON.stringify(target)}`);
    const text = formatAddress(a);
    const quarantineMs = this.quarantineMs();
    const revoked: Lease[] = [];
    for (const l of await this.store.list()) {
      if (l.address !== text && l.resolver !== text) continue;
      const r = await this.store.revoke(l.id, quarantineMs);
      if (r) revoked.push(r);
    }
    const local = revoked.length > 0 ? await this.dataPlane.revoke(revoked) : 0;
    const where: Record<string, number> = revoked.length > 0 ? { [this.store.node]: local } : {};
    if (revoked.length > 0 && this.store.shared) Object.assign(where, await this.revokeElsewhere(revoked));
    const cut = Object.values(where).reduce((a, b) => a + b, 0);
    this.counters.revoked += revoked.length;
    for (const l of revoked) this.audit.write({ event: 'revoke', lease: l.id, service: l.service, address: l.address, resolver: l.resolver, cut, by });
    return { leases: revoked, cut, where };
  }

  /**
   * Shared store: every other node (servers and gateways) cuts the revoked leases' flows and says how
   * many; waits up to a second for the replies (a node that does not answer in time counts 0).
   */
  private async revokeElsewhere(leases: readonly Lease[]): Promise<Record<string, number>> {
    const ref = `${this.store.node}#${this.newId()}`;
    const got: Record<string, number> = {};
    let expected = Infinity;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    this.cutWaits.set(ref, (r) => {
      got[r.origin] = (got[r.origin] ?? 0) + r.cut;
      if (Object.keys(got).length >= expected) done();
    });
    try {
      expected = await this.store.announceRevoke(leases, ref);
      if (Object.keys(got).length < expected) await Promise.race([all, new Promise((r) => setTimeout(r, 1000).unref())]);
    } catch (e) {
      this.logger?.warn('revocation not announced to other nodes', { err: (e as Error).message });
    } finally {
      this.cutWaits.delete(ref);
    }
    return got;
  }

  /** Applies another node's change to this process's data plane (shared store). */
  private async apply(e: StateEvent): Promise<void> {
    if (e.type === 'grant') {
      for (const l of e.leases) {
        this.noteScope(l);
        await this.dataPlane.install(l);
      }
    } else if (e.type === 'expire') {
      for (const l of e.leases) await this.dataPlane.expire(l);
    } else if (e.type === 'source') {
      if (e.source) await this.dataPlane.addSeen?.(e.source.address, e.source.source);
    } else if (e.type === 'scanner') {
      if (e.scanner) await this.dataPlane.blockScanner?.(e.scanner.source, e.scanner.until);
    } else {
      const cut = await this.dataPlane.revoke(e.leases);
      if (e.ref) await this.store.replyCut(e.ref, cut);
    }
  }

  /**
   * `n` unproductive attempts by `source` (a flow to a pool address no lease admits, or through a
   * honeypot lease; seed 000 §4): counted in the shared store; at `scanners.threshold` within
   * `scanners.window` the source is blocklisted for `scanners.blockFor`, audited, and blocked in the
   * data plane. Without `capabilities.scanners`, nothing is counted.
   */
  async unproductive(source: string, n = 1): Promise<void> {
    const sc = (this.configSource?.() ?? this.lastConfig)?.capabilities.scanners;
    if (!sc || n <= 0) return;
    const count = await this.store.countUnproductive(source, n, sc.window * 1000);
    if (count < sc.threshold) return;
    const e = await this.store.blockScanner(source, count, sc.blockFor * 1000);
    this.counters.scanners++;
    this.audit.write({ event: 'scanner', source, attempts: count, since: e.since, until: e.until });
    this.logger?.warn('scanner blocklisted', { source, attempts: count, until: new Date(e.until).toISOString() });
    try {
      await this.dataPlane.blockScanner?.(source, e.until);
    } catch (err) {
      this.logger?.warn('blocking a scanner in the data plane failed', { source, err: (err as Error).message });
    }
  }

  /**
   * The kernel admitted `source` to a live lease at `address` and recorded it in its `seen` set
   * (nftables): record it in the shared store, which announces it to the other gateways.
   */
  async sourceSeen(source: string, address: string): Promise<void> {
    const t = this.now();
    for (const l of await this.store.leasesAt(address)) {
      if (l.revoked || t >= l.liveUntil) continue;
      await this.store.addSource(l.id, source);
    }
  }

  /** The scanner block in force for `source` (canonical address), when scanner detection is on. */
  async scannerBlock(source: string): Promise<ScannerEntry | undefined> {
    if (!(this.configSource?.() ?? this.lastConfig)?.capabilities.scanners) return undefined;
    return this.store.scanner(source);
  }

  /** Ends grace periods and purges quarantined leases (every second from start()). */
  async sweep(): Promise<void> {
    // liveScopes is in order of noting (noteScope moves a key to the end): the ended ones are in
    // front, up to the first lease of a longer TTL. No walk over the whole map every second.
    const t = this.now();
    for (const k of this.liveScopes.keys()) {
      if (this.liveScopes.get(k)! > t) break;
      this.liveScopes.delete(k);
    }
    const r = await this.store.sweep();
    for (const l of r.expired) {
      const hosts = (await this.store.sources(l.id)).length;
      this.counters.expired++;
      this.audit.write({ event: 'expire', lease: l.id, service: l.service, address: l.address, hosts });
      try {
        await this.dataPlane.expire(l);
      } catch (e) {
        this.logger?.warn('capability expiry in the data plane failed', { lease: l.id, err: (e as Error).message });
      }
    }
  }

  /** Starts the sweeper; reconciles the data plane with the store first (a restart with a shared store). */
  async start(sweepMs = 1000): Promise<void> {
    if (this.store.shared) {
      // Subscribe first: a grant made between the list below and the subscription is not missed.
      await this.store.subscribe(
        (e) => {
          this.apply(e).catch((err: unknown) => this.logger?.warn('applying a change from another node failed', { type: e.type, origin: e.origin, err: (err as Error).message }));
        },
        (r) => this.cutWaits.get(r.ref)?.(r),
      );
    }
    await this.dataPlane.reconcile(await this.store.list());
    // Scanner blocks outlive a restart in the store (and with Redis are another node's too): the
    // kernel's `scanners` set gets those in force now.
    if (this.dataPlane.blockScanner) {
      for (const e of await this.store.scanners()) {
        await this.dataPlane.blockScanner(e.source, e.until).catch((err: unknown) => this.logger?.warn('re-applying a scanner block failed', { source: e.source, err: (err as Error).message }));
      }
    }
    this.sweeper = setInterval(() => {
      this.sweep().catch((e: unknown) => this.logger?.warn('capability sweep failed', { err: (e as Error).message }));
    }, sweepMs);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.dataPlane.close();
    await this.audit.close();
    await this.store.close();
  }

  private quarantineMs(): number {
    const c = this.configSource?.() ?? this.lastConfig;
    return (c?.capabilities.quarantine ?? 300) * 1000;
  }

  /** 8 random bytes as hex, drawn into one buffer kept for it (no array or Buffer per grant). */
  private newId(): string {
    this.rng.fill(this.idBytes);
    return this.idBytes.toString('hex');
  }

  private stubFor(resolvers: readonly string[] | undefined): Stub {
    const key = JSON.stringify(resolvers ?? null);
    let s = this.stubs.get(key);
    if (!s) {
      const servers: ServerAddress[] = resolvers ? resolvers.map((r) => parseServer(r)) : systemResolvers();
      s = new Stub({ servers, retries: 0, timeoutMs: 400 });
      this.stubs.set(key, s);
    }
    return s;
  }
}

/** The nameservers of /etc/resolv.conf (port 53); 127.0.0.1 when there are none. */
function systemResolvers(): ServerAddress[] {
  try {
    const out = readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((h): h is string => h !== undefined && parseAddress(h) !== undefined)
      .map((host) => ({ host, port: 53 }));
    if (out.length > 0) return out;
  } catch {
    // no resolv.conf: fall through
  }
  return [{ host: '127.0.0.1', port: 53 }];
}
