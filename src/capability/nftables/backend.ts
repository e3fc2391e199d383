// The nftables data plane: DataPlane (src/capability/dataplane.ts) over a kernel table driven by one nft process.
//
// Leases become elements (ruleset.ts) with timeouts, so the kernel ends live and grace on time by
// itself; this class keeps a model of the elements it installed (which leases hold each one) so that
// leases sharing an element (an address shared on pool exhaustion) keep it until the last one goes.
// Concurrent calls are merged into one nft transaction; if a merged transaction fails, each call is
// retried alone so that one bad lease does not fail the others.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatAddress, parseAddress, parseCidr, type Cidr } from '../../net/cidr.js';
import type { Lease } from '../../state/store.js';
import type { DataPlane } from '../dataplane.js';
import { cidrText, elementText, LEASE_SETS, leaseElements, limitCommands, tableCommands, type LeaseElement, type NftFamily } from './ruleset.js';
import { NftShell } from './shell.js';

const run = promisify(execFile);

export interface NftablesOptions {
  table: string;
  family: NftFamily;
  /** Run nft inside this network namespace (`ip netns exec NAME nft …`). */
  netns?: string;
  /** Pool prefixes (IPv4 ones are enforced): new connections to them need a lease. */
  pools: readonly string[];
  /** Seconds a source stays in `seen` after its last new connection while live (≥ ttl + slack + grace). */
  seenTimeout: number;
  /** ms since the epoch. */
  now?: () => number;
  onError?: (message: string) => void;
}

interface Installed {
  set: string;
  key: string;
  data?: string;
  until: number;
  holders: Set<string>;
}

/** One call waiting for the next transaction: it adds its commands against the model (and a rollback). */
interface Op {
  build(tx: Tx): void;
  resolve(): void;
  reject(e: Error): void;
}

/**
 * A transaction being built, with the undo log of model changes. Elements are grouped per set into
 * one `add element` / `delete element` command each: nft parses one command of 1000 elements far
 * faster than 1000 commands.
 */
class Tx {
  /** Table objects (limit sets and rules) and flushes, first. */
  readonly pre: string[] = [];
  /** Elements to remove: re-added with a short timeout, then deleted (see removeCommands). */
  private readonly removals = new Map<string, { adds: string[]; keys: string[] }>();
  private readonly adds = new Map<string, Map<string, string>>();
  readonly post: string[] = [];
  private readonly undo: (() => void)[] = [];
  constructor(readonly t: string, readonly now: number) {}

  add(set: string, key: string, text: string): void {
    let m = this.adds.get(set);
    if (!m) this.adds.set(set, (m = new Map()));
    m.set(key, text);
  }

  remove(set: string, key: string, data: string | undefined): void {
    let r = this.removals.get(set);
    if (!r) this.removals.set(set, (r = { adds: [], keys: [] }));
    r.adds.push(`${key} timeout 1s${data === undefined ? '' : ' : ' + data}`);
    r.keys.push(key);
    this.adds.get(set)?.delete(key);
  }

  commands(): string[] {
    const c = [...this.pre];
    for (const [set, r] of this.removals) c.push(`add element ${this.t} ${set} { ${r.adds.join(', ')} }`);
    for (const [set, r] of this.removals) c.push(`delete element ${this.t} ${set} { ${r.keys.join(', ')} }`);
    for (const [set, m] of this.adds) if (m.size) c.push(`add element ${this.t} ${set} { ${[...m.values()].join(', ')} }`);
    return [...c, ...this.post];
  }

  /** Marks where one call's changes start, so a call that throws can be taken out. */
  mark(): () => void {
    const pre = this.pre.length;
    const post = this.post.length;
    const snapshot = new Map([...this.adds].map(([k, v]) => [k, new Map(v)]));
    const rem = new Map([...this.removals].map(([k, v]) => [k, { adds: [...v.adds], keys: [...v.keys] }]));
    const undo = this.undo.length;
    return () => {
      this.pre.length = pre;
      this.post.length = post;
      this.adds.clear();
      for (const [k, v] of snapshot) this.adds.set(k, v);
      this.removals.clear();
      for (const [k, v] of rem) this.removals.set(k, v);
      for (const f of this.undo.splice(undo).reverse()) f();
    };
  }

  onRollback(f: () => void): void {
    this.undo.push(f);
  }

  rollback(): void {
    for (const f of this.undo.reverse()) f();
  }
}

export class NftablesDataPlane implements DataPlane {
  readonly name = 'nftables';
  readonly tracksSeen = true;
  readonly t: string;
  private readonly shell: NftShell;
  private readonly now: () => number;
  private readonly elements = new Map<string, Installed>();
  private readonly leases = new Map<string, LeaseElement[]>();
  private readonly limits = new Set<number>();
  private pending: Op[] = [];
  private flushing = false;

  constructor(private readonly o: NftablesOptions) {
    this.t = `${o.family} ${o.table}`;
    this.now = o.now ?? Date.now;
    this.shell = new NftShell({ prefix: o.netns ? ['ip', 'netns', 'exec', o.netns] : [], onExit: (m) => o.onError?.(m) });
  }

