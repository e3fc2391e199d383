// answer-cache: pre-encoded answers. The responder serves a stored response with only the ID, the
// question's case and the RD/CD bits patched; the finisher (last in the chain) stores what a
// cacheable responder produced. Guards and policies run before it on every query, so nothing they
// decide is bypassed. Stored answers belong to one runtime generation: a reload empties the cache.
import { qnameLower, type QueryView } from '../../wire/fastpath.js';
import { pooledBytes } from '../../wire/pool.js';
import { encodeResponse, responseLimit } from '../../answer/encode.js';
import type { QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, type Outcome, type Unit } from '../../answer/unit.js';
import { Count, counter, observed } from '../../observe/metrics/family.js';
import { replayedTotal, replyCell, shapedTotal, templateReopensTotal, templatesHeld } from '../../answer/replay.js';

const hitsTotal = new Count();
// With the hits the UDP addon replayed from its mirror of this cache (answer/replay.ts).
observed('fluxdns_answer_cache_hits_total', 'Queries answered from the answer cache', 'counter', [], () => [[[], hitsTotal.value + replayedTotal()]]);
observed('fluxdns_answer_cache_replayed_total', 'Of the answer-cache hits, those the UDP addon answered itself from its mirror of plain hits', 'counter', [], () => [[[], replayedTotal()]]);
observed('fluxdns_answer_cache_shaped_total', 'Of the replayed, those the UDP addon made from a reply for another name below the same closest encloser (encloser replay)', 'counter', [], () => [[[], shapedTotal()]]);
observed('fluxdns_answer_cache_templates', 'Encloser templates the UDP addon holds now, over its sockets (each capped at 32,768, half its mirror: fluxdns_answer_cache_template_reopens_total counts the reopenings)', 'gauge', [], () => [[[], templatesHeld()]]);
observed('fluxdns_answer_cache_template_reopens_total', 'Times the UDP addon emptied its encloser templates at their cap (half the mirror), keeping the exact entries, so learning goes on', 'counter', [], () => [[[], templateReopensTotal()]]);
const missesTotal = counter('fluxdns_answer_cache_misses_total', 'Cacheable-looking queries the answer cache did not hold');
const evictionsTotal = counter('fluxdns_answer_cache_evictions_total', 'Answers dropped from the answer cache to make room');

/** FNV-1a over the key bytes, kept to 30 bits so hash + 1 is a positive int32 table tag: get/set of keys given as bytes. */
function hashKey(key: Uint8Array, length: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return h & 0x3fffffff;
}

/**
 * The hash a query's key (cacheKey) is stored under, straight from the datagram: FNV-1a over the
 * question's name bytes ASCII-lower-cased as they are read (RFC 4343; a length byte is below 0x40 and
 * passes unchanged), mixed with the key's head (keyHead) and QTYPE·QCLASS by murmur3's finalizer, so
 * every bit of each part reaches the low bits the table and the seen filter index by. Neither a hit nor
 * a miss makes the key's bytes or the name's WireName for it (issue 11: the name was lower-cased and
 * hashed into a key, then again for the authority and the zone, then again to store). 30 bits, as
 * hashKey; -1 for a compressed name (never cached).
 */
