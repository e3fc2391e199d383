// Replays: answer-cache hits a transport sends again by itself for the same query bytes (the UDP addon's
// mirror, native/udp_batch.c), without the engine running — and what the metrics count for them.
//
// A replay must be what the engine would have sent: the engine flags a reply as replayable only when it
// is a plain answer-cache hit (the reply is the stored answer, personalized) under a chain whose every
// unit decides from the query's bytes and the loaded data alone — never from the client, the clock or a
// per-query count (cookies, capabilities, TTL jitter, online signing with its validity window are not in
// REPLAY_SAFE; TSIG is, as a signed query is never cached; policies are in REPLAY_IF_QUESTION: they say per
// query). The one exception is a unit that hands the transport its count (ReplayLimiting: rrl), which the transport then keeps for replays. A
// transport empties what it keeps whenever the engine says so (a swap, a cache flush, an observer that
// needs every query), which is when the answer cache itself forgets.
import type { Chain, QueryContext, Runtime } from './context.js';
import { cellOf, cells } from '../observe/metrics/cells.js';

/**
 * Units (by name) that, on an answer-cache hit, act the same for the same query bytes and count
 * nothing per query. A chain with any other unit is not replayed.
 */
const REPLAY_SAFE: ReadonlySet<string> = new Set([
  'tsig', // acts on a signed query only, and a query with a TSIG is never cached (its bytes say so)
  'header', // from the header bytes alone
  'notify', // NOTIFY only (never a cacheable query)
  'xfr', // AXFR/IXFR/UPDATE/NOTIFY; a query it lets through, it lets through for any client (apex test)
  'dnssec-keys', // name and type
  'exceptions-txt', // name and type
  'answer-cache',
  'echo', // responders after the cache: a hit never reaches them
  'secondary-servfail',
  'zone',
  'policy-zone',
  'edns', // options only for queries with options, which are never cached
  'tsig-out', // signs replies to signed queries only
  'answer-cache-store', // skips prebuilt replies
]);

/**
 * A bucket table's columns (modules/rrl/limiter.ts RateLimiter): slot s holds the bucket (keyA[s], keyB[s])
 * when place[s] > 0; `ok` is the counter of responses let through, one cell. native/udp_batch.c reads and
 * writes them.
 */
export interface ReplayColumns {
  keyA: Int32Array;
  keyB: Int32Array;
  balance: Float64Array;
  at: Float64Array;
  limited: Int32Array;
  place: Int32Array;
  ok: Float64Array;
}

/** How a client's bucket key is made, and who is never limited: fixed for one configuration. */
export interface ReplayKey {
  /** Hash seeds of client prefixes (modules/rrl/name-hash.ts hashPrefix). */
  readonly seedA: number;
  readonly seedB: number;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  /** Prefixes never limited, 18 bytes each: family (4|6), length, 16 bytes of network address. */
  readonly exempt: Uint8Array;
}

/**
 * What a transport needs to apply a per-query rate limit to its replays exactly as the unit does
 * (modules/rrl/replay.ts; native/udp_batch.c): the unit's bucket table, shared, and how a client's
 * bucket key is made. The transport lets a replay through only on a bucket with credit, spending it as
 * the unit would; anything else (no bucket yet, no credit) it hands to the engine, whose unit then
 * limits, slips, counts and logs as always.
 */
export interface ReplayLimit {
  /** The bucket table's columns now. */
  columns(): ReplayColumns;
  /** Calls `l` whenever the columns are replaced; returns the unsubscribe. */
  onResize(l: () => void): () => void;
  readonly key: ReplayKey;
}

/** A unit that counts per query but whose count a transport can keep for its replays (rrl). */
export interface ReplayLimiting {
  replayLimit(runtime: Runtime): ReplayLimit | undefined;
}

/**
 * Units that act per client, time or transport only on some queries and say so per query
 * (QueryContext.perClient): policies, whose qname and qtype tests can rule every policy out for a query's
 * bytes alone. A reply such a unit left alone is replayed for the same bytes; an encloser template, which
 * answers other names, only when the unit's gate (QueryContext.encloserGate) says it would leave every name
 * below the encloser alone too — a unit added here must set that gate, or no template is learnt.
 */
