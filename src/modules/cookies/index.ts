// cookies guard: DNS Cookies (RFC 7873, server cookies per RFC 9018). Records whether the query's
// server cookie is valid, answers cookie-only queries (§5.4), and in enforce mode makes a UDP query
// without a valid server cookie come back (BADCOOKIE or TC=1) before it costs anything or amplifies.
import { Opcode, Rcode } from '../../wire/types.js';
import type { QueryView } from '../../wire/fastpath.js';
import type { QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, fail, type Outcome, type Unit } from '../../answer/unit.js';
import { cookieFacts } from './state.js';
import { counterBy } from '../../observe/metrics/family.js';

export { COOKIE_STATUS, cookieFacts, type CookieFacts, type CookieStatus } from './state.js';

/** RFC 7873 §5.4: a query with QDCOUNT 0 and a COOKIE option asks for a server cookie. */
function isCookieOnly(q: QueryView): boolean {
  return (
    q.qdcount === 0 && q.ancount === 0 && q.nscount === 0 && q.opcode === Opcode.QUERY &&
    q.edns?.cookie !== undefined && q.edns.version === 0 && q.error?.noQuestion === true
  );
}

/** TC=1 and nothing else: the client retries over TCP, where the source address is proven. */
function truncated(ctx: QueryContext): Outcome {
  ctx.response.tc = true;
  return ANSWERED;
}

/** RFC 7873 verdicts on UDP and stream queries alike (valid, invalid, absent), whatever the mode does with them. */
const verdicts = counterBy('fluxdns_cookie_verdicts_total', 'DNS Cookie verdicts on queries (valid, invalid, absent)', ['verdict']);

export function cookiesGuard(): Unit {
  return {
    name: 'cookies',
    stage: 'guard',
    handle(ctx: QueryContext): Outcome {
      const cfg = ctx.runtime.config.cookies;
      if (cfg.mode === 'off') return CONTINUE;
      const q = ctx.query;
      // Responses, malformed queries (a malformed COOKIE is FORMERR, §5.2.2), unknown opcodes and
      // EDNS versions are the header guard's: it answers them with their own rcode.
      if (q.qr) return CONTINUE;
      const enforcing = cfg.mode === 'enforce' && ctx.transport.proto === 'udp';
      if (q.error) {
        if (!isCookieOnly(q)) return CONTINUE;
        const f = cookieFacts(ctx);
        verdicts.inc(f.status);
        // §5.4: just a client cookie gets NOERROR; a bad server cookie is §5.2.3's case.
        if (enforcing && f.status === 'invalid' && f.serverSent) return fail(Rcode.BADCOOKIE, 'invalid server cookie');
        return ANSWERED;
      }
      if (q.opcode !== Opcode.QUERY || (q.edns !== undefined && q.edns.version > 0)) return CONTINUE;
      const f = cookieFacts(ctx);
      verdicts.inc(f.status);
      // TCP, TLS and HTTPS prove the source address by their handshake: nothing to enforce.
      if (!enforcing || f.status === 'valid') return CONTINUE;
      if (f.status === 'absent') return cfg.onMissing === 'allow' ? CONTINUE : truncated(ctx);
      // §5.2.3/§5.2.4: BADCOOKIE carries a fresh server cookie (added by the cookies finisher), so a
      // cookie-speaking client retries at once with it.
      return cfg.onInvalid === 'tc' ? truncated(ctx) : fail(Rcode.BADCOOKIE, 'no valid server cookie');
    },
  };
}
