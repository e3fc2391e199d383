// The process's file-descriptor budget: raise the soft RLIMIT_NOFILE to the hard limit at start,
// reserve descriptors for the DNS listeners, their TCP/DoT/DoH connections and control, and give the
// gateway's UDP flows and TCP relays what is left, with per-source caps and oldest-first eviction,
// so a flood of (spoofable) one-datagram flows can never starve TCP DNS of descriptors.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { attackCounters, type FdBudgetCounters } from '../observe/attack-counters.js';

/** Descriptors kept for everything that is neither a DNS connection nor a gateway flow: Node's own (epoll, pipes, stdio), log and zone files, control and admin sockets, Redis, nft. */
export const BASE_RESERVE = 64;

export interface NofileLimit {
  soft: number;
  hard: number;
  /** How the soft limit was raised, or why it could not be. */
  how: 'native' | 'prlimit' | 'already at the hard limit' | 'unchanged';
}

const UNLIMITED = 1 << 30;

/** The soft and hard RLIMIT_NOFILE from /proc/self/limits ("Max open files  1024  524288  files"). */
export function readNofile(text = readFileSync('/proc/self/limits', 'utf8')): { soft: number; hard: number } | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  const n = (s: string) => (s === 'unlimited' ? UNLIMITED : Number(s));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

let raised: NofileLimit | undefined;

/**
 * Raises the soft limit to the hard one, once per process: through the native addon's setrlimit
 * (native/udp_batch.c) when it is built, else `prlimit --pid` (util-linux; a process may raise its
 * own soft limit up to the hard one without privileges). Without either, the limit stays as the
 * service manager set it (systemd LimitNOFILE=, or `ulimit -n` in the shell).
 */
export function raiseNofile(): NofileLimit {
  if (raised) return raised;
  const before = readNofile();
  if (!before) return (raised = { soft: 1024, hard: 1024, how: 'unchanged' });
  if (before.soft >= before.hard) return (raised = { ...before, how: 'already at the hard limit' });
  try {
    const require = createRequire(import.meta.url);
    const addon = require('../../native/build/Release/fluxdns_udp.node') as { raiseNofile?: () => [number, number] };
    if (addon.raiseNofile) {
      const [soft, hard] = addon.raiseNofile();
      const s = soft < 0 ? UNLIMITED : soft;
      if (s > before.soft) return (raised = { soft: s, hard: hard < 0 ? UNLIMITED : hard, how: 'native' });
    }
  } catch {
    // not built: try prlimit
  }
  const hard = before.hard >= UNLIMITED ? 'unlimited' : String(before.hard);
  const r = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore', timeout: 5000 });
  const after = readNofile();
  if (r.status === 0 && after && after.soft > before.soft) return (raised = { ...after, how: 'prlimit' });
  return (raised = { ...before, how: 'unchanged' });
}

export interface DescriptorPlan {
  limit: number;
  /** Descriptors reserved: the base reserve plus one per DNS listener. */
  reserve: number;
  /** TCP/DoT/DoH connections allowed at once (tcpMaxConnections, lowered when it does not fit). */
  streamConnections: number;
  /** Descriptors the gateway's flows and relays share (before its own listening sockets). */
  gateway: number;
  /** Problems to log as warnings at start. */
  warnings: string[];
}

/**
 * Splits the limit: the reserve first, then the DNS stream connections (all of tcpMaxConnections if
 * it fits, else half of what is left), the rest to the gateway when there is one. A configuration
 * whose DNS connections do not fit is lowered with a warning rather than failing at the 1,025th socket.
 */
export function planDescriptors(limit: number, o: { listeners: number; tcpMaxConnections: number; gateway: boolean; udpMaxFlows?: number }): DescriptorPlan {
  const warnings: string[] = [];
  const reserve = BASE_RESERVE + o.listeners;
  const usable = Math.max(0, limit - reserve);
  let stream = o.tcpMaxConnections;
  const want = o.gateway ? Math.floor(usable / 2) : usable;
  if (stream > want && stream > usable - (o.gateway ? 64 : 0)) {
    stream = Math.max(1, want);
    warnings.push(`limits.tcpMaxConnections ${o.tcpMaxConnections} does not fit the descriptor limit ${limit} (reserve ${reserve}${o.gateway ? ', the gateway needs some too' : ''}): using ${stream}; raise LimitNOFILE= (systemd) or ulimit -n`);
  }
  const gateway = o.gateway ? Math.max(0, usable - stream) : 0;
  if (o.gateway && o.udpMaxFlows !== undefined && o.udpMaxFlows > gateway) {
    warnings.push(`gateway.udpMaxFlows ${o.udpMaxFlows} does not fit the descriptor budget ${gateway} (limit ${limit}): flows beyond it evict the oldest; raise LimitNOFILE= or ulimit -n`);
  }
  return { limit, reserve, streamConnections: stream, gateway, warnings };
}

