// rrl for replayed answers: what the UDP addon needs to check a replay against the rrl unit's own bucket
// table (shared memory) exactly as the unit would, so the default configuration (rrl on) replays too.
// The addon lets a replay through only when its bucket exists and has credit — spending it as
// RateLimiter.checkHash does, and counting it in the same `ok` cell — and hands every other query to
// the engine, whose rrl unit then makes the bucket, or limits, slips, counts and logs as it always does.
import type { ReplayLimit } from '../../answer/replay.js';
import type { RrlConfig } from './config.js';
import type { Cidr } from '../../net/cidr.js';
import type { RateLimiter } from './limiter.js';
import { HASH_SEEDS } from './name-hash.js';

/** Bytes per exempt prefix in ReplayKey.exempt: family, length, 16 address bytes. */
const EXEMPT_BYTES = 18;

/** `cidrs`: cfg's exempt prefixes, parsed (index.ts exemptOf). */
export function replayLimitOf(limiter: RateLimiter, cfg: RrlConfig, cidrs: readonly Cidr[]): ReplayLimit {
  const exempt = new Uint8Array(cidrs.length * EXEMPT_BYTES);
  cidrs.forEach((c, i) => {
    exempt[i * EXEMPT_BYTES] = c.family;
    exempt[i * EXEMPT_BYTES + 1] = c.length;
    exempt.set(c.bytes, i * EXEMPT_BYTES + 2);
  });
  return {
    columns: () => limiter.columns(),
    onResize: (l) => limiter.onResize(l),
    key: { seedA: HASH_SEEDS.a, seedB: HASH_SEEDS.b, ipv4Prefix: cfg.ipv4Prefix, ipv6Prefix: cfg.ipv6Prefix, exempt },
  };
}
