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
import { parseTarget } from '../schema.js';
import { cidrText, familiesOf, hostLimitCommands, hostLimitRemoval, leaseElements, leaseSets, limitCommands, setName, srcxCommands, srcxNames, tableCommands, type HoneypotTarget, type LeaseElement, type NftFamily } from './ruleset.js';
import { loadNativeNft, NftLib, NftNetlink } from './lib.js';
import { NlEncodeError, netlinkSet, type NlOp } from './netlink.js';
import { NftShell } from './shell.js';

const run = promisify(execFile);

export interface NftablesOptions {
  table: string;
  family: NftFamily;
  /** Run nft inside this network namespace (`ip netns exec NAME nft …`). */
  netns?: string;
  /** Pool prefixes (IPv6 ones in an `inet` table only): new connections to them need a lease. */
  pools: readonly string[];
  /** `capabilities.honeypot` ("IP" or "IP:PORT"): where new flows to unleased pool addresses go; dropped when unset. */
  honeypot?: string;
  /**
   * Scanner detection (seed 000 §4): unproductive attempts (new flows to pool addresses no lease
   * admits, and flows of honeypot leases) are counted per source in the kernel and reported here,
   * read every `pollMs`. Undefined: not counted.
   */
  probes?: { onProbes: (source: string, n: number) => void; pollMs?: number; timeoutSeconds: number; active?: () => boolean };
  /**
   * With a shared store: called for each (source, pool address) pair the kernel adds to `seen` (a
   * host's first flow to a live lease), read every `seenPollMs` (1000), so the store records the host
   * and other gateways admit it in grace too (issue 14: `seen` is shared).
   */
  onSeen?: (source: string, address: string) => void;
  seenPollMs?: number;
  /** Seconds a source stays in `seen` after its last new connection while live (≥ ttl + slack + grace). */
  seenTimeout: number;
  /** ms since the epoch. */
  now?: () => number;
  /**
   * auto: set elements (grants, expiries, revocations) through raw netlink, the rest through
   * libnftables (both in the addon); libnftables: everything as nft text through libnftables;
   * nft: a long-lived `nft -i` (the fallback when the addon is missing).
   */
  driver?: 'auto' | 'libnftables' | 'nft';
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

/** An element to add: written with `timeout` (and `expires`, which also refreshes one that exists). */
interface AddEl {
  data?: string;
  ms: number;
  expires: boolean;
}

/**
 * A transaction being built, with the undo log of model changes. Elements are grouped per set into
 * one `add element` / `delete element` command (or netlink message) each: nft parses one command of
 * 1000 elements far faster than 1000 commands.
 */
class Tx {
  /** Table objects (limit sets and rules) and flushes, first: text only (libnftables or nft -i). */
  readonly pre: string[] = [];
  /** Elements to remove: re-added with a short timeout, then deleted (see commands()). */
  private readonly removals = new Map<string, Array<{ key: string; data?: string }>>();
  private readonly adds = new Map<string, Map<string, AddEl>>();
  /** Text commands after the elements (host chains' removal on reconcile). */
  readonly post: string[] = [];
  private readonly undo: (() => void)[] = [];
  constructor(readonly t: string, readonly now: number) {}

  /** Inverse of each add/remove so far, so mark() costs nothing per call (a merged batch has many). */
  private readonly journal: (() => void)[] = [];

  add(set: string, key: string, el: AddEl): void {
    let m = this.adds.get(set);
    if (!m) this.adds.set(set, (m = new Map()));
    const prev = m.get(key);
    m.set(key, el);
    const map = m;
    this.journal.push(() => (prev === undefined ? map.delete(key) : map.set(key, prev)));
  }

  remove(set: string, key: string, data: string | undefined): void {
    let r = this.removals.get(set);
    if (!r) this.removals.set(set, (r = []));
    r.push({ key, data });
    const m = this.adds.get(set);
    const prev = m?.get(key);
    m?.delete(key);
    const list = r;
    this.journal.push(() => {
      list.pop();
      if (prev !== undefined) m!.set(key, prev);
    });
  }

