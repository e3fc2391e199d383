// What the query's cookie says, computed once per query and shared by the cookies guard, the cookies
// finisher and any later unit (rate limiting, policies) through typed context keys.
import { perConfig } from '../../config/per-config.js';
import type { Config } from '../../config/schema.js';
import { StateKey, type QueryContext } from '../../answer/context.js';
import { sipKey, type SipKey } from './siphash.js';
import { checkServerCookie, clientIpBytes, makeServerCookie } from './server-cookie.js';
import { PROCESS_SECRET } from './secret.js';

/**
 * valid: the query carried a server cookie we issued to this client address (RFC 7873 §5.2.5), so
 * its source address is not spoofed. invalid: a client cookie without a valid server cookie
 * (§5.2.3, §5.2.4 aside). absent: no COOKIE option (§5.2.1). Unset when `cookies.mode` is off.
 */
export type CookieStatus = 'valid' | 'invalid' | 'absent';

/** Read this from later units: `ctx.get(COOKIE_STATUS) === 'valid'`. */
export const COOKIE_STATUS = new StateKey<CookieStatus>('cookies.status');

export interface CookieFacts {
  readonly status: CookieStatus;
  /** The query's server cookie was present (valid or not). */
  readonly serverSent: boolean;
  /** The server cookie to return with the client cookie; unset without a client cookie. */
  readonly reply?: Uint8Array;
}

const FACTS = new StateKey<CookieFacts>('cookies.facts');

/** Secrets as SipHash keys, current first; derived once per loaded configuration. */
export const cookieKeysOf = perConfig((config: Config): SipKey[] => {
  const c = config.cookies;
  return [c.secret ?? PROCESS_SECRET, ...c.previousSecrets].map((hex) => sipKey(Buffer.from(hex, 'hex')));
});

/** The query's cookie facts, at the time the query arrived (ctx.receivedAt is the injected clock). */
export function cookieFacts(ctx: QueryContext): CookieFacts {
  const known = ctx.get(FACTS);
  if (known) return known;
  const facts = evaluate(ctx);
  ctx.set(FACTS, facts);
  ctx.set(COOKIE_STATUS, facts.status);
  return facts;
}

function evaluate(ctx: QueryContext): CookieFacts {
  const cookie = ctx.query.edns?.cookie;
  if (!cookie) return { status: 'absent', serverSent: false };
  const config = ctx.runtime.config;
  const keys = cookieKeysOf(config);
  const now = Math.floor(ctx.receivedAt / 1000);
  const ip = clientIpBytes(ctx.transport.remoteAddress);
  // Not an address (never expected from a socket): nothing to bind a cookie to.
  if (!ip) return { status: 'invalid', serverSent: cookie.server !== undefined };
  const server = cookie.server;
  if (server) {
    const check = checkServerCookie(keys, cookie.client, server, ip, now);
    if (check.valid) {
      // RFC 9018 §4.3: the same cookie may be returned until it is rotateEvery old; one made with a
      // previous secret, a future timestamp or set Reserved bits is made anew (Appendix A.3, A.4).
      const reuse = check.keyIndex === 0 && check.age >= 0 && check.age < config.cookies.rotateEvery && server[1] === 0 && server[2] === 0 && server[3] === 0;
      return { status: 'valid', serverSent: true, reply: reuse ? server.slice() : makeServerCookie(keys[0]!, cookie.client, ip, now) };
    }
  }
  return { status: 'invalid', serverSent: server !== undefined, reply: makeServerCookie(keys[0]!, cookie.client, ip, now) };
}
