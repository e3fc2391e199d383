// tsig finisher: signs every response to a signed query (RFC 8945 §5.3) — answers, failures, TC — on
// the encoded bytes, as the last record; such a response is never cached or served from the cache.
import { appendTsig, signedOverhead, type SignPlan } from '../../tsig/sign.js';
import type { QueryContext } from '../../answer/context.js';
import { CONTINUE, type Outcome, type Unit } from '../../answer/unit.js';

/** Header, then the question: its end is found by walking its name (the response's first name is never compressed). */
function questionEnd(wire: Uint8Array): number {
  if (((wire[4]! << 8) | wire[5]!) === 0) return 12;
  let p = 12;
  while (wire[p]! !== 0) p += wire[p]! + 1;
  return p + 1 + 4;
}

/**
 * RFC 8945 §5.3: a signed response that would not fit "contains only the question and a TSIG record,
 * has the TC bit set, and has an RCODE of 0"; the client retries over TCP.
 */
function questionOnly(wire: Uint8Array): Uint8Array {
  const out = wire.slice(0, questionEnd(wire));
  out[3] = out[3]! & 0xf0;
  out.fill(0, 6, 12);
  return out;
}

export function tsigFinisher(): Unit {
  return {
    name: 'tsig-out',
    stage: 'finish',
    handle(ctx: QueryContext): Outcome {
      const plan: SignPlan | undefined = ctx.tsigPlan;
      const r = ctx.response;
      if (!plan || r.signed) return CONTINUE;
      r.cacheable = false;
      const now = Math.floor(ctx.receivedAt / 1000);
      const intendedTc = r.tc;
      r.seal = {
        reserve: signedOverhead(plan),
        apply: (wire) => appendTsig(!intendedTc && (wire[2]! & 0x02) !== 0 ? questionOnly(wire) : wire, plan, now),
      };
      // Signed queries are never served from the answer cache; sign anything pre-encoded all the same.
      if (r.prebuilt) r.prebuilt = appendTsig(r.prebuilt, plan, now);
      return CONTINUE;
    },
  };
}
