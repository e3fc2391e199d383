// Which responses count as "identical" for rate limiting, as BIND's rate-limit defines them: positive
// answers by (name, type), referrals by delegation point, NODATA and NXDOMAIN by zone, errors per client.
import { skippedType, skipRecord } from '../../wire/fastpath.js';
import { scanName, scannedNameText } from '../../wire/reader.js';
import { decodeMessage, getRcode } from '../../wire/message.js';
import { Rcode, RRType } from '../../wire/types.js';
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
  const q = ctx.query.question;
  const qname = q ? q.name.toLowerCase() : '';
  // A pre-encoded (cached) answer: its sections are only in the bytes.
  if (r.prebuilt) {
    const c = classifyWire(r.prebuilt, qname, q?.type ?? 0);
    if (c !== undefined) return c;
  }
  let { rcode, aa, answer, authority } = r;
  if (r.prebuilt) {
    // Another rcode (its upper bits may be in the OPT record): decoded, as it is rare.
    try {
      const m = decodeMessage(r.prebuilt);
      rcode = getRcode(m);
      aa = m.flags.aa;
      answer = m.answers;
      authority = m.authorities;
    } catch {
      return MALFORMED;
    }
  }
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

const MALFORMED: Classified = { kind: 'error', name: '', rcode: Rcode.SERVFAIL };

/**
 * classify() of an encoded response, read in place: the header's rcode and AA, the section counts, and
 * the owners of the authority section's first SOA and NS — no message decoded (a cache hit under the
 * default rrl decoded its whole reply here, more than answering it cost). NOERROR and NXDOMAIN only
 * (undefined for the others, whose upper bits may be in the OPT record).
 */
function classifyWire(m: Uint8Array, qname: string, qtype: number): Classified | undefined {
  if (m.length < 12) return MALFORMED;
  const rcode = m[3]! & 15;
  if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) return undefined;
  const aa = (m[2]! & 4) !== 0;
  const an = (m[6]! << 8) | m[7]!;
  if (rcode === Rcode.NOERROR && an > 0) return { kind: 'answer', name: `${qname}/${qtype}`, rcode };
  const qd = (m[4]! << 8) | m[5]!;
  const ns = (m[8]! << 8) | m[9]!;
  let pos = 12;
  for (let i = 0; i < qd; i++) {
    pos = scanName(m, pos, false);
    if (pos < 0) return MALFORMED;
    pos += 4;
  }
  for (let i = 0; i < an; i++) {
    pos = skipRecord(m, pos);
    if (pos < 0) return MALFORMED;
  }
  let soa: string | undefined;
  let delegation: string | undefined;
  for (let i = 0; i < ns && (soa === undefined || delegation === undefined); i++) {
    const owner = pos;
    pos = skipRecord(m, pos);
    if (pos < 0) return MALFORMED;
    const type = skippedType(m);
    if ((type === RRType.SOA && soa === undefined) || (type === RRType.NS && delegation === undefined)) {
      scanName(m, owner, true);
      const name = scannedNameText(m, owner).toLowerCase();
      if (type === RRType.SOA) soa = name;
      else delegation = name;
    }
  }
  if (rcode === Rcode.NOERROR) {
    if (delegation !== undefined && !aa) return { kind: 'referral', name: delegation, rcode };
    return { kind: 'nodata', name: soa ?? qname, rcode };
  }
  return { kind: 'nxdomain', name: soa ?? qname, rcode };
}
