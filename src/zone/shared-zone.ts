// A compiled zone's arrays in one SharedArrayBuffer: how the zone loader's thread hands a zone to the
// serving thread (loader.ts), and what the serving thread then does about the memory V8 does not see.
//
// Why shared memory (issue 11, the reload swap's answer gap): V8 counts the bytes of every ArrayBuffer a
// thread receives as that thread's external memory, and once that grows by more than 64 MiB over its
// level at the last full collection, V8 starts marking the heap there and then, in steps of 5-10 ms on
// each further arrival, then compacts — while the old zone is still live, so all that work frees
// nothing. A million-record zone is ~97 MB: its arrival cost the serving thread four mark-compacts in a
// row (--trace-gc) and the longest answer gaps of a reload. A SharedArrayBuffer is counted in no thread
// (V8's BackingStore::PerIsolateAccountingLength is 0 for shared memory), so the arrival costs nothing.
//
// The other side of that: V8 does not see the replaced zone's memory become garbage either, and would
// keep it until a full collection it has other reasons for. So a swap that replaces a zone held in
// shared memory asks for collections until the zone is gone (collectReplacedZones).
import { getHeapStatistics } from 'node:v8';
import { MessageChannel } from 'node:worker_threads';
import type { CompiledZoneBuffers } from './compiled.js';

/** The keys of CompiledZoneBuffers that hold typed arrays. */
type ZoneArrayKey = { [K in keyof CompiledZoneBuffers]: CompiledZoneBuffers[K] extends ArrayBufferView ? K : never }[keyof CompiledZoneBuffers];

/** Every array of a compiled zone (the type makes this list complete). */
const ARRAY_KEYS = Object.keys({
  names: 1, rdata: 1, nodeName: 1, nodeParent: 1, nodeHash: 1, nodeFlags: 1, nodeFirstSet: 1, nodeSets: 1, nodeWild: 1,
  setType: 1, setTtl: 1, setFirstRr: 1, setRrs: 1, rrOff: 1, rrLen: 1, index: 1,
} satisfies Record<ZoneArrayKey, 1>) as ZoneArrayKey[];

type TypedArrayOf<K extends ZoneArrayKey> = CompiledZoneBuffers[K];

/** Whether the zone's arrays are in shared memory (a zone from the loader's thread). */
export function isSharedZone(b: CompiledZoneBuffers): boolean {
  return b.names.buffer instanceof SharedArrayBuffer;
}

/** The bytes of a zone's arrays. */
export function zoneBytes(b: CompiledZoneBuffers): number {
  let n = 0;
  for (const k of ARRAY_KEYS) n += b[k].byteLength;
  return n;
}

/**
 * Frees `buffers` now rather than at this thread's next full collection: each is transferred into a
 * message of a channel that is closed unread, and the message and its memory go when the port's handle
 * closes (the next turn of the event loop). The buffers are detached here.
 */
function freeSoon(buffers: ArrayBuffer[]): void {
  if (buffers.length === 0) return;
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, buffers);
  port1.close();
  port2.close();
}

/**
 * `b` with every array copied into one SharedArrayBuffer (each at an 8-byte aligned offset). The
 * source ArrayBuffers are detached and freed buffer by buffer, one event-loop turn apart, so the
 * thread's peak holds the zone and one source buffer (at most ~21 MB for a million records), not the
 * zone twice. `b` is unusable afterwards.
 */
export async function shareZone(b: CompiledZoneBuffers): Promise<CompiledZoneBuffers> {
  let total = 0;
  for (const k of ARRAY_KEYS) total += (b[k].byteLength + 7) & ~7;
  const shared = new SharedArrayBuffer(total);
  // The views of one source buffer (a column may be a view of its build array) are copied together,
  // then that buffer goes.
  const byBuffer = new Map<ArrayBufferLike, ZoneArrayKey[]>();
  for (const k of ARRAY_KEYS) {
    const keys = byBuffer.get(b[k].buffer);
    if (keys) keys.push(k);
    else byBuffer.set(b[k].buffer, [k]);
  }
  const out: Partial<Pick<CompiledZoneBuffers, ZoneArrayKey>> = {};
  let at = 0;
  for (const [buffer, keys] of byBuffer) {
    for (const k of keys) {
      const src = b[k];
      const view = new (src.constructor as new (buf: SharedArrayBuffer, off: number, len: number) => TypedArrayOf<typeof k>)(shared, at, src.length);
      (view as Uint8Array).set(src as Uint8Array);
      (out as Record<string, ArrayBufferView>)[k] = view;
      at += (src.byteLength + 7) & ~7;
    }
    if (buffer instanceof ArrayBuffer) {
      freeSoon([buffer]);
      await new Promise<void>((r) => setImmediate(r));
    }
  }
  return { origin: b.origin, nodeCount: b.nodeCount, setCount: b.setCount, rrCount: b.rrCount, ...(out as Pick<CompiledZoneBuffers, ZoneArrayKey>) };
}