  /** Creates the table (or brings an existing one, left by a crash, to this definition) and fills the pool set. */
  async start(): Promise<void> {
    const pools = this.o.pools.map((p) => parseCidr(p, false)).filter((c): c is Cidr => c !== undefined && c.family === 4);
    const fill = [`flush set ${this.t} pool`, ...(pools.length ? [`add element ${this.t} pool { ${pools.map((c) => cidrText(c)).join(', ')} }`] : [])];
    const setup = [...tableCommands({ family: this.o.family, table: this.o.table, seenTimeout: this.o.seenTimeout }), ...fill];
    try {
      await this.shell.run(setup);
    } catch (e) {
      // An existing table from an older definition (a set with other flags) cannot be amended in place.
      this.o.onError?.(`nft table ${this.t} could not be updated in place (${(e as Error).message}); recreating it`);
      await this.shell.run([`add table ${this.t}`, `delete table ${this.t}`]);
      await this.shell.run(setup);
    }
    // mc_N limits of a previous run stay in the table; their rules are in the (kept) limits chain.
    for (const name of await this.setNames()) {
      const m = /^mc_(\d+)$/.exec(name);
      if (m) this.limits.add(Number(m[1]));
    }
  }

  install(lease: Lease): Promise<void> {
    return this.enqueue((tx) => {
      if (this.leases.has(lease.id)) return;
      const els = leaseElements(lease).filter((e) => e.until > tx.now);
      for (const e of els) this.hold(tx, lease.id, e);
      this.leases.set(lease.id, els);
      tx.onRollback(() => this.leases.delete(lease.id));
    });
  }

  expire(lease: Lease): Promise<void> {
    return this.enqueue((tx) => this.drop(tx, lease.id)).catch((e: Error) => this.o.onError?.(`nft: removing lease ${lease.id} failed: ${e.message}`));
  }

  async revoke(leases: readonly Lease[]): Promise<number> {
    await this.enqueue((tx) => {
      for (const l of leases) {
        this.drop(tx, l.id);
        const addr = leaseAddress(l);
        if (!addr) continue;
        // Until the quarantine ends no new lease takes the address, so the cut may last that long.
        const ms = Math.max(1000, l.quarantineUntil - tx.now);
        tx.post.push(`add element ${this.t} revoked { ${addr} timeout ${ms}ms expires ${ms}ms }`);
      }
    });
    // Conntrack entries stay until they time out; the drop rule cuts them. nft does not count them.
    return 0;
  }

  /**
   * One transaction: every lease set is flushed and refilled from `leases`, so nothing not backed by a
   * lease survives and nothing is missing; `seen` keeps only sources of addresses still leased.
   */
  async reconcile(leases: readonly Lease[]): Promise<void> {
    const keepSeen = new Set(leases.map((l) => l.address));
    const staleSeen = (await this.listSeen()).filter(([, daddr]) => !keepSeen.has(daddr));
    await this.enqueue((tx) => {
      const before = new Map(this.elements);
      const beforeLeases = new Map(this.leases);
      tx.onRollback(() => {
        this.elements.clear();
        for (const [k, v] of before) this.elements.set(k, v);
        this.leases.clear();
        for (const [k, v] of beforeLeases) this.leases.set(k, v);
      });
      for (const s of [...LEASE_SETS, ...[...this.limits].map((n) => `mc_${n}`)]) tx.pre.push(`flush ${s.startsWith('caps') && s !== 'caps_live' && s !== 'caps_grace' ? 'map' : 'set'} ${this.t} ${s}`);
      for (const [s, d] of staleSeen) tx.remove('seen', `${s} . ${d}`, undefined);
      this.elements.clear();
      this.leases.clear();
      for (const l of leases) {
        if (l.revoked) {
          const addr = leaseAddress(l);
          const ms = l.quarantineUntil - tx.now;
          if (addr && ms > 0) tx.post.push(`add element ${this.t} revoked { ${addr} timeout ${ms}ms expires ${ms}ms }`);
          continue;
        }
        let els: LeaseElement[];
        try {
          els = leaseElements(l).filter((e) => e.until > tx.now);
        } catch (e) {
          this.o.onError?.(`nft: reconcile skips lease ${l.id}: ${(e as Error).message}`);
          continue;
        }
        for (const e of els) this.hold(tx, l.id, e, true);
        this.leases.set(l.id, els);
      }
    });
  }

  /**
   * Clean shutdown: deletes the table (the issue: "removes it on clean shutdown"; established flows
   * lose their NAT with it) and stops nft. A crash leaves the table; the next start reconciles it.
   */
  async close(): Promise<void> {
    try {
      await this.shell.run([`add table ${this.t}`, `delete table ${this.t}`]);
    } finally {
      await this.shell.close();
    }
  }

  /** Lease ids whose elements are installed (for tests and the admin API). */
  installed(): string[] {
    return [...this.leases.keys()];
  }

