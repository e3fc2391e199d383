// ttl-jitter finisher: each answer's TTL drawn uniformly in [min, ttl], one draw per RRset, so a
// resolver's remaining TTL no longer tells a snooper when a name was last fetched (seed 001,
// "TTL Snooping with the DNS": answer "with a TTL value chosen at random between 0 and the TTL").
import { perConfig } from '../../config/per-config.js';
import { randomInt } from 'node:crypto';
import { nameKey } from '../../wire/name.js';
import { RRType, type ResourceRecord } from '../../wire/types.js';
import { StateKey, type QueryContext } from '../../answer/context.js';
import type { Runtime } from '../../answer/runtime.js';
import { CONTINUE, type Outcome, type Unit } from '../../answer/unit.js';
import type { TtlJitterConfig } from './schema.js';

/**
 * The jitter this query's answer gets. Set by the zone responder from `zones[].ttlJitter` and by a
 * policy for per-policy jitter; absent means no jitter. Shape: `{ min }`, seconds, min ≥ 0. Whoever
 * sets it must also leave `ctx.response.cacheable` false: a jittered answer is never reused.
 */
export const TTL_JITTER = new StateKey<TtlJitterConfig>('ttl-jitter', 'ttlJitter');

/** A uniform integer in [lo, hi], both inclusive. */
export type RandomInt = (lo: number, hi: number) => number;

/** node:crypto randomness: a snooper must not be able to predict the next draw (DESIGN.md). */
export const cryptoRandomInt: RandomInt = (lo, hi) => randomInt(lo, hi + 1);

/** The jitter configured for a zone, looked up by origin key; one map per loaded configuration. */
const jitterByZone = perConfig((config: Runtime['config']) => {
  const map = new Map<string, TtlJitterConfig>();
  for (const z of config.zones) if (z.ttlJitter) map.set(nameKey(z.name), z.ttlJitter);
  return map;
});

export function zoneTtlJitter(runtime: Runtime, originKey: string): TtlJitterConfig | undefined {
  return jitterByZone(runtime.config).get(originKey);
}

/** min > ttl: the TTL stays as it is — jitter never lengthens a TTL past what the zone says. */
export function jitterTtl(ttl: number, min: number, random: RandomInt): number {
  return min >= ttl ? ttl : random(min, ttl);
}

/**
 * Replaces the records of the jittered sections with copies (the zone's records are shared) whose
 * TTL is drawn once per RRset (RFC 2181 §5.2: one TTL for all records of a set), the same draw
 * wherever the set appears in the response.
 */
export function applyJitter(ctx: QueryContext, jitter: TtlJitterConfig, random: RandomInt): void {
  const r = ctx.response;
  const drawn = new Map<string, number>();
  const one = (rr: ResourceRecord): ResourceRecord => {
    const key = `${nameKey(rr.name)}/${rr.type}/${rr.class}`;
    let ttl = drawn.get(key);
    if (ttl === undefined) {
      ttl = jitterTtl(rr.ttl, jitter.min, random);
      drawn.set(key, ttl);
    }
    return { ...rr, ttl };
  };
  r.answer = r.answer.map(one);
  // The SOA of a negative answer sets how long a resolver caches the NXDOMAIN/NODATA (RFC 2308 §5),
  // so its countdown would reveal an earlier query for a name that does not exist. Referral NS are
  // left alone: they are the parent's non-authoritative copy, which the resolver replaces with the
  // child's own set (RFC 2181 §5.4.1), and the delegated zone's names are that zone's to protect.
  r.authority = r.authority.map((rr) => (rr.type === RRType.SOA ? one(rr) : rr));
  // Additional addresses of an authoritative answer are this zone's data a resolver may cache; the
  // glue of a referral (AA clear) is not.
  if (r.aa) r.additional = r.additional.map(one);
}

export function ttlJitterFinisher(random: RandomInt = cryptoRandomInt): Unit {
  return {
    name: 'ttl-jitter',
    stage: 'finish',
    handle(ctx: QueryContext): Outcome {
      const jitter = ctx.ttlJitter;
      // A pre-encoded answer was never jittered content: whoever set the key kept it out of the cache.
      if (!jitter || ctx.response.prebuilt) return CONTINUE;
      // Randomness makes the answer depend on more than the data: never reuse it (answer-cache).
      ctx.response.cacheable = false;
      applyJitter(ctx, jitter, random);
      return CONTINUE;
    },
  };
}
