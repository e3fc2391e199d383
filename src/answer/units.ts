// The pipeline's order, declared once. Order matters: guards run before anything reads data
// (so a refused query costs nothing), responders run in priority order (the first to answer wins),
// and finishers see every response that will be sent.
import { ednsFinisher } from '../modules/edns/index.js';
import { ttlJitterFinisher } from '../modules/ttl-jitter/index.js';
import { AnswerCache, answerCache, answerCacheStore } from '../modules/cache/index.js';
import { headerGuard } from '../modules/header/index.js';
import { cookiesGuard } from '../modules/cookies/index.js';
import { tsigGuard } from '../modules/tsig/index.js';
import { tsigFinisher } from '../modules/tsig/finish.js';
import { cookiesFinisher } from '../modules/cookies/finish.js';
import { logOnlyReporter, RateLimiter, rrlFinisher } from '../modules/rrl/index.js';
import { zoneResponder } from '../modules/zone/index.js';
import { echoResponder } from '../modules/echo/index.js';
import { policiesUnit } from '../modules/policies/index.js';
import { policyZoneResponder } from '../modules/policy-zone/index.js';
import { capabilityResponder } from '../modules/capability/index.js';
import { dnssecKeysResponder, dnssecSignFinisher, exceptionsTxtResponder } from '../modules/dnssec-online/index.js';
import type { Capabilities } from '../capability/core.js';
import type { Unit } from './unit.js';
import { xfrUnit, type XfrOptions } from '../transfer/unit.js';
import { notifyGuard, secondaryServfail } from '../secondary/unit.js';

export interface UnitOptions {
  /** The clock policies read (time windows, rate limits); `fluxdns explain --time` sets it. */
  now?: () => number;
  /** The process's capability core (store, data plane, audit log), shared with the gateway and the admin API. */
  capabilities?: Capabilities;
  /** Where `rrl.logOnly` reports what it would have limited (a warn-level log line). */
  warn?: (msg: string, fields: Record<string, unknown>) => void;
  /** Zone transfers, UPDATE and NOTIFY (src/transfer): the audit log, the journal, the update and notify handlers. */
  xfr?: XfrOptions;
}

export function createUnits(cache = new AnswerCache(), opts: UnitOptions = {}): Unit[] {
  return [
    // guards
    tsigGuard(), // first: every response to a signed query is signed (RFC 8945 §5.3), even a cookie or header error
    cookiesGuard(), // before header: it answers cookie-only queries (RFC 7873 §5.4), which header calls malformed
    notifyGuard(), // before header (which refuses opcodes other than QUERY): NOTIFY for a secondary zone (RFC 1996)
    headerGuard(),
    xfrUnit(opts.xfr), // last guard: AXFR/IXFR, UPDATE and NOTIFY are not queries; policies, caches and zones never see them
    // policy: first matching policy decides; it runs before the cache, so its answers are never reused
    policiesUnit({ now: opts.now }),
    // responders: a pre-encoded answer first, then the zones, then zones owned by policies
    capabilityResponder({ capabilities: opts.capabilities }), // before the cache and the zones: a service's answer is a fresh lease, and a service name wins over a zone's record
    dnssecKeysResponder(), // DNSKEY/CDS/CDNSKEY at an online-signed apex: from the keys, not from a zone file
    exceptionsTxtResponder(), // _exceptions.<service> TXT: a capability's exceptions in a form DNSSEC signs
    answerCache(cache),
    echoResponder({ now: opts.now }), // before the zones: an echo zone is synthesized, not a master file
    secondaryServfail(), // a secondary zone not transferred yet or expired: SERVFAIL, not REFUSED
    zoneResponder(),
    policyZoneResponder(),
    // finishers; the cache stores last, after every finisher has had its say
    ttlJitterFinisher(),
    dnssecSignFinisher(), // after ttl-jitter: each RRSIG covers the TTL actually sent (RFC 4034 §3.1.4)
    ednsFinisher(),
    cookiesFinisher(),
    tsigFinisher(), // signs at encode time; last before the store: a signed response is never cached
    answerCacheStore(cache),
    rrlFinisher(new RateLimiter(), opts.warn ? logOnlyReporter(opts.warn) : undefined), // after the store: it judges the response as sent and may drop or truncate it
  ];
}
