// Whole-message codec (RFC 1035 §4.1) with EDNS (RFC 6891 §6.1) and RRset-wise truncation
// (RFC 2181 §9: never send a partial RRset).

import { EdnsOptionCode, RRType, WireError, type Edns, type EdnsOption, type Flags, type Message, type Question, type ResourceRecord } from './types.js';
import { Reader } from './reader.js';
import { namesEqual } from './name.js';
import { Writer } from './writer.js';
import { pooledBytes } from './pool.js';
import { rdataCodec } from './rdata/index.js';
import { validateKnownOptions } from './edns.js';
import { wireOf, writeWireRdata } from './pre-encoded.js';
import { apexInQuestion, negativeTemplateOf, writeNegativeTemplate } from './negative.js';
import { recordBlockOf, writeRecordBlock, type RecordBlock } from './record-block.js';
import { capture, memoFits, nameEndAt, newBlockSection, writeMemo, type BlockSection } from './section-bytes.js';

export interface EncodeOptions {
  /**
   * The payload limit (UDP: min(client's EDNS size, ours), or 512 without EDNS). Answer and
   * authority RRsets that do not fit are dropped with everything after them and TC is set;
   * additional RRsets that do not fit are dropped silently. Header, questions and OPT are always
   * written, even if they alone exceed the limit.
   */
  maxSize?: number;
  /**
   * RFC 8467 block-length padding: when msg.edns carries a PADDING option, its length is chosen
   * so the message is a multiple of this many bytes (without exceeding maxSize). The option's
   * given data only counts towards the space reserved before the records are written.
   */
  padBlock?: number;
  /**
   * RFC 9471 §3: the first this-many additional records (a referral's in-domain glue) must all fit;
   * if they do not, TC is set so the client retries over TCP. The rest stay optional.
   */
  requiredAdditional?: number;
  /**
   * The query as received, when msg.questions[0] is its question: the name is copied from these bytes
   * (offset 12) instead of being written from text again. Ignored when that name is compressed.
   */
  query?: Uint8Array;
}

const HEADER = 12;

export function flagsToWord(f: Flags): number {
  return (
    ((f.qr ? 1 : 0) << 15) |
    ((f.opcode & 0xf) << 11) |
    ((f.aa ? 1 : 0) << 10) |
    ((f.tc ? 1 : 0) << 9) |
    ((f.rd ? 1 : 0) << 8) |
    ((f.ra ? 1 : 0) << 7) |
    ((f.z ? 1 : 0) << 6) |
    ((f.ad ? 1 : 0) << 5) |
    ((f.cd ? 1 : 0) << 4) |
    (f.rcode & 0xf)
  );
}

export function wordToFlags(v: number): Flags {
  return {
    qr: (v & 0x8000) !== 0,
    opcode: (v >>> 11) & 0xf,
    aa: (v & 0x0400) !== 0,
    tc: (v & 0x0200) !== 0,
    rd: (v & 0x0100) !== 0,
    ra: (v & 0x0080) !== 0,
    z: (v & 0x0040) !== 0,
    ad: (v & 0x0020) !== 0,
    cd: (v & 0x0010) !== 0,
    rcode: v & 0xf,
  };
}

/** The 12-bit rcode of RFC 6891 §6.1.3: header bits plus the OPT's upper 8 bits. */
export function getRcode(msg: Message): number {
  return (msg.flags.rcode & 0xf) | ((msg.edns?.extendedRcode ?? 0) << 4);
}

/**
 * Splits a 12-bit rcode into the header and the OPT record. Rcodes above 15 (BADVERS,
 * BADCOOKIE, ...) exist only with EDNS, so without msg.edns they are a RangeError.
 */
export function setRcode(msg: Message, rcode: number): void {
  if (!Number.isInteger(rcode) || rcode < 0 || rcode > 0xfff) throw new RangeError(`rcode ${rcode} out of range`);
  msg.flags.rcode = rcode & 0xf;
  if (msg.edns) msg.edns.extendedRcode = rcode >>> 4;
  else if (rcode > 15) throw new RangeError(`rcode ${rcode} needs EDNS`);
}

