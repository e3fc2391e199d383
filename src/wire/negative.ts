// The negative answer's SOA as a byte template (RFC 2308 §3: NXDOMAIN and NODATA carry the zone's SOA in
// the authority section). Its owner is the zone apex, a suffix of every question the zone answers, so
// the record is the same bytes for every such question but for its pointers: made once per zone, it is
// copied with the pointers moved to where the apex sits in this question. What the encoder's name
// compression would write, byte for byte (the template is made by that compression, see below).
import { RRType, type ResourceRecord } from './types.js';
import { Writer } from './writer.js';
import { wireOf, writeWireRdata } from './pre-encoded.js';

const HEADER = 12;

export interface NegativeTemplate {
  /** The record as written after a question that is the apex itself (owner 0xC00C). */
  readonly bytes: Uint8Array;
  /** The apex in lower-cased wire form, and its label count. */
  readonly apex: Uint8Array;
  readonly apexLabels: number;
  /** Offsets in `bytes` of pointers into the question, and their targets relative to the apex's start there. */
  readonly qptr: readonly number[];
  readonly qrel: readonly number[];
  /** Offsets of pointers to earlier bytes of this record (RNAME to MNAME), and their targets relative to its start. */
  readonly sptr: readonly number[];
  readonly srel: readonly number[];
  /**
   * Lower-cased wire names below the apex that MNAME or RNAME would point at if the question ended in
   * them (e.g. ns1.example. when asked for x.ns1.example.): with such a question the template does not apply.
   */
  readonly below: readonly Uint8Array[];
}

const TEMPLATE: unique symbol = Symbol('negative.template');
type WithTemplate = { [TEMPLATE]?: NegativeTemplate };

/**
 * Attaches the template to a zone's negative-answer SOA (pre-encoded RDATA, wire/pre-encoded.ts; owner
 * not the root). Not enumerable: the record compares and prints as before. Returns `rr`.
 */
export function withNegativeTemplate(rr: ResourceRecord): ResourceRecord {
  const t = build(rr);
  if (t !== undefined) Object.defineProperty(rr, TEMPLATE, { value: t, enumerable: false, writable: false, configurable: false });
  return rr;
}

export function negativeTemplateOf(rr: ResourceRecord): NegativeTemplate | undefined {
  return (rr as WithTemplate)[TEMPLATE];
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

function build(rr: ResourceRecord): NegativeTemplate | undefined {
  const rdata = wireOf(rr.data);
  if (rr.type !== RRType.SOA || rdata === undefined || rr.name.length <= 1) return undefined;
  const w = new Writer(512);
  // The apex in lower case: the question's compression entries match any case (writer.ts).
  w.writeName(rr.name.toLowerCase(), false);
  const apex = w.buf.slice(0, w.pos);
  // The message as the encoder writes it for a question that is the apex: header, question, the record.
  w.reset();
  w.reserve(HEADER);
  w.writeNameWire(apex, 0, true);
  w.u16(rr.type);
  w.u16(rr.class);
  const start = w.pos;
  w.u16(0xc000 | HEADER);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.reserve(2);
  writeWireRdata(w, rr.type, rdata);
  w.patchU16(lenAt, w.pos - lenAt - 2);
  const bytes = w.buf.slice(start, w.pos);
  const qptr: number[] = [0];
  const qrel: number[] = [0];
  const sptr: number[] = [];
  const srel: number[] = [];
  // MNAME and RNAME: labels, then a pointer or the root.
  let p = 12;
  for (let name = 0; name < 2; name++) {
    while (bytes[p] !== 0 && bytes[p]! < 0xc0) p += bytes[p]! + 1;
    if (bytes[p] === 0) {
      p++;
      continue;
    }
    const target = ((bytes[p]! & 0x3f) << 8) | bytes[p + 1]!;
    if (target < start) {
      qptr.push(p);
      qrel.push(target - HEADER);
    } else {
      sptr.push(p);
      srel.push(target - start);
    }
    p += 2;
  }
  const apexLabels = labelCount(apex, 0);
  const below: Uint8Array[] = [];
  // A name with an upper-case letter keeps its case and never points into the question (writer.ts, entryExact).
  for (let at = 0, name = 0; name < 2; name++) {
    const end = nameEnd(rdata, at);
    let upper = false;
    for (let i = at; i < end; i++) if (rdata[i]! >= 0x41 && rdata[i]! <= 0x5a) upper = true;
    if (!upper) {
      for (let s = at, n = labelCount(rdata, at); n > apexLabels; s += rdata[s]! + 1, n--) below.push(rdata.slice(s, end));
    }
    at = end;
  }
  return { bytes, apex, apexLabels, qptr, qrel, sptr, srel, below };
}

function nameEnd(b: Uint8Array, at: number): number {
  while (b[at] !== 0) at += b[at]! + 1;
  return at + 1;
}

function labelCount(b: Uint8Array, at: number): number {
  let n = 0;
  for (; b[at] !== 0; at += b[at]! + 1) n++;
  return n;
}

/** Whether the uncompressed name at q[at] equals `name` (lower-case wire), ignoring case. */
function sameTail(q: Uint8Array, at: number, name: Uint8Array): boolean {
  if (at + name.length > q.length) return false;
  for (let i = 0; i < name.length; i++) if (lower(q[at + i]!) !== name[i]) return false;
  return true;
}

/** Label starts of the query's question name (at offset 12, uncompressed: the caller checked). */
const starts = new Int32Array(128);

/**
 * Where the template's apex starts in the query's question name (at offset 12), or -1 when the
 * template does not apply to this question: the name is compressed (or runs past the message), the
 * apex is not a suffix of it, or MNAME or RNAME would be compressed against a part of it below the apex.
 * The one walk over the name also tells it is uncompressed (the encoder asked a second one before).
 */
export function apexInQuestion(t: NegativeTemplate, query: Uint8Array): number {
  let labels = 0;
  for (let p = HEADER; ; ) {
    if (p >= query.length) return -1;
    const len = query[p]!;
    if (len === 0) break;
    // A pointer (or a reserved label type): the encoder writes that question from its text.
    if (len >= 0x40 || labels === starts.length) return -1;
    starts[labels++] = p;
    p += len + 1;
  }
  if (labels < t.apexLabels) return -1;
  const at = starts[labels - t.apexLabels]!;
  if (!sameTail(query, at, t.apex)) return -1;
  for (const b of t.below) {
    const k = labelCount(b, 0);
    if (k <= labels && sameTail(query, starts[labels - k]!, b)) return -1;
  }
  return at;
}

/** Writes the template after a question whose apex starts at `apexAt`; the record starts at w.pos. */
export function writeNegativeTemplate(w: Writer, t: NegativeTemplate, apexAt: number): void {
  const start = w.pos;
  w.bytes(t.bytes);
  const b = w.buf;
  for (let i = 0; i < t.qptr.length; i++) {
    const v = apexAt + t.qrel[i]!;
    b[start + t.qptr[i]!] = 0xc0 | (v >>> 8);
    b[start + t.qptr[i]! + 1] = v & 0xff;
  }
  for (let i = 0; i < t.sptr.length; i++) {
    const v = start + t.srel[i]!;
    b[start + t.sptr[i]!] = 0xc0 | (v >>> 8);
    b[start + t.sptr[i]! + 1] = v & 0xff;
  }
}
