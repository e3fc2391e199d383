// Allocation-light, never-throwing query parser for the serving hot path: header, the one
// question, and the OPT record, without building a Message.

import { EdnsOptionCode, Rcode, RRType, WireError, type ClientSubnet, type Cookie, type Edns, type EdnsOption } from './types.js';
import { plain, lastScanErrorOffset, nameErrorReason, scanName, scannedNameText } from './reader.js';
import { decodeClientSubnet, decodeCookie } from './edns.js';

export interface QueryEdns extends Edns {
  cookie?: Cookie;
  clientSubnet?: ClientSubnet;
  /** RFC 5001 §2.3: an NSID option (normally empty) asks for the server's identifier. */
  nsidRequested: boolean;
  paddingPresent: boolean;
}

export interface QueryView {
  id: number;
  /** The raw 16 flag bits. */
  flags: number;
  qr: boolean;
  opcode: number;
  rd: boolean;
  cd: boolean;
  ad: boolean;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  /**
   * `name` is the presentation text as sent. Code on the query path should work on the wire bytes
   * (qnameLower, labelOffsets). The text is still built at parse: a getter (an object literal with an
   * accessor, the only lazy form that stays a plain object) measured 500 bytes and more time per parse
   * than the string it saves.
   */
  question?: { name: string; type: number; class: number };
  /** End of the question section: buf.subarray(12, questionEnd) echoes it; 12 when none parsed. */
  questionEnd: number;
  /** Offset of the TSIG record (its owner name) when the last additional record is one (RFC 8945). */
  tsigAt?: number;
  /** Set when the OPT record itself parsed, even if one of its options is malformed. */
  edns?: QueryEdns;
  /**
   * Set when the query is malformed; `question` is still set when the question itself parsed.
   * `noQuestion` says the only fault is QDCOUNT 0 and everything else parsed: a cookie-only query
   * (RFC 7873 §5.4) or a header-only probe of an unknown opcode (RFC 8906 §8.1.4) looks like that.
   */
  error?: { rcode: number; reason: string; noQuestion?: true };
}

function fail(v: QueryView, reason: string, offset: number): QueryView {
  v.error = { rcode: Rcode.FORMERR, reason: `${reason} at offset ${offset}` };
  return v;
}

/**
 * Skips one resource record at `off`; returns the offset after it, or -1 (reason in skipError).
 * Names are fully validated (loops, pointers, lengths) even though their text is not built.
 */
let skipError = '';
let skipErrorAt = 0;
/** Where the owner name of the record skipped last ends (its TYPE field). */
let skipTypeAt = 0;

/** The TYPE of the record skipRecord skipped last. */
export function skippedType(buf: Uint8Array): number {
  return (buf[skipTypeAt]! << 8) | buf[skipTypeAt + 1]!;
}

export function skipRecord(buf: Uint8Array, off: number): number {
  const p = scanName(buf, off, false);
  if (p < 0) {
    skipError = nameErrorReason(p);
    skipErrorAt = lastScanErrorOffset();
    return -1;
  }
  skipTypeAt = p;
  if (p + 10 > buf.length) {
    skipError = 'truncated record';
    skipErrorAt = p;
    return -1;
  }
  const end = p + 10 + ((buf[p + 8]! << 8) | buf[p + 9]!);
  if (end > buf.length) {
    skipError = 'RDLENGTH overruns the message';
    skipErrorAt = p + 8;
    return -1;
  }
  return end;
}

/**
 * Parses a query without throwing. Everything RFC 1035/6891/7871/7873 makes FORMERR is reported
 * in `error` (rcode FORMERR); shorter than a header means the caller should drop the packet.
 * Option data and cookie parts are subarrays of `buf`: copy them if they must outlive it.
 */
export function parseQuery(input: Uint8Array): QueryView {
  const buf = plain(input);
  const len = buf.length;
  if (len < 12) {
    return {
      id: len >= 2 ? (buf[0]! << 8) | buf[1]! : 0,
      flags: 0, qr: false, opcode: 0, rd: false, cd: false, ad: false,
      qdcount: 0, ancount: 0, nscount: 0, arcount: 0, questionEnd: 12,
      error: { rcode: Rcode.FORMERR, reason: `message of ${len} bytes is shorter than a header` },
    };
  }
  const flags = (buf[2]! << 8) | buf[3]!;
  const v: QueryView = {
    id: (buf[0]! << 8) | buf[1]!,
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0xf,
    rd: (flags & 0x0100) !== 0,
    cd: (flags & 0x0010) !== 0,
    ad: (flags & 0x0020) !== 0,
    qdcount: (buf[4]! << 8) | buf[5]!,
    ancount: (buf[6]! << 8) | buf[7]!,
    nscount: (buf[8]! << 8) | buf[9]!,
    arcount: (buf[10]! << 8) | buf[11]!,
    questionEnd: 12,
  };
  return parseBody(buf, v, undefined, undefined);
}

