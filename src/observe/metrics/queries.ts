// Per-query accounting: what every answered (or dropped) query adds to the counters, in typed arrays.
import type { QueryContext, TransportProto } from '../../answer/context.js';
import { takeReplayCells } from '../../answer/replay.js';
import { rcodeName, typeName } from '../../wire/types.js';
import { cells } from './cells.js';
import { Buckets, histogramSamples, observed, observedSamples } from './family.js';
import { TopK } from './topk.js';
import { ZoneCounts } from './zone-counts.js';

const PROTOS: readonly TransportProto[] = ['udp', 'tcp', 'tls', 'https'];
/** qtype slots: 0..257 by number (CAA is 257), 258 any higher type, 259 no question. */
const QTYPES = 260;
/** rcode slots: 0..23 (BADCOOKIE is 23, RFC 7873), 24 any higher, 25 no reply sent. */
const RCODES = 26;
const NO_REPLY = 25;

/**
 * One query in LATENCY_SAMPLE is timed (the engine's `timeEvery`): performance.now() costs 80 ns on one
 * machine and 360–480 ns of wall time on a kvm-clock VM (process.hrtime underneath), so timing every query
 * cost more than all the counting. The histogram's count is of the queries timed, ≈ 1/LATENCY_SAMPLE.
 */