const REPLAY_IF_QUESTION: ReadonlySet<string> = new Set(['policies']);

/**
 * Whether replies of `chain` may be replayed: false, or true with the limit replays must pass (rrl), if
 * any, and whether a unit of REPLAY_IF_QUESTION decides per query (`perQuery`).
 */
export function chainReplayable(chain: Chain | undefined, runtime?: Runtime): { ok: boolean; limit?: ReplayLimit; perQuery?: boolean } {
  if (chain === undefined) return { ok: false };
  let limit: ReplayLimit | undefined;
  let perQuery = false;
  for (const u of chain.units) {
    if (REPLAY_SAFE.has(u.name)) continue;
    if (REPLAY_IF_QUESTION.has(u.name)) {
      perQuery = true;
      continue;
    }
    const l = runtime !== undefined && limit === undefined && 'replayLimit' in u ? (u as unknown as ReplayLimiting).replayLimit(runtime) : undefined;
    if (l === undefined) return { ok: false };
    limit = l;
  }
  return { ok: true, limit, perQuery };
}

// Encloser replay: a reply for a name that does not exist depends on the name only through its closest
// encloser E (RFC 4592) — an NXDOMAIN, a wildcard answer or NODATA — so the UDP addon answers the next
// query for another name below E, with the same bytes otherwise, from it: the reply with the question's
// name put in (docs: native/README.md). The zone responder says which of its answers are so
// (QueryContext.encloserShape); the engine flags a reply (Engine.lastShape) only under the conditions of a
// replay; the transport registers the zones whose arrays the addon may search for E (encloser-zones.ts).

/** encloserShape: the answer depends on the name only through its closest encloser (and the query's other bytes). */
export const SHAPE_ENCLOSER = 1;
/** encloserShape: rrl counts it by the question name (a positive answer): under rrl, other names are other buckets. */
export const SHAPE_NAMED_BUCKET = 2;
/**
 * encloserShape, and bit 30 of the send meta's word 7: the reply holds only for names whose label below
 * the encloser sorts after "*" (RFC 4034 §6.1) — a signed wildcard answer whose NSEC is the wildcard's own.
 */
export const SHAPE_AFTER_STAR = 0x40000000;
/**
 * encloserShape, and bit 29 of word 7: a signed NSEC3 reply whose one name-dependent part is the NSEC3 covering
 * the next closer name (dnssec/serve COVER_NSEC3_HOLE): the addon learns it with a hole it fills per name.
 */
export const SHAPE_NSEC3_HOLE = 0x20000000;
/**
 * Bit 27 of word 7 (replay mode 2, an observer counts replays by cell): a reply the addon makes from the
 * template for a name of another length (or with an NSEC3 block of another length) is counted by the learnt
 * cell's type, rcode and zone — the template's for every name below E — at its own length (drainSource), and
 * is not promoted to a mirror entry. (Bit 28, "names as long only", is no longer used.)
 */
export const SHAPE_BY_LENGTH = 0x08000000;

/**
 * The metrics cell of a reply (observe/metrics/cells.ts): what a replay of it counts. Its zone is the one
 * the query metrics give the query (observe/metrics/zone-counts.ts): the file zone that answered, or else
 * the deepest file zone holding the name, '' for none — an echo or policy-owned zone's answer counts so.
 * Made when an answer is stored, not per hit. -1 without a question.
 */
export function replyCell(ctx: QueryContext, wire: Uint8Array): number {
  const qe = ctx.query.questionEnd;
  const q = ctx.query.question;
  if (q === undefined || qe <= 12 || wire.length < 12) return -1;
  const zone = ctx.zoneSlot >= 0 ? ctx.runtime.zones.zones[ctx.zoneSlot] : ctx.runtime.zones.find(q.name);
  const raw = ctx.raw;
  return cellOf((raw[qe - 4]! << 8) | raw[qe - 3]!, wire[3]! & 15, wire.length, zone?.origin ?? '');
}

