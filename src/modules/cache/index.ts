// answer-cache: pre-encoded answers. The responder serves a stored response with only the ID, the
// question's case and the RD/CD bits patched; the finisher (last in the chain) stores what a
// cacheable responder produced. Guards and policies run before it on every query, so nothing they
// decide is bypassed. Stored answers belong to one runtime generation: a reload empties the cache.
import { qnameLower, type QueryView } from '../../wire/fastpath.js';
import { pooledBytes } from '../../wire/pool.js';
import { encodeResponse, responseLimit } from '../../answer/encode.js';
import type { QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, type Outcome, type Unit } from '../../answer/unit.js';
import { counter } from '../../observe/metrics/family.js';

const hitsTotal = counter('fluxdns_answer_cache_hits_total', 'Queries answered from the answer cache');
const missesTotal = counter('fluxdns_answer_cache_misses_total', 'Cacheable-looking queries the answer cache did not hold');
const evictionsTotal = counter('fluxdns_answer_cache_evictions_total', 'Answers dropped from the answer cache to make room');

/** FNV-1a over the key bytes, kept to 30 bits so the map's keys stay small integers. */
function hashKey(key: Uint8Array, length: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return h & 0x3fffffff;
}

/**
 * Bounded by entry count; the oldest entry goes first. An entry is one byte array — key length
 * (2 bytes), zone slot (3 bytes, see HEAD), key, answer — stored under the key's hash: with tens of thousands of entries a lookup
 * is bound by cache misses, so one array instead of separate key and answer objects halves them,
 * and a hit builds no string and allocates nothing. Two keys with the same 30-bit hash take turns
 * (the later replaces the earlier); the bytes are always compared. The insertion order is kept in
 * a ring: asking a Map for its first key after many deletions walks over their holes, and under a
 * stream of distinct names (NXDOMAIN) that walk took a third of the server's CPU in a profile.
 */
export interface AnswerCacheOptions {
  /**
   * Store an answer only when its key is asked for the second time (within the last ~65,536 distinct
   * keys). A stream of names never asked again (random subdomains, NXDOMAIN from typos) then costs
   * no entry, no copy and no eviction; a name asked twice is cached from its second answer on.
   */
  admitOnSecondAsk?: boolean;
}

/**
 * The "seen once" filter: 2^18 slots (1 MiB) in sets of 4, each slot the 30-bit key hash + 1 (0: empty).
 * Four ways, not one: with one slot per hash, two names sharing it and asked in turn overwrite each
 * other forever and are never cached (measured: 7 % of the repeating mix stayed misses).
 */
const SEEN_SLOTS = 1 << 18;
/**
 * One bit per 20-bit slice of a key hash, set when an answer is stored (never cleared but with every
 * entry): a name never stored — every name of a random-subdomain flood — misses on one bit of a 128 KiB
 * array that stays in the CPU cache, instead of a probe into the Map of 100,000 entries.
 */
const STORED_BITS = 1 << 20;
const SEEN_SET_MASK = (SEEN_SLOTS - 1) & ~3;
/**
 * Bytes before an entry's key: its length (2), then the answering zone's slot + 1 (3; 0: none or not
 * known), which a hit hands to the per-zone query counter (ctx.zoneSlot) instead of it matching the name.
 */
const HEAD = 5;
/** Slots from 0 to this fit in an entry's 3 bytes (as slot + 1); a larger one is stored as not known. */
const MAX_SLOT = 0xfffffe;

