// The in-memory state store: one process's leases, indexed by scope and address, with an injected clock;
// optionally kept on disk (snapshot + journal, src/state/journal.ts) so a restart keeps its leases.
import { TokenBuckets } from '../policy/ratelimit.js';
import { Journal, type JournalRecord } from './journal.js';
import { Timeline } from './timeline.js';
import { leasePhase, portsOverlap, type ClaimOptions, type Lease, type ScannerEntry, type SourceResult, type StateStore, type SweepResult } from './store.js';

interface Entry {
  lease: Lease;
  sources: Set<string>;
  flows: number;
  /** sweep() has reported the end of grace. */
  expiredReported: boolean;
  /** openFlow() counted a flow at least once (flowsByNode lists this node then). */
  used?: boolean;
  /** The time of its current entry in the timeline (older entries for it are stale). */
  due: number;
}

/** The next time sweep() has something to do for the lease: report the end of grace, then purge. */
const nextDue = (e: Entry): number => (e.expiredReported ? e.lease.quarantineUntil : e.lease.graceUntil);

const familyOf = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);
const scopeIndex = (service: string, scopeKey: string, family: 4 | 6) => `${service}\u0000${scopeKey}\u0000${family}`;

export class MemoryStore implements StateStore {
  readonly shared = false;
  private readonly byId = new Map<string, Entry>();
  private readonly byScope = new Map<string, string>();
  private readonly byAddress = new Map<string, Set<string>>();
  /** Unproductive attempts per source: count and the end of its window. */
  private readonly attempts = new Map<string, { n: number; until: number }>();
  private readonly blocked = new Map<string, ScannerEntry>();
  private readonly buckets = new Map<string, TokenBuckets>();
  /** Each lease's next boundary (nextDue), so sweep() visits only the leases whose boundary passed. */
  private readonly timeline = new Timeline();
  private journal?: Journal;

  /** `now`: milliseconds since the epoch; tests pass a controlled clock. */
  constructor(
    private readonly now: () => number = Date.now,
    readonly node = 'local',
  ) {}

  /**
   * A store kept in `file` (snapshot) and `file`.journal: the leases of the last run come back
   * (revoked ones still in quarantine), and every claim is on disk before claim() resolves.
   */
  static async open(file: string, now: () => number = Date.now, node = 'local'): Promise<MemoryStore> {
    const s = new MemoryStore(now, node);
    s.journal = await Journal.open(file, (r) => s.replay(r), () => s.records());
    return s;
  }

  /** Leases read back from disk. */
  get size(): number {
    return this.byId.size;
  }

  private replay(r: JournalRecord): void {
    if (r.op === 'lease') {
      const old = this.byId.get(r.lease.id);
      if (old) {
        old.lease = r.lease;
        if (r.lease.revoked) old.expiredReported = true;
        this.schedule(old);
      } else {
        this.insert(r.lease);
        const e = this.byId.get(r.lease.id)!;
        for (const src of r.sources ?? []) e.sources.add(src);
        if (r.lease.revoked) {
          e.expiredReported = true;
          this.schedule(e);
        }
      }
    } else if (r.op === 'source') this.byId.get(r.id)?.sources.add(r.source);
    else this.delete(r.id);
  }

  private records(): JournalRecord[] {
    const t = this.now();
    return [...this.byId.values()].filter((e) => leasePhase(e.lease, t) !== 'gone').map((e) => ({ op: 'lease', lease: e.lease, sources: [...e.sources] }));
  }

  async findLease(service: string, scopeKey: string, family: 4 | 6): Promise<Lease | undefined> {
    const id = this.byScope.get(scopeIndex(service, scopeKey, family));
    const e = id === undefined ? undefined : this.byId.get(id);
    if (!e || e.lease.revoked || this.now() >= e.lease.ttlUntil) return undefined;
    return e.lease;
  }