  private nftArgv(): string[] {
    return this.o.netns ? ['ip', 'netns', 'exec', this.o.netns, 'nft'] : ['nft'];
  }

  private hold(tx: Tx, id: string, e: LeaseElement, fresh = false): void {
    const k = `${e.set}\u0000${e.key}`;
    const cur = this.elements.get(k);
    if (e.set.startsWith('mc_')) this.ensureLimit(tx, Number(e.set.slice(3)));
    if (!cur) {
      this.elements.set(k, { set: e.set, key: e.key, data: e.data, until: e.until, holders: new Set([id]) });
      if (!fresh) tx.onRollback(() => this.elements.delete(k));
      tx.add(e.set, e.key, elementText(e, tx.now));
      return;
    }
    if (cur.data !== e.data) throw new Error(`lease ${id}: ${e.set} { ${e.key} } already leads to ${cur.data ?? '-'} (lease ${[...cur.holders].join(', ')})`);
    const { until } = cur;
    cur.holders.add(id);
    if (!fresh) tx.onRollback(() => {
      cur.holders.delete(id);
      cur.until = until;
    });
    if (e.until > cur.until) {
      cur.until = e.until;
      tx.add(e.set, e.key, elementText(e, tx.now));
    }
  }

  private drop(tx: Tx, id: string): void {
    const els = this.leases.get(id);
    if (!els) return;
    this.leases.delete(id);
    tx.onRollback(() => this.leases.set(id, els));
    for (const e of els) {
      const k = `${e.set}\u0000${e.key}`;
      const cur = this.elements.get(k);
      if (!cur || !cur.holders.has(id)) continue;
      cur.holders.delete(id);
      tx.onRollback(() => cur.holders.add(id));
      if (cur.holders.size > 0) continue;
      this.elements.delete(k);
      tx.onRollback(() => this.elements.set(k, cur));
      // After grace the kernel has usually removed it already; add-then-delete never fails on that.
      if (cur.until > tx.now) tx.remove(cur.set, cur.key, cur.data);
    }
  }

  private ensureLimit(tx: Tx, max: number): void {
    if (this.limits.has(max)) return;
    this.limits.add(max);
    tx.onRollback(() => this.limits.delete(max));
    tx.pre.push(...limitCommands(this.t, max));
  }

  private enqueue(build: (tx: Tx) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ build, resolve, reject });
      void this.flush();
    });
  }

  /** Everything queued while the previous transaction was in nft goes in the next one (batching). */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const ops = this.pending;
        this.pending = [];
        if (!(await this.attempt(ops)) && ops.length > 1) for (const op of ops) await this.attempt([op]);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** True when the ops committed (or failed alone, and were rejected). */
  private async attempt(ops: Op[]): Promise<boolean> {
    const tx = new Tx(this.t, this.now());
    const ok: Op[] = [];
    for (const op of ops) {
      const undo = tx.mark();
      try {
        op.build(tx);
        ok.push(op);
      } catch (e) {
        // A lease the backend cannot express: only that call fails; its commands are not sent.
        undo();
        op.reject(e as Error);
      }
    }
    if (ok.length === 0) return true;
    const commands = tx.commands();
    if (commands.length === 0) {
      for (const op of ok) op.resolve();
      return true;
    }
    try {
      await this.shell.run(commands);
      for (const op of ok) op.resolve();
      return true;
    } catch (e) {
      tx.rollback();
      if (ok.length > 1) return false;
      ok[0]!.reject(e as Error);
      return true;
    }
  }

  private async nftJson(...args: string[]): Promise<unknown> {
    const [cmd, ...rest] = this.nftArgv();
    const { stdout } = await run(cmd!, [...rest, '-j', ...args], { maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(stdout) as unknown;
  }

  private async setNames(): Promise<string[]> {
    const j = (await this.nftJson('list', 'sets', this.o.family)) as { nftables?: Array<{ set?: { name: string; table: string } }> };
    return (j.nftables ?? []).flatMap((x) => (x.set && x.set.table === this.o.table ? [x.set.name] : []));
  }

  /** (source, address) pairs in `seen`, read with `nft -j` (JSON is fine for reading; see NOTES). */
  private async listSeen(): Promise<Array<[string, string]>> {
    const j = (await this.nftJson('list', 'set', this.o.family, this.o.table, 'seen')) as { nftables?: Array<{ set?: { elem?: unknown[] } }> };
    const out: Array<[string, string]> = [];
    for (const x of j.nftables ?? []) {
      for (const el of x.set?.elem ?? []) {
        const v = (el as { elem?: { val?: unknown } }).elem?.val ?? el;
        const c = (v as { concat?: unknown[] }).concat;
        if (Array.isArray(c) && typeof c[0] === 'string' && typeof c[1] === 'string') out.push([c[0], c[1]]);
      }
    }
    return out;
  }
}

/** The lease's public address when the kernel backend can hold it (IPv4), canonical. */
function leaseAddress(l: Lease): string | undefined {
  const a = parseAddress(l.address);
  return a && a.family === 4 ? formatAddress(a) : undefined;
}