function queryKeyHash(raw: Uint8Array, questionEnd: number, head: number): number {
  let h = 0x811c9dc5;
  // parseQuery validated the name (lengths, pointers, at most 255 bytes): a pointer ends the walk.
  for (let p = 12, end = questionEnd - 4; p < end; ) {
    const len = raw[p]!;
    if (len >= 0x40) return -1;
    h = Math.imul(h ^ len, 0x01000193);
    const lEnd = p + 1 + len;
    for (p++; p < lEnd; p++) {
      const c = raw[p]!;
      h = Math.imul(h ^ (c >= 0x41 && c <= 0x5a ? c | 0x20 : c), 0x01000193);
    }
  }
  h ^= Math.imul(head, 0x9e3779b1) ^ Math.imul(typeClassOf(raw, questionEnd), 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

/** QTYPE and QCLASS of the query's question as one number (the 4 bytes before questionEnd). */
function typeClassOf(raw: Uint8Array, questionEnd: number): number {
  return ((raw[questionEnd - 4]! << 24) | (raw[questionEnd - 3]! << 16) | (raw[questionEnd - 2]! << 8) | raw[questionEnd - 1]!) >>> 0;
}

/**
 * Bounded by entry count and by bytes; the oldest entry goes first. Entries live in one byte arena
 * written as a log (a ring: new entries at the head, the oldest evicted at the tail), found through an
 * open-addressed table of (30-bit key hash + 1, arena offset) pairs in one Int32Array. A hit reads one
 * slot of the table and one run of the arena, both flat memory: the Map of one Uint8Array per entry it
 * replaces cost a hash-table bucket, its entry, the typed array and its off-heap store — four cache
 * misses per hit, and 17-20 % of the server's CPU on the repeating mix in a profile (issue 11) — and
 * gave the collector tens of thousands of array buffers to trace. Two keys with the same 30-bit hash
 * take turns (the later replaces the earlier); the key bytes are always compared.
 */
export interface AnswerCacheOptions {
  /**
   * Store an answer only when its key is asked for the second time (within the last ~65,536 distinct
   * keys). A stream of names never asked again (random subdomains, NXDOMAIN from typos) then costs
   * no entry, no copy and no eviction; a name asked twice is cached from its second answer on.
   */
  admitOnSecondAsk?: boolean;
  /** Most bytes the entries may take (default 32 MiB); the arena starts small and doubles up to it. */
  maxBytes?: number;
}

/**
 * The "seen once" filter: 2^18 slots (1 MiB) in sets of 4, each slot the 30-bit key hash + 1 (0: empty).
 * Four ways, not one: with one slot per hash, two names sharing it and asked in turn overwrite each
 * other forever and are never cached (measured: 7 % of the repeating mix stayed misses).
 */
const SEEN_SLOTS = 1 << 18;
const SEEN_SET_MASK = (SEEN_SLOTS - 1) & ~3;
/**
 * Bytes before an entry's key in the arena: key length (2), answer length (2), the answering zone's
 * slot + 1 (3; 0: none or not known, handed to the per-zone query counter as ctx.zoneSlot instead of it
 * matching the name), the labels of the question name a wildcard stood for (1; ctx.wildcardLabels, so
 * rrl buckets a hit as it did the miss), the key's hash (4) so an evicted entry finds its table slot, then the
 * answer's metrics cell + 1 (3; observe/metrics/cells.ts, 0: none; a hit hands it to the query metrics as
 * ctx.cacheCell, which count the hit with one increment) and one spare.
 */
const HEAD = 16;
/** Slots from 0 to this fit in an entry's 3 bytes (as slot + 1); a larger one is stored as not known. */
const MAX_SLOT = 0xfffffe;
const DEFAULT_MAX_BYTES = 32 << 20;
const FIRST_ARENA = 64 << 10;
/** AnswerCache.lookup on a miss: the key's first ask (its answer is not stored), or a later one (it is). */
export const MISS = -1;
export const MISS_STORE = -2;

export class AnswerCache {
  private readonly seen: Uint32Array | undefined;
  private victim = 0;
  /** Pairs (hash + 1, arena offset); 0 is an empty slot. Linear probing, at most half full. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private arena: Uint8Array;
  private readonly maxBytes: number;
  /** The log: entries in [tail, head), or when wrapped in [tail, wrapEnd) then [0, head). */
  private head = 0;
  private tail = 0;
  private wrapEnd = 0;
  private wrapped = false;
  /** Entries in the log, replaced ones included (they leave at the tail like the others). */
  private count = 0;
  /** Entries the table finds. */
  private live = 0;
  private generation = -1;
  /** Whether anything was stored or remembered by the seen filter since renew last emptied both. */
  private written = false;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxEntries = 100000,
    options: AnswerCacheOptions = {},
  ) {
    if (options.admitOnSecondAsk) this.seen = new Uint32Array(SEEN_SLOTS);
    let slots = 8;
    while (slots < maxEntries * 2) slots *= 2;
    this.table = new Int32Array(slots * 2);
    this.mask = slots - 1;
    this.maxBytes = Math.max(FIRST_ARENA, options.maxBytes ?? DEFAULT_MAX_BYTES);
    this.arena = new Uint8Array(FIRST_ARENA);
  }

  /** The arena the offsets from find() point into (replaced when it grows: read it after find()). */
  get bytes(): Uint8Array {
    return this.arena;
  }

  /** The stored answer as a view of the arena (copy it before changing it; a later store may overwrite it), or undefined. */
  get(key: Uint8Array, generation: number, length = key.length): Uint8Array | undefined {
    const at = this.find(key, generation, length);
    return at < 0 ? undefined : this.arena.subarray(this.answerAt(at), this.answerAt(at) + this.answerLength(at));
  }

  /** The arena offset of the entry holding `key` (its answer at answerAt()), or -1. */
  find(key: Uint8Array, generation: number, length = key.length, h = hashKey(key, length)): number {
    if (generation !== this.generation) this.renew(generation);
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const tag = t[2 * i]!;
      if (tag === 0) return -1;
      if (tag !== h + 1) continue;
      const at = t[2 * i + 1]!;
      const a = this.arena;
      if (((a[at]! << 8) | a[at + 1]!) !== length) return -1;
      for (let j = 0, p = at + HEAD; j < length; j++, p++) if (a[p] !== key[j]) return -1;
      return at;
    }
  }

  /**
   * find() for a query's key (cacheKey) without making it: `head` (keyHead), then the question's name
   * (raw from offset 12, lower-cased as compared) with its QTYPE and QCLASS, are compared with the
   * entry's key; `h` is queryKeyHash's. On a miss the query counts as an ask (admit): MISS_STORE when
   * its answer is to be stored, else MISS. An entry's arena offset on a hit.
   */
  lookup(raw: Uint8Array, questionEnd: number, head: number, generation: number, h: number): number {
    if (generation !== this.generation) this.renew(generation);
    // The seen filter's set is read before the table's slot is compared, not after the miss is known: on
    // a name not asked lately both are cache misses (1 MiB and 2 MiB of random slots), and read together
    // they overlap — one after the other each was 6-7 % of a distinct-name query's CPU profile (issue 11).
    const seen = this.seen;
    const set = h & SEEN_SET_MASK;
    const first = seen === undefined ? 0 : seen[set]!;
    // The key: 3 bytes of head, then the question as sent (name, QTYPE, QCLASS) with the name lower-cased.
    const length = questionEnd - 12 + 3;
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const tag = t[2 * i]!;
      if (tag === 0) break;
      if (tag !== h + 1) continue;
      const at = t[2 * i + 1]!;
      const a = this.arena;
      const k = at + HEAD + 3;
      if (((a[at]! << 8) | a[at + 1]!) !== length || a[k - 3] !== head >>> 16 || a[k - 2] !== ((head >>> 8) & 0xff) || a[k - 1] !== (head & 0xff)) break;
      const nameEnd = questionEnd - 4;
      let j = k;
      let same = true;
      for (let p = 12; p < nameEnd && same; p++, j++) {
        const c = raw[p]!;
        same = a[j] === (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
      }
      for (let p = nameEnd; p < questionEnd && same; p++, j++) same = a[j] === raw[p];
      if (same) return at;
      break;
    }
    return seen === undefined || this.ask(seen, h, set, first) ? MISS_STORE : MISS;
  }

  /**
   * A new runtime generation: the stored answers and the seen filter belong to the old one. When
   * nothing was written since they were last emptied (the first query after start) they are left as
   * they are: filling 2 MB or more of never-touched zeros maps every page (~8 ms of the first answer).
   */
  private renew(generation: number): void {
    if (this.written) {
      this.clear();
      this.seen?.fill(0);
      this.written = false;
    }
    this.generation = generation;
  }

  /** Where the answer of the entry at `at` starts in bytes. */
  answerAt(at: number): number {
    const a = this.arena;
    return at + HEAD + ((a[at]! << 8) | a[at + 1]!);
  }

  answerLength(at: number): number {
    const a = this.arena;
    return (a[at + 2]! << 8) | a[at + 3]!;
  }

  /** The zone slot stored with the entry at `at` (ctx.zoneSlot of the answer stored), -1 for none. */
  zoneSlotAt(at: number): number {
    const a = this.arena;
    return ((a[at + 4]! << 16) | (a[at + 5]! << 8) | a[at + 6]!) - 1;
  }

  /** The wildcard labels stored with the entry at `at` (ctx.wildcardLabels), 0 for none. */
  wildcardLabelsAt(at: number): number {
    return this.arena[at + 7]!;
  }

  /** The metrics cell stored with the entry at `at` (ctx.cacheCell), -1 for none. */
  cellAt(at: number): number {
    const a = this.arena;
    return ((a[at + 12]! << 16) | (a[at + 13]! << 8) | a[at + 14]!) - 1;
  }

  /**
   * Drops every entry, or (with `name`, wire form) the entries for that name and the names below
   * it — `fluxdns ctl cache flush [NAME]`. Returns how many went. Not on the query path.
   */
  flush(name?: Uint8Array): number {
    const before = this.live;
    if (name === undefined) {
      this.clear();
      return before;
    }
    const target = name.map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
    const visit = (from: number, to: number) => {
      for (let at = from; at < to; at += this.sizeAt(at)) {
        // A key is 3 bytes of kind and size after the head, then the lower-cased question name.
        const slot = this.slotOf(this.hashAt(at), at);
        if (slot >= 0 && nameAtOrBelow(this.arena, at + HEAD + 3, at + HEAD + ((this.arena[at]! << 8) | this.arena[at + 1]!), target)) this.remove(slot);
      }
    };
    if (this.count > 0) {
      if (this.wrapped) {
        visit(this.tail, this.wrapEnd);
        visit(0, this.head);
      } else visit(this.tail, this.head);
    }
    return before - this.live;
  }

  set(key: Uint8Array, generation: number, wire: Uint8Array, length = key.length, zoneSlot = -1, cell = -1, wildcardLabels = 0): void {
    if (generation !== this.generation) return;
    const h = hashKey(key, length);
    if (this.admit(h)) this.store(h, key, wire, length, zoneSlot, cell, wildcardLabels);
  }

  /**
   * Whether an answer whose key hashes to `h` is to be stored now: always without the "seen once"
   * filter; with it, on the second ask (the first only remembers the hash). Counts as that ask.
   */
  admit(h: number): boolean {
    const seen = this.seen;
    return seen === undefined || this.ask(seen, h, h & SEEN_SET_MASK, seen[h & SEEN_SET_MASK]!);
  }

  /** admit() with the first slot of h's set already read (`first`, see lookup). */
  private ask(seen: Uint32Array, h: number, set: number, first: number): boolean {
    if (first === h + 1) {
      seen[set] = 0;
      return true;
    }
    for (let k = set + 1; k < set + 4; k++) {
      if (seen[k] === h + 1) {
        seen[k] = 0;
        return true;
      }
    }
    // First ask: remember the hash only, in an empty slot of its set or else in the next one in turn.
    let free = -1;
    for (let k = set; k < set + 4 && free < 0; k++) if (seen[k] === 0) free = k;
    if (free < 0) free = set + (this.victim = (this.victim + 1) & 3);
    seen[free] = h + 1;
    this.written = true;
    return false;
  }

  /**
   * Stores an admitted answer under `h` (the hash of `key`'s first `length` bytes), with the slot of the
   * zone that answered, the answer's metrics cell (-1: none) and the labels a wildcard stood for (0: none;
   * at most 127, a name's label count).
   */
  store(h: number, key: Uint8Array, wire: Uint8Array, length = key.length, zoneSlot = -1, cell = -1, wildcardLabels = 0): boolean {
    const size = (HEAD + length + wire.length + 7) & ~7;
    // One answer may not push out an eighth of the cache (a 64 KiB TCP answer in a small arena).
    if (size > this.maxBytes >>> 3 || wire.length > 0xffff) return false;
    while (this.count >= this.maxEntries) this.evictTail();
    this.reserve(size);
    this.written = true;
    const at = this.head;
    const a = this.arena;
    a[at] = length >> 8;
    a[at + 1] = length & 0xff;
    a[at + 2] = wire.length >> 8;
    a[at + 3] = wire.length & 0xff;
    const z = zoneSlot >= 0 && zoneSlot <= MAX_SLOT ? zoneSlot + 1 : 0;
    a[at + 4] = z >>> 16;
    a[at + 5] = (z >>> 8) & 0xff;
    a[at + 6] = z & 0xff;
    a[at + 7] = wildcardLabels;
    a[at + 8] = h >>> 24;
    a[at + 9] = (h >>> 16) & 0xff;
    a[at + 10] = (h >>> 8) & 0xff;
    a[at + 11] = h & 0xff;
    const c = cell >= 0 && cell <= MAX_SLOT ? cell + 1 : 0;
    a[at + 12] = c >>> 16;
    a[at + 13] = (c >>> 8) & 0xff;
    a[at + 14] = c & 0xff;
    a[at + 15] = 0;
    a.set(key.subarray(0, length), at + HEAD);
    a.set(wire, at + HEAD + length);
    this.head = at + size;
    this.count++;
    // Whatever held this hash (the same key stored again, or a colliding one) is replaced; its bytes stay in the log until the tail passes.
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const tag = t[2 * i]!;
      if (tag === h + 1) {
        t[2 * i + 1] = at;
        return true;
      }
      if (tag === 0) {
        t[2 * i] = h + 1;
        t[2 * i + 1] = at;
        this.live++;
        return true;
      }
    }
  }

  get size(): number {
    return this.live;
  }

  /** The runtime generation the stored answers belong to. */
  get generationNow(): number {
    return this.generation;
  }

  private clear(): void {
    this.table.fill(0);
    this.head = this.tail = this.wrapEnd = 0;
    this.wrapped = false;
    this.count = this.live = 0;
  }

  private sizeAt(at: number): number {
    const a = this.arena;
    return (HEAD + ((a[at]! << 8) | a[at + 1]!) + ((a[at + 2]! << 8) | a[at + 3]!) + 7) & ~7;
  }

  private hashAt(at: number): number {
    const a = this.arena;
    return ((a[at + 8]! << 24) | (a[at + 9]! << 16) | (a[at + 10]! << 8) | a[at + 11]!) >>> 0;
  }

  /** The table slot pointing at the entry at `at` (hash `h`), or -1 when it was replaced or removed. */
  private slotOf(h: number, at: number): number {
    const t = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const tag = t[2 * i]!;
      if (tag === 0) return -1;
      if (tag === h + 1) return t[2 * i + 1] === at ? i : -1;
    }
  }

  /** Empties table slot `i`, moving later entries of its probe run back so lookups still reach them. */
  private remove(i: number): void {
    const t = this.table;
    const mask = this.mask;
    this.live--;
    for (let j = (i + 1) & mask; t[2 * j] !== 0; j = (j + 1) & mask) {
      const home = (t[2 * j]! - 1) & mask;
      // The entry at j may move to i unless its home lies cyclically in (i, j].
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      t[2 * i] = t[2 * j]!;
      t[2 * i + 1] = t[2 * j + 1]!;
      i = j;
    }
    t[2 * i] = 0;
    t[2 * i + 1] = 0;
  }

  private evictTail(): void {
    const at = this.tail;
    const slot = this.slotOf(this.hashAt(at), at);
    if (slot >= 0) {
      this.remove(slot);
      evictionsTotal.value++;
    }
    this.tail = at + this.sizeAt(at);
    this.count--;
    if (this.count === 0) {
      this.head = this.tail = this.wrapEnd = 0;
      this.wrapped = false;
    } else if (this.wrapped && this.tail >= this.wrapEnd) {
      this.tail = 0;
      this.wrapped = false;
    }
  }

  /** Makes `size` free bytes at the head: grows the arena up to maxBytes, then wraps and evicts from the tail. */
  private reserve(size: number): void {
    for (;;) {
      if (!this.wrapped) {
        if (this.head + size <= this.arena.length) return;
        if (this.arena.length < this.maxBytes) {
          let n = this.arena.length * 2;
          while (n < this.head + size) n *= 2;
          const grown = new Uint8Array(Math.min(n, this.maxBytes));
          // Offsets stay valid: the live entries keep their places.
          grown.set(this.arena.subarray(0, this.head));
          this.arena = grown;
          continue;
        }
        this.wrapEnd = this.head;
        this.head = 0;
        this.wrapped = true;
        continue;
      }
      if (this.head + size <= this.tail) return;
      this.evictTail();
    }
  }
}

