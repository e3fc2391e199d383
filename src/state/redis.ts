// The Redis state store (issue 14): leases, seen sources, flow counts, rate-limit buckets and scanner
// blocks shared by every worker, server and gateway; each racing write is one Lua script
// (src/state/redis-scripts.ts); grants, revocations and expiries are published on P events.
//
// Failure mode: commands are never queued while Redis is unreachable (disableOfflineQueue) and each
// has a deadline (timeoutMs), so a grant fails within that time instead of hanging (the caller's
// failOpen decides what the answer is); the client reconnects with backoff in the background, and
// with Sentinel it asks the sentinels for the current primary on every reconnect and READONLY reply.
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import * as S from './redis-scripts.js';
import { familyOf, scopeIndex, type ClaimOptions, type CutReply, type Lease, type ScannerEntry, type SourceResult, type StateEvent, type StateStore, type SweepResult } from './store.js';

type Client = ReturnType<typeof createClient>;

export interface RedisStoreOptions {
  /** redis://[user:pass@]host:port[/db]; ignored for the primary's address when `sentinel` is set. */
  url: string;
  prefix: string;
  node: string;
  /** Milliseconds a command may take before it fails (the store counts as unavailable). */
  timeoutMs: number;
  sentinel?: { sentinels: readonly { host: string; port: number }[]; name: string };
  /** Replicas that must hold a claim (WAIT) before it counts as made; 0 or undefined: do not wait. */
  waitReplicas?: number;
  now?: () => number;
  /** Connection state changes, for the log. */
  onStatus?: (status: 'connected' | 'disconnected' | 'failover', detail: string) => void;
}

/** A store call failed because Redis is unreachable, slow or read-only. */
export class StoreUnavailable extends Error {}

type Fields = [string | null, string | null, string | null, string | null, string | null, string | null];

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const portsText = (l: Lease) => l.ports.map((p) => `${p.proto},${p.from},${p.to}`).join(';');
const byGrant = (a: Lease, b: Lease) => a.grantedAt - b.grantedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The lease from its stored JSON and the times a revocation may have changed. */
function leaseOf(f: Fields): Lease {
  const base = JSON.parse(f[0]!) as Lease;
  const l: Lease = { ...base, ttlUntil: Number(f[1]), liveUntil: Number(f[2]), graceUntil: Number(f[3]), quarantineUntil: Number(f[4]) };
  return f[5] === '1' ? { ...l, revoked: true } : l;
}

export class RedisStore implements StateStore {
  readonly shared = true;
  readonly node: string;
  private client!: Client;
  private sub?: Client;
  private readonly now: () => number;
  private readonly P: string;
  private readonly shas = new Map<string, string>();
  private handlers?: { onEvent: (e: StateEvent) => void; onCut?: (r: CutReply) => void };
  private primary = '';
  private closed = false;
  private failingOver?: Promise<void>;

  /** How this node's grant events start (the CLAIM script writes them): its own subscription skips them without parsing. */
  private readonly ownGrant: string;
  /** This node's name as a JSON string, the `origin` the CLAIM script writes into its grant event. */
  private readonly origin: string;

  private constructor(private readonly o: RedisStoreOptions) {
    this.node = o.node;
    this.origin = JSON.stringify(o.node);
    this.ownGrant = `{"type":"grant","origin":${this.origin},`;
    this.now = o.now ?? Date.now;
    this.P = o.prefix;
  }

  /**
   * Connects (to the primary the sentinels name, with Sentinel). Resolves once connected, or rejects
   * after timeoutMs × 4 so a server does not start against an unreachable store unnoticed. Each sentinel
   * has the same × 4 to answer: a first connection on a busy machine takes longer than a command does.
   */
  static async connect(o: RedisStoreOptions): Promise<RedisStore> {
    const s = new RedisStore(o);
    const url = o.sentinel ? await s.askSentinels(o.timeoutMs * 4) : o.url;
    s.client = s.makeClient(url);
    try {
      await s.deadline(s.client.connect(), o.timeoutMs * 4, `cannot connect to ${url}`);
    } catch (e) {
      // Stop the reconnect loop, or it would keep the process alive.
      s.closed = true;
      await s.client.disconnect().catch(() => {});
      throw e;
    }
    s.primary = url;
    return s;
  }