/** RFC 6891 §6.1.3: the OPT TTL carries EXTENDED-RCODE, VERSION, DO and Z. */
function ednsTtl(e: Edns): number {
  return (((e.extendedRcode & 0xff) << 24) | ((e.version & 0xff) << 16) | (e.dnssecOk ? 0x8000 : 0) | (e.z & 0x7fff)) >>> 0;
}

function optSize(e: Edns): number {
  let n = 11;
  for (const o of e.options) n += 4 + o.data.length;
  return n;
}

/**
 * The question name of the message being written, when it sits uncompressed at offset 12: a record owned
 * by that name is written as the pointer 0xC00C, and one owned by a suffix of it (the zone's apex on a
 * negative answer's SOA) as a pointer into it — what the compression table would find, without parsing
 * the text again. The encoder is synchronous, so one variable serves every message.
 */
let questionName: string | undefined;
/** The question's text has no escape: each character is one byte, and text offset = wire offset. */
let questionPlain = false;

/** An owner name: a pointer into the question when it is the question or a suffix of it, else compressed as usual. */
function writeOwner(w: Writer, name: string): void {
  const q = questionName;
  if (q !== undefined) {
    if (name === q) return w.u16(0xc000 | HEADER);
    const d = q.length - name.length;
    // A suffix at a label boundary (the character before it a dot, not an escaped one: the text has no escapes).
    if (d > 0 && questionPlain && name.length > 1 && q.charCodeAt(d - 1) === 0x2e && q.endsWith(name)) return w.u16(0xc000 | (HEADER + d));
  }
  w.writeName(name, true);
}

function writeRecord(w: Writer, rr: ResourceRecord): void {
  if (rr.type === RRType.OPT) throw new WireError('OPT records belong in msg.edns', w.pos);
  writeOwner(w, rr.name);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.reserve(2);
  // RDATA that came from wire bytes (a compiled zone) is copied, its compressible names compressed.
  const pre = wireOf(rr.data);
  if (pre !== undefined) writeWireRdata(w, rr.type, pre);
  else rdataCodec(rr.type).encode(w, rr.data);
  const len = w.pos - lenAt - 2;
  if (len > 0xffff) throw new WireError(`rdata of ${len} bytes`, lenAt);
  w.patchU16(lenAt, len);
}

function sameRRset(a: ResourceRecord, b: ResourceRecord): boolean {
  return a.type === b.type && a.class === b.class && namesEqual(a.name, b.name);
}

/** `sig` is an RRSIG at the owner of `rr` covering its type (RDATA starts with the type covered, RFC 4034 §3.1). */
function coversSet(sig: ResourceRecord, rr: ResourceRecord): boolean {
  if (sig.type !== RRType.RRSIG || rr.type === RRType.RRSIG) return false;
  const raw = (sig.data as { raw?: Uint8Array }).raw;
  // The DNSSEC step gives an RRset's RRSIGs the very owner string of the RRset: compare the text only otherwise.
  return raw !== undefined && raw.length >= 2 && ((raw[0]! << 8) | raw[1]!) === rr.type && namesEqual(sig.name, rr.name);
}

/** Pointers have 14 bits: a block's owner must start below this offset. */
const MAX_POINTER = 0x3fff;

/**
 * Where the RRset group starting at records[i] ends when it is exactly the block's records (the very
 * objects it was made for, nothing after them that would join the group), else -1.
 */
function blockEnd(block: RecordBlock, records: readonly ResourceRecord[], i: number): number {
  const b = block.records;
  const j = i + b.length;
  if (j > records.length) return -1;
  for (let k = 0; k < b.length; k++) if (records[i + k] !== b[k]) return -1;
  if (j < records.length && (sameRRset(records[i]!, records[j]!) || coversSet(records[j]!, records[i]!))) return -1;
  return j;
}

/** The blocks a section made once is written from, one per RRset group in order (see blockSection). */
const SECTION_BLOCKS: unique symbol = Symbol('section.blocks');
type WithSectionBlocks = { [SECTION_BLOCKS]?: BlockSection };