/** The cache a server runs with: answers are stored on their second ask (see AnswerCacheOptions). */
export function serverAnswerCache(): AnswerCache {
  return new AnswerCache(100000, { admitOnSecondAsk: true });
}

/** Whether the wire name at `start` of `bytes` (before `end`) is `target` or ends with it at a label boundary. */
function nameAtOrBelow(bytes: Uint8Array, start: number, end: number, target: Uint8Array): boolean {
  for (let p = start; p + target.length <= end; ) {
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
  const head = keyHead(ctx, q);
  if (head < 0) return -1;
  out[0] = head >>> 16;
  out[1] = (head >>> 8) & 0xff;
  out[2] = head & 0xff;
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
 * The key's first 3 bytes as one number (transport kind and EDNS, then the size limit), or -1 when the
 * query is answered per query (see cacheKey).
 */
function keyHead(ctx: QueryContext, q: QueryView): number {
  if (!q.question || q.error || q.opcode !== 0 || q.qr) return -1;
  const edns = q.edns;
  if (edns && (edns.options.length > 0 || edns.version !== 0)) return -1;
  // A record beside the OPT (a TSIG, RFC 8945) makes the response per query: it is signed for this request.
  if (q.arcount > (edns ? 1 : 0)) return -1;
  const kind = (ctx.transport.proto === 'udp' ? 0 : 1) | (edns ? (edns.dnssecOk ? 4 : 2) : 0);
  return (kind << 16) | responseLimit(ctx);
}

/**
 * Copies a stored answer (`n` bytes at `at` of the cache's arena) and makes it this query's: ID,
 * question bytes (its case), RD and CD. The copy is carved from a shared slab (wire/pool.ts): the
 * output buffer is the only allocation of a hit.
 */
function personalize(a: Uint8Array, at: number, n: number, ctx: QueryContext): Uint8Array {
  const out = pooledBytes(n);
  // A loop, not out.set(a.subarray(at, at + n)): that view was half of what a hit allocated.
  for (let i = 0; i < n; i++) out[i] = a[at + i]!;
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
      const q = ctx.query;
      const head = keyHead(ctx, q);
      if (head < 0) return CONTINUE;
      const raw = ctx.raw;
      const h = queryKeyHash(raw, q.questionEnd, head);
      if (h < 0) return CONTINUE;
      const at = cache.lookup(raw, q.questionEnd, head, ctx.runtime.generation, h);
      if (at >= 0) {
        cache.hits++;
        hitsTotal.value++;
        const reply = personalize(cache.bytes, cache.answerAt(at), cache.answerLength(at), ctx);
        ctx.response.prebuilt = reply;
        ctx.cacheReply = reply;
        ctx.zoneSlot = cache.zoneSlotAt(at);
        ctx.cacheCell = cache.cellAt(at);
        ctx.wildcardLabels = cache.wildcardLabelsAt(at);
        return ANSWERED;
      }
      cache.misses++;
      missesTotal.value++;
      ctx.cacheMissHash = h;
      ctx.cacheStore = at === MISS_STORE;
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
      // The ask was counted by the lookup (cache.lookup); the key bytes are made again only for an
      // answer stored (a unit in between may have awaited, and other queries used the scratch).
      if (!ctx.cacheStore || ctx.runtime.generation !== cache.generationNow) return CONTINUE;
      const len = cacheKey(ctx, ctx.query, scratch);
      if (len < 0) return CONTINUE;
      const cell = replyCell(ctx, r.prebuilt);
      if (cache.store(ctx.cacheMissHash, scratch, r.prebuilt, len, ctx.zoneSlot, cell, ctx.wildcardLabels)) {
        // The stored answer as it goes out, as a hit's would: the metrics count it by its cell, and the
        // UDP addon may replay it from the next ask on (Engine.lastReplay) rather than from the first hit.
        ctx.cacheReply = r.prebuilt;
        ctx.cacheCell = cell;
      }
      return CONTINUE;
    },
  };
}