export const LATENCY_SAMPLE = 64;
/** Latency from the engine receiving the query to its reply being ready for the socket, in seconds. */
export const LATENCY_BOUNDS = [0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Response sizes in bytes: 512 (RFC 1035), 1232 (DNS flag day 2020), 1500 (Ethernet), 4096, 65535. */
export const SIZE_BOUNDS = [64, 128, 256, 512, 768, 1024, 1232, 1500, 2048, 4096, 8192, 16384, 65535];

/** How long the top lists keep filling after the dashboard last read them. */
export const TOP_WATCH_MS = 120_000;

/** Response-size slot of every length 0..65535: the index of the first bound at or above it. */
const SIZE_SLOT = (() => {
  const t = new Uint8Array(65536);
  let b = 0;
  for (let len = 0; len < t.length; len++) {
    while (len > SIZE_BOUNDS[b]!) b++;
    t[len] = b;
  }
  return t;
})();

export class QueryMetrics {
  /** [proto][rcode][qtype] → queries. */
  readonly queries = new Float64Array(PROTOS.length * RCODES * QTYPES);
  readonly latency = new Buckets(LATENCY_BOUNDS);
  /**
   * [proto][size slot] → responses, and the byte sum per proto: a table lookup and two adds per reply;
   * the histogram's form (cumulative buckets, count) is made at scrape time (sizeHistogram).
   */
  readonly sizeCounts = new Float64Array(PROTOS.length * SIZE_BOUNDS.length);
  readonly sizeSums = new Float64Array(PROTOS.length);
  /** Queries for names in each zone; '' counts names outside every zone. */
  readonly zones = new ZoneCounts();
  readonly topNames = new TopK(64);
  readonly topClients = new TopK(64);
  /**
   * The top lists are filled only while someone looks (the dashboard read them within TOP_WATCH_MS):
   * a string hash and a lower-cased copy per query are the most expensive part of the accounting.
   */
  private topUntil = 0;
  /**
   * [cell][proto] → answer-cache hits of the stored answers of each cell (observe/metrics/cells.ts), folded
   * into the counters above when they are read (fold): a hit is one increment here instead of four
   * (query, size bucket, byte sum, zone) at indices computed per query. Grown as cells are numbered.
   */
  private cellHits = new Float64Array(1024 * PROTOS.length);

  /**
   * The engine's observer: `seconds` from receiving the query to the reply being ready, -1 when not timed.
   * Typed-array increments at indices computed from small integers; labels, cumulative buckets and
   * sums over slots are made at scrape time.
   */
  record(ctx: QueryContext, reply: Uint8Array | null, seconds: number): void {
    // Interned strings: comparing them is comparing pointers (a keyed lookup by string was slower).
    const proto = ctx.transport.proto;
    const p = proto === 'udp' ? 0 : proto === 'tcp' ? 1 : proto === 'tls' ? 2 : 3;
    if (seconds >= 0) this.latency.observe(seconds);
    if (this.topUntil !== 0) this.addTop(ctx);
    // An answer-cache hit sent as the cache made it: one increment in its stored answer's cell. Counting it
    // field by field cost ≈ 60 ns a query in bench:observe, most of the metrics' cost (README, Observability).
    const cell = ctx.cacheCell;
    if (cell >= 0 && reply === ctx.cacheReply) {
      const i = cell * PROTOS.length + p;
      const hits = this.cellHits;
      if (i < hits.length) {
        hits[i]!++;
        return;
      }
      this.growCells(i);
      this.cellHits[i]!++;
      return;
    }
    // QTYPE from the question's bytes (questionEnd is 12 when no question parsed): the question's
    // text is never needed here, so a parse that makes it lazily does not have to make it for metrics.
    const qe = ctx.query.questionEnd;
    const raw = ctx.raw;
    const type = qe > 12 ? (raw[qe - 4]! << 8) | raw[qe - 3]! : -1;
    const qt = type < 0 ? 259 : type <= 257 ? type : 258;
    let rc = NO_REPLY;
    if (reply !== null) {
      // A pre-encoded (cached) reply carries its rcode in the header; otherwise the draft has the full one.
      rc = ctx.response.prebuilt === reply ? reply[3]! & 15 : ctx.response.rcode;
      if (rc > 23) rc = 24;
      const len = reply.length;
      this.sizeCounts[p * SIZE_BOUNDS.length + SIZE_SLOT[len]!]!++;
      this.sizeSums[p]! += len;
    }
    this.queries[(p * RCODES + rc) * QTYPES + qt]!++;
    if (type >= 0) this.zones.record(ctx);
  }

  /** Out of line: a larger table for the cell ids numbered since (rare: once per doubling). */
  private growCells(i: number): void {
    let n = this.cellHits.length;
    while (n <= i) n *= 2;
    const next = new Float64Array(n);
    next.set(this.cellHits);
    this.cellHits = next;
  }

  /** Moves the cells' hits into the per-field counters; every reader of them calls it first. */
  fold(): void {
    // Hits the UDP addon replayed without the engine (answer/replay.ts): UDP is proto slot 0.
    takeReplayCells((cell, k) => {
      const i = cell * PROTOS.length;
      if (i >= this.cellHits.length) this.growCells(i);
      this.cellHits[i]! += k;
    });
    const hits = this.cellHits;
    const n = PROTOS.length;
    const S = SIZE_BOUNDS.length;
    for (let i = 0; i < hits.length; i++) {
      const k = hits[i]!;
      if (k === 0) continue;
      hits[i] = 0;
      const c = cells[(i / n) | 0]!;
      const p = i % n;
      const qt = c.qtype <= 257 ? c.qtype : 258;
      const rc = c.rcode > 23 ? 24 : c.rcode;
      this.queries[(p * RCODES + rc) * QTYPES + qt]! += k;
      this.sizeCounts[p * S + SIZE_SLOT[c.length]!]! += k;
      this.sizeSums[p]! += k * c.length;
      this.zones.add(c.zone, k);
    }
  }

  /** The response-size histogram of one transport, in the Buckets form (for histogramSamples). */
  sizeHistogram(p: number): Buckets {
    this.fold();
    const h = new Buckets(SIZE_BOUNDS);
    const n = SIZE_BOUNDS.length;
    for (let i = 0; i < n; i++) h.counts[i] = this.sizeCounts[p * n + i]!;
    h.count = h.counts.reduce((a, b) => a + b, 0);
    h.sum = this.sizeSums[p]!;
    return h;
  }

  /** Out of line: record() stays small enough to be inlined into the engine. */
  private addTop(ctx: QueryContext): void {
    if (ctx.receivedAt > this.topUntil) {
      this.topUntil = 0;
      return;
    }
    this.topClients.add(ctx.transport.remoteAddress);
    const q = ctx.query.question;
    if (q !== undefined) this.topNames.add(q.name.toLowerCase());
  }

  /** The top lists, switching them on (again) for TOP_WATCH_MS. */
  watchTop(): { names: [string, number][]; clients: [string, number][] } {
    this.topUntil = Date.now() + TOP_WATCH_MS;
    return { names: this.topNames.entries(), clients: this.topClients.entries() };
  }

  /** Registers this object's families (replacing an earlier server's in the same process). */
  register(): void {
    const labelsOfSlot = (i: number) => {
      const qt = i % QTYPES;
      const rc = Math.floor(i / QTYPES) % RCODES;
      const p = Math.floor(i / (QTYPES * RCODES));
      return [PROTOS[p]!, qt === 259 ? 'none' : qt === 258 ? 'OTHER' : typeName(qt), rc === NO_REPLY ? 'none' : rc === 24 ? 'OTHER' : rcodeName(rc)] as const;
    };
    observed('fluxdns_queries_total', 'Queries received, by transport, question type and the response code sent (rcode "none": no reply was sent, e.g. dropped by RRL)', 'counter', ['transport', 'qtype', 'rcode'], () => {
      this.fold();
      const out: [string[], number][] = [];
      const a = this.queries;
      for (let i = 0; i < a.length; i++) if (a[i] !== 0) out.push([[...labelsOfSlot(i)], a[i]!]);
      return out;
    });
    observed('fluxdns_zone_queries_total', 'Queries for names in each zone (zone "" : in none of them)', 'counter', ['zone'], () => (this.fold(), this.zones.entries()).map(([z, n]) => [[z], n]));
    observedSamples('fluxdns_query_duration_seconds', `Time from the engine receiving a query to its reply being ready to send, measured for one query in ${LATENCY_SAMPLE} per process (the count is of the queries timed)`, 'histogram', () => histogramSamples('fluxdns_query_duration_seconds', this.latency));
    observedSamples('fluxdns_response_size_bytes', 'Size of the responses sent, by transport', 'histogram', () =>
      PROTOS.flatMap((proto, i) => {
        const h = this.sizeHistogram(i);
        return h.count === 0 ? [] : histogramSamples('fluxdns_response_size_bytes', h, { transport: proto });
      }),
    );
  }
}