/**
 * Engine.lastShape for `reply`, made from `ctx` by the chain just now (replays on): 0, or its cell + 2
 * (1: none) with SHAPE_AFTER_STAR and SHAPE_NSEC3_HOLE. `limited`: replays must pass rrl. `counted` (mode 2:
 * an observer counts replays by cell): the reply's own cell, with SHAPE_BY_LENGTH (a reply for a name of
 * another length is counted at its own); none without a cell.
 */
export function shapeWord(ctx: QueryContext, reply: Uint8Array, limited: boolean, counted = false): number {
  const s = ctx.encloserShape;
  // A query answered per query (EDNS options, TSIG, another opcode) or an answer with random TTLs: never.
  if (s === 0 || ctx.cacheMissHash < 0 || !ctx.response.cacheable) return 0;
  if (limited && (ctx.rrlRate <= 0 || (s & SHAPE_NAMED_BUCKET) !== 0)) return 0;
  // Written whole: not cut to TC, and no optional record left out for want of room (a shorter name's
  // reply would hold it; the addon's size rule covers longer names).
  const r = ctx.response;
  if (reply.length < 12 || (reply[2]! & 2) !== 0) return 0;
  if (((reply[6]! << 8) | reply[7]!) !== r.answer.length || ((reply[8]! << 8) | reply[9]!) !== r.authority.length) return 0;
  if (((reply[10]! << 8) | reply[11]!) !== r.additional.length + (ctx.query.edns !== undefined ? 1 : 0)) return 0;
  if (counted) {
    const cell = reply === ctx.cacheReply && ctx.cacheCell >= 0 ? ctx.cacheCell : replyCell(ctx, reply);
    return cell < 0 ? 0 : (cell + 2) | SHAPE_BY_LENGTH | (s & (SHAPE_AFTER_STAR | SHAPE_NSEC3_HOLE));
  }
  return (reply === ctx.cacheReply && ctx.cacheCell >= 0 ? ctx.cacheCell + 2 : 1) | (s & (SHAPE_AFTER_STAR | SHAPE_NSEC3_HOLE));
}

/** A transport's counts of replies it replayed: [without a cell, cell, hits, cell, hits, …], reset on each call. */
export type ReplaySource = () => Float64Array;

/** A source's cumulative counts since it opened: replies made from encloser templates, and times its templates were emptied at their cap (the exact entries kept); and the templates it holds now. */
export interface TemplateCounts {
  shaped: number;
  reopens: number;
  held: number;
}

/** Each source with its template counts, if it tells. */
const sources = new Map<ReplaySource, (() => TemplateCounts) | undefined>();
let total = 0;
/** The cumulative template counts of sources since removed. */
const gone = { shaped: 0, reopens: 0 };
let withoutCell = 0;
/** Hits per metrics cell not yet handed to the query metrics (takeReplayCells). */
let pending = new Float64Array(0);

/** `templates`: the source's template counts so far (cumulative; `shaped` is part of what `source` counts). */
export function addReplaySource(source: ReplaySource, templates?: () => TemplateCounts): void {
  sources.set(source, templates);
}

/** Counts what the source replayed so far, then forgets it (a closed socket). */
export function removeReplaySource(source: ReplaySource): void {
  drainSource(source);
  const t = sources.get(source)?.();
  gone.shaped += t?.shaped ?? 0;
  gone.reopens += t?.reopens ?? 0;
  sources.delete(source);
}

/** `key` summed over the open sources, from `from`. */
function sumTemplates(key: keyof TemplateCounts, from: number): number {
  let n = from;
  for (const templates of sources.values()) n += templates?.()[key] ?? 0;
  return n;
}

/** Of replayedTotal(): the replies made from a reply for another name below the same closest encloser (encloser replay). */
export function shapedTotal(): number {
  return sumTemplates('shaped', gone.shaped);
}

/** Times the UDP addon emptied its encloser templates at their cap, keeping the exact mirror entries (native/udp_batch.c tmpl_reopen). */
export function templateReopensTotal(): number {
  return sumTemplates('reopens', gone.reopens);
}

/** Encloser templates the open sources hold now (each socket's are capped at half its mirror); a closed socket's are gone. */
export function templatesHeld(): number {
  return sumTemplates('held', 0);
}

