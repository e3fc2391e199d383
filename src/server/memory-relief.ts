// Memory relief after an attack (issue 16): a full garbage collection, then glibc's malloc_trim.
//
// Measured after a DoH stream attack (heap snapshots and process.memoryUsage() before, after and
// after a forced GC): nothing stays reachable — the sessions, streams and buffers are garbage — but
// an idle server allocates nothing, so V8 never collects them and their external memory (TLS and
// HTTP/2 buffers held by the dead objects) stays; what OpenSSL and nghttp2 then free stays in
// malloc's arenas. The 58 MB the issue found left after malformed UDP input is the same garbage.
// So once RSS has grown and a burst of closed connections (if any) has passed, the process collects
// once and trims. At most once per MIN_INTERVAL_MS: a full GC of a small heap takes tens of milliseconds.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { counter } from '../observe/metrics/family.js';

const reliefs = counter('fluxdns_memory_reliefs_total', 'Full garbage collections (and malloc_trim) run after memory grew (an attack, a flood of closed connections)');

/** How often the closed-connection count and RSS are looked at. */
const TICK_MS = 2000;
/** RSS above the level after the last relief (or at start) by this factor makes a relief worth it. */
const GROWTH = 1.2;
/** A tick with fewer closes than this is quiet: the burst is over. */
const QUIET = 16;
const MIN_INTERVAL_MS = 10_000;
/** During a long attack, relieve anyway this often. */
const MAX_WAIT_MS = 60_000;

export interface ReliefReport {
  rssBeforeKB: number;
  rssAfterKB: number;
  ms: number;
  trimmed: boolean;
}

let gcFn: (() => void) | undefined;
let trimFn: (() => boolean) | undefined | null;

/** V8's gc(), exposed once (`--expose-gc` set at run time, then read from a fresh context). */
function fullGc(): void {
  if (gcFn === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
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

/** Collects and trims now; what it gave back. */
export function relieveMemory(): ReliefReport {
  const t0 = performance.now();
  const rssBeforeKB = rssKB();
  // Twice: the first collection finds the dead sessions, whose finalizers free their native buffers;
  // the second frees what those held and lets V8 shrink its spaces.
  fullGc();
  fullGc();
  const trimmed = mallocTrim();
  reliefs.value++;
  return { rssBeforeKB, rssAfterKB: rssKB(), ms: performance.now() - t0, trimmed };
}

/**
 * Watches RSS, `closed()` (the connection gate's count of ended connections) and `open()` (those open
 * now): once RSS stands GROWTH above its level after the last relief (or at start) and connections
 * have stopped closing and are few (or every MAX_WAIT_MS while they go on), collects and trims. Each relief raises the bar to what
 * remained, so a server whose memory does not grow is never interrupted and one that grows for good
 * reasons (a bigger zone, a fuller answer cache) is collected a few times at most.
 */
export function startMemoryRelief(closed: () => number, onRelief: (r: ReliefReport) => void, open: () => number = () => 0): { stop(): void } {
  let prev = closed();
  let lastAt = Date.now();
  let baseline = process.memoryUsage.rss();
  const timer = setInterval(() => {
    const now = Date.now();
    const c = closed();
    const sinceTick = c - prev;
    prev = c;
    if (now - lastAt < MIN_INTERVAL_MS) return;
    // Quiet means few connections ended AND few are open: at the start of an attack nothing has closed
    // yet, and a relief then would raise the baseline to the attack's level, so none would follow it.
    if ((sinceTick >= QUIET || open() >= QUIET) && now - lastAt < MAX_WAIT_MS) return;
    if (process.memoryUsage.rss() < baseline * GROWTH) return;
    lastAt = now;
    const r = relieveMemory();
    baseline = r.rssAfterKB * 1024;
    onRelief(r);
  }, TICK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