  async claim(lease: Lease, opts: ClaimOptions = {}): Promise<boolean> {
    if (this.byId.has(lease.id)) return false;
    const t = this.now();
    for (const id of this.byAddress.get(lease.address) ?? []) {
      const other = this.byId.get(id)!.lease;
      if (leasePhase(other, t) === 'gone' || !portsOverlap(other.ports, lease.ports)) continue;
      const sharable = opts.share && !other.revoked && leasePhase(other, t) === 'live' && other.service === lease.service && sameTargets(other, lease);
      if (!sharable) return false;
    }
    this.insert(lease);
    if (this.journal) {
      try {
        await this.journal.append({ op: 'lease', lease }, true);
      } catch (e) {
        // Not on disk: not acknowledged (the grant fails closed), and not kept.
        this.delete(lease.id);
        throw e;
      }
    }
    return true;
  }

  private schedule(e: Entry): void {
    e.due = nextDue(e);
    this.timeline.push(e.due, e.lease.id);
  }

  private insert(lease: Lease): void {
    const e: Entry = { lease, sources: new Set(), flows: 0, expiredReported: false, due: 0 };
    this.byId.set(lease.id, e);
    this.schedule(e);
    this.byScope.set(scopeIndex(lease.service, lease.scopeKey, familyOf(lease.address)), lease.id);
    let set = this.byAddress.get(lease.address);
    if (!set) this.byAddress.set(lease.address, (set = new Set()));
    set.add(lease.id);
  }

  async release(id: string): Promise<void> {
    this.delete(id);
    // Written before the call returns (not synced: a release lost with the machine only keeps the
    // address out of the draw until its lease would have ended).
    await this.journal?.append({ op: 'release', id }, false);
  }

  async get(id: string): Promise<Lease | undefined> {
    return this.alive(id)?.lease;
  }

  async leasesAt(address: string): Promise<Lease[]> {
    const out: Lease[] = [];
    for (const id of this.byAddress.get(address) ?? []) {
      const e = this.alive(id);
      if (e) out.push(e.lease);
    }
    return out.sort(byGrant);
  }

  async list(): Promise<Lease[]> {
    const t = this.now();
    return [...this.byId.values()].map((e) => e.lease).filter((l) => leasePhase(l, t) !== 'gone').sort(byGrant);
  }

  async revoke(id: string, quarantineMs: number): Promise<Lease | undefined> {
    const e = this.alive(id);
    if (!e || e.lease.revoked) return undefined;
    const t = this.now();
    const end = Math.min(t, e.lease.ttlUntil);
    e.lease = { ...e.lease, revoked: true, ttlUntil: end, liveUntil: Math.min(t, e.lease.liveUntil), graceUntil: Math.min(t, e.lease.graceUntil), quarantineUntil: t + quarantineMs };
    // The revoker tells the data plane itself; sweep() must not report it again.
    e.expiredReported = true;
    this.schedule(e);
    await this.journal?.append({ op: 'lease', lease: e.lease }, true);
    return e.lease;
  }

  async addSource(id: string, source: string, maxHosts?: number): Promise<SourceResult> {
    const e = this.alive(id);
    if (!e) return 'full';
    if (e.sources.has(source)) return 'known';
    if (maxHosts !== undefined && e.sources.size >= maxHosts) return 'full';
    e.sources.add(source);
    if (this.journal) void this.journal.append({ op: 'source', id, source }, false);
    return 'added';
  }

  async hasSource(id: string, source: string): Promise<boolean> {
    return this.alive(id)?.sources.has(source) ?? false;
  }

  async sources(id: string): Promise<string[]> {
    return [...(this.alive(id)?.sources ?? [])];
  }

  async openFlow(id: string, max?: number): Promise<boolean> {
    const e = this.alive(id);
    if (!e || (max !== undefined && e.flows >= max)) return false;
    e.flows++;
    e.used = true;
    return true;
  }

  async closeFlow(id: string): Promise<void> {
    // A flow may outlive its lease's deletion (established flows survive expiry): nothing to count then.
    const e = this.byId.get(id);
    if (e && e.flows > 0) e.flows--;
  }

  async flows(id: string): Promise<number> {
    return this.alive(id)?.flows ?? 0;
  }

  async flowsByNode(id: string): Promise<Record<string, number>> {
    const e = this.alive(id);
    return e?.used ? { [this.node]: e.flows } : {};
  }