  /** The transaction as nft commands. After grace the kernel has usually removed an element already: add-then-delete never fails on that. */
  commands(): string[] {
    const c = [...this.pre];
    for (const [set, r] of this.removals) if (r.length) c.push(`add element ${this.t} ${set} { ${r.map((e) => `${e.key} timeout 1s${e.data === undefined ? '' : ' : ' + e.data}`).join(', ')} }`);
    for (const [set, r] of this.removals) if (r.length) c.push(`delete element ${this.t} ${set} { ${r.map((e) => e.key).join(', ')} }`);
    for (const [set, m] of this.adds) {
      if (m.size) c.push(`add element ${this.t} ${set} { ${[...m].map(([k, e]) => `${k} timeout ${e.ms}ms${e.expires ? ` expires ${e.ms}ms` : ''}${e.data === undefined ? '' : ' : ' + e.data}`).join(', ')} }`);
    }
    return [...c, ...this.post];
  }

  /** The same as netlink element operations, or undefined when it holds text commands (or a set netlink does not know). */
  netlinkOps(): NlOp[] | undefined {
    if (this.pre.length || this.post.length) return undefined;
    const ops: NlOp[] = [];
    for (const [set, r] of this.removals) if (r.length) ops.push({ kind: 'add', set, elements: r.map((e) => ({ key: e.key, data: e.data, timeoutMs: 1000 })) });
    for (const [set, r] of this.removals) if (r.length) ops.push({ kind: 'delete', set, elements: r.map((e) => ({ key: e.key })) });
    for (const [set, m] of this.adds) if (m.size) ops.push({ kind: 'add', set, elements: [...m].map(([key, e]) => ({ key, data: e.data, timeoutMs: e.ms, expiresMs: e.expires ? e.ms : undefined })) });
    return ops.every((o) => netlinkSet(o.set)) ? ops : undefined;
  }

