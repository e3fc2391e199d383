// UPDATE with `workers: N`: one worker owns every zone's updates (it writes the journals and sends NOTIFY,
// src/transfer/primary.ts); the others forward UPDATEs to it through the cluster primary, and every worker
// catches up from the journal before the answer leaves, so a query to any worker after it sees the change.
//
//   receiving worker ──update-forward──► cluster primary ──update-apply──► owner: apply, journal + fsync, swap
//   owner ──update-applied (serial)──► primary ──update-sync──► every other ready worker: journal → swap
//   each ──update-synced──► primary ──update-done (rcode)──► receiving worker answers
// An UPDATE the owner receives itself is applied there and spread the same way (update-spread). While the
// owner restarts after a crash (the primary forks its successor with OWNER_ENV), forwarded UPDATEs wait for it.
import { Rcode } from '../wire/types.js';

/** The environment variable the cluster primary sets for the worker that owns updates and journals. */
export const OWNER_ENV = 'FLUXDNS_UPDATE_OWNER';

/** True in the process that applies updates: the only process, or the worker the primary forked as owner. */
export function ownsUpdates(isWorker: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return !isWorker || env[OWNER_ENV] === '1';
}

/** The answer to one UPDATE: its rcode, why when not NOERROR, and the new serial when it changed the zone. */
export interface UpdateVerdict {
  rcode: number;
  reason?: string;
  serial?: number;
}

/** Messages between workers and the cluster primary about updates (JSON over the cluster channel: bytes as base64). */
export type UpdateIpc =
  /** receiving worker → primary: apply this UPDATE (the receiver checked the access list and TSIG). */
  | { type: 'update-forward'; id: number; zone: string; raw: string; client: string }
  /** primary → owner. */
  | { type: 'update-apply'; id: number; zone: string; raw: string; client: string }
  /** owner → primary: the verdict of an update-apply, journaled and synced when it carries a serial. */
  | { type: 'update-applied'; id: number; zone: string; verdict: UpdateVerdict }
  /** owner → primary: an UPDATE it received itself was journaled: bring the other workers up. */
  | { type: 'update-spread'; id: number; zone: string }
  /** primary → a worker: catch zone (every zone when absent) up with its journal. */
  | { type: 'update-sync'; id: number; zone?: string }
  /** worker → primary: caught up (or why not). */
  | { type: 'update-synced'; id: number; error?: string }
  /** primary → receiving worker (or the owner after update-spread). */
  | { type: 'update-done'; id: number; verdict: UpdateVerdict };

const TYPES = new Set(['update-forward', 'update-apply', 'update-applied', 'update-spread', 'update-sync', 'update-synced', 'update-done']);

export function isUpdateIpc(m: unknown): m is UpdateIpc {
  return typeof m === 'object' && m !== null && TYPES.has((m as { type?: unknown }).type as string);
}

export const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
export const fromBase64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** How long a worker waits for the owner's verdict before answering SERVFAIL (the owner may be restarting). */
export const FORWARD_TIMEOUT_MS = 30000;
/** How long the primary waits for a worker to catch up before answering anyway (the update is durable). */
export const SYNC_TIMEOUT_MS = 10000;

/** A worker's end: forwards UPDATEs and asks for spreads; settles them when the primary answers. */
export class WorkerUpdateLink {
  private next = 1;
  private readonly pending = new Map<number, { done: (v: UpdateVerdict) => void; timer: NodeJS.Timeout }>();

  constructor(
    /** This worker applies updates itself (the owner); the others forward. */
    readonly owner: boolean,
    private readonly send: (m: UpdateIpc) => void,
    private readonly timeoutMs = FORWARD_TIMEOUT_MS,
  ) {}

  private ask(make: (id: number) => UpdateIpc): Promise<UpdateVerdict> {
    const id = this.next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, { rcode: Rcode.SERVFAIL, reason: `no verdict from the update owner in ${this.timeoutMs / 1000} s` }), this.timeoutMs);
      this.pending.set(id, { done: resolve, timer });
      try {
        this.send(make(id));
      } catch (e) {
        this.settle(id, { rcode: Rcode.SERVFAIL, reason: `cannot reach the cluster primary: ${(e as Error).message}` });
      }
    });
  }

  /** A non-owner's UPDATE, applied by the owner; resolves once every worker serves the result. */
  forward(zone: string, raw: Uint8Array, client: string): Promise<UpdateVerdict> {
    return this.ask((id) => ({ type: 'update-forward', id, zone, raw: toBase64(raw), client }));
  }

  /** The owner journaled a new version of `zone`: resolves once every other worker serves it. */
  async spread(zone: string): Promise<void> {
    await this.ask((id) => ({ type: 'update-spread', id, zone }));
  }

  /** An update-done from the primary. */
  settle(id: number, verdict: UpdateVerdict): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.done(verdict);
  }

  /** The primary went away: nothing pending will be answered. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, { rcode: Rcode.SERVFAIL, reason: 'the cluster primary went away' });
  }
}

/** A worker as the primary sees it. */
export interface UpdatePeer {
  readonly id: number;
  send(m: UpdateIpc): unknown;
}

export interface CoordinatorOptions {
  /** The workers serving now (ready): each catches up before an answer leaves. */
  peers: () => readonly UpdatePeer[];
  /** The ready worker that owns updates, or undefined while it (re)starts. */
  owner: () => UpdatePeer | undefined;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  syncTimeoutMs?: number;
  /** The receiving workers' wait (WorkerUpdateLink's timeout). */
  forwardTimeoutMs?: number;
  nowMs?: () => number;
}

