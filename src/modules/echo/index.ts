// echo responder: Stateless DNS zones (seed 003) — every answer synthesized from the query name alone,
// SOA and NS at the apex from configuration, and optional short-time caching (§2.9).
import { labelCount, lowerAscii, nameKey, namesEqual } from '../../wire/name.js';
import { Rcode, RRType } from '../../wire/types.js';
import { setSections, type QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, fail, type Outcome, type Unit } from '../../answer/unit.js';
import { answerEcho } from './answer.js';
import type { EchoZoneConfig } from './schema.js';
import { ShortTimeCache } from './short-cache.js';

export interface EchoResponderOptions {
  /** Milliseconds since the epoch; injected so tests drive the short-time cache's age bound. */
  now?: () => number;
}

export function echoResponder(opts: EchoResponderOptions = {}): Unit {
  const now = opts.now ?? Date.now;
  // One cache per zone; a reload that changes its bounds starts a fresh one.
  const caches = new Map<string, ShortTimeCache>();
  const cacheFor = (z: EchoZoneConfig): ShortTimeCache | undefined => {
    const s = z.shortTimeCache;
    if (!s.enabled) return undefined;
    const key = nameKey(z.zone);
    let c = caches.get(key);
    if (!c || c.maxEntries !== s.maxEntries || c.maxAgeMs !== s.maxAgeSeconds * 1000) {
      c = new ShortTimeCache(s.maxEntries, s.maxAgeSeconds * 1000);
      caches.set(key, c);
    }
    return c;
  };
  return {
    name: 'echo',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      // The table of authorities decided who answers (the deepest zone; DS by the parent, RFC 4035
      // §3.1.4.1): a file zone below the echo zone, or above it for DS at its apex, is not ours.
      const a = ctx.authority;
      if (a?.kind !== 'echo') return CONTINUE;
      const z = a.echo;
      const q = ctx.query.question!;
      if (q.type === RRType.AXFR || q.type === RRType.IXFR) return fail(Rcode.REFUSED, 'zone transfer not allowed');
      const cache = cacheFor(z);
      // Every name of the answer is made from the question's, lower-cased (as Knot and NSD write a DNAME's
      // synthesized CNAME): each compresses into the question, so the answer's bytes are the same for every
      // case of the question (the data forms read letters case-blind: src/echo/encoding.ts) — and a replay
      // from the answer cache, which holds one answer for all cases, is what this writes.
      const ans = answerEcho(z, lowerAscii(q.name), q.type, cache, now());
      const r = ctx.response;
      setSections(r, ans);
      // Every name but the apex and the name server's is synthesized by the zone's rule: rrl counts its
      // answers (and referrals) by the apex and type, as a wildcard's by its parent — stored with a cached
      // answer, so a hit and the UDP addon's replay of it count on the same bucket (modules/rrl/classify.ts).
      ctx.wildcardLabels = namesEqual(q.name, z.ns) ? 0 : ctx.questionLabels() - labelCount(z.zone);
      // Without short-time caching the answer depends on the name and type alone; with it, on what
      // was asked before, so it must never be replayed by the answer cache.
      r.cacheable = cache === undefined;
      return ANSWERED;
    },
  };
}
