// What the query's cookie says, computed once per query and shared by the cookies guard, the cookies
// finisher and any later unit (rate limiting, policies) through typed context keys.
import { perConfig } from '../../config/per-config.js';
import type { Config } from '../../config/schema.js';
import { StateKey, type QueryContext } from '../../answer/context.js';
import { sipKey, type SipKey } from './siphash.js';
import { checkServerCookie, clientIpBytes, makeServerCookie } from './server-cookie.js';
import { PROCESS_SECRET } from './secret.js';
import type { CookieFacts, CookieStatus } from './facts.js';

export type { CookieFacts, CookieStatus } from './facts.js';

/** Read this from later units: `ctx.get(COOKIE_STATUS) === 'valid'` (a typed field of the context). */
export const COOKIE_STATUS = new StateKey<CookieStatus>('cookies.status', 'cookieStatus');

/** Secrets as SipHash keys, current first; derived once per loaded configuration. */
export const cookieKeysOf = perConfig((config: Config): SipKey[] => {
  const c = config.cookies;
  return [c.secret ?? PROCESS_SECRET, ...c.previousSecrets].map((hex) => sipKey(Buffer.from(hex, 'hex')));
});

/** The query's cookie facts, at the time the query arrived (ctx.receivedAt is the injected clock). */
export function cookieFacts(ctx: QueryContext): CookieFacts {
  const known = ctx.cookieFacts;
  if (known) return known;
  const facts = evaluate(ctx);
  ctx.cookieFacts = facts;
  ctx.cookieStatus = facts.status;
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
