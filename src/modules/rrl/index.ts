// rrl finisher: response rate limiting with BIND/Knot semantics. It acts on the finished response,
// because "identical responses" are defined by what is answered (see classify.ts): limited responses
// are dropped, and every `slip`th goes out truncated so a real client behind a spoofed flood can still
// get through over TCP. TCP and UDP queries with a valid server cookie (RFC 7873) are never limited:
// their source address is proven, so they cannot be reflection.
import { perConfig } from '../../config/per-config.js';
import { attackCounters } from '../../observe/attack-counters.js';
import { cidrContains, formatCidr, parseAddress, parseCidr, prefixOf, type Cidr } from '../../net/cidr.js';
import type { QueryContext } from '../../answer/context.js';
import { COOKIE_STATUS } from '../cookies/index.js';
import { CONTINUE, drop, type Outcome, type Unit } from '../../answer/unit.js';
import { counterBy } from '../../observe/metrics/family.js';

/** Responses RRL limited: action drop or slip; enforced false under logOnly (nothing was changed). */
const limited = counterBy('fluxdns_rrl_limited_total', 'Responses rate-limited by RRL, by action (drop, slip) and whether it was enforced (false: logOnly)', ['action', 'enforced']);
import { classifyShape, shapeNameHash, shapeNameText } from './classify.js';
import { hashPrefix, type NameHash } from './name-hash.js';
import type { ReplayLimiting } from '../../answer/replay.js';
import { replayLimitOf } from './replay.js';
import type { RrlConfig } from './config.js';
import { RateLimiter } from './limiter.js';

export { RateLimiter, type RrlCounters, type RrlVerdict } from './limiter.js';

/** Exempt prefixes parsed once per loaded configuration. */
export const exemptOf = perConfig((cfg: RrlConfig): Cidr[] => cfg.exempt.map((s) => parseCidr(s)!));

/** What `logOnly` reports about a response it would have limited. */
export interface RrlWouldLimit {
  action: 'drop' | 'slip';
  prefix: string;
  kind: string;
  name: string;
}

/** Lines `logOnly` writes per second at most; the rest are counted and the count goes on the next line. */
export const LOG_ONLY_LINES_PER_SECOND = 10;

/**
 * `logOnly` reports each response it would have dropped or truncated, at most
 * LOG_ONLY_LINES_PER_SECOND lines a second: a flood being measured must not become a flood of logs.
 */
export function logOnlyReporter(log: (msg: string, fields: Record<string, unknown>) => void): (w: RrlWouldLimit, now: number) => void {
  let second = -1;
  let lines = 0;
  let suppressed = 0;
  return (w, now) => {
    const s = Math.floor(now / 1000);
    if (s !== second) {
      second = s;
      lines = 0;
    }
    if (lines >= LOG_ONLY_LINES_PER_SECOND) {
      suppressed++;
      return;
    }
    lines++;
    log('rrl logOnly: would limit', { ...w, ...(suppressed > 0 ? { suppressedBefore: suppressed } : {}) });
    suppressed = 0;
  };
}

/** A client prefix: its text (logs) and its hash (bucket keys). */
interface Prefix {
  text: string;
  hash: NameHash;
}

/**
 * The client's prefix, undefined when the client is exempt (or not an address). Queries come in runs
 * from one client (a resolver, a flood), so the last client's answer is kept: parsing and formatting
 * the address was a third of what rrl cost per query.
 */
let lastCfg: RrlConfig | undefined;
let lastAddress = '';
let lastPrefix: Prefix | undefined;
function clientPrefix(cfg: RrlConfig, address: string): Prefix | undefined {
  if (cfg === lastCfg && address === lastAddress) return lastPrefix;
  const addr = parseAddress(address);
  const p = !addr || exemptOf(cfg).some((c) => cidrContains(c, addr)) ? undefined : prefixOf(addr, addr.family === 4 ? cfg.ipv4Prefix : cfg.ipv6Prefix);
  lastCfg = cfg;
  lastAddress = address;
  // Hashed from its bytes, as the UDP addon hashes a replayed query's peer (name-hash.ts hashPrefix).
  return (lastPrefix = p === undefined ? undefined : { text: formatCidr(p), hash: hashPrefix(p.family, p.bytes, p.length, { a: 0, b: 0 }) });
}

const nameHash: NameHash = { a: 0, b: 0 };

/** The limiter is per process (per worker), as in BIND and Knot; it outlives reloads. */
export function rrlFinisher(limiter = new RateLimiter(), report?: (w: RrlWouldLimit, now: number) => void): Unit & ReplayLimiting {
  attackCounters.rrl = limiter.counters;
  return {
    name: 'rrl',
    stage: 'finish',
    replayLimit: (runtime) => (runtime.config.rrl === undefined ? undefined : replayLimitOf(limiter, runtime.config.rrl, exemptOf(runtime.config.rrl))),
    handle(ctx: QueryContext): Outcome {
      const cfg = ctx.runtime.config.rrl;
      if (cfg === undefined || ctx.transport.proto !== 'udp') return CONTINUE;
      if (ctx.get(COOKIE_STATUS) === 'valid') return CONTINUE;
      const prefix = clientPrefix(cfg, ctx.transport.remoteAddress);
      const c = classifyShape(ctx);
      const rate = c.kind === 'nxdomain' ? cfg.nxdomainsPerSecond ?? cfg.responsesPerSecond : c.kind === 'error' ? cfg.errorsPerSecond ?? cfg.responsesPerSecond : cfg.responsesPerSecond;
      // The bucket: (prefix, kind, name) as two 32-bit hashes, no text (see name-hash.ts).
      const h = shapeNameHash(ctx, c, nameHash);
      // Its kind-and-name part and rate go with an answer a transport may replay: it checks the bucket of
      // each client it replays to (answer/replay.ts). An exempt client's answer carries them too, so
      // answers first asked by an exempt client are replayed to the others as well.
      ctx.rrlA = h.a;
      ctx.rrlB = h.b;
      ctx.rrlRate = rate;
      if (prefix === undefined) return CONTINUE;
      const verdict = limiter.checkHash(h.a ^ prefix.hash.a, h.b ^ prefix.hash.b, rate, cfg.window, cfg.slip, ctx.receivedAt);
      if (verdict === 'ok') return CONTINUE;
      limited.inc(verdict === 'drop' ? 'drop' : 'slip', cfg.logOnly ? 'false' : 'true');
      const name = shapeNameText(ctx, c);
      if (cfg.logOnly) {
        report?.({ action: verdict === 'drop' ? 'drop' : 'slip', prefix: prefix.text, kind: c.kind, name }, ctx.receivedAt);
        return CONTINUE;
      }
      if (verdict === 'drop') return drop(`rate limited (${c.kind} ${name} from ${prefix.text})`);
      // Slip: the same rcode with TC=1 and no records; the EDNS options (a cookie) stay.
      const r = ctx.response;
      r.prebuilt = undefined;
      r.rcode = c.rcode;
      r.aa = false;
      r.tc = true;
      r.answer = [];
      r.authority = [];
      r.additional = [];
      r.cacheable = false;
      return CONTINUE;
    },
  };
}
