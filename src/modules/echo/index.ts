// echo responder: Stateless DNS zones (seed 003) — every answer synthesized from the query name alone,
// SOA and NS at the apex from configuration, and optional short-time caching (§2.9).
import { isSubdomain, nameKey, namesEqual } from '../../wire/name.js';
import { Rcode, RRType } from '../../wire/types.js';
import { dsAuthorityName } from '../../zone/tree.js';
import { setSections, type QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, fail, type Outcome, type Unit } from '../../answer/unit.js';
import { answerEcho } from './answer.js';
import type { EchoZoneConfig } from './schema.js';
import { ShortTimeCache } from './short-cache.js';

export interface EchoResponderOptions {
  /** Milliseconds since the epoch; injected so tests drive the short-time cache's age bound. */
  now?: () => number;
}

/** The deepest echo zone containing `name` (the schema keeps echo zones from overlapping). */
function findZone(zones: readonly EchoZoneConfig[], name: string): EchoZoneConfig | undefined {
  for (const z of zones) if (isSubdomain(name, z.zone)) return z;
  return undefined;
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
      const zones = ctx.runtime.config.echo;
      if (zones.length === 0) return CONTINUE;
      const q = ctx.query.question!;
      const z = findZone(zones, q.name);
      if (!z) return CONTINUE;
      // A master-file zone cut below the echo zone is that zone's business (the deepest zone answers).
      // DS is the parent's record (RFC 4035 §3.1.4.1): for DS, what matters is who holds the parent name.
      const ds = q.type === RRType.DS;
      const master = ctx.runtime.zones.find(ds ? dsAuthorityName(q.name) : q.name);
      if (master && isSubdomain(master.origin, z.zone) && !namesEqual(master.origin, z.zone)) return CONTINUE;
      // DS at the echo zone's own apex: a master-file zone holding the parent answers it.
      if (ds && namesEqual(q.name, z.zone) && master) return CONTINUE;
      if (q.type === RRType.AXFR || q.type === RRType.IXFR) return fail(Rcode.REFUSED, 'zone transfer not allowed');
      const cache = cacheFor(z);
      const ans = answerEcho(z, q.name, q.type, cache, now());
      const r = ctx.response;
      setSections(r, ans);
      // Without short-time caching the answer depends on the name and type alone; with it, on what
      // was asked before, so it must never be replayed by the answer cache.
      r.cacheable = cache === undefined;
      return ANSWERED;
    },
  };
}
