// Turns the presentation form of record data (RFC 1035 §5.1, RFC 3597 §5) into the shared rdata model.

import { Reader } from '../wire/reader.js';
import { rdataCodecs } from '../wire/rdata/index.js';
import { formatIPv6, parseIPv4, parseIPv6 } from '../wire/rdata/ip.js';
import { RRType, WireError, typeName, type Rdata } from '../wire/types.js';
import { Out, RdataTextError, parseRdataInto, typesWithTextForm, type RdataWarning } from '../wire/rrtype/index.js';

/** One buffer for the text form of every record parsed; typed data is decoded from it at once. */
const scratch = new Out();
/** One cursor too: a zone has millions of records and nothing keeps it past one parseRdata call. */
const cursor: { tokens: readonly Token[]; pos: number; origin: readonly Uint8Array[]; warnings: RdataWarning[] } = { tokens: [], pos: 0, origin: [], warnings: [] };
import { decodeCharString } from '../wire/rrtype/text.js';
import { parsePeriod } from '../wire/rrtype/fields.js';
import { NameError, nameFromLabels, parseLabels } from '../wire/name.js';
import { ZoneError, describeToken, type Entry, type Token } from './lexer.js';

/** The rdata tokens of one entry and what a relative name in them is relative to. */
export interface RdataCursor {
  tokens: Token[];
  pos: number;
  entry: Entry;
  file: string;
  originLabels: Uint8Array[];
  /** Reports a problem the parser repairs (the record still loads): e.g. a character-string over 255 bytes split into pieces. */
  warn?: (t: Token, message: string) => void;
}

export const MAX_U32 = 0xffffffff;

function err(c: RdataCursor, t: Token | undefined, expected: string, found?: string): ZoneError {
  if (!t) return new ZoneError(c.file, c.entry.endLine, c.entry.endCol, expected, c.entry.atEof ? 'end of file' : 'end of line');
  return new ZoneError(c.file, t.line, t.col, expected, found ?? describeToken(t));
}

/**
 * Seconds from a TTL written as digits or with BIND's units (1w2d3h4m5s, any case): every number
 * must then carry a unit. Null when the text is not a TTL or exceeds 2^32-1.
 */
export function parseTtlText(s: string): number | null {
  return parsePeriod(s);
}

/** A domain name token made absolute: "@" is the origin, a relative name gets the origin appended. */
export function nameFromToken(file: string, t: Token, originLabels: Uint8Array[], what = 'a domain name'): string {
  if (t.quoted) throw new ZoneError(file, t.line, t.col, what, describeToken(t));
  if (t.text === '@') return nameFromLabels(originLabels);
  try {
    return nameFromLabels(parseLabels(t.text, originLabels));
  } catch (e) {
    if (e instanceof NameError) throw new ZoneError(file, t.line, t.col, what, `${describeToken(t)} (${e.message})`);
    throw e;
  }
}

export { decodeCharString };

/** Canonical RFC 5952 text for an IPv6 address given as text, or null when it is not one. */
export function canonicalIPv6(s: string): string | null {
  const b = parseIPv6(s);
  return b ? formatIPv6(b) : null;
}

export { formatIPv6, parseIPv4, parseIPv6 };

/** Types whose presentation form this module reads (every type with a codec in wire/rrtype). */
export const TEXT_FORM_TYPES: ReadonlySet<number> = new Set(typesWithTextForm());

/** Types held in a typed rdata interface rather than OpaqueRdata (types.ts RdataByType). */
export const TYPED_RDATA: ReadonlySet<number> = new Set([
  RRType.A, RRType.AAAA, RRType.NS, RRType.CNAME, RRType.DNAME, RRType.SOA, RRType.PTR,
  RRType.MX, RRType.TXT, RRType.SRV, RRType.CAA,
]);

/** Typed rdata from uncompressed wire bytes (RFC 3597 §5 for known types), by the wire codecs. Throws RangeError. */
export function rdataFromWire(type: number, b: Uint8Array): Rdata {
  const codec = rdataCodecs.get(type);
  if (!codec) return { raw: b };
  // A TXT needs at least one character-string (RFC 1035 §3.3.14); the codec accepts what the wire may carry.
  if (type === RRType.TXT && b.length === 0) throw new RangeError('TXT needs at least one character-string');
  try {
    return codec.decode(new Reader(b), b.length);
  } catch (e) {
    if (e instanceof WireError) throw new RangeError(e.message);
    throw e;
  }
}