  /** Marks where one call's changes start, so a call that throws can be taken out. */
  mark(): () => void {
    const pre = this.pre.length;
    const post = this.post.length;
    const journal = this.journal.length;
    const undo = this.undo.length;
    return () => {
      this.pre.length = pre;
      this.post.length = post;
      for (const f of this.journal.splice(journal).reverse()) f();
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

/** Milliseconds until `until`, at least 1 s (nft's timeouts are whole and must be positive). */
const msUntil = (until: number, now: number) => Math.max(1000, Math.ceil(until - now));

export class NftablesDataPlane implements DataPlane {
  readonly name = 'nftables';
  readonly tracksSeen = true;
  readonly t: string;
  /** libnftables in this process when the addon loads (no process per transaction), else one `nft -i`. */
  private readonly shell: NftShell | NftLib;
  /** Set-element transactions (the grant's hot path) over raw netlink, when the addon has it. */
  private readonly nl?: NftNetlink;
  /** Which of them, for the log. */
  readonly driver: string;
  /**
   * A second libnftables context for reads (the probe counters every second, `seen` on reconcile):
   * a listing runs beside a grant's transaction instead of in front of it.
   */
  private readonly reader?: NftLib;
  private readonly now: () => number;
  private readonly elements = new Map<string, Installed>();
  private readonly leases = new Map<string, LeaseElement[]>();
  /** mc_N / mc6_N limit sets created so far (with their rules). */
  private readonly limits = new Set<string>();
  /** caps_src_x_L / caps_src_port_x_L maps (and their srcx rules) created so far. */
  private readonly srcx = new Set<string>();
  /** Leases whose host-limit chain and set exist (maxHosts). */
  private readonly hostChains = new Set<string>();
  private pools: readonly string[];
  private honeypot?: string;
  private probeTimer?: NodeJS.Timeout;
  private readonly probeCounts = new Map<string, number>();
  private polling = false;
  /** True while scanner detection is off: the next read after it turns on only takes a baseline. */
  private probesIdle = false;
  private seenTimer?: NodeJS.Timeout;
  /** `seen` pairs ("source address") already reported or added from another node. */
  private readonly seenKnown = new Set<string>();
  private seenPolling = false;
  private pending: Op[] = [];
  private flushing = false;

  constructor(private readonly o: NftablesOptions) {
    this.t = `${o.family} ${o.table}`;
    this.now = o.now ?? Date.now;
    let lib: NftLib | undefined;
    const native = o.driver === 'nft' ? { error: 'nft -i requested' } : loadNativeNft();
    if (native.addon) {
      try {
        lib = new NftLib(native.addon, o.netns);
      } catch (e) {
        native.error = (e as Error).message;
      }
    }
    if (lib) {
      try {
        this.reader = new NftLib(native.addon!, o.netns);
      } catch {
        // reads then share the writer's context
      }
    }
    this.shell = lib ?? new NftShell({ prefix: o.netns ? ['ip', 'netns', 'exec', o.netns] : [], onExit: (m) => o.onError?.(m) });
    let nlError: string | undefined;
    if (lib && (o.driver ?? 'auto') === 'auto') {
      try {
        this.nl = new NftNetlink(native.addon!, o.family, o.table, o.netns);
      } catch (e) {
        nlError = (e as Error).message;
      }
    }
    this.driver = this.nl ? 'netlink + libnftables' : lib ? `libnftables${nlError ? ` (no netlink: ${nlError})` : ''}` : `nft -i (${native.error ?? 'no addon'})`;
    this.pools = o.pools;
    this.honeypot = o.honeypot;
  }

  /** The table definition and the pool sets' content for the current pools and honeypot, as one transaction. */
  private setupCommands(): string[] {
    const fams = familiesOf(this.o.family);
    const pools = this.pools.map((p) => parseCidr(p, false)).filter((c): c is Cidr => c !== undefined && fams.includes(c.family));
    let honeypot: HoneypotTarget | undefined;
    if (this.honeypot !== undefined) {
      const h = parseTarget(this.honeypot);
      const a = h ? parseAddress(h.host) : undefined;
      if (a) honeypot = { host: formatAddress(a), port: h!.port };
    }
    const fill = fams.flatMap((f) => {
      const mine = pools.filter((c) => c.family === f);
      const set = setName('pool', f);
      return [`flush set ${this.t} ${set}`, ...(mine.length ? [`add element ${this.t} ${set} { ${mine.map((c) => cidrText(c)).join(', ')} }`] : [])];
    });
    return [...tableCommands({ family: this.o.family, table: this.o.table, seenTimeout: this.o.seenTimeout, honeypot, probeTimeout: this.o.probes?.timeoutSeconds }), ...fill];
  }

  /**
   * A reload: the pools (and the honeypot) now in force are written to the kernel in one transaction
   * (the pool sets are flushed and refilled, the chains rebuilt); leases are not touched.
   */
  async update(o: { pools: readonly string[]; honeypot?: string }): Promise<void> {
    const before = { pools: this.pools, honeypot: this.honeypot };
    this.pools = o.pools;
    this.honeypot = o.honeypot;
    try {
      await this.shell.run(this.setupCommands());
    } catch (e) {
      this.pools = before.pools;
      this.honeypot = before.honeypot;
      throw e;
    }
  }

  /** Creates the table (or brings an existing one, left by a crash, to this definition) and fills the pool set. */
  async start(): Promise<void> {
    const setup = this.setupCommands();
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
      if (/^mc6?_\d+$/.test(name)) this.limits.add(name);
      if (SRCX.test(name)) this.srcx.add(name);
    }
    if (this.o.probes) {
      const every = this.o.probes.pollMs ?? 1000;
      this.probeTimer = setInterval(() => void this.pollProbes(), every);
      this.probeTimer.unref();
    }
    if (this.o.onSeen) {
      this.seenTimer = setInterval(() => void this.pollSeen(), this.o.seenPollMs ?? 1000);
      this.seenTimer.unref();
    }
  }

  /**
   * Another node recorded `source` as a host of the lease at `address`: admit it here in grace as
   * well, for as long as a host the kernel saw itself would be.
   */
  async addSeen(address: string, source: string): Promise<void> {
    const d = parseAddress(address);
    const a = parseAddress(source);
    if (!a || !d || a.family !== d.family || !familiesOf(this.o.family).includes(a.family)) return;
    const key = `${formatAddress(a)} ${formatAddress(d)}`;
    this.seenKnown.add(key);
    await this.enqueue((tx) => {
      tx.add(setName('seen', a.family), `${formatAddress(a)} . ${formatAddress(d)}`, { ms: this.o.seenTimeout * 1000, expires: false });
    });
  }

  /** Reports the `seen` pairs the kernel added since the last read (see `onSeen`). */
  private async pollSeen(): Promise<void> {
    if (this.seenPolling || !this.o.onSeen) return;
    this.seenPolling = true;
    try {
      const now = new Set<string>();
      for (const [src, daddr] of await this.listSeen()) {
        const key = `${src} ${daddr}`;
        now.add(key);
        if (this.seenKnown.has(key)) continue;
        this.seenKnown.add(key);
        this.o.onSeen(src, daddr);
      }
      // A pair that timed out of the kernel set and comes back is reported again.
      for (const k of this.seenKnown) if (!now.has(k)) this.seenKnown.delete(k);
    } catch (e) {
      this.o.onError?.(`nft: reading the seen set failed: ${(e as Error).message}`);
    } finally {
      this.seenPolling = false;
    }
  }

  install(lease: Lease): Promise<void> {
    return this.enqueue((tx) => {
      if (this.leases.has(lease.id)) return;
      const ahead = this.aheadElements?.id === lease.id ? this.aheadElements.els : undefined;
      this.aheadElements = undefined;
      const els = (ahead ?? leaseElements(lease, this.o.family)).filter((e) => e.until > tx.now);
      if (lease.maxHosts !== undefined && els.length > 0) this.addHostChain(tx, lease);
      for (const e of els) this.hold(tx, lease.id, e);
      this.leases.set(lease.id, els);
      tx.onRollback(() => this.leases.delete(lease.id));
    });
  }

  /**
   * No element of the lease is in the kernel for another lease (the address and ports are not in
   * use here, nor its limits): an install made ahead of the store's claim and taken back by expire()
   * adds and removes only its own elements.
   */
  canInstallAhead(lease: Lease): boolean {
    // maxHosts: a host chain per lease, and on an address that turns out shared the first lease's
    // hostlim element stays in force (hold()): taking back a refused one could leave the winner without.
    if (this.leases.has(lease.id) || lease.maxHosts !== undefined) return false;
    let els: LeaseElement[];
    try {
      els = leaseElements(lease, this.o.family);
    } catch {
      return false;
    }
    for (const e of els) if (this.elements.has(`${e.set}\u0000${e.key}`)) return false;
    this.aheadElements = { id: lease.id, els };
    return true;
  }
  /** The elements canInstallAhead computed, for the install that follows it (not computed twice). */
  private aheadElements?: { id: string; els: LeaseElement[] };

  expire(lease: Lease): Promise<void> {
    return this.enqueue((tx) => this.drop(tx, lease.id)).catch((e: Error) => this.o.onError?.(`nft: removing lease ${lease.id} failed: ${e.message}`));
  }

  async revoke(leases: readonly Lease[]): Promise<number> {
    await this.enqueue((tx) => {
      for (const l of leases) {
        this.drop(tx, l.id);
        const addr = leaseAddress(l, this.o.family);
        if (!addr) continue;
        // Until the quarantine ends no new lease takes the address, so the cut may last that long.
        tx.add(setName('revoked', addr.includes(':') ? 6 : 4), addr, { ms: msUntil(l.quarantineUntil, tx.now), expires: true });
      }
    });
    // The established flows: their conntrack entries are deleted (and counted); a packet that arrives
    // afterwards makes a new entry, which `ct original … @revoked` drops.
    let cut = 0;
    for (const addr of new Set(leases.map((l) => leaseAddress(l, this.o.family)).filter((a): a is string => a !== undefined))) cut += await this.deleteConntrack(addr);
    return cut;
  }

  /** Blocks a scanner's new flows to the pool in the kernel until `until` (ms since the epoch). */
  async blockScanner(source: string, until: number): Promise<void> {
    const a = parseAddress(source);
    if (!a || !familiesOf(this.o.family).includes(a.family)) return;
    await this.enqueue((tx) => {
      tx.add(setName('scanners', a.family), formatAddress(a), { ms: msUntil(until, tx.now), expires: true });
    });
  }

  /** `conntrack -D -d ADDR` in the table's namespace: the number of entries deleted. */
  private async deleteConntrack(addr: string): Promise<number> {
    const argv = [...(this.o.netns ? ['ip', 'netns', 'exec', this.o.netns] : []), 'conntrack', '-D', '-f', addr.includes(':') ? 'ipv6' : 'ipv4', '-d', addr];
    let text: string;
    try {
      const r = await run(argv[0]!, argv.slice(1));
      text = r.stdout + r.stderr;
    } catch (e) {
      // conntrack exits 1 when nothing matched ("0 flow entries have been deleted").
      const x = e as { stdout?: string; stderr?: string; message: string };
      text = `${x.stdout ?? ''}${x.stderr ?? ''}`;
      if (!/flow entries have been deleted/.test(text)) {
        this.o.onError?.(`conntrack -D -d ${addr} failed: ${x.message}`);
        return 0;
      }
    }
    return Number(/(\d+) flow entries have been deleted/.exec(text)?.[1] ?? 0);
  }

  /**
   * Reads the kernel's per-source counters of unproductive attempts and reports what grew since the
   * last read (an element that timed out and came back starts from 0 again).
   */
  private async pollProbes(): Promise<void> {
    if (this.polling || !this.o.probes) return;
    if (this.o.probes.active?.() === false) {
      this.probesIdle = true;
      return;
    }
    // Turned on (by a reload) after a time off: the counters the kernel kept meanwhile are the
    // baseline, not attempts to report.
    const baseline = this.probesIdle;
    this.probesIdle = false;
    this.polling = true;
    try {
      const seen = new Set<string>();
      for (const f of familiesOf(this.o.family)) {
        const j = (await this.nftJson('list', 'set', this.o.family, this.o.table, setName('probes', f))) as { nftables?: Array<{ set?: { elem?: unknown[] } }> };
        for (const x of j.nftables ?? []) {
          for (const el of x.set?.elem ?? []) {
            const e = (el as { elem?: { val?: unknown; counter?: { packets?: number } } }).elem;
            if (!e || typeof e.val !== 'string' || typeof e.counter?.packets !== 'number') continue;
            seen.add(e.val);
            const before = this.probeCounts.get(e.val) ?? 0;
            const now = e.counter.packets;
            const grew = now >= before ? now - before : now;
            this.probeCounts.set(e.val, now);
            if (grew > 0 && !baseline) this.o.probes.onProbes(e.val, grew);
          }
        }
      }
      for (const k of [...this.probeCounts.keys()]) if (!seen.has(k)) this.probeCounts.delete(k);
    } catch (e) {
      this.o.onError?.(`nft: reading the probe counters failed: ${(e as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  /**
   * One transaction: every lease set is flushed and refilled from `leases`, so nothing not backed by a
   * lease survives and nothing is missing; `seen` keeps only sources of addresses still leased.
   */
  async reconcile(leases: readonly Lease[]): Promise<void> {
    const keepSeen = new Set(leases.map((l) => l.address));
    const staleSeen = (await this.listSeen()).filter(([, daddr]) => !keepSeen.has(daddr));
    const staleChains = (await this.chainNames()).flatMap((c) => (/^hl_[0-9a-f]+$/.test(c) ? [c.slice(3)] : []));
    await this.enqueue((tx) => {
      const before = new Map(this.elements);
      const beforeLeases = new Map(this.leases);
      tx.onRollback(() => {
        this.elements.clear();
        for (const [k, v] of before) this.elements.set(k, v);
        this.leases.clear();
        for (const [k, v] of beforeLeases) this.leases.set(k, v);
      });
      for (const s of leaseSets(this.o.family)) tx.pre.push(`flush ${s.kind} ${this.t} ${s.name}`);
      for (const s of this.limits) tx.pre.push(`flush set ${this.t} ${s}`);
      for (const s of this.srcx) tx.pre.push(`flush map ${this.t} ${s}`);
      for (const [s, d] of staleSeen) tx.remove(setName('seen', s.includes(':') ? 6 : 4), `${s} . ${d}`, undefined);
      this.elements.clear();
      this.leases.clear();
      const hostChains = new Set(this.hostChains);
      this.hostChains.clear();
      tx.onRollback(() => {
        this.hostChains.clear();
        for (const id of hostChains) this.hostChains.add(id);
      });
      const keep = new Set<string>();
      for (const l of leases) {
        if (l.revoked) {
          const addr = leaseAddress(l, this.o.family);
          const ms = l.quarantineUntil - tx.now;
          if (addr && ms > 0) tx.add(setName('revoked', addr.includes(':') ? 6 : 4), addr, { ms: Math.ceil(ms), expires: true });
          continue;
        }
        let els: LeaseElement[];
        try {
          els = leaseElements(l, this.o.family).filter((e) => e.until > tx.now);
        } catch (e) {
          this.o.onError?.(`nft: reconcile skips lease ${l.id}: ${(e as Error).message}`);
          continue;
        }
        if (l.maxHosts !== undefined && els.length > 0) {
          this.addHostChain(tx, l);
          keep.add(l.id);
        }
        for (const e of els) this.hold(tx, l.id, e, true);
        this.leases.set(l.id, els);
      }
      // Host chains of leases no longer listed (a previous run's): unreferenced once hostlim is flushed.
      for (const id of new Set([...hostChains, ...staleChains])) if (!keep.has(id)) tx.post.push(...hostLimitRemoval(this.t, id));
    });
  }

  /**
   * Clean shutdown: deletes the table (the issue: "removes it on clean shutdown"; established flows
   * lose their NAT with it) and stops nft. A crash leaves the table; the next start reconciles it.
   */
  async close(): Promise<void> {
    if (this.probeTimer) clearInterval(this.probeTimer);
    if (this.seenTimer) clearInterval(this.seenTimer);
    try {
      await this.shell.run([`add table ${this.t}`, `delete table ${this.t}`]);
    } finally {
      await this.nl?.close();
      await this.shell.close();
      await this.reader?.close();
    }
  }

  /** Lease ids whose elements are installed (for tests and the admin API). */
  installed(): string[] {
    return [...this.leases.keys()];
  }

  private nftArgv(): string[] {
    return this.o.netns ? ['ip', 'netns', 'exec', this.o.netns, 'nft'] : ['nft'];
  }

  /** The lease's host set and chain (maxHosts), created before its hostlim element in the same transaction. */
  private addHostChain(tx: Tx, lease: Lease): void {
    tx.pre.push(...hostLimitCommands(this.t, lease, tx.now));
    this.hostChains.add(lease.id);
    tx.onRollback(() => this.hostChains.delete(lease.id));
  }

  private hold(tx: Tx, id: string, e: LeaseElement, fresh = false): void {
    const k = `${e.set}\u0000${e.key}`;
    const cur = this.elements.get(k);
    if (/^mc6?_\d+$/.test(e.set)) this.ensureLimit(tx, e.set);
    if (SRCX.test(e.set)) this.ensureSrcx(tx, e.set);
    // An address shared on exhaustion: the first lease's host limit stays in force for the key.
    if (cur && cur.data !== e.data && /^hostlim6?$/.test(e.set)) return;
    if (!cur) {
      this.elements.set(k, { set: e.set, key: e.key, data: e.data, until: e.until, holders: new Set([id]) });
      if (!fresh) tx.onRollback(() => this.elements.delete(k));
      tx.add(e.set, e.key, { data: e.data, ms: msUntil(e.until, tx.now), expires: true });
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
      tx.add(e.set, e.key, { data: e.data, ms: msUntil(e.until, tx.now), expires: true });
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
      // A jump to a host chain is always removed: an element expired but not yet collected still
      // references the chain.
      if (cur.until > tx.now || /^hostlim6?$/.test(cur.set)) tx.remove(cur.set, cur.key, cur.data);
    }
    if (this.hostChains.has(id)) {
      this.hostChains.delete(id);
      tx.onRollback(() => this.hostChains.add(id));
      this.dropHostChainLater(id);
    }
  }

  /**
   * A lease's host chain and set go in a transaction of their own, a moment after its hostlim element:
   * if the kernel still holds a reference (a rule being evaluated, an element not yet collected) only
   * that cleanup fails, and it is tried again later.
   */
  private dropHostChainLater(id: string, attempt = 0): void {
    const t = setTimeout(() => {
      if (this.hostChains.has(id)) return;
      this.shell.run(hostLimitRemoval(this.t, id)).catch((e: Error) => {
        if (/No such file/.test(e.message)) return;
        if (attempt < 5) this.dropHostChainLater(id, attempt + 1);
        else this.o.onError?.(`nft: host chain of lease ${id} not removed: ${e.message}`);
      });
    }, 1000 * (attempt + 1));
    t.unref();
  }

  private ensureLimit(tx: Tx, set: string): void {
    if (this.limits.has(set)) return;
    this.limits.add(set);
    tx.onRollback(() => this.limits.delete(set));
    const m = /^mc(6?)_(\d+)$/.exec(set)!;
    tx.pre.push(...limitCommands(this.t, Number(m[2]), m[1] ? 6 : 4));
  }

  /** The exact maps of one OBO prefix length and their rules, with the first lease that needs them. */
  private ensureSrcx(tx: Tx, set: string): void {
    if (this.srcx.has(set)) return;
    const m = /^caps(6?)_src(?:_port)?_x_(\d+)$/.exec(set)!;
    const f = m[1] ? 6 : 4;
    const names = srcxNames(f, Number(m[2]));
    for (const n of names) this.srcx.add(n);
    tx.onRollback(() => names.forEach((n) => this.srcx.delete(n)));
    tx.pre.push(...srcxCommands(this.t, f, Number(m[2])));
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
    // The grant's transaction goes as netlink: its text form is only written when it goes as text.
    const nlOps = this.nl ? tx.netlinkOps() : undefined;
    if (nlOps ? nlOps.length === 0 : tx.commands().length === 0) {
      for (const op of ok) op.resolve();
      return true;
    }
    try {
      if (nlOps) await this.sendNetlink(nlOps, () => tx.commands());
      else await this.shell.run(tx.commands());
      for (const op of ok) op.resolve();
      return true;
    } catch (e) {
      tx.rollback();
      if (ok.length > 1) return false;
      ok[0]!.reject(e as Error);
      return true;
    }
  }

  /**
   * Element-only transactions go over netlink; one netlink cannot encode (which the ruleset never
   * produces) is logged once and sent as text instead.
   */
  private async sendNetlink(ops: NlOp[], commands: () => string[]): Promise<void> {
    try {
      await this.nl!.run(ops);
    } catch (e) {
      if (!(e instanceof NlEncodeError)) throw e;
      if (!this.encodeWarned) this.o.onError?.(`nft: netlink cannot encode (${e.message}); sending as text`);
      this.encodeWarned = true;
      await this.shell.run(commands());
    }
  }
  private encodeWarned = false;

  private async nftJson(...args: string[]): Promise<unknown> {
    const lib = this.reader ?? (this.shell instanceof NftLib ? this.shell : undefined);
    if (lib) return lib.json(args.join(' '));
    const [cmd, ...rest] = this.nftArgv();
    const { stdout } = await run(cmd!, [...rest, '-j', ...args], { maxBuffer: 256 * 1024 * 1024 });
    return JSON.parse(stdout) as unknown;
  }

  private async chainNames(): Promise<string[]> {
    const j = (await this.nftJson('list', 'chains', this.o.family)) as { nftables?: Array<{ chain?: { name: string; table: string } }> };
    return (j.nftables ?? []).flatMap((x) => (x.chain && x.chain.table === this.o.table ? [x.chain.name] : []));
  }

  private async setNames(): Promise<string[]> {
    const j = (await this.nftJson('list', 'sets', this.o.family)) as { nftables?: Array<{ set?: { name: string; table: string } }> };
    return (j.nftables ?? []).flatMap((x) => (x.set && x.set.table === this.o.table ? [x.set.name] : []));
  }

  /** (source, address) pairs in `seen` (and `seen6`), read with `nft -j` (JSON is fine for reading; see NOTES). */
  private async listSeen(): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    for (const f of familiesOf(this.o.family)) {
    const j = (await this.nftJson('list', 'set', this.o.family, this.o.table, setName('seen', f))) as { nftables?: Array<{ set?: { elem?: unknown[] } }> };
    for (const x of j.nftables ?? []) {
      for (const el of x.set?.elem ?? []) {
        const v = (el as { elem?: { val?: unknown } }).elem?.val ?? el;
        const c = (v as { concat?: unknown[] }).concat;
        if (Array.isArray(c) && typeof c[0] === 'string' && typeof c[1] === 'string') out.push([c[0], c[1]]);
      }
    }
    }
    return out;
  }
}

/** Names of the per-prefix-length exact maps of subnet-scoped leases (ruleset.ts srcxNames). */
const SRCX = /^caps6?_src(?:_port)?_x_\d+$/;

/** The lease's public address when a table of `family` can hold it, canonical. */
function leaseAddress(l: Lease, family: NftFamily): string | undefined {
  const a = parseAddress(l.address);
  return a && familiesOf(family).includes(a.family) ? formatAddress(a) : undefined;
}
