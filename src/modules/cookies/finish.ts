// cookies finisher: every response to a query with a client cookie carries the client cookie and our
// server cookie (RFC 7873 §5.2.3–5.2.5), whether it answers, fails or is truncated.
import { cookieOption } from '../../wire/edns.js';
import { EdnsOptionCode } from '../../wire/types.js';
import type { QueryContext } from '../../answer/context.js';
import { cookieFacts } from './index.js';
import { CONTINUE, type Outcome, type Unit } from '../../answer/unit.js';

export function cookiesFinisher(): Unit {
  return {
    name: 'cookies-out',
    stage: 'finish',
    handle(ctx: QueryContext): Outcome {
      if (ctx.runtime.config.cookies.mode === 'off') return CONTINUE;
      const cookie = ctx.query.edns?.cookie;
      const r = ctx.response;
      // Queries with EDNS options never get a pre-encoded answer; should one appear, it stays as is.
      if (!cookie || r.prebuilt) return CONTINUE;
      const reply = cookieFacts(ctx).reply;
      if (!reply || r.ednsOptions.some((o) => o.code === EdnsOptionCode.COOKIE)) return CONTINUE;
      r.ednsOptions.push(cookieOption({ client: cookie.client, server: reply }));
      // The bytes depend on the client, its cookie and the time.
      r.cacheable = false;
      return CONTINUE;
    },
  };
}
