// A compiled zone's arrays cut into parts, one per ArrayBuffer, so the zone loader hands them over
// one event-loop turn apart (loader.ts). Each transferred buffer counts as V8 external memory where it
// is deserialised, and past 64 MB over the count at the last full collection each arrival makes V8
// mark the heap there and then. A whole zone in one message (97 MB for a million records) did that
// twice: in the relay thread, which held the whole zone for a moment (a full collection of its own, on
// the serving thread's core), and in the serving thread, where the marking started and went on inside
// that one message handler, with the swap's own work. In parts the relay holds one buffer at a time (at most
// 21 MB: no collection there), and the serving thread answers queries between the arrivals.
import type { CompiledZoneBuffers } from './compiled.js';

/** The keys of CompiledZoneBuffers that hold typed arrays. */
export type ZoneArrayKey = { [K in keyof CompiledZoneBuffers]: CompiledZoneBuffers[K] extends ArrayBufferView ? K : never }[keyof CompiledZoneBuffers];

/** CompiledZoneBuffers without its arrays: the counts and the origin. */
export type ZoneHead = Omit<CompiledZoneBuffers, ZoneArrayKey>;

/** Some of a zone's arrays: every one of them on the same ArrayBuffer. */
export type ZonePart = Partial<Pick<CompiledZoneBuffers, ZoneArrayKey>>;

/** `b` as its head and its arrays grouped by ArrayBuffer (views of one buffer travel together). */
export function splitZone(b: CompiledZoneBuffers): { head: ZoneHead; parts: ZonePart[] } {
  const head: Record<string, unknown> = {};
  const byBuffer = new Map<ArrayBufferLike, Record<string, ArrayBufferView>>();
  for (const [k, v] of Object.entries(b)) {
    if (!ArrayBuffer.isView(v)) {
      head[k] = v;
      continue;
    }
    let part = byBuffer.get(v.buffer);
    if (part === undefined) byBuffer.set(v.buffer, (part = {}));
    part[k] = v;
  }
  return { head: head as ZoneHead, parts: [...byBuffer.values()] as ZonePart[] };
}

/** The zone's arrays put back together; throws when one is missing (a part lost on the way). */
export function joinZone(head: ZoneHead, parts: readonly ZonePart[]): CompiledZoneBuffers {
  const b = Object.assign({}, head, ...parts) as CompiledZoneBuffers;
  for (const k of ARRAY_KEYS) if (!ArrayBuffer.isView(b[k])) throw new Error(`compiled zone ${head.origin}: array ${k} missing`);
  return b;
}

/** Every array of a compiled zone (joinZone checks them all arrived; the type makes this list complete). */
const ARRAY_KEYS = Object.keys({
  names: 1, rdata: 1, nodeName: 1, nodeParent: 1, nodeHash: 1, nodeFlags: 1, nodeFirstSet: 1, nodeSets: 1, nodeWild: 1,
  setType: 1, setTtl: 1, setFirstRr: 1, setRrs: 1, rrOff: 1, rrLen: 1, index: 1,
} satisfies Record<ZoneArrayKey, 1>) as ZoneArrayKey[];