/** Every array present and a typed array (a zone that crossed threads, checked before use). */
export function checkZoneArrays(b: CompiledZoneBuffers): void {
  for (const k of ARRAY_KEYS) if (!ArrayBuffer.isView(b[k])) throw new Error(`compiled zone ${b.origin}: array ${k} missing`);
}

/**
 * How much external memory the first collection request claims for a moment: more than V8's 64 MiB
 * margin over the level of the last full collection (V8 heap.h kExternalAllocationSoftLimit). Each
 * further request for the same zones claims twice the last: a collection that freed counted memory
 * (the zone loaded at start) set that margin from a level counted before the memory was gone, higher
 * by its size. Never touched, so never resident (calloc maps it lazily).
 */
const CLAIM_BYTES = 128 << 20;
/**
 * At most a quarter of the heap limit: past half of the old generation's limit over that level, V8
 * collects at once, without increments (heap.cc external_memory_hard_limit).
 */
const CLAIM_MAX = Math.max(CLAIM_BYTES, Math.floor(getHeapStatistics().heap_size_limit / 4));
/**
 * Replaced zones in ordinary ArrayBuffers are counted by V8, but it collects them only when external
 * memory grows again by its margin: from this size on, their replacement asks for a collection too.
 */
const COUNTED_BYTES = 64 << 20;
/**
 * When the collection is asked for after a swap: first a moment later (not inside the swap's own turn),
 * then again while a replaced zone is still there (a query or a transfer that had it then, still
 * running), at most this many times. Measured (1M records, 4 reloads in a row): the first collection
 * frees the zone's arrays, the shared buffer object itself goes in the second, 1 s later.
 */
const COLLECT_AFTER_MS = [100, 1000, 5000, 20_000];

/**
 * Replaced zones not yet collected, told by the collection of their names' buffer (a FinalizationRegistry,
 * not WeakRef.deref: a deref keeps its target alive to the end of the task, and the collection the
 * claim starts in that task would then keep it too). Each zone is counted in one round of requests.
 */
let waiting = 0;
let round = 0;
const collected = new FinalizationRegistry<number>((r) => {
  if (r === round && waiting > 0) waiting--;
});
let attempt = 0;
let collectTimer: NodeJS.Timeout | undefined;

/**
 * After a swap from `before` to `after`: a replaced zone held in shared memory (or 64 MiB of replaced
 * zones in counted memory) is garbage now, or soon, and V8 is asked for an incremental full collection
 * that frees it: a moment later, and again later while the zone is still there. V8 has no call for that
 * without --expose-gc, so this claims more external memory than its margin for an instant (an
 * ArrayBuffer made and freed): the same trigger as a transferred zone's arrival used to be, but once,
 * with the old zone already garbage.
 */
export function collectReplacedZones(before: readonly { buffers: CompiledZoneBuffers }[], after: readonly { buffers: CompiledZoneBuffers }[]): void {
  const kept = new Set(after.map((z) => z.buffers.names.buffer));
  const shared: ArrayBufferLike[] = [];
  const counted: ArrayBufferLike[] = [];
  let countedBytes = 0;
  for (const z of before) {
    if (kept.has(z.buffers.names.buffer)) continue;
    if (isSharedZone(z.buffers)) shared.push(z.buffers.names.buffer);
    else {
      counted.push(z.buffers.names.buffer);
      countedBytes += zoneBytes(z.buffers);
    }
  }
  const watch = countedBytes >= COUNTED_BYTES ? [...shared, ...counted] : shared;
  if (watch.length === 0) return;
  // A new round: zones still waiting from the last one are left to V8's own collections.
  round++;
  waiting = watch.length;
  for (const buffer of watch) collected.register(buffer, round);
  attempt = 0;
  if (collectTimer !== undefined) clearTimeout(collectTimer);
  schedule();
}

function schedule(): void {
  collectTimer = setTimeout(collectNow, COLLECT_AFTER_MS[attempt]);
  collectTimer.unref();
}

function collectNow(): void {
  collectTimer = undefined;
  if (waiting === 0) return;
  try {
    // Freed at once (detached, so uncounted again before the collection ends): V8 sets its next margin
    // from the level the collection leaves, which must not include the claim, or the next claim would
    // stay under it.
    freeSoon([new ArrayBuffer(Math.min(CLAIM_BYTES * 2 ** attempt, CLAIM_MAX))]);
  } catch {
    // No address space for the claim (ulimit -v): V8 collects when it has its own reasons.
  }
  if (++attempt < COLLECT_AFTER_MS.length) schedule();
  // Still held after the last one (a long transfer of the old version, say): V8's own next full
  // collection frees it.
  else waiting = 0;
}