interface Lease {
  src: string;
  fds: number;
  close: () => void;
  released: boolean;
}

/** A handle on descriptors drawn from the budget; release() gives them back (safe twice). */
export interface FdLease {
  release(): void;
}

/**
 * The gateway's share: each UDP flow holds one descriptor (its upstream socket), each TCP relay two
 * (client and upstream). A source holding `perSource` is refused more; when the budget is spent the
 * oldest leases are closed first (the flows a spoofed flood opened earliest, typically idle).
 */
export class FdBudget {
  /** Live leases, oldest first. */
  private readonly leases = new Set<Lease>();
  private readonly bySource = new Map<string, number>();

  constructor(
    public capacity: number,
    public perSource: number,
    readonly counters: FdBudgetCounters = { limit: 0, budget: capacity, inUse: 0, evicted: 0, refusedPerSource: 0 },
  ) {
    counters.budget = capacity;
  }

  /** Takes `fds` descriptors for a flow from `src`; `close` ends that flow when it is evicted. Undefined when refused. */
  acquire(src: string, fds: number, close: () => void): FdLease | undefined {
    if (fds > this.capacity) return undefined;
    const held = this.bySource.get(src) ?? 0;
    if (held + fds > this.perSource) {
      this.counters.refusedPerSource++;
      return undefined;
    }
    while (this.counters.inUse + fds > this.capacity) {
      const oldest = this.leases.values().next().value as Lease | undefined;
      if (!oldest) return undefined;
      this.counters.evicted++;
      this.free(oldest);
      oldest.close();
    }
    const lease: Lease = { src, fds, close, released: false };
    this.leases.add(lease);
    this.bySource.set(src, held + fds);
    this.counters.inUse += fds;
    return {
      release: () => this.free(lease),
    };
  }

  private free(l: Lease): void {
    if (l.released) return;
    l.released = true;
    this.counters.inUse -= l.fds;
    const left = (this.bySource.get(l.src) ?? l.fds) - l.fds;
    if (left <= 0) this.bySource.delete(l.src);
    else this.bySource.set(l.src, left);
    this.leases.delete(l);
  }

  setCapacity(capacity: number): void {
    this.capacity = Math.max(0, capacity);
    this.counters.budget = this.capacity;
  }
}

/** The process's gateway budget (unbounded until a plan sets it); the counters are attackCounters.fd. */
export const gatewayFds = new FdBudget(UNLIMITED, UNLIMITED, attackCounters.fd);

/** What the start-up planned; one per process (serve and gateway share it). */
let planned: (DescriptorPlan & { nofile: NofileLimit }) | undefined;

/**
 * Raises the limit and plans the budget once per process from the configuration at start (a reload
 * does not re-plan: listeners and limits that change take effect on restart), and sizes gatewayFds.
 */
export function planProcessDescriptors(o: { listeners: number; tcpMaxConnections: number; gateway?: { udpMaxFlows: number } | undefined }): DescriptorPlan & { nofile: NofileLimit; fresh: boolean } {
  if (planned) return { ...planned, fresh: false };
  const nofile = raiseNofile();
  const plan = planDescriptors(nofile.soft, { listeners: o.listeners, tcpMaxConnections: o.tcpMaxConnections, gateway: o.gateway !== undefined, udpMaxFlows: o.gateway?.udpMaxFlows });
  attackCounters.fd.limit = nofile.soft;
  if (o.gateway) {
    gatewayFds.setCapacity(plan.gateway);
    gatewayFds.perSource = Math.max(16, Math.floor(plan.gateway / 8));
  }
  planned = { ...plan, nofile };
  return { ...planned, fresh: true };
}