function drainSource(source: ReplaySource): void {
  const d = source();
  withoutCell += d[0] ?? 0;
  total += d[0] ?? 0;
  for (let i = 1; i + 1 < d.length; i += 2) {
    let cell = d[i]!;
    const k = d[i + 1]!;
    total += k;
    // A replay counted by length (SHAPE_BY_LENGTH): -1 - (learnt cell * 8192 + its own length).
    if (cell < 0) {
      const v = -1 - cell;
      const learnt = cells[Math.floor(v / 8192)];
      // (The addon only ever sends a cell JS gave it; a full cell table gives none.)
      cell = learnt === undefined ? -1 : cellOf(learnt.qtype, learnt.rcode, v % 8192, learnt.zone);
      if (cell < 0) {
        withoutCell += k;
        continue;
      }
    }
    if (cell >= pending.length) {
      let n = Math.max(1024, pending.length);
      while (n <= cell) n *= 2;
      const g = new Float64Array(n);
      g.set(pending);
      pending = g;
    }
    pending[cell]! += k;
  }
}

function drain(): void {
  for (const s of sources.keys()) drainSource(s);
}

/** Replies replayed by every transport of this process since it started. */
export function replayedTotal(): number {
  drain();
  return total;
}

/** Hands each metrics cell's replayed UDP hits since the last call to `visit`. */
export function takeReplayCells(visit: (cell: number, hits: number) => void): void {
  drain();
  const p = pending;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    visit(i, p[i]!);
    p[i] = 0;
  }
}

/** Replays without a cell (only while no observer counts queries). */
export function replayedWithoutCell(): number {
  drain();
  return withoutCell;
}

/**
 * One engine's switch for replays. `mode`: 0 off, 1 any plain hit, 2 only hits whose answer has a
 * metrics cell (an observer counts queries, and folds replays by cell). Listeners (transports) are told
 * on every change and whenever what they keep must go.
 */
export class ReplayControl {
  private chainOk = false;
  /** Set by the owner of the engine's observer: the observer folds replays in by cell (metrics alone). */
  private accounted = false;
  private observed = false;
  private holds = 0;
  mode = 0;
  /** A unit of the chain decides per query whether its reply may be replayed (QueryContext.perClient); no templates then. */
  perQuery = false;
  /** The rate limit replays must pass (rrl), while mode is not 0. */
  limit: ReplayLimit | undefined;
  private chainLimit: ReplayLimit | undefined;
  private readonly listeners = new Set<(on: boolean, limit: ReplayLimit | undefined) => void>();

  /** `observed`: an observer sees queries; `accounted`: it folds replays in by cell (takeReplayCells). */
  setObserver(observed: boolean, accounted: boolean): void {
    this.observed = observed;
    this.accounted = accounted;
    this.reset();
  }

  /** A new runtime: what transports keep belongs to the old one. */
  setChain(chain: Chain | undefined, runtime?: Runtime): void {
    const r = chainReplayable(chain, runtime);
    this.chainOk = r.ok;
    this.chainLimit = r.limit;
    this.perQuery = r.perQuery === true;
    this.reset();
  }

  /** Replays stop until release() (an observer that needs each query for a while: the top lists). */
  hold(): void {
    this.holds++;
    this.reset();
  }

  release(): void {
    if (this.holds > 0) this.holds--;
    this.reset();
  }

  /** Tells every transport to forget what it keeps (and whether to keep anything from now on). */
  reset(): void {
    this.mode = !this.chainOk || this.holds > 0 || (this.observed && !this.accounted) ? 0 : this.observed ? 2 : 1;
    this.limit = this.mode === 0 ? undefined : this.chainLimit;
    for (const l of this.listeners) l(this.mode !== 0, this.limit);
  }

  /**
   * `l(on, limit)`: replays on or off (what was kept goes either way), and the limit they must pass.
   * Called with the current state first: a listener that throws there is not kept.
   */
  listen(l: (on: boolean, limit: ReplayLimit | undefined) => void): () => void {
    l(this.mode !== 0, this.limit);
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
