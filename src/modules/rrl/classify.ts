// Which responses count as "identical" for rate limiting, as BIND's rate-limit defines them: positive
// answers by (name, type), referrals by delegation point, NODATA and NXDOMAIN by zone, errors per client.
// A positive answer synthesized from a wildcard counts by the wildcard's parent, the closest encloser E
// of RFC 4592 (`*.E` → E), and type: BIND's ARM, "responses generated from local wildcards are counted
// and limited as if they were for the parent domain name" — so random names below a wildcard share one
// bucket instead of each getting a fresh one. E is a suffix of the question name: the answer knows how
// many of the question's labels the wildcard stood for (QueryContext.wildcardLabels, kept in the answer
// cache with the reply), and the bucket's name is the question name without them.
// The same holds for the other rules that synthesize answers from the name (BIND has none): a policy's
// name pattern (`*.dyn.lab` → dyn.lab) and an echo zone (→ its apex) set wildcardLabels too. An echo
// zone's delegations (NA/NU/NR: the NS owner is a name it made up) count by that name as well, not by
// their NS owner; a response with no SOA to name its zone (a policy's NODATA outside any zone, its TC) by
// the question less those labels.
// The bucket's name is found once (classifyShape) and then either hashed — per query, no text — or,
// for logs and tests, written out as text; both read the same name, so they always agree.
import { skippedType, skipRecord } from '../../wire/fastpath.js';
import { scanName, scannedNameText } from '../../wire/reader.js';
import { parentName } from '../../wire/name.js';
import { decodeMessage, getRcode } from '../../wire/message.js';
import { Rcode, RRType } from '../../wire/types.js';
import type { QueryContext } from '../../answer/context.js';
import type { ResourceRecord } from '../../wire/types.js';
import { hashNameText, hashNameWire, type NameHash } from './name-hash.js';

export type ResponseKind = 'answer' | 'referral' | 'nodata' | 'nxdomain' | 'error';

export interface Classified {
  kind: ResponseKind;
  /** The bucket's name part (empty for errors). */
  name: string;
  rcode: number;
}

/** Where the bucket's name is: nowhere (errors), the question, an owner in the reply's bytes, an owner's text. */
const enum From {
  None,
  Question,
  Wire,
  Text,
}

/** classifyShape's result; one per process, overwritten by each query (nothing allocated). */
export interface Shape {
  kind: ResponseKind;
  rcode: number;
  from: From;
  /** From.Wire: the reply and the offset of the owner name in it. */
  wire: Uint8Array;
  at: number;
  /** From.Text: the owner as presentation text. */
  text: string;
}

const shape: Shape = { kind: 'error', rcode: 0, from: From.None, wire: new Uint8Array(0), at: 0, text: '' };

function found(kind: ResponseKind, rcode: number, from: From): Shape {
  shape.kind = kind;
  shape.rcode = rcode;
  shape.from = from;
  return shape;
}

const MALFORMED_KIND = (): Shape => found('error', Rcode.SERVFAIL, From.None);

/** The response's kind and where its bucket name is. Valid until the next call. */
export function classifyShape(ctx: QueryContext): Shape {
  const s = classifyResponse(ctx);
  // A delegation a rule made up (an echo zone's NA/NU/NR): by the name the rule answers for, not the NS owner.
  if (s.kind === 'referral' && ctx.wildcardLabels > 0) s.from = From.Question;
  return s;
}

function classifyResponse(ctx: QueryContext): Shape {
  const r = ctx.response;
  // A pre-encoded (cached) answer: its sections are only in the bytes.
  if (r.prebuilt) {
    const s = classifyWire(r.prebuilt);
    if (s !== undefined) return s;
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
      return MALFORMED_KIND();
    }
  }
  const zoneOf = (kind: ResponseKind): Shape => {
    const soa = ownerOf(authority, RRType.SOA);
    if (soa === undefined) return found(kind, rcode, From.Question);
    shape.text = soa;
    return found(kind, rcode, From.Text);
  };
  if (rcode === Rcode.NOERROR) {
    if (answer.length > 0) return found('answer', rcode, From.Question);
    const ns = ownerOf(authority, RRType.NS);
    if (ns !== undefined && !aa) {
      shape.text = ns;
      return found('referral', rcode, From.Text);
    }
    return zoneOf('nodata');
  }
  if (rcode === Rcode.NXDOMAIN) return zoneOf('nxdomain');
  return found('error', rcode, From.None);
}

function ownerOf(rrs: readonly ResourceRecord[], type: number): string | undefined {
  for (const rr of rrs) if (rr.type === type) return rr.name;
  return undefined;
}