export class AnswerCache {
  private readonly entries = new Map<number, Uint8Array>();
  private readonly seen: Uint32Array | undefined;
  private victim = 0;
  private readonly stored = new Uint32Array(STORED_BITS >>> 5);
  private ring: Uint8Array[] = [];
  private next = 0;
  private generation = -1;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxEntries = 100000,
    options: AnswerCacheOptions = {},
  ) {
    if (options.admitOnSecondAsk) this.seen = new Uint32Array(SEEN_SLOTS);
  }

  /** The stored answer as a view of the entry (copy it before changing it), or undefined. */
  get(key: Uint8Array, generation: number, length = key.length): Uint8Array | undefined {
    const e = this.find(key, generation, length);
    return e === undefined ? undefined : e.subarray(HEAD + length);
  }

  /** The entry holding `key`, for callers that copy the answer out at offset HEAD + length themselves (entrySlot for the zone). */
  find(key: Uint8Array, generation: number, length = key.length, h = hashKey(key, length)): Uint8Array | undefined {
    if (generation !== this.generation) {
      this.entries.clear();
      this.ring = [];
      this.next = 0;
      this.generation = generation;
      this.seen?.fill(0);
      this.stored.fill(0);
    }
    if ((this.stored[(h & (STORED_BITS - 1)) >>> 5]! & (1 << (h & 31))) === 0) return undefined;
    const e = this.entries.get(h);
    if (e === undefined || ((e[0]! << 8) | e[1]!) !== length) return undefined;
    for (let i = 0; i < length; i++) if (e[HEAD + i] !== key[i]) return undefined;
    return e;
  }

  /**
   * Drops every entry, or (with `name`, wire form) the entries for that name and the names below
   * it — `fluxdns ctl cache flush [NAME]`. Returns how many went. Not on the query path.
   */
  flush(name?: Uint8Array): number {
    const before = this.entries.size;
    if (name === undefined) {
      this.entries.clear();
      this.ring = [];
      this.next = 0;
      return before;
    }
    const target = name.map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
    // A key is 3 bytes of kind and size after the head, then the lower-cased question name.
    for (const [h, e] of this.entries) if (nameAtOrBelow(e, HEAD + 3, target)) this.entries.delete(h);
    return before - this.entries.size;
  }

  set(key: Uint8Array, generation: number, wire: Uint8Array, length = key.length, zoneSlot = -1): void {
    if (generation !== this.generation) return;
    const h = hashKey(key, length);
    if (this.admit(h)) this.store(h, key, wire, length, zoneSlot);
  }

  /**
   * Whether an answer whose key hashes to `h` is to be stored now: always without the "seen once"
   * filter; with it, on the second ask (the first only remembers the hash). Counts as that ask.
   */
  admit(h: number): boolean {
    const seen = this.seen;
    if (seen === undefined) return true;
    // First ask: remember the hash only, in an empty slot of its set or else in the next one in turn.
    const set = h & SEEN_SET_MASK;
    for (let k = set; k < set + 4; k++) {
      if (seen[k] === h + 1) {
        seen[k] = 0;
        return true;
      }
    }
    let free = -1;
    for (let k = set; k < set + 4 && free < 0; k++) if (seen[k] === 0) free = k;
    if (free < 0) free = set + (this.victim = (this.victim + 1) & 3);
    seen[free] = h + 1;
    return false;
  }

  /** Stores an admitted answer under `h` (the hash of `key`'s first `length` bytes), with the slot of the zone that answered (-1: none). */
  store(h: number, key: Uint8Array, wire: Uint8Array, length = key.length, zoneSlot = -1): void {
    this.stored[(h & (STORED_BITS - 1)) >>> 5]! |= 1 << (h & 31);
    const entry = new Uint8Array(HEAD + length + wire.length);
    entry[0] = length >> 8;
    entry[1] = length & 0xff;
    const z = zoneSlot >= 0 && zoneSlot <= MAX_SLOT ? zoneSlot + 1 : 0;
    entry[2] = z >>> 16;
    entry[3] = (z >>> 8) & 0xff;
    entry[4] = z & 0xff;
    entry.set(key.subarray(0, length), HEAD);
    entry.set(wire, HEAD + length);
    // Whatever held this hash (the same key stored again, or a colliding one) is replaced; its ring slot goes stale.
    this.entries.set(h, entry);
    if (this.ring.length < this.maxEntries) {
      this.ring.push(entry);
      return;
    }
    const old = this.ring[this.next]!;
    const oldHash = hashKey(old.subarray(HEAD), (old[0]! << 8) | old[1]!);
    if (this.entries.get(oldHash) === old) {
      this.entries.delete(oldHash);
      evictionsTotal.value++;
    }
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The runtime generation the stored answers belong to. */
  get generationNow(): number {
    return this.generation;
  }
}

/** The cache a server runs with: answers are stored on their second ask (see AnswerCacheOptions). */
export function serverAnswerCache(): AnswerCache {
  return new AnswerCache(100000, { admitOnSecondAsk: true });
}

/** The zone slot an entry carries (ctx.zoneSlot of the answer stored), -1 for none. */
export function entrySlot(entry: Uint8Array): number {
  return ((entry[2]! << 16) | (entry[3]! << 8) | entry[4]!) - 1;
}

/** Whether the wire name at `start` of `bytes` is `target` or ends with it at a label boundary. */
function nameAtOrBelow(bytes: Uint8Array, start: number, target: Uint8Array): boolean {
  for (let p = start; p + target.length <= bytes.length; ) {
    let same = true;
    for (let i = 0; i < target.length && same; i++) same = bytes[p + i] === target[i];
    if (same) return true;
    const len = bytes[p]!;
    if (len === 0) return false;
    p += 1 + len;
  }
  return false;
}