  private makeClient(url: string): Client {
    const c = createClient({
      url,
      disableOfflineQueue: true,
      pingInterval: 1000,
      socket: {
        connectTimeout: this.o.timeoutMs * 2,
        // Backoff up to 1 s; with Sentinel, each retry may find the primary moved.
        reconnectStrategy: (retries: number) => {
          if (this.o.sentinel && retries > 0) void this.failover('reconnecting');
          return Math.min(50 * 2 ** retries, 1000);
        },
      },
    });
    // Without a listener an 'error' event would crash the process; the status callback logs it.
    c.on('error', (e: Error) => this.o.onStatus?.('disconnected', e.message));
    c.on('ready', () => this.o.onStatus?.('connected', url));
    return c;
  }

  /** `redis://host:port` of the primary, from the first sentinel that knows it within `ms` (each connect and ask). */
  private async askSentinels(ms = this.o.timeoutMs): Promise<string> {
    const errors: string[] = [];
    for (const s of this.o.sentinel!.sentinels) {
      const c = createClient({ socket: { host: s.host, port: s.port, connectTimeout: ms, reconnectStrategy: false } });
      c.on('error', () => {});
      try {
        await this.deadline(c.connect(), ms, 'connect');
        const r = (await this.deadline(c.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.o.sentinel!.name]), ms, 'ask')) as string[] | null;
        if (r && r.length === 2) {
          const url = new URL(this.o.url);
          url.hostname = r[0]!.includes(':') ? `[${r[0]}]` : r[0]!;
          url.port = r[1]!;
          return url.toString();
        }
        errors.push(`${s.host}:${s.port}: no primary named ${this.o.sentinel!.name}`);
      } catch (e) {
        errors.push(`${s.host}:${s.port}: ${(e as Error).message}`);
      } finally {
        void c.disconnect().catch(() => {});
      }
    }
    throw new StoreUnavailable(`no sentinel named a primary: ${errors.join('; ')}`);
  }

  /** Sentinel: moves to the primary the sentinels name now, if it changed (one attempt at a time). */
  private failover(why: string): Promise<void> {
    if (!this.o.sentinel || this.closed) return Promise.resolve();
    this.failingOver ??= (async () => {
      try {
        const url = await this.askSentinels();
        if (url === this.primary || this.closed) return;
        const next = this.makeClient(url);
        try {
          await this.deadline(next.connect(), this.o.timeoutMs * 2, `cannot connect to ${url}`);
        } catch (e) {
          await next.disconnect().catch(() => {});
          throw e;
        }
        const old = this.client;
        const oldSub = this.sub;
        this.client = next;
        this.primary = url;
        this.shas.clear();
        this.sub = undefined;
        if (this.handlers) await this.listen();
        this.o.onStatus?.('failover', `${why}: primary now ${url}`);
        void old.disconnect().catch(() => {});
        void oldSub?.disconnect().catch(() => {});
      } catch {
        // The sentinels have not promoted a replica yet: the next retry or command asks again.
      } finally {
        this.failingOver = undefined;
      }
    })();
    return this.failingOver;
  }

  private deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout;
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreUnavailable(`state store: ${what}: no reply within ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Runs a script by its SHA (loading it on NOSCRIPT), within the deadline; errors become StoreUnavailable. */
  private async run(script: string, args: readonly (string | number)[]): Promise<unknown> {
    let sha = this.shas.get(script);
    if (!sha) this.shas.set(script, (sha = sha1(script)));
    // One array for the command (a grant's claim is the hot path: no spread copies of its arguments).
    const argv = ['EVALSHA', sha, '0', this.P, String(this.now())];
    for (const a of args) argv.push(typeof a === 'string' ? a : String(a));
    const c = this.client;
    try {
      return await this.deadline(
        c.sendCommand(argv).catch((e: Error) => {
          if (!/NOSCRIPT/.test(e.message)) throw e;
          return c.sendCommand(['EVAL', script, ...argv.slice(2)]);
        }),
        this.o.timeoutMs,
        'command',
      );
    } catch (e) {
      const msg = (e as Error).message;
      if (/READONLY|MASTERDOWN/.test(msg)) void this.failover(msg);
      if (e instanceof StoreUnavailable) throw e;
      throw new StoreUnavailable(`state store: ${msg}`);
    }
  }

  async findLease(service: string, scopeKey: string, family: 4 | 6): Promise<Lease | undefined> {
    const f = (await this.run(S.FIND, [scopeIndex(service, scopeKey, family)])) as Fields | null;
    return f ? leaseOf(f) : undefined;
  }

  /**
   * The CLAIM script's arguments after P and now. The lease is encoded once: the script writes its
   * grant event around this JSON itself (it was a second, escaped copy here: ≈ 1.4 KB more to encode
   * and send per grant, issue 14).
   */
  private claimArgs(lease: Lease, opts: ClaimOptions): (string | number)[] {
    const json = JSON.stringify(lease);
    return [
      lease.id,
      json,
      lease.address,
      scopeIndex(lease.service, lease.scopeKey, familyOf(lease.address)),
      lease.ttlUntil,
      lease.liveUntil,
      lease.graceUntil,
      lease.quarantineUntil,
      opts.share ? '1' : '',
      lease.service,
      lease.targets.join(','),
      portsText(lease),
      this.origin,
    ];
  }

  async claim(lease: Lease, opts: ClaimOptions = {}): Promise<boolean> {
    if ((await this.run(S.CLAIM, this.claimArgs(lease, opts))) !== 1) return false;
    await this.replicated(lease);
    return true;
  }

  async findOrClaim(lease: Lease, minRemainingMs: number, opts: ClaimOptions = {}): Promise<{ existing: Lease } | { claimed: boolean }> {
    const args = this.claimArgs(lease, opts);
    args.push(minRemainingMs);
    const [found, r] = (await this.run(S.FIND_OR_CLAIM, args)) as [number, Fields | number];
    if (found === 1) return { existing: leaseOf(r as Fields) };
    if (r !== 1) return { claimed: false };
    await this.replicated(lease);
    return { claimed: true };
  }

  /**
   * With waitReplicas, resolves once that many replicas hold the claim of `lease`; otherwise releases
   * it and throws. Replication is asynchronous: a lease answered before a failover must be on the
   * replica that takes over, or a second server could lease the same address again.
   */
  private async replicated(lease: Lease): Promise<void> {
    const want = this.o.waitReplicas ?? 0;
    if (want <= 0) return;
    const acks = Number(await this.deadline(this.client.sendCommand(['WAIT', String(want), String(this.o.timeoutMs)]), this.o.timeoutMs + 200, 'wait').catch(() => -1));
    if (acks < want) {
      await this.release(lease.id).catch(() => {});
      throw new StoreUnavailable(`state store: grant not on ${want} replica(s) within ${this.o.timeoutMs} ms (${Math.max(0, acks)} acknowledged)`);
    }
  }

  async release(id: string): Promise<void> {
    await this.run(S.RELEASE, [id]);
  }

  async get(id: string): Promise<Lease | undefined> {
    const f = (await this.run(S.GET, [id])) as Fields | null;
    return f ? leaseOf(f) : undefined;
  }

  async leasesAt(address: string): Promise<Lease[]> {
    return ((await this.run(S.RANGE, [`a:${address}`])) as Fields[]).map(leaseOf).sort(byGrant);
  }

  async list(): Promise<Lease[]> {
    return ((await this.run(S.RANGE, ['L'])) as Fields[]).map(leaseOf).sort(byGrant);
  }

  async revoke(id: string, quarantineMs: number): Promise<Lease | undefined> {
    const f = (await this.run(S.REVOKE, [id, quarantineMs])) as Fields | null;
    return f ? leaseOf(f) : undefined;
  }

  async addSource(id: string, source: string, maxHosts?: number): Promise<SourceResult> {
    return (await this.run(S.ADD_SOURCE, [id, source, maxHosts ?? '', this.node])) as SourceResult;
  }

  async hasSource(id: string, source: string): Promise<boolean> {
    return (await this.run(S.HAS_SOURCE, [id, source])) === 1;
  }

  async sources(id: string): Promise<string[]> {
    return (await this.run(S.SOURCES, [id])) as string[];
  }

  async openFlow(id: string, max?: number): Promise<boolean> {
    return (await this.run(S.OPEN_FLOW, [id, max ?? '', this.node])) === 1;
  }

  async closeFlow(id: string): Promise<void> {
    await this.run(S.CLOSE_FLOW, [id, this.node]);
  }

  async flowsByNode(id: string): Promise<Record<string, number>> {
    const flat = (await this.run(S.FLOWS, [id])) as string[];
    const out: Record<string, number> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = Number(flat[i + 1]);
    return out;
  }

  async flows(id: string): Promise<number> {
    return Object.values(await this.flowsByNode(id)).reduce((a, b) => a + b, 0);
  }

  async takeToken(key: string, qps: number, burst: number): Promise<boolean> {
    return (await this.run(S.TAKE_TOKEN, [key, qps, burst])) === 1;
  }

  async sweep(): Promise<SweepResult> {
    const [expired, purged] = (await this.run(S.SWEEP, [this.node])) as [Fields[], Fields[]];
    return { expired: expired.map(leaseOf).sort(byGrant), purged: purged.map(leaseOf).sort(byGrant) };
  }

  async countUnproductive(source: string, n: number, windowMs: number): Promise<number> {
    return Number(await this.run(S.COUNT_UNPRODUCTIVE, [source, n, windowMs]));
  }

  async blockScanner(source: string, attempts: number, blockMs: number): Promise<ScannerEntry> {
    const [a, s, u] = (await this.run(S.BLOCK_SCANNER, [source, attempts, blockMs, this.node])) as string[];
    return { source, attempts: Number(a), since: Number(s), until: Number(u) };
  }

  async scanner(source: string): Promise<ScannerEntry | undefined> {
    const h = (await this.run(S.SCANNER, [source])) as string[] | null;
    return h ? { source, attempts: Number(h[0]), since: Number(h[1]), until: Number(h[2]) } : undefined;
  }

  async scanners(): Promise<ScannerEntry[]> {
    const flat = (await this.run(S.SCANNERS, [])) as string[];
    const out: ScannerEntry[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) out.push({ source: flat[i]!, attempts: Number(flat[i + 1]), since: Number(flat[i + 2]), until: Number(flat[i + 3]) });
    return out.sort((a, b) => a.since - b.since || (a.source < b.source ? -1 : 1));
  }

  async subscribe(onEvent: (e: StateEvent) => void, onCut?: (r: CutReply) => void): Promise<void> {
    this.handlers = { onEvent, onCut };
    await this.listen();
  }

  /** A second connection in subscriber mode (node-redis resubscribes it after a reconnect). */
  private async listen(): Promise<void> {
    const h = this.handlers!;
    const sub = this.client.duplicate();
    sub.on('error', () => {});
    await this.deadline(sub.connect(), this.o.timeoutMs * 4, 'subscribe');
    await sub.subscribe(`${this.P}events`, (text) => {
      // Every grant of this node comes back here: skipped before parsing the lease it carries.
      if (text.startsWith(this.ownGrant)) return;
      let m: { type: StateEvent['type']; origin: string; ref?: string; f?: Fields[]; id?: string; ad?: string; src?: string; a?: number; s?: number; u?: number };
      try {
        m = JSON.parse(text) as typeof m;
      } catch {
        return;
      }
      if (m.origin === this.node) return;
      if (m.type === 'source') {
        if (typeof m.id === 'string' && typeof m.ad === 'string' && typeof m.src === 'string') h.onEvent({ type: 'source', origin: m.origin, leases: [], source: { id: m.id, address: m.ad, source: m.src } });
        return;
      }
      if (m.type === 'scanner') {
        if (typeof m.src === 'string') h.onEvent({ type: 'scanner', origin: m.origin, leases: [], scanner: { source: m.src, attempts: Number(m.a), since: Number(m.s), until: Number(m.u) } });
        return;
      }
      h.onEvent({ type: m.type, origin: m.origin, ref: m.ref, leases: (m.f ?? []).map((f) => leaseOf(f.map((x: unknown) => (x === null || x === false ? null : String(x))) as Fields)) });
    });
    await sub.subscribe(`${this.P}cuts:${this.node}`, (text) => {
      try {
        h.onCut?.(JSON.parse(text) as CutReply);
      } catch {
        // not a reply: ignore
      }
    });
    this.sub = sub;
  }

  async announceRevoke(leases: readonly Lease[], ref: string): Promise<number> {
    const f = leases.map((l) => [JSON.stringify(l), l.ttlUntil, l.liveUntil, l.graceUntil, l.quarantineUntil, '1']);
    const n = Number(await this.deadline(this.client.publish(`${this.P}events`, JSON.stringify({ type: 'revoke', origin: this.node, ref, f })), this.o.timeoutMs, 'publish'));
    // Our own subscription received it too, and ignores it.
    return this.sub ? Math.max(0, n - 1) : n;
  }

  async replyCut(ref: string, cut: number): Promise<void> {
    const origin = ref.slice(0, ref.lastIndexOf('#'));
    await this.deadline(this.client.publish(`${this.P}cuts:${origin}`, JSON.stringify({ ref, origin: this.node, cut } satisfies CutReply)), this.o.timeoutMs, 'publish');
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.client.disconnect().catch(() => {}), this.sub?.disconnect().catch(() => {})]);
  }
}