/**
 * classifyShape() of an encoded response, read in place: the header's rcode and AA, the section
 * counts, and where the authority section's first SOA and NS owners are — no message decoded (a cache
 * hit under the default rrl decoded its whole reply here, more than answering it cost). NOERROR and
 * NXDOMAIN only (undefined for the others, whose upper bits may be in the OPT record).
 */
function classifyWire(m: Uint8Array): Shape | undefined {
  if (m.length < 12) return MALFORMED_KIND();
  const rcode = m[3]! & 15;
  if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) return undefined;
  const aa = (m[2]! & 4) !== 0;
  const an = (m[6]! << 8) | m[7]!;
  if (rcode === Rcode.NOERROR && an > 0) return found('answer', rcode, From.Question);
  const qd = (m[4]! << 8) | m[5]!;
  const ns = (m[8]! << 8) | m[9]!;
  let pos = 12;
  for (let i = 0; i < qd; i++) {
    pos = scanName(m, pos, false);
    if (pos < 0) return MALFORMED_KIND();
    pos += 4;
  }
  for (let i = 0; i < an; i++) {
    pos = skipRecord(m, pos);
    if (pos < 0) return MALFORMED_KIND();
  }
  let soa = -1;
  let delegation = -1;
  for (let i = 0; i < ns && (soa < 0 || delegation < 0); i++) {
    const owner = pos;
    pos = skipRecord(m, pos);
    if (pos < 0) return MALFORMED_KIND();
    const type = skippedType(m);
    if (type === RRType.SOA && soa < 0) soa = owner;
    else if (type === RRType.NS && delegation < 0) delegation = owner;
  }
  if (rcode === Rcode.NOERROR && delegation >= 0 && !aa) return ownerIn(m, delegation, 'referral', rcode);
  return ownerIn(m, soa, rcode === Rcode.NXDOMAIN ? 'nxdomain' : 'nodata', rcode);
}

/** The name at `at` in `m` (no SOA in the reply, at < 0: the question's). */
function ownerIn(m: Uint8Array, at: number, kind: ResponseKind, rcode: number): Shape {
  if (at < 0) return found(kind, rcode, From.Question);
  shape.wire = m;
  shape.at = at;
  return found(kind, rcode, From.Wire);
}

const KIND_CODE: Record<ResponseKind, number> = { answer: 1, referral: 2, nodata: 3, nxdomain: 4, error: 5 };

/**
 * The hash of the bucket's kind and name for `s` (from classifyShape, for the same ctx), into `out`. An
 * answer's name is the question's name and type; the others' a zone or delegation owner; errors have none.
 */
export function shapeNameHash(ctx: QueryContext, s: Shape, out: NameHash): NameHash {
  const kind = KIND_CODE[s.kind] << 16;
  switch (s.from) {
    case From.Wire:
      return hashNameWire(s.wire, s.at, kind, out);
    case From.Text:
      return hashNameText(s.text, kind, out);
    case From.Question: {
      const answer = s.kind === 'answer';
      const extra = kind | (answer ? ctx.query.question?.type ?? 0 : 0);
      // A wildcard's (or a policy pattern's, an echo zone's) response: the question name from the closest
      // encloser's label on (offs has one per label; past the last one, the root's zero byte).
      const skip = ctx.wildcardLabels;
      const w = ctx.questionWire();
      if (w !== undefined) return hashNameWire(w.wire, skip === 0 ? 0 : w.offs[skip] ?? w.root, extra, out);
      return hashNameText(encloserText(ctx.query.question?.name ?? '', skip), extra, out);
    }
    default:
      return hashNameText('', kind, out);
  }
}

/** The bucket name as text (logs, drop reasons, tests): what shapeNameHash hashes. */
export function shapeNameText(ctx: QueryContext, s: Shape): string {
  const q = ctx.query.question;
  const qname = q ? q.name.toLowerCase() : '';
  switch (s.from) {
    case From.Wire:
      scanName(s.wire, s.at, true);
      return scannedNameText(s.wire, s.at).toLowerCase();
    case From.Text:
      return s.text.toLowerCase();
    case From.Question:
      return s.kind === 'answer' ? `${encloserText(qname, ctx.wildcardLabels)}/${q?.type ?? 0}` : encloserText(qname, ctx.wildcardLabels);
    default:
      return '';
  }
}

/** `name` without its first `skip` labels: a wildcard answer's closest encloser, a rule's fixed suffix. */
function encloserText(name: string, skip: number): string {
  for (let i = 0; i < skip; i++) name = parentName(name);
  return name;
}

export function classify(ctx: QueryContext): Classified {
  const s = classifyShape(ctx);
  return { kind: s.kind, name: shapeNameText(ctx, s), rcode: s.rcode };
}