/** The cluster primary's part: routes UPDATEs to the owner and waits for every worker to catch up before answering. */
export class UpdateCoordinator {
  private next = 1;
  /** update-apply id → who asked. */
  private readonly applying = new Map<number, { from: UpdatePeer; id: number; owner: number }>();
  /** update-sync id → workers still to answer, and what to do when none is left. */
  private readonly syncing = new Map<number, { waiting: Set<number>; done: () => void; timer: NodeJS.Timeout; zone?: string }>();

  /** UPDATEs that came while no owner was ready (it restarts after a crash), oldest first. */
  private readonly queued: { from: UpdatePeer; m: Extract<UpdateIpc, { type: 'update-forward' }>; at: number }[] = [];
  private readonly now: () => number;
  /** A queued UPDATE older than this is answered SERVFAIL instead of applied (its receiver stopped waiting). */
  private readonly waitMs: number;

  constructor(private readonly opts: CoordinatorOptions) {
    this.now = opts.nowMs ?? Date.now;
    // Less than the receiving worker's own wait, so a queued UPDATE is applied only while it still waits.
    this.waitMs = (opts.forwardTimeoutMs ?? FORWARD_TIMEOUT_MS) - 2000;
  }

  onMessage(from: UpdatePeer, m: UpdateIpc): void {
    switch (m.type) {
      case 'update-forward': {
        const owner = this.opts.owner();
        // The owner is (re)starting: the UPDATE waits for it, as long as the receiving worker waits.
        if (owner) this.apply(owner, from, m);
        else this.queued.push({ from, m, at: this.now() });
        return;
      }
      case 'update-applied': {
        const a = this.applying.get(m.id);
        this.applying.delete(m.id);
        // Its receiver is gone: nobody to answer, but the other workers still catch up.
        const answer = () => a?.from.send({ type: 'update-done', id: a.id, verdict: m.verdict });
        if (m.verdict.serial === undefined) answer();
        else this.sync(m.zone, from.id, answer);
        return;
      }
      case 'update-spread':
        this.sync(m.zone, from.id, () => from.send({ type: 'update-done', id: m.id, verdict: { rcode: Rcode.NOERROR } }));
        return;
      case 'update-synced':
        if (m.error !== undefined) this.opts.log('error', 'worker could not catch up with the journal; it serves an older version until restarted', { worker: from.id, err: m.error });
        this.acked(m.id, from.id);
        return;
      default:
        return;
    }
  }

  /**
   * A worker became ready: it loaded zone files and journals a moment ago, and updates since then reach it
   * now. Every other worker catches up too: a new owner may have replayed an update its crashed
   * predecessor journaled but had not spread (never acknowledged, but served by the owner from now on).
   */
  onReady(w: UpdatePeer): void {
    const peers = this.opts.peers();
    for (const p of peers.some((x) => x.id === w.id) ? peers : [...peers, w]) p.send({ type: 'update-sync', id: 0 });
    const owner = this.opts.owner();
    if (owner?.id !== w.id) return;
    const queued = this.queued.splice(0);
    // One the receiving worker gave up on (it answered SERVFAIL) is not applied late.
    const fresh = this.now() - this.waitMs;
    for (const q of queued) {
      if (q.at >= fresh) this.apply(owner, q.from, q.m);
      else q.from.send({ type: 'update-done', id: q.m.id, verdict: { rcode: Rcode.SERVFAIL, reason: 'the worker that owns updates did not come back in time' } });
    }
  }

  private apply(owner: UpdatePeer, from: UpdatePeer, m: Extract<UpdateIpc, { type: 'update-forward' }>): void {
    const id = this.next++;
    this.applying.set(id, { from, id: m.id, owner: owner.id });
    owner.send({ type: 'update-apply', id, zone: m.zone, raw: m.raw, client: m.client });
  }

  /** A worker is gone: nothing waits for it; UPDATEs it was applying as owner get SERVFAIL (maybe journaled, never acknowledged). */
  onExit(id: number): void {
    for (let i = this.queued.length - 1; i >= 0; i--) if (this.queued[i]!.from.id === id) this.queued.splice(i, 1);
    for (const [sid, s] of this.syncing) if (s.waiting.has(id)) this.acked(sid, id);
    for (const [aid, a] of this.applying) {
      if (a.owner !== id && a.from.id !== id) continue;
      this.applying.delete(aid);
      if (a.from.id !== id) a.from.send({ type: 'update-done', id: a.id, verdict: { rcode: Rcode.SERVFAIL, reason: 'the worker that owns updates stopped while applying it' } });
    }
  }

  private sync(zone: string, except: number, done: () => void): void {
    const id = this.next++;
    const targets = this.opts.peers().filter((p) => p.id !== except);
    if (targets.length === 0) return done();
    const timeoutMs = this.opts.syncTimeoutMs ?? SYNC_TIMEOUT_MS;
    const timer = setTimeout(() => {
      const s = this.syncing.get(id);
      if (!s) return;
      this.opts.log('warn', 'workers did not catch up with an update in time; answered anyway (it is journaled)', { zone, workers: [...s.waiting], ms: timeoutMs });
      this.syncing.delete(id);
      s.done();
    }, timeoutMs);
    this.syncing.set(id, { waiting: new Set(targets.map((p) => p.id)), done, timer, zone });
    for (const p of targets) p.send({ type: 'update-sync', id, zone });
  }

  private acked(id: number, worker: number): void {
    const s = this.syncing.get(id);
    if (!s) return;
    s.waiting.delete(worker);
    if (s.waiting.size > 0) return;
    clearTimeout(s.timer);
    this.syncing.delete(id);
    s.done();
  }
}