/**
 * Marks a section array that is made once and sent again and again unchanged (a DNSSEC negative answer's
 * SOA and proofs, each with its RRSIGs): when every RRset group of it is exactly a record block (as
 * writeSection would find them one by one), the encoder takes the blocks in order without checking each
 * record of each group per answer. The array must not be changed afterwards. Nothing when it is not of
 * that shape (it is then written as any section).
 */
export function blockSection(records: readonly ResourceRecord[]): void {
  const blocks: RecordBlock[] = [];
  for (let i = 0; i < records.length; ) {
    const block = recordBlockOf(records[i]!);
    const j = block === undefined ? -1 : blockEnd(block, records, i);
    if (j < 0) return;
    blocks.push(block!);
    i = j;
  }
  const section = newBlockSection(blocks);
  Object.defineProperty(records, SECTION_BLOCKS, { value: section, enumerable: false, writable: false, configurable: false });
}

/**
 * blockSection for a section made anew per answer from record sets each of which is exactly one block
 * (`blocks[i].records` is the i-th set, and no set would join the next: their owners or types differ),
 * so the blocks are given rather than searched. Attached by assignment: Object.defineProperty costs some
 * 600 ns an array, more than the per-record checks it saves; the property is then enumerable, but a
 * symbol (for-in, Object.keys, JSON and slice leave it out).
 */
export function blockSectionOf(records: ResourceRecord[], blocks: readonly RecordBlock[]): void {
  (records as WithSectionBlocks)[SECTION_BLOCKS] = newBlockSection(blocks);
}

/**
 * Writes the records of one section RRset by RRset within `limit`. Returns how many records were
 * written; in `strict` mode it stops at the first RRset that does not fit, otherwise skips it.
 */
function writeSection(w: Writer, records: readonly ResourceRecord[], limit: number, strict: boolean, out: { truncated: boolean }): number {
  let count = 0;
  let i = 0;
  const n = records.length;
  // A section of blocks only (blockSection): its groups are known, one block each, in order.
  const sectionBlocks = (records as WithSectionBlocks)[SECTION_BLOCKS]?.blocks;
  let b = 0;
  while (i < n) {
    const mark = w.mark();
    // A block (wire/record-block.ts) is an RRset and its RRSIGs written from bytes made once.
    const block = sectionBlocks !== undefined ? sectionBlocks[b++] : recordBlockOf(records[i]!);
    let j = block === undefined || w.pos > MAX_POINTER ? -1 : sectionBlocks !== undefined ? i + block.records.length : blockEnd(block, records, i);
    if (j >= 0) writeRecordBlock(w, block!);
    else {
      j = i + 1;
      while (j < n && sameRRset(records[i]!, records[j]!)) j++;
      // RFC 4035 §3.1.1: the RRSIGs right after an RRset that cover it go (or are dropped) with it.
      while (j < n && coversSet(records[j]!, records[i]!)) j++;
      for (let k = i; k < j; k++) writeRecord(w, records[k]!);
    }
    if (w.pos > limit) {
      w.rollback(mark);
      if (strict) {
        out.truncated = true;
        return count;
      }
    } else {
      count += j - i;
    }
    i = j;
  }
  return count;
}

/**
 * Encodes `msg` with name compression. The header's rcode is flags.rcode's low 4 bits exactly as
 * given: for rcodes above 15 the caller must also set edns.extendedRcode (setRcode does both).
 * With opts.maxSize, see EncodeOptions for how the message is truncated.
 */
export interface QueryOptions {
  id?: number;
  /** Recursion desired (RFC 1035 §4.1.1); a stub resolver asks with it, an authoritative probe without. */
  rd?: boolean;
  cd?: boolean;
  /** EDNS(0) with this UDP payload size (true: 1232); implied by `options` or `dnssecOk`. */
  edns?: boolean | number;
  options?: EdnsOption[];
  dnssecOk?: boolean;
}