  async takeToken(key: string, qps: number, burst: number): Promise<boolean> {
    const k = `${qps}/${burst}`;
    let b = this.buckets.get(k);
    if (!b) this.buckets.set(k, (b = new TokenBuckets(qps, burst)));
    return b.take(key, this.now());
  }

  async subscribe(): Promise<void> {}

  async announceRevoke(): Promise<number> {
    return 0;
  }

  async replyCut(): Promise<void> {}

  async sweep(): Promise<SweepResult> {
    const t = this.now();
    const expired: Lease[] = [];
    const purged: Lease[] = [];
    // Only leases whose next boundary has passed: a sweep costs what changed, not the number of leases.
    const visit = (due: number, id: string) => {
      const e = this.byId.get(id);
      if (!e || e.due !== due) return; // released, purged, or rescheduled (revoked) since
      const phase = leasePhase(e.lease, t);
      if ((phase === 'quarantine' || phase === 'gone') && !e.expiredReported) {
        e.expiredReported = true;
        expired.push(e.lease);
      }
      if (phase === 'gone') {
        this.delete(id);
        purged.push(e.lease);
        void this.journal?.append({ op: 'purge', id }, false);
      } else this.schedule(e);
    };
    while (this.timeline.peek() <= t) this.timeline.pop(visit);
    return { expired: expired.sort(byGrant), purged: purged.sort(byGrant) };
  }

  async countUnproductive(source: string, n: number, windowMs: number): Promise<number> {
    const t = this.now();
    let a = this.attempts.get(source);
    if (!a || t >= a.until) this.attempts.set(source, (a = { n: 0, until: t + windowMs }));
    a.n += n;
    // Bounded memory under a wide scan from many sources: windows that ended are dropped now and then.
    if (this.attempts.size > 4096 && Math.random() < 0.01) for (const [k, v] of this.attempts) if (t >= v.until) this.attempts.delete(k);
    return a.n;
  }

  async blockScanner(source: string, attempts: number, blockMs: number): Promise<ScannerEntry> {
    const t = this.now();
    const cur = this.blocked.get(source);
    const live = cur && t < cur.until ? cur : undefined;
    const e: ScannerEntry = { source, attempts: Math.max(attempts, live?.attempts ?? 0), since: live?.since ?? t, until: Math.max(t + blockMs, live?.until ?? 0) };
    this.blocked.set(source, e);
    this.attempts.delete(source);
    return e;
  }

  async scanner(source: string): Promise<ScannerEntry | undefined> {
    const e = this.blocked.get(source);
    if (e && this.now() >= e.until) this.blocked.delete(source);
    return e && this.now() < e.until ? e : undefined;
  }

  async scanners(): Promise<ScannerEntry[]> {
    const t = this.now();
    for (const [k, v] of this.blocked) if (t >= v.until) this.blocked.delete(k);
    return [...this.blocked.values()].sort((a, b) => a.since - b.since || (a.source < b.source ? -1 : 1));
  }

  async close(): Promise<void> {
    await this.journal?.close();
  }

  /** The entry unless its lease is gone (a gone lease waits for sweep() to be deleted). */
  private alive(id: string): Entry | undefined {
    const e = this.byId.get(id);
    return e && leasePhase(e.lease, this.now()) !== 'gone' ? e : undefined;
  }

  private delete(id: string): void {
    const e = this.byId.get(id);
    if (!e) return;
    this.byId.delete(id);
    const k = scopeIndex(e.lease.service, e.lease.scopeKey, familyOf(e.lease.address));
    if (this.byScope.get(k) === id) this.byScope.delete(k);
    const set = this.byAddress.get(e.lease.address);
    set?.delete(id);
    if (set?.size === 0) this.byAddress.delete(e.lease.address);
  }
}

function sameTargets(a: Lease, b: Lease): boolean {
  return a.targets.length === b.targets.length && a.targets.every((t, i) => t === b.targets[i]);
}

const byGrant = (a: Lease, b: Lease) => a.grantedAt - b.grantedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