/**
 * Uncompressed wire RDATA read from text; `bytes` may be a view of a shared buffer, and the object
 * itself is reused: both are valid until the next parse.
 */
export interface WireRdata {
  bytes: Uint8Array;
  /** Written in the RFC 3597 \# form (so not checked against the type's own syntax). */
  generic: boolean;
}

/**
 * Parses the rdata tokens at `c.pos` for `type` into wire bytes, consuming all of them, by the
 * type's codec (or the RFC 3597 form). Repairs (a string longer than 255 bytes split into pieces)
 * go to c.warn. Throws ZoneError.
 */
export function parseRdataWire(type: number, c: RdataCursor): WireRdata {
  const first = c.pos;
  const t = cursor;
  t.tokens = c.tokens;
  t.pos = c.pos;
  t.origin = c.originLabels;
  // Setting an array's length is a runtime call, even to the length it has: once per record.
  if (t.warnings.length > 0) t.warnings.length = 0;
  let generic: Uint8Array | null;
  try {
    generic = parseRdataInto(type, t, scratch);
  } catch (e) {
    if (e instanceof RdataTextError) throw err(c, e.token < 0 ? undefined : c.tokens[e.token], e.expected, e.found);
    throw e;
  }
  c.pos = t.pos;
  if (c.warn && t.warnings.length > 0) {
    for (const w of t.warnings) {
      const tok = c.tokens[w.token] ?? c.tokens[first];
      if (tok) c.warn(tok, w.message);
    }
  }
  wireRdata.bytes = generic ?? scratchView(scratch.pos);
  wireRdata.generic = generic !== null;
  return wireRdata;
}

/**
 * parseRdataWire's result, and views of the scratch buffer by length made once each (while the buffer
 * is the same one): a new view and result object per record were ~2 % of a million-record load, where
 * a zone's rdata has a few lengths.
 */
const wireRdata: WireRdata = { bytes: new Uint8Array(0), generic: false };
let viewsOf: Uint8Array | undefined;
const views: (Uint8Array | undefined)[] = [];
const MAX_VIEW = 1024;

function scratchView(n: number): Uint8Array {
  const buf = scratch.buf;
  if (n >= MAX_VIEW) return buf.subarray(0, n);
  if (viewsOf !== buf) {
    viewsOf = buf;
    views.length = 0;
    for (let i = 0; i < MAX_VIEW; i++) views.push(undefined);
  }
  let v = views[n];
  if (v === undefined) v = views[n] = buf.subarray(0, n);
  return v;
}

/**
 * The typed form of TYPED_RDATA wire bytes from parseRdataWire; a ZoneError at the rdata's first
 * token (or the \# form's length) when they do not decode.
 */
export function checkTypedRdata(type: number, w: WireRdata, c: RdataCursor, first: number): Rdata {
  try {
    // Decoded straight from the scratch bytes: the typed form keeps no reference to them.
    return rdataFromWire(type, w.bytes);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    // The \# form's length token, or the first rdata token of the text form.
    const at = c.tokens[w.generic ? first + 1 : first];
    throw err(c, at, `well-formed ${typeName(type)} rdata${w.generic ? ' in the \\# form' : ''}`, at ? `${describeToken(at)} (${e.message})` : undefined);
  }
}

/**
 * Parses the rdata tokens at `c.pos` for `type`, consuming all of them: the type's codec (or the
 * RFC 3597 form) gives wire bytes; the types the lookup reads field by field (TYPED_RDATA) are
 * decoded from those bytes once, every other type is kept as its wire bytes (a copy). Throws ZoneError.
 */
export function parseRdata(type: number, c: RdataCursor): Rdata {
  const first = c.pos;
  const w = parseRdataWire(type, c);
  if (!TYPED_RDATA.has(type)) return { raw: w.bytes.slice() };
  return checkTypedRdata(type, w, c, first);
}