/** A standard query (opcode QUERY, class IN) for one question: what clients, tools and tests send. */
export function queryMessage(name: string, type: number, o: QueryOptions = {}): Message {
  const msg: Message = {
    id: o.id ?? 0,
    flags: { qr: false, opcode: 0, aa: false, tc: false, rd: o.rd ?? false, ra: false, z: false, ad: false, cd: o.cd ?? false, rcode: 0 },
    questions: [{ name, type, class: 1 }],
    answers: [],
    authorities: [],
    additionals: [],
  };
  if (o.edns || o.options || o.dnssecOk) {
    msg.edns = { udpSize: typeof o.edns === 'number' ? o.edns : 1232, extendedRcode: 0, version: 0, dnssecOk: o.dnssecOk ?? false, z: 0, options: o.options ?? [] };
  }
  return msg;
}

/** True when a whole uncompressed name (no pointer) starts at `b[at]`. */
function uncompressedAt(b: Uint8Array, at: number): boolean {
  for (let p = at; p < b.length; p += b[p]! + 1) {
    const len = b[p]!;
    if (len === 0) return true;
    if (len >= 0x40) return false;
  }
  return false;
}

export function encodeMessage(msg: Message, opts?: EncodeOptions): Uint8Array {
  const maxSize = opts?.maxSize ?? Infinity;
  const e = msg.edns;
  const reserved = e ? optSize(e) : 0;
  const limit = maxSize - reserved;
  // One writer for every message: its buffer and compression table are reused (a message is written
  // synchronously, start to finish, so nothing else can be using it).
  const w = shared;
  w.reset();
  w.u16(msg.id);
  const flagsAt = w.reserve(2);
  w.u16(msg.questions.length);
  const countsAt = w.reserve(6);
  questionName = undefined;
  const query = opts?.query;
  // A negative answer (the zone's SOA alone, wire/negative.ts): the question copied, the SOA from its template.
  if (msg.answers.length === 0 && msg.additionals.length === 0 && msg.authorities.length === 1 && msg.questions.length === 1 && query !== undefined) {
    const t = negativeTemplateOf(msg.authorities[0]!);
    const apexAt = t === undefined ? -1 : apexInQuestion(t, query);
    if (apexAt >= 0) {
      const q = msg.questions[0]!;
      const nameEnd = apexAt + t!.apex.length;
      if (nameEnd + 4 + t!.bytes.length <= limit) {
        w.bytesFrom(query, HEADER, nameEnd);
        w.u16(q.type);
        w.u16(q.class);
        writeNegativeTemplate(w, t!, apexAt);
        return finishMessage(w, msg, e, opts, maxSize, flagsAt, countsAt, msg.flags.tc, 0, 1, 0);
      }
    }
  }
  // A signed negative answer (the question, then a section of blocks alone): copied from the bytes it was
  // last written as when the question leaves its compression the same (wire/section-bytes.ts).
  let learn: BlockSection | undefined;
  let nameEnd = -1;
  if (msg.answers.length === 0 && msg.additionals.length === 0 && msg.questions.length === 1 && query !== undefined) {
    const section = (msg.authorities as WithSectionBlocks)[SECTION_BLOCKS];
    if (section !== undefined && uncompressedAt(query, HEADER)) {
      nameEnd = nameEndAt(query, HEADER);
      if (memoFits(section, query, nameEnd) && nameEnd + 4 + section.len <= limit) {
        const q = msg.questions[0]!;
        w.bytesFrom(query, HEADER, nameEnd);
        w.u16(q.type);
        w.u16(q.class);
        const at = w.reserve(section.len);
        writeMemo(w.buf, at, section, nameEnd - section.nameEnd);
        return finishMessage(w, msg, e, opts, maxSize, flagsAt, countsAt, msg.flags.tc, 0, msg.authorities.length, 0);
      }
      if (section.uses++ > 0) learn = section;
    }
  }
  for (const q of msg.questions) {
    if (w.pos === HEADER && query !== undefined && uncompressedAt(query, HEADER)) {
      // The name as the query sent it (parseQuery validated it; the text `q.name` spells the same bytes),
      // its suffixes hashed into the compression table only if a later name is compressed.
      w.writeNameWireLater(query, HEADER);
    } else w.writeName(q.name, true);
    w.u16(q.type);
    w.u16(q.class);
  }
  // A pointer to the root name would be longer than the name: only a name of one label or more.
  if (msg.questions.length === 1 && msg.questions[0]!.name.length > 1) {
    questionName = msg.questions[0]!.name;
    questionPlain = questionName.indexOf('\\') < 0;
  }
  const state = { truncated: msg.flags.tc };
  let an = 0;
  let ns = 0;
  let ar = 0;
  an = writeSection(w, msg.answers, limit, true, state);
  if (an === msg.answers.length) {
    const sectionAt = w.pos;
    ns = writeSection(w, msg.authorities, limit, true, state);
    if (learn !== undefined && ns === msg.authorities.length && sectionAt === nameEnd + 4) capture(learn, w.buf, nameEnd, sectionAt, w.pos, ns);
    if (ns === msg.authorities.length) {
      const req = Math.min(opts?.requiredAdditional ?? 0, msg.additionals.length);
      if (req === 0) {
        ar = writeSection(w, msg.additionals, limit, false, state);
      } else {
        ar = writeSection(w, msg.additionals.slice(0, req), limit, true, state);
        if (ar === req) ar += writeSection(w, msg.additionals.slice(req), limit, false, state);
      }
    }
  }
  if (an < msg.answers.length || ns < msg.authorities.length) state.truncated = true;
  return finishMessage(w, msg, e, opts, maxSize, flagsAt, countsAt, state.truncated, an, ns, ar);
}