/** Longest key: 3 bytes of kind and size, a name of at most 255 bytes, QTYPE and QCLASS. */
export const MAX_KEY = 3 + 255 + 4;
/** The key of the query being handled; every use is synchronous, so one buffer serves every query. */
const scratch = new Uint8Array(MAX_KEY);

/**
 * The key covers everything a cacheable response depends on besides the data, as bytes written into
 * `out`: transport kind (ANY is minimal over UDP only), EDNS present and the DO bit, the size limit,
 * then the question as sent with its name lower-cased (RFC 4343) — no name text is built. Queries
 * carrying EDNS options (cookies, client subnet, NSID, padding), or a compressed question name, are
 * answered per query. Returns the key's length, or -1.
 */
export function cacheKey(ctx: QueryContext, q: QueryView, out: Uint8Array): number {
  if (!q.question || q.error || q.opcode !== 0 || q.qr) return -1;
  const edns = q.edns;
  if (edns && (edns.options.length > 0 || edns.version !== 0)) return -1;
  // A record beside the OPT (a TSIG, RFC 8945) makes the response per query: it is signed for this request.
  if (q.arcount > (edns ? 1 : 0)) return -1;
  const limit = responseLimit(ctx);
  out[0] = (ctx.transport.proto === 'udp' ? 0 : 1) | (edns ? (edns.dnssecOk ? 4 : 2) : 0);
  out[1] = limit >> 8;
  out[2] = limit & 0xff;
  const raw = ctx.raw;
  // parseQuery validated the name (lengths, at most 255 bytes); a compressed one is not cached.
  const n = qnameLower(raw, q, out, 3);
  if (n < 0) return -1;
  let o = 3 + n;
  // QTYPE and QCLASS.
  for (let p = q.questionEnd - 4, end = q.questionEnd; p < end; p++) out[o++] = raw[p]!;
  return o;
}

/**
 * Copies a stored answer and makes it this query's: ID, question bytes (its case), RD and CD. The copy
 * is carved from a shared slab (wire/pool.ts): the output buffer is the only allocation of a hit.
 */
function personalize(entry: Uint8Array, at: number, ctx: QueryContext): Uint8Array {
  const n = entry.length - at;
  const out = pooledBytes(n);
  // A loop, not out.set(entry.subarray(at)): that view was half of what a hit allocated.
  for (let i = 0; i < n; i++) out[i] = entry[at + i]!;
  const raw = ctx.raw;
  out[0] = raw[0]!;
  out[1] = raw[1]!;
  // RD is bit 0 of byte 2; CD is bit 4 of byte 3 (RFC 1035 §4.1.1, RFC 4035 §3.2.2).
  out[2] = (out[2]! & 0xfe) | (raw[2]! & 0x01);
  out[3] = (out[3]! & 0xef) | (raw[3]! & 0x10);
  for (let i = 12, end = ctx.query.questionEnd; i < end; i++) out[i] = raw[i]!;
  return out;
}

export function answerCache(cache: AnswerCache): Unit {
  return {
    name: 'answer-cache',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      // A policy that asked for TTL jitter gets fresh draws, never a stored answer.
      if (ctx.ttlJitter) return CONTINUE;
      const len = cacheKey(ctx, ctx.query, scratch);
      if (len < 0) return CONTINUE;
      const h = hashKey(scratch, len);
      const entry = cache.find(scratch, ctx.runtime.generation, len, h);
      if (entry) {
        cache.hits++;
        hitsTotal.value++;
        ctx.response.prebuilt = personalize(entry, HEAD + len, ctx);
        ctx.zoneSlot = entrySlot(entry);
        return ANSWERED;
      }
      cache.misses++;
      missesTotal.value++;
      ctx.cacheMissHash = h;
      return CONTINUE;
    },
  };
}

export function answerCacheStore(cache: AnswerCache): Unit {
  return {
    name: 'answer-cache-store',
    stage: 'finish',
    handle(ctx: QueryContext): Outcome {
      const r = ctx.response;
      if (ctx.cacheMissHash < 0 || !r.cacheable || r.prebuilt) return CONTINUE;
      r.prebuilt = encodeResponse(ctx);
      // The "seen once" filter needs only the hash; the key bytes are made again only for an answer
      // stored (a unit in between may have awaited, and other queries used the scratch).
      if (ctx.runtime.generation !== cache.generationNow || !cache.admit(ctx.cacheMissHash)) return CONTINUE;
      const len = cacheKey(ctx, ctx.query, scratch);
      if (len >= 0) cache.store(ctx.cacheMissHash, scratch, r.prebuilt, len, ctx.zoneSlot);
      return CONTINUE;
    },
  };
}