/**
 * The question of a query parsed by QueryParser: its name's text is made on first read, from the
 * query's bytes (an answer-cache hit never reads it). A class with an accessor stays one hidden class.
 */
class LazyQuestion {
  type = 0;
  class = 0;
  private text: string | undefined = undefined;
  private buf: Uint8Array = EMPTY;

  reset(buf: Uint8Array, type: number, cls: number): this {
    this.buf = buf;
    this.type = type;
    this.class = cls;
    this.text = undefined;
    return this;
  }

  get name(): string {
    if (this.text === undefined) {
      // parseQuery validated the name; scanning again fills the reader's scratch the text is made from.
      scanName(this.buf, 12, true);
      this.text = scannedNameText(this.buf, 12);
    }
    return this.text;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Parses queries into one QueryView, its question and its OPT, reused from query to query (the
 * engine's, one per query context): what parseQuery returns, without allocating on a well-formed
 * query. A view is valid until the next parse; `settle` makes its question's text while the query's
 * bytes are still there, for a view kept longer.
 */
export class QueryParser {
  private readonly question = new LazyQuestion();
  private readonly edns: QueryEdns = { udpSize: 0, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options: [], nsidRequested: false, paddingPresent: false, cookie: undefined, clientSubnet: undefined };
  readonly view: QueryView = {
    id: 0, flags: 0, qr: false, opcode: 0, rd: false, cd: false, ad: false,
    qdcount: 0, ancount: 0, nscount: 0, arcount: 0,
    question: undefined, questionEnd: 12, tsigAt: undefined, edns: undefined, error: undefined,
  };

  parse(input: Uint8Array): QueryView {
    const buf = plain(input);
    const v = this.view;
    v.question = undefined;
    v.questionEnd = 12;
    v.tsigAt = undefined;
    v.edns = undefined;
    v.error = undefined;
    if (buf.length < 12) {
      v.id = buf.length >= 2 ? (buf[0]! << 8) | buf[1]! : 0;
      v.flags = 0;
      v.qr = v.rd = v.cd = v.ad = false;
      v.opcode = v.qdcount = v.ancount = v.nscount = v.arcount = 0;
      v.error = { rcode: Rcode.FORMERR, reason: `message of ${buf.length} bytes is shorter than a header` };
      return v;
    }
    const flags = (buf[2]! << 8) | buf[3]!;
    v.id = (buf[0]! << 8) | buf[1]!;
    v.flags = flags;
    v.qr = (flags & 0x8000) !== 0;
    v.opcode = (flags >>> 11) & 0xf;
    v.rd = (flags & 0x0100) !== 0;
    v.cd = (flags & 0x0010) !== 0;
    v.ad = (flags & 0x0020) !== 0;
    v.qdcount = (buf[4]! << 8) | buf[5]!;
    v.ancount = (buf[6]! << 8) | buf[7]!;
    v.nscount = (buf[8]! << 8) | buf[9]!;
    v.arcount = (buf[10]! << 8) | buf[11]!;
    return parseBody(buf, v, this.question, this.edns);
  }

  /** Makes the question's text now: for a view kept after its query's bytes may be reused. */
  settle(): void {
    void this.view.question?.name;
  }
}

/** The question, OPT and the rest after the header; `question`/`edns` are reused objects, or new ones. */
function parseBody(buf: Uint8Array, v: QueryView, question: LazyQuestion | undefined, edns: QueryEdns | undefined): QueryView {
  const len = buf.length;
  let pos = 12;
  if (v.qdcount > 1) return fail(v, `QDCOUNT ${v.qdcount}`, 4);
  if (v.qdcount === 1) {
    // The name's bytes are collected for its text only when the text is made now: a LazyQuestion scans
    // again when its name is read (most queries never read it), and collecting cost 4 % of a miss's profile.
    const p = scanName(buf, 12, question === undefined);
    if (p < 0) return fail(v, nameErrorReason(p), lastScanErrorOffset());
    if (p + 4 > len) return fail(v, 'truncated question', p);
    const type = (buf[p]! << 8) | buf[p + 1]!;
    const cls = (buf[p + 2]! << 8) | buf[p + 3]!;
    v.question = question !== undefined ? question.reset(buf, type, cls) : { name: scannedNameText(buf, 12), type, class: cls };
    pos = v.questionEnd = p + 4;
  }
  const records = v.ancount + v.nscount;
  for (let i = 0; i < records; i++) {
    const p = skipRecord(buf, pos);
    if (p < 0) return fail(v, skipError, skipErrorAt);
    pos = p;
  }
  for (let i = 0; i < v.arcount; i++) {
    const start = pos;
    const p = skipRecord(buf, pos);
    if (p < 0) return fail(v, skipError, skipErrorAt);
    pos = p;
    const type = skippedType(buf);
    if (type !== RRType.OPT) {
      // RFC 8945 §5.1: one TSIG at most, and it must be the last record (a second one is not last either).
      if (type === RRType.TSIG) {
        if (i !== v.arcount - 1) return fail(v, 'TSIG is not the last record', start);
        v.tsigAt = start;
      }
      continue;
    }
    if (v.edns) return fail(v, 'more than one OPT record', start);
    if (buf[start] !== 0) return fail(v, 'OPT owner is not the root', start);
    const reason = readOpt(buf, start + 1, p, v, edns);
    if (reason !== undefined) return fail(v, reason, start);
  }
  if (pos !== len) return fail(v, `${len - pos} bytes after the last record`, pos);
  // Kept simple: no question is FORMERR for every opcode. The rest was still parsed so that a
  // cookie-only query (RFC 7873 §5.4) shows its OPT; the caller may act on that and the opcode.
  if (v.qdcount === 0) {
    fail(v, 'QDCOUNT 0', 4);
    v.error!.noQuestion = true;
  }
  return v;
}

/**
 * Writes the question name's wire form, lower-cased (RFC 4343), into `out` (≥ 255 bytes) and returns
 * its length; -1 when the query has no question or its name is compressed (a pointer into the
 * header: legal, never sent by real clients). No allocation: lookups and cache keys take these bytes.
 */
export function qnameLower(raw: Uint8Array, v: QueryView, out: Uint8Array, at = 0): number {
  if (v.question === undefined) return -1;
  const end = v.questionEnd - 4;
  let o = at;
  for (let p = 12; p < end; ) {
    const len = raw[p]!;
    if (len >= 0x40) return -1;
    out[o++] = len;
    const lEnd = p + 1 + len;
    for (p++; p < lEnd; p++) {
      const c = raw[p]!;
      out[o++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    }
  }
  return o - at;
}

/**
 * The start of each label of the uncompressed wire name at `name[at]` into `offsets` (≥ 128 entries);
 * returns the label count, the root excluded. Label i is name[offsets[i]] bytes long.
 */
export function labelOffsets(name: Uint8Array, offsets: Uint8Array | Uint16Array | Int32Array, at = 0): number {
  let n = 0;
  for (let p = at; name[p] !== 0; p += name[p]! + 1) offsets[n++] = p;
  return n;
}

/** Decodes the OPT whose TYPE is at `at` and whose rdata ends at `end`; returns a reason on error. */
function readOpt(buf: Uint8Array, at: number, end: number, v: QueryView, reuse: QueryEdns | undefined): string | undefined {
  const ttl = ((buf[at + 4]! << 24) | (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!) >>> 0;
  let e: QueryEdns;
  if (reuse !== undefined) {
    e = reuse;
    e.udpSize = (buf[at + 2]! << 8) | buf[at + 3]!;
    e.extendedRcode = ttl >>> 24;
    e.version = (ttl >>> 16) & 0xff;
    e.dnssecOk = (ttl & 0x8000) !== 0;
    e.z = ttl & 0x7fff;
    e.nsidRequested = false;
    e.paddingPresent = false;
    e.cookie = undefined;
    e.clientSubnet = undefined;
    // A fresh array only when the last query had options: the view's reader may have kept them.
    if (e.options.length > 0) e.options = [];
  } else {
    e = {
      udpSize: (buf[at + 2]! << 8) | buf[at + 3]!,
      extendedRcode: ttl >>> 24,
      version: (ttl >>> 16) & 0xff,
      dnssecOk: (ttl & 0x8000) !== 0,
      z: ttl & 0x7fff,
      options: [],
      nsidRequested: false,
      paddingPresent: false,
    };
  }
  const options = e.options;
  v.edns = e;
  let p = at + 10;
  let bad: string | undefined;
  while (p < end) {
    if (end - p < 4) return 'EDNS option header overruns the OPT rdata';
    const code = (buf[p]! << 8) | buf[p + 1]!;
    const olen = (buf[p + 2]! << 8) | buf[p + 3]!;
    p += 4;
    if (p + olen > end) return `EDNS option ${code} overruns the OPT rdata`;
    const data = buf.subarray(p, p + olen);
    p += olen;
    options.push({ code, data });
    // Malformed ECS/COOKIE are FORMERR (RFC 7871 §7.1.1, RFC 7873 §5.2.2); the remaining options
    // are still collected so the FORMERR response can be built from a complete picture.
    switch (code) {
      case EdnsOptionCode.COOKIE:
        if (e.cookie === undefined) {
          try {
            e.cookie = decodeCookie(data);
          } catch (err) {
            bad ??= describe(err);
          }
        }
        break;
      case EdnsOptionCode.CLIENT_SUBNET:
        if (e.clientSubnet === undefined) {
          try {
            e.clientSubnet = decodeClientSubnet(data);
          } catch (err) {
            bad ??= describe(err);
          }
        }
        break;
      case EdnsOptionCode.NSID:
        e.nsidRequested = true;
        break;
      case EdnsOptionCode.PADDING:
        e.paddingPresent = true;
        break;
    }
  }
  return bad;
}

function describe(err: unknown): string {
  return err instanceof WireError ? err.message : String(err);
}