/** The OPT record, flags and counts, then the message copied out of the shared writer. */
function finishMessage(w: Writer, msg: Message, e: Edns | undefined, opts: EncodeOptions | undefined, maxSize: number, flagsAt: number, countsAt: number, truncated: boolean, an: number, ns: number, ar: number): Uint8Array {
  if (e) {
    writeOpt(w, e, opts?.padBlock, maxSize);
    ar++;
  }
  w.patchU16(flagsAt, (flagsToWord(msg.flags) & ~0x0200) | (truncated ? 0x0200 : 0));
  w.patchU16(countsAt, an);
  w.patchU16(countsAt + 2, ns);
  w.patchU16(countsAt + 4, ar);
  // The caller keeps what it gets (transports queue replies past the next query): copy it out of the
  // shared buffer, into a slab (wire/pool.ts) when it is small.
  const n = w.pos;
  const out = pooledBytes(n);
  out.set(headOf(w.buf, n));
  return out;
}

/** Views of the shared writer's first n bytes, by n (up to a pooled reply's size), kept while its buffer is the same. */
let heads: (Uint8Array | undefined)[] = [];
let headsOf: Uint8Array | undefined;
const MAX_HEAD = 4096;

/**
 * buf.subarray(0, n), made once per length: replies have a few hundred lengths, and a view made per
 * message to copy it out was ~96 of a distinct-name query's heap bytes (issue 11). A JS loop instead
 * of the view was slower (in-process A/B).
 */
function headOf(buf: Uint8Array, n: number): Uint8Array {
  if (n > MAX_HEAD) return buf.subarray(0, n);
  if (buf !== headsOf) {
    headsOf = buf;
    heads = new Array<Uint8Array | undefined>(MAX_HEAD + 1).fill(undefined);
  }
  return (heads[n] ??= buf.subarray(0, n));
}

const shared = new Writer(1024);

function writeOpt(w: Writer, e: Edns, padBlock: number | undefined, maxSize: number): void {
  w.u8(0);
  w.u16(RRType.OPT);
  w.u16(e.udpSize);
  w.u32(ednsTtl(e));
  const lenAt = w.reserve(2);
  for (const o of e.options) {
    w.u16(o.code);
    if (o.code === EdnsOptionCode.PADDING && padBlock !== undefined && padBlock > 0) {
      // Everything after this option is already known, so the final size is too.
      let after = 0;
      let seen = false;
      for (const p of e.options) {
        if (seen) after += 4 + p.data.length;
        else if (p === o) seen = true;
      }
      const base = w.pos + 2 + after;
      let pad = (padBlock - (base % padBlock)) % padBlock;
      if (base + pad > maxSize) pad = Math.max(0, maxSize - base);
      w.u16(pad);
      w.reserve(pad);
      w.buf.fill(0, w.pos - pad, w.pos);
      continue;
    }
    w.u16(o.data.length);
    w.bytes(o.data);
  }
  w.patchU16(lenAt, w.pos - lenAt - 2);
}

