// Which responses count as "identical" for rate limiting, as BIND's rate-limit defines them: positive
// answers by (name, type), referrals by delegation point, NODATA and NXDOMAIN by zone, errors per client.
import { decodeMessage, getRcode } from '../../wire/message.js';
import { Rcode, RRType, type ResourceRecord } from '../../wire/types.js';
import type { QueryContext } from '../../answer/context.js';

export type ResponseKind = 'answer' | 'referral' | 'nodata' | 'nxdomain' | 'error';

export interface Classified {
  kind: ResponseKind;
  /** The bucket's name part (empty for errors). */
  name: string;
  rcode: number;
}

export function classify(ctx: QueryContext): Classified {
  const r = ctx.response;
  let rcode = r.rcode;
  let aa = r.aa;
  let answer: readonly ResourceRecord[] = r.answer;
  let authority: readonly ResourceRecord[] = r.authority;
  if (r.prebuilt) {
    // A pre-encoded (cached) answer: its sections are only in the bytes.
    try {
      const m = decodeMessage(r.prebuilt);
      rcode = getRcode(m);
      aa = m.flags.aa;
      answer = m.answers;
      authority = m.authorities;
    } catch {
      return { kind: 'error', name: '', rcode: Rcode.SERVFAIL };
    }
  }
  const q = ctx.query.question;
  const qname = q ? q.name.toLowerCase() : '';
  const zoneOf = () => authority.find((rr) => rr.type === RRType.SOA)?.name.toLowerCase() ?? qname;
  if (rcode === Rcode.NOERROR) {
    if (answer.length > 0) return { kind: 'answer', name: `${qname}/${q?.type ?? 0}`, rcode };
    const ns = authority.find((rr) => rr.type === RRType.NS);
    if (ns && !aa) return { kind: 'referral', name: ns.name.toLowerCase(), rcode };
    return { kind: 'nodata', name: zoneOf(), rcode };
  }
  if (rcode === Rcode.NXDOMAIN) return { kind: 'nxdomain', name: zoneOf(), rcode };
  return { kind: 'error', name: '', rcode };
}
