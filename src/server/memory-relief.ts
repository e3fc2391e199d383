// Memory relief after an attack (issue 16): a full garbage collection, then glibc's malloc_trim, run
// only while the server is idle.
//
// Measured after a DoH stream attack (heap snapshots and process.memoryUsage() before, after and
// after a forced GC): nothing stays reachable — the sessions, streams and buffers are garbage — but
// an idle server allocates nothing, so V8 never collects them and their external memory (TLS and
// HTTP/2 buffers held by the dead objects) stays; what OpenSSL and nghttp2 then free stays in
// malloc's arenas. The 58 MB the issue found left after malformed UDP input is V8's young
// generation grown under the flood's allocation rate. So once RSS has grown and the server is idle,
// the process collects and trims.
//
// V8's gc() exists only when node starts with --expose-gc (or NODE_OPTIONS=--expose-gc): Node does not
// support setting the flag after start-up. Every way fluxdns ships to start it passes the flag — the
// `fluxdns` command's shebang, `npm start`, contrib/fluxdns.service — and `workers: N` forks inherit
// it (cluster copies execArgv). Without it the relief only trims malloc, and `serve` says so at start.
//
// A full GC stops the event loop: tens of milliseconds for a small heap on a quiet machine, but
// 820 ms was seen at load 25 when a relief ran in the middle of a flood. So a relief never runs while
// anything arrives: no connection offered (admitted or refused) since the last look, few open, and
// the event loop almost idle (a UDP flood shows in the event loop's utilisation, not in the
// connection gate). A long attack therefore gets none: while it allocates, V8 collects on its own.
// The relief's steps (GC, GC, trim) each yield to the event loop and the relief stops when a
// connection arrives in between, so a client coming back after an attack waits for one step at most.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { counter } from '../observe/metrics/family.js';

const reliefs = counter('fluxdns_memory_reliefs_total', 'Full garbage collections (and malloc_trim) run while idle after memory grew (an attack, a flood of closed connections)');

/** How often activity and RSS are looked at. */
const TICK_MS = 2000;
/** RSS above the level after the last relief (or at start) by this factor makes a relief worth it. */
const GROWTH = 1.2;
/** More connections open than this: not idle. */
const OPEN_MAX = 16;
/** The event loop busier than this share of a tick: queries are flowing (a UDP flood), not idle. */
const BUSY_ELU = 0.05;
const MIN_INTERVAL_MS = 10_000;

export interface ReliefReport {
  rssBeforeKB: number;
  rssAfterKB: number;
  /** Time spent in the steps (the event loop ran between them). */
  ms: number;
  /** The longest single step: the longest the event loop was blocked. */
  longestStepMs: number;
  /** Whether a V8 full GC ran (node started with --expose-gc). */
  gc: boolean;
  trimmed: boolean;
  /** False when a connection arrived between two steps and the rest was left for later. */
  complete: boolean;
}

let trimFn: (() => boolean) | undefined | null;

/** True when node was started with --expose-gc, so a relief can run V8's full GC. */
export function gcExposed(): boolean {
  return typeof globalThis.gc === 'function';
}

/** malloc_trim(0) from the native addon (native/udp_batch.c); false when it is not built or not glibc. */
function mallocTrim(): boolean {
  if (trimFn === undefined) {
    try {
      const require = createRequire(import.meta.url);
      trimFn = (require('../../native/build/Release/fluxdns_udp.node') as { mallocTrim?: () => boolean }).mallocTrim ?? null;
    } catch {
      trimFn = null;
    }
  }
  return trimFn ? trimFn() : false;
}

function rssKB(): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Collects and trims now, one step per turn of the event loop; `quiet()` is asked before each step
 * after the first, and a false answer stops the relief there.
 */
export async function relieveMemory(quiet: () => boolean = () => true): Promise<ReliefReport> {
  const r: ReliefReport = { rssBeforeKB: rssKB(), rssAfterKB: 0, ms: 0, longestStepMs: 0, gc: gcExposed(), trimmed: false, complete: true };
  const step = (f: () => void) => {
    const t0 = performance.now();
    f();
    const d = performance.now() - t0;
    r.ms += d;
    r.longestStepMs = Math.max(r.longestStepMs, d);
  };
  // Twice: the first collection finds the dead sessions, whose finalizers free their native buffers;
  // the second frees what those held and lets V8 shrink its spaces.
  const steps: (() => void)[] = r.gc ? [() => globalThis.gc!(), () => globalThis.gc!()] : [];
  steps.push(() => (r.trimmed = mallocTrim()));
  for (let i = 0; i < steps.length; i++) {
    if (i > 0) {
      await nextTurn();
      if (!quiet()) {
        r.complete = false;
        break;
      }
    }
    step(steps[i]!);
  }
  reliefs.value++;
  r.rssAfterKB = rssKB();
  return r;
}

export interface ReliefSignals {
  /** Connections offered so far (admitted or refused): any change means connections are arriving. */
  arrived(): number;
  /** Connections open now. */
  open(): number;
}

/**
 * Watches RSS and activity: once RSS stands GROWTH above the lowest it was since the last relief (or
 * start) and a whole tick passed with no connection arriving, few open and an idle event loop,
 * collects and trims. Each complete relief raises the bar to what remained, so a server whose memory
 * does not grow is never interrupted and one that grows for good reasons (a bigger zone, a fuller
 * answer cache) is collected a few times at most.
 */
export function startMemoryRelief(
  signals: ReliefSignals,
  onRelief: (r: ReliefReport) => void,
  /** Tests shorten the tick and the interval, and set growth 0 to relieve at every idle tick. */
  o: { tickMs?: number; minIntervalMs?: number; growth?: number } = {},
): { stop(): void } {
  const { tickMs = TICK_MS, minIntervalMs = MIN_INTERVAL_MS, growth = GROWTH } = o;
  let seen = signals.arrived();
  let elu = performance.eventLoopUtilization();
  let lastAt = Date.now();
  let baseline = process.memoryUsage.rss();
  let running = false;
  const timer = setInterval(() => {
    const now = Date.now();
    const arrived = signals.arrived();
    const idle = arrived === seen && signals.open() < OPEN_MAX;
    seen = arrived;
    const tick = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    // The bar is the lowest RSS seen since the last relief: start-up's peak (module loading, the zone
    // compile) falls back later, and growth is measured from where the server settled before an attack.
    const rss = process.memoryUsage.rss();
    if (!running) baseline = Math.min(baseline, rss);
    if (running || !idle || tick.utilization > BUSY_ELU || now - lastAt < minIntervalMs) return;
    if (rss < baseline * growth) return;
    lastAt = now;
    running = true;
    void relieveMemory(() => signals.arrived() === seen).then((r) => {
      running = false;
      seen = signals.arrived();
      if (r.complete) baseline = r.rssAfterKB * 1024;
      onRelief(r);
    });
  }, tickMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