function readQuestion(r: Reader): Question {
  const name = r.readName();
  return { name, type: r.u16(), class: r.u16() };
}

function readRecord(r: Reader): ResourceRecord {
  const name = r.readName();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const rdlength = r.u16();
  const end = r.pos + rdlength;
  if (end > r.buf.length) throw new WireError(`RDLENGTH ${rdlength} overruns the message`, r.pos - 2);
  const data = rdataCodec(type).decode(r, rdlength);
  if (r.pos !== end) throw new WireError('rdata does not match RDLENGTH', r.pos);
  return { name, type, class: klass, ttl, data };
}

/** RFC 6891 §6.1.2: options are {code, length, data} until RDLENGTH is used up exactly. */
function readOpt(r: Reader, rr: { name: string; class: number; ttl: number }, rdlength: number): Edns {
  const end = r.pos + rdlength;
  if (end > r.buf.length) throw new WireError(`RDLENGTH ${rdlength} overruns the message`, r.pos - 2);
  const options: EdnsOption[] = [];
  while (r.pos < end) {
    if (end - r.pos < 4) throw new WireError('EDNS option header overruns the OPT rdata', r.pos);
    const code = r.u16();
    const len = r.u16();
    if (r.pos + len > end) throw new WireError(`EDNS option ${code} overruns the OPT rdata`, r.pos - 2);
    options.push({ code, data: r.copy(len) });
  }
  try {
    validateKnownOptions(options);
  } catch (err) {
    if (err instanceof WireError) throw new WireError(`malformed EDNS option: ${err.message}`, end - rdlength);
    throw err;
  }
  return {
    udpSize: rr.class,
    extendedRcode: rr.ttl >>> 24,
    version: (rr.ttl >>> 16) & 0xff,
    dnssecOk: (rr.ttl & 0x8000) !== 0,
    z: rr.ttl & 0x7fff,
    options,
  };
}

/**
 * Strict decoder: the section counts must match the content exactly, nothing may follow the
 * last record, and there is at most one OPT, in the additional section, owned by the root
 * (RFC 6891 §6.1.1). Known EDNS options that RFCs make FORMERR (ECS, COOKIE) are validated.
 * Throws WireError for all of these; the returned message shares no memory with `buf`.
 */
export function decodeMessage(buf: Uint8Array): Message {
  if (buf.length < HEADER) throw new WireError(`message of ${buf.length} bytes is shorter than a header`, 0);
  const r = new Reader(buf);
  const id = r.u16();
  const flags = wordToFlags(r.u16());
  const qd = r.u16();
  const an = r.u16();
  const ns = r.u16();
  const ar = r.u16();
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) questions.push(readQuestion(r));
  const answers: ResourceRecord[] = [];
  for (let i = 0; i < an; i++) answers.push(readSectionRecord(r, 'answer'));
  const authorities: ResourceRecord[] = [];
  for (let i = 0; i < ns; i++) authorities.push(readSectionRecord(r, 'authority'));
  const additionals: ResourceRecord[] = [];
  let edns: Edns | undefined;
  for (let i = 0; i < ar; i++) {
    const start = r.pos;
    r.skipName();
    const type = r.u16();
    if (type !== RRType.OPT) {
      r.pos = start;
      additionals.push(readRecord(r));
      continue;
    }
    if (edns) throw new WireError('more than one OPT record', start);
    if (r.buf[start] !== 0) throw new WireError('OPT owner is not the root', start);
    const klass = r.u16();
    const ttl = r.u32();
    const rdlength = r.u16();
    edns = readOpt(r, { name: '.', class: klass, ttl }, rdlength);
  }
  if (r.pos !== buf.length) throw new WireError(`${buf.length - r.pos} bytes after the last record`, r.pos);
  const msg: Message = { id, flags, questions, answers, authorities, additionals };
  if (edns) msg.edns = edns;
  return msg;
}

function readSectionRecord(r: Reader, section: string): ResourceRecord {
  const start = r.pos;
  const rr = readRecord(r);
  if (rr.type === RRType.OPT) throw new WireError(`OPT record in the ${section} section`, start);
  return rr;
}
