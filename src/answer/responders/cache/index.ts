// answer-cache: pre-encoded answers. The responder serves a stored response with only the ID, the
// question's case and the RD/CD bits patched; the finisher (last in the chain) stores what a
// cacheable responder produced. Guards and policies run before it on every query, so nothing they
// decide is bypassed. Stored answers belong to one runtime generation: a reload empties the cache.
import type { QueryView } from '../../../wire/fastpath.js';
import { encodeResponse, responseLimit } from '../../encode.js';
import { StateKey, type QueryContext } from '../../context.js';
import { ANSWERED, CONTINUE, type Outcome, type Unit } from '../../unit.js';
import { TTL_JITTER } from '../../finish/ttl-jitter/index.js';

const KEY = new StateKey<string>('answer-cache.key');

/** Bounded by entry count; the oldest entry goes first (a Map iterates in insertion order). */
export class AnswerCache {
  private readonly entries = new Map<string, Uint8Array>();
  private generation = -1;
  hits = 0;
  misses = 0;

  constructor(readonly maxEntries = 20000) {}

  get(key: string, generation: number): Uint8Array | undefined {
    if (generation !== this.generation) {
      this.entries.clear();
      this.generation = generation;
    }
    return this.entries.get(key);
  }

  set(key: string, generation: number, wire: Uint8Array): void {
    if (generation !== this.generation) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, wire);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The key covers everything a cacheable response depends on besides the data: name (case-folded),
 * type, class, transport kind (ANY is minimal over UDP only), the size limit and the DO bit. Queries
 * carrying EDNS options (cookies, client subnet, NSID, padding) are answered per query.
 */
function cacheKey(ctx: QueryContext, q: QueryView): string | undefined {
  const question = q.question;
  if (!question || q.error || q.opcode !== 0 || q.qr) return undefined;
  const edns = q.edns;
  if (edns && (edns.options.length > 0 || edns.version !== 0)) return undefined;
  // A record beside the OPT (a TSIG, RFC 8945) makes the response per query: it is signed for this request.
  if (q.arcount > (edns ? 1 : 0)) return undefined;
  const proto = ctx.transport.proto === 'udp' ? 'u' : 's';
  return `${proto}${responseLimit(ctx)}${edns ? (edns.dnssecOk ? 'D' : 'E') : 'N'}${question.type}/${question.class}/${question.name.toLowerCase()}`;
}

/** Copies a stored answer and makes it this query's: ID, question bytes (its case), RD and CD. */
function personalize(stored: Uint8Array, ctx: QueryContext): Uint8Array {
  const out = new Uint8Array(stored);
  const raw = ctx.raw;
  out[0] = raw[0]!;
  out[1] = raw[1]!;
  // RD is bit 0 of byte 2; CD is bit 4 of byte 3 (RFC 1035 §4.1.1, RFC 4035 §3.2.2).
  out[2] = (out[2]! & 0xfe) | (raw[2]! & 0x01);
  out[3] = (out[3]! & 0xef) | (raw[3]! & 0x10);
  out.set(raw.subarray(12, ctx.query.questionEnd), 12);
  return out;
}

export function answerCache(cache: AnswerCache): Unit {
  return {
    name: 'answer-cache',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      const key = cacheKey(ctx, ctx.query);
      // A policy that asked for TTL jitter gets fresh draws, never a stored answer.
      if (key === undefined || ctx.get(TTL_JITTER)) return CONTINUE;
      const stored = cache.get(key, ctx.runtime.generation);
      if (stored) {
        cache.hits++;
        ctx.response.prebuilt = personalize(stored, ctx);
        return ANSWERED;
      }
      cache.misses++;
      ctx.set(KEY, key);
      return CONTINUE;
    },
  };
}

export function answerCacheStore(cache: AnswerCache): Unit {
  return {
    name: 'answer-cache-store',
    stage: 'finish',
    handle(ctx: QueryContext): Outcome {
      const key = ctx.get(KEY);
      const r = ctx.response;
      if (key === undefined || !r.cacheable || r.prebuilt) return CONTINUE;
      r.prebuilt = encodeResponse(ctx);
      cache.set(key, ctx.runtime.generation, r.prebuilt);
      return CONTINUE;
    },
  };
}
