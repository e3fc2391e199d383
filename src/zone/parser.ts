// Reads an RFC 1035 §5 master file (with RFC 2308 $TTL and RFC 3597 generic rdata) into records.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { MAX_TTL, META_TYPES, RRClass, RRType, typeCode, typeName, type Rdata, type ResourceRecord } from '../wire/types.js';
import { NameError, isSubdomain, nameFromLabels, nameKey, parseLabels } from '../wire/name.js';
import { Lexer, ZoneError, ZoneErrors, describeToken, type Entry, type Token } from './lexer.js';
import { checkTypedRdata, nameFromToken, parseRdataWire, parseTtlText, TYPED_RDATA, type RdataCursor } from './rdata-text.js';
import { formatRdata, rdataKey } from './format.js';
import { expandTemplate, parseGenerateRange, parseTemplate } from './generate.js';
import { unsupportedType } from './type-suggest.js';
import { zoneFileText } from './file-text.js';
import { compareBytes, rdataWire } from './print.js';

export { ZoneError, ZoneErrors } from './lexer.js';

/** A problem found in a zone file: an error (the zone is refused) or a warning (it loads). */
export interface ZoneIssue {
  file: string;
  /** 0 when the issue concerns the zone as a whole (e.g. no SOA at all). */
  line: number;
  message: string;
}

export interface ParsedZone {
  records: ResourceRecord[];
  /** Parallel to `records`: where each record was written. */
  sources: { file: string; line: number }[];
  /** What the parser repaired or ignored, as Knot and BIND do (out-of-zone data, long strings). */
  warnings: ZoneIssue[];
}

/** A file stops being read after this many errors (BIND and Knot stop too; one typo can cascade). */
export const MAX_ERRORS = 100;
/** Warnings kept per parse; the rest are counted in one last line. */
export const MAX_WARNINGS = 1000;

export interface ParseZoneOptions {
  /** Absolute name; the initial $ORIGIN. */
  origin: string;
  /** Name used in errors and sources, and the base for relative $INCLUDE paths. */
  file?: string;
  /** Used for records without a TTL when the file gives no other default (see parseZone). */
  defaultTtl?: number;
  /** Reads an included file; without it, $INCLUDE is an error. */
  readInclude?: (path: string) => string;
  /** How deeply $INCLUDE may nest (default 8); guards against include loops. */
  maxIncludeDepth?: number;
}

export { MAX_TTL } from '../wire/types.js';

/**
 * Where the parser puts each record (after its TTL is settled and out-of-zone data is dropped):
 * parseZone collects ResourceRecords (ListSink, below); the loader compiles the wire bytes straight
 * into a zone (load.ts) without a record object per record.
 */
export interface RecordSink {
  /** Whether `add` wants the typed form of the 11 RFC 1035 types (decoded from the wire bytes). */
  readonly typed: boolean;
  /**
   * One record. `wire` is its uncompressed RDATA, valid only during the call (copy what you keep);
   * `data` is the typed form when `typed` is set (else undefined). `line` is where it was written.
   */
  add(owner: string, type: number, ttl: number, wire: Uint8Array, data: Rdata | undefined, file: string, line: number): void;
  /**
   * Optional; called instead of `add` for an owner written relative and plain (no escape, "@" or empty
   * label): `owner` is `rel` + "." + `origin` (origin absolute, not the root). A sink that reads names
   * byte by byte can take the parts and leave `owner` unread: reading a concatenated string first
   * copies it into one piece, and the origin's bytes are the same record after record.
   */
  addUnder?(rel: string, origin: string, owner: string, type: number, ttl: number, wire: Uint8Array, data: Rdata | undefined, file: string, line: number): void;
}

interface State {
  opts: ParseZoneOptions;
  sink: RecordSink;
  warnings: ZoneIssue[];
  /** The zone apex: owners outside it are ignored with a warning. */
  apex: string;
  errors: ZoneError[];
  /** Set when MAX_ERRORS is reached: nothing more is read. */
  stopped: boolean;
  warningsDropped: number;
  /** $TTL (RFC 2308 §4), once set. */
  dollarTtl: number | undefined;
  /** The last record's TTL: RFC 1035 §5.1 default when there is no $TTL. */
  lastTtl: number | undefined;
  soaMinimum: number | undefined;
}

interface FileCtx {
  file: string;
  originLabels: Uint8Array[];
  origin: string;
  owner: string | undefined;
  ownerText: string | undefined;
  /** When `owner` was written relative and plain: the text written and the origin it was read under (for RecordSink.addUnder). */
  ownerRel: string | undefined;
  ownerRelOrigin: string;
  /** Whether `owner` is at or below the apex (computed when the owner changes). */
  ownerInZone: boolean;
  depth: number;
  /** Wire length of `origin` and whether it is at or below the apex (for plainName), set with the origin. */
  originWire?: number;
  originInZone?: boolean;
  /** One rdata cursor per file, reused record after record. */
  cursor?: RdataCursor;
}

/**
 * The absolute name of an owner token written plainly (letters, digits, "-", "_", "*" …; no escape,
 * "@" or empty label) without building its labels: the text itself, or the text and the origin.
 * Undefined for anything else (nameFromToken then reads it and words any error).
 */
function plainName(st: State, fc: FileCtx, text: string): string | undefined {
  const n = text.length;
  let labelLen = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (labelLen === 0) return undefined;
      labelLen = 0;
    } else if (c <= 0x20 || c >= 0x7f || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) {
      return undefined;
    } else if (++labelLen > 63) return undefined;
  }
  if (labelLen === 0) {
    // Absolute (or empty): the whole text is the name.
    if (n < 2 || n + 1 > 255) return undefined;
    fc.ownerInZone = isSubdomain(text, st.apex);
    return text;
  }
  if (fc.originWire === undefined) {
    let w = 1;
    for (const l of fc.originLabels) w += l.length + 1;
    fc.originWire = w;
    fc.originInZone = isSubdomain(fc.origin, st.apex);
  }
  if (n + 1 + fc.originWire > 255) return undefined;
  fc.ownerInZone = fc.originInZone!;
  return fc.origin === '.' ? text + '.' : text + '.' + fc.origin;
}

function tokErr(file: string, t: Token, expected: string, found?: string): ZoneError {
  return new ZoneError(file, t.line, t.col, expected, found ?? describeToken(t));
}

function endErr(file: string, e: Entry, expected: string): ZoneError {
  return new ZoneError(file, e.endLine, e.endCol, expected, e.atEof ? 'end of file' : 'end of line');
}

function originFromOption(origin: string, file: string): Uint8Array[] {
  try {
    return parseLabels(origin);
  } catch (e) {
    if (e instanceof NameError) throw new ZoneError(file, 0, 0, 'an absolute origin name', `${JSON.stringify(origin)} (${e.message})`);
    throw e;
  }
}

/**
 * Parses master-file text. Records without a TTL take, in order: $TTL; else the previous record's TTL
 * (RFC 1035 §5.1); else the SOA minimum (RFC 2308 §4 practice: the SOA itself uses its own);
 * else `opts.defaultTtl`; else it is an error. Identical records are merged (the first is kept),
 * as an RRset is a set (RFC 2181 §5). After an error the parser goes on at the next line; at the
 * end it throws ZoneErrors listing every error (up to MAX_ERRORS). Records whose owner is outside
 * the origin are dropped with a warning, as BIND and Knot do.
 */
export function parseZone(text: string, opts: ParseZoneOptions): ParsedZone {
  const sink = new ListSink();
  const warnings = parseZoneInto(text, opts, sink);
  return { records: sink.records, sources: sink.sources, warnings };
}

/**
 * A master file's text handed out piece by piece, each ending at a line end (undefined after the
 * last): a large file is read without holding it whole as bytes and as a string (load.ts).
 */
export type ZoneTextPieces = () => string | undefined;

/**
 * parseZone's reading, with every record handed to `sink` as it is read (nothing is collected):
 * returns the warnings; throws ZoneErrors as parseZone does. Merging identical records is the
 * sink's job (ListSink here; the zone compiler's dedupe in load.ts).
 */
export function parseZoneInto(text: string | ZoneTextPieces, opts: ParseZoneOptions, sink: RecordSink): ZoneIssue[] {
  const file = opts.file ?? '<input>';
  const originLabels = originFromOption(opts.origin, file);
  if (!opts.origin.endsWith('.')) throw new ZoneError(file, 0, 0, 'an absolute origin name', JSON.stringify(opts.origin));
  const origin = nameFromLabels(originLabels);
  const st: State = {
    opts, sink, warnings: [], apex: origin, errors: [], stopped: false, warningsDropped: 0,
    dollarTtl: undefined, lastTtl: undefined, soaMinimum: undefined,
  };
  parseText(st, text, { file, originLabels, origin, owner: undefined, ownerText: undefined, ownerRel: undefined, ownerRelOrigin: origin, ownerInZone: true, depth: 0 });
  if (st.warningsDropped > 0) st.warnings.push({ file, line: 0, message: `and ${st.warningsDropped} more warnings` });
  if (st.errors.length > 0) throw new ZoneErrors(st.errors, st.stopped);
  return st.warnings;
}

/**
 * Collects records for parseZone. Identical records are merged (the first is kept), as an RRset is
 * a set (RFC 2181 §5); names inside the data compare case-insensitively (format.ts rdataKey).
 */
class ListSink implements RecordSink {
  readonly typed = true;
  readonly records: ResourceRecord[] = [];
  readonly sources: { file: string; line: number }[] = [];
  /** Record key (case-folded names) → index in records. */
  private readonly seen = new Map<string, number>();

  add(owner: string, type: number, ttl: number, wire: Uint8Array, data: Rdata | undefined, file: string, line: number): void {
    const rr: ResourceRecord = { name: owner, type, class: RRClass.IN, ttl, data: data ?? { raw: wire.slice() } };
    const key = nameKey(owner) + ' ' + type + ' ' + rdataKey(rr);
    const dup = this.seen.get(key);
    if (dup !== undefined) {
      // Duplicates differing only in the case of a name inside: BIND keeps the spelling whose wire
      // bytes sort first; so do we, so that `zone print` matches named-compilezone byte for byte.
      const kept = this.records[dup]!;
      if (kept.data !== rr.data && formatRdata(rr) !== formatRdata(kept) && compareBytes(rdataWire(rr), rdataWire(kept)) < 0) this.records[dup] = { ...rr, name: kept.name, ttl: kept.ttl };
      return;
    }
    this.seen.set(key, this.records.length);
    this.records.push(rr);
    this.sources.push({ file, line });
  }
}

/**
 * A TTL as written, made one a record may carry: 2^31 to 2^32-1 is read as 0 with a warning (RFC 2181 §8: a
 * TTL with the top bit set counts as zero). BIND loads such a file so (Knot keeps the value, NSD serves 3600);
 * above 2^32-1 parseTtlText has already refused it, as all three do.
 */
function ttlInRange(st: State, file: string, t: Token, v: number): number {
  if (v <= MAX_TTL) return v;
  warn(st, file, t.line, `TTL ${t.text} is above ${MAX_TTL}: read as 0 (RFC 2181 §8)`);
  return 0;
}

function warn(st: State, file: string, line: number, message: string): void {
  if (st.warnings.length < MAX_WARNINGS) st.warnings.push({ file, line, message });
  else st.warningsDropped++;
}

/** Records an error; false once MAX_ERRORS is reached (then parsing stops). */
function fail(st: State, e: ZoneError): boolean {
  if (st.stopped) return false;
  st.errors.push(e);
  if (st.errors.length >= MAX_ERRORS) st.stopped = true;
  return !st.stopped;
}

/** Reads a zone file from disk; $INCLUDE paths are relative to the including file's directory. */
export function loadZoneFile(path: string, origin: string): ParsedZone {
  return parseZone(zoneFileText(readFileSync(path)), { origin, file: path, readInclude: (p) => zoneFileText(readFileSync(p)) });
}

function parseText(st: State, text: string | ZoneTextPieces, fc: FileCtx): void {
  const lx = typeof text === 'string' ? new Lexer(text, fc.file) : new Lexer('', fc.file, text);
  while (!st.stopped) {
    let e: Entry | null;
    try {
      e = lx.next();
    } catch (err) {
      if (!(err instanceof ZoneError)) throw err;
      if (!fail(st, err)) return;
      lx.skipLine();
      continue;
    }
    if (!e) return;
    try {
      const t0 = e.tokens[0]!;
      if (!e.indented && !t0.quoted && t0.text.charCodeAt(0) === 0x24 /* $ */) directive(st, fc, e);
      else record(st, fc, e);
    } catch (err) {
      if (!(err instanceof ZoneError)) throw err;
      if (!fail(st, err)) return;
    }
  }
}

function directive(st: State, fc: FileCtx, e: Entry): void {
  const [d, a1, a2, extra] = e.tokens as [Token, Token | undefined, Token | undefined, Token | undefined];
  const name = d.text.toUpperCase();
  if (name === '$ORIGIN') {
    if (!a1) throw endErr(fc.file, e, 'a domain name after $ORIGIN');
    if (a2) throw tokErr(fc.file, a2, 'end of line after $ORIGIN <name>');
    // A relative $ORIGIN is taken relative to the current one, as BIND does.
    const origin = nameFromToken(fc.file, a1, fc.originLabels, 'a domain name after $ORIGIN');
    fc.origin = origin;
    fc.originLabels = parseLabels(origin);
    fc.originWire = undefined;
    // The same relative owner text now names something else.
    fc.ownerText = undefined;
  } else if (name === '$TTL') {
    if (!a1) throw endErr(fc.file, e, 'a TTL after $TTL');
    const v = a1.quoted ? null : parseTtlText(a1.text);
    if (v === null) throw tokErr(fc.file, a1, `a TTL after $TTL (seconds, at most ${MAX_TTL}, units w/d/h/m/s allowed)`);
    if (a2) throw tokErr(fc.file, a2, 'end of line after $TTL <ttl>');
    st.dollarTtl = ttlInRange(st, fc.file, a1, v);
  } else if (name === '$INCLUDE') {
    if (!a1) throw endErr(fc.file, e, 'a file name after $INCLUDE');
    if (extra) throw tokErr(fc.file, extra, 'end of line after $INCLUDE <file> [<origin>]');
    const read = st.opts.readInclude;
    if (!read) throw tokErr(fc.file, d, '$ORIGIN or $TTL ($INCLUDE needs a readInclude option)');
    const max = st.opts.maxIncludeDepth ?? 8;
    if (fc.depth >= max) throw tokErr(fc.file, d, `at most ${max} nested $INCLUDE levels`);
    const path = isAbsolute(a1.text) || st.opts.file === undefined ? a1.text : resolve(dirname(fc.file), a1.text);
    const childOrigin = a2 ? nameFromToken(fc.file, a2, fc.originLabels, 'an origin name after the $INCLUDE file') : fc.origin;
    let text: string;
    try {
      text = read(path);
    } catch (err) {
      throw tokErr(fc.file, a1, 'a readable file', `${describeToken(a1)} (${(err as Error).message})`);
    }
    // RFC 1035 §5.1: an included file never changes the origin of the including one; the owner
    // carried to the next indented line is also the including file's own.
    parseText(st, text, { file: path, originLabels: parseLabels(childOrigin), origin: childOrigin, owner: undefined, ownerText: undefined, ownerRel: undefined, ownerRelOrigin: childOrigin, ownerInZone: true, depth: fc.depth + 1 });
  } else if (name === '$GENERATE') {
    generate(st, fc, e);
  } else {
    throw tokErr(fc.file, d, 'a directive ($ORIGIN, $TTL, $INCLUDE or $GENERATE)');
  }
}

function isClassText(up: string): boolean {
  return up === 'IN' || up === 'CH' || up === 'HS' || up === 'NONE' || up === 'ANY' || /^CLASS\d+$/.test(up);
}

/**
 * `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs` (BIND): one record per value of the
 * range, with `$` and `${offset,width,base}` in lhs and rhs replaced (generate.ts). The rhs is one
 * token (quote it to hold blanks); its text is then read as the type's rdata.
 */
function generate(st: State, fc: FileCtx, e: Entry): void {
  const toks = e.tokens;
  const rangeTok = toks[1];
  if (!rangeTok) throw endErr(fc.file, e, 'a range start-stop[/step] after $GENERATE');
  const range = rangeTok.quoted ? 'a $GENERATE range start-stop[/step]' : parseGenerateRange(rangeTok.text);
  if (typeof range === 'string') throw tokErr(fc.file, rangeTok, range);
  const lhsTok = toks[2];
  if (!lhsTok) throw endErr(fc.file, e, 'an owner name template after the $GENERATE range');
  const lhs = parseTemplate(lhsTok.text);
  if (typeof lhs === 'string') throw tokErr(fc.file, lhsTok, lhs);
  let i = 3;
  let ttl: number | undefined;
  let haveClass = false;
  let type: number | undefined;
  let typeTok: Token | undefined;
  for (; i < toks.length && type === undefined; i++) {
    const t = toks[i]!;
    const up = t.text.toUpperCase();
    if (!t.quoted && ttl === undefined && isDigit(t.text.charCodeAt(0))) {
      const v = parseTtlText(t.text);
      if (v === null) throw tokErr(fc.file, t, `a TTL (seconds, at most ${MAX_TTL}, units w/d/h/m/s allowed)`);
      ttl = ttlInRange(st, fc.file, t, v);
    } else if (!t.quoted && !haveClass && isClassText(up)) {
      if (up !== 'IN' && up !== 'CLASS1') throw tokErr(fc.file, t, 'class IN (the only class served)');
      haveClass = true;
    } else {
      const code = t.quoted ? undefined : typeCodeCached(t.text);
      if (code === undefined) throw unsupportedType(fc.file, t, 'a $GENERATE type');
      if (isMetaType(code)) throw tokErr(fc.file, t, `a data type (${typeName(code)} is a meta type, not zone data)`);
      type = code;
      typeTok = t;
    }
  }
  if (type === undefined || typeTok === undefined) throw endErr(fc.file, e, 'a type and an rdata template in $GENERATE');
  const rhsTok = toks[i];
  if (!rhsTok) throw endErr(fc.file, e, `an rdata template after the $GENERATE type ${typeName(type)}`);
  if (toks[i + 1]) throw tokErr(fc.file, toks[i + 1]!, 'end of line after the $GENERATE rdata template (quote it if it has blanks)');
  const rhs = parseTemplate(rhsTok.text);
  if (typeof rhs === 'string') throw tokErr(fc.file, rhsTok, rhs);
  if (ttl !== undefined) st.lastTtl = ttl;
  for (let it = range.start; it <= range.stop; it += range.step) {
    const ownerText = expandTemplate(lhs, it);
    const rdataText = expandTemplate(rhs, it);
    if (ownerText === null || rdataText === null) throw tokErr(fc.file, ownerText === null ? lhsTok : rhsTok, `a $GENERATE value of at most ${MAX_TTL} (offset + ${it} overflows)`);
    const owner = nameFromToken(fc.file, { text: ownerText, quoted: false, line: lhsTok.line, col: lhsTok.col }, fc.originLabels, `an owner name (from the $GENERATE template, value ${it})`);
    if (!isSubdomain(owner, st.apex)) {
      warn(st, fc.file, e.line, `ignoring out-of-zone data ${owner} (outside ${st.apex}, from $GENERATE value ${it})`);
      continue;
    }
    // The rdata text is lexed on its own, its tokens placed at the template's column.
    let rtoks: Token[];
    try {
      rtoks = new Lexer(rdataText, fc.file).next()?.tokens.map((t) => ({ ...t, line: rhsTok.line, col: rhsTok.col + t.col - 1 })) ?? [];
    } catch (err) {
      if (!(err instanceof ZoneError)) throw err;
      throw new ZoneError(fc.file, rhsTok.line, rhsTok.col, err.expected, `${err.found} (in $GENERATE value ${it}: ${JSON.stringify(rdataText)})`);
    }
    const sub: Entry = { tokens: rtoks, indented: true, line: e.line, endLine: rhsTok.line, endCol: rhsTok.col + rhsTok.text.length, atEof: false };
    try {
      addRecord(st, fc, sub, 0, owner, undefined, true, ttl, type, typeTok);
    } catch (err) {
      if (!(err instanceof ZoneError)) throw err;
      throw new ZoneError(err.file, err.line, err.column, err.expected, `${err.found} (in $GENERATE value ${it}: ${JSON.stringify(rdataText)})`);
    }
    if (st.stopped) return;
  }
}

/** RFC 6895 §3.1: 0 and 128-255 (TKEY, TSIG, IXFR, AXFR, ANY …) are query or meta types, never zone data; so is OPT. */
function isMetaType(code: number): boolean {
  return code === 0 || META_TYPES.has(code) || (code >= 128 && code <= 255);
}

// typeCode walks the RRType table; a zone uses a handful of spellings millions of times.
// One lookup a token (null: known not to be a type). The first few spellings seen are also compared
// directly: a Map lookup hashes the token's new string each time (~25 ms more a million records).
const typeCodes = new Map<string, number | null>();
const RECENT_TYPES = 8;
const recentTypeText: string[] = [];
const recentTypeCode: number[] = [];
function typeCodeCached(s: string): number | undefined {
  for (let i = 0; i < recentTypeText.length; i++) if (recentTypeText[i] === s) return recentTypeCode[i];
  const v = typeCodes.get(s);
  if (typeof v === 'number' && recentTypeText.length < RECENT_TYPES) {
    recentTypeText.push(s);
    recentTypeCode.push(v);
  }
  if (v !== undefined) return v ?? undefined;
  const code = typeCode(s);
  if (typeCodes.size < 1024) typeCodes.set(s, code ?? null);
  return code;
}

function isDigit(ch: number): boolean {
  return ch >= 0x30 && ch <= 0x39;
}

function record(st: State, fc: FileCtx, e: Entry): void {
  const toks = e.tokens;
  let i = 0;
  let owner: string;
  if (e.indented) {
    if (fc.owner === undefined) throw new ZoneError(fc.file, e.line, 1, 'an owner name (no earlier record to take it from)', 'blank space');
    owner = fc.owner;
  } else {
    const t = toks[i++]!;
    if (t.text === fc.ownerText && fc.owner !== undefined && !t.quoted) owner = fc.owner;
    else {
      // Forget the previous owner first: after an error here, indented lines have none to take.
      fc.ownerText = undefined;
      fc.owner = undefined;
      fc.ownerRel = undefined;
      const plain = t.quoted ? undefined : plainName(st, fc, t.text);
      if (plain !== undefined) {
        owner = plain;
        // plainName gives the text itself for an absolute name, and the text under the origin otherwise.
        if (plain !== t.text && fc.origin !== '.') {
          fc.ownerRel = t.text;
          fc.ownerRelOrigin = fc.origin;
        }
      } else {
        owner = nameFromToken(fc.file, t, fc.originLabels, 'an owner name');
        fc.ownerInZone = isSubdomain(owner, st.apex);
      }
      fc.ownerText = t.text;
    }
    fc.owner = owner;
  }
  let ttl: number | undefined;
  let haveClass = false;
  let type: number | undefined;
  let typeTok: Token | undefined;
  while (i < toks.length) {
    const t = toks[i++]!;
    const s = t.text;
    const what = ttl === undefined ? (haveClass ? 'a TTL or a type' : 'a TTL, a class or a type') : haveClass ? 'a type' : 'a class or a type';
    if (t.quoted) throw tokErr(fc.file, t, what);
    if (isDigit(s.charCodeAt(0))) {
      if (ttl !== undefined) throw tokErr(fc.file, t, what);
      const v = parseTtlText(s);
      if (v === null) throw tokErr(fc.file, t, `a TTL (seconds, at most ${MAX_TTL}, units w/d/h/m/s allowed)`);
      ttl = v > MAX_TTL ? ttlInRange(st, fc.file, t, v) : v;
      continue;
    }
    // The class as most zones spell it, then the type's cached code (no class is spelt like a type
    // mnemonic): a zone writes IN and a few types a million times, and upper-casing and matching
    // every token cost more than the lookup (upper-casing IN alone was ~1.5 % of a 1M-record load).
    if (s === 'IN') {
      if (haveClass) throw tokErr(fc.file, t, what);
      haveClass = true;
      continue;
    }
    const code = typeCodeCached(s);
    if (code === undefined) {
      const up = s.toUpperCase();
      if (up === 'IN' || up === 'CLASS1') {
        if (haveClass) throw tokErr(fc.file, t, what);
        haveClass = true;
        continue;
      }
      if (up === 'CH' || up === 'HS' || up === 'NONE' || /^CLASS\d+$/.test(up)) {
        if (haveClass) throw tokErr(fc.file, t, what);
        throw tokErr(fc.file, t, 'class IN (the only class served)');
      }
      throw unsupportedType(fc.file, t, what);
    }
    if (isMetaType(code)) throw tokErr(fc.file, t, `a data type (${typeName(code)} is a meta type, not zone data)`);
    type = code;
    typeTok = t;
    break;
  }
  if (type === undefined || typeTok === undefined) {
    const what = ttl === undefined ? (haveClass ? 'a TTL or a type' : 'a TTL, a class or a type') : haveClass ? 'a type' : 'a class or a type';
    throw endErr(fc.file, e, what);
  }
  addRecord(st, fc, e, i, owner, fc.ownerRel, fc.ownerInZone, ttl, type, typeTok);
}

/**
 * Reads the rdata at `toks[i]`, settles the TTL and adds the record (unless a duplicate or out of zone).
 * `rel`: the owner as written relative to fc.ownerRelOrigin (RecordSink.addUnder), if it was.
 */
function addRecord(st: State, fc: FileCtx, e: Entry, i: number, owner: string, rel: string | undefined, inZone: boolean, ttlGiven: number | undefined, type: number, typeTok: Token): void {
  let ttl = ttlGiven;
  let cur = fc.cursor;
  if (!cur) cur = fc.cursor = { tokens: e.tokens, pos: i, entry: e, file: fc.file, originLabels: fc.originLabels, warn: (t, message) => warn(st, fc.file, t.line, message) };
  cur.tokens = e.tokens;
  cur.pos = i;
  cur.entry = e;
  cur.originLabels = fc.originLabels;
  const first = i;
  const wire = parseRdataWire(type, cur);
  // The typed form is decoded for a sink that keeps it; otherwise only where the bytes may not
  // decode (the \# form, CAA, an empty TXT), so both sinks refuse the same records.
  let data: Rdata | undefined;
  if (TYPED_RDATA.has(type)) {
    if (st.sink.typed) data = checkTypedRdata(type, wire, cur, first);
    else if (wire.generic || type === RRType.CAA || (type === RRType.TXT && wire.bytes.length === 0)) checkTypedRdata(type, wire, cur, first);
  }
  const bytes = wire.bytes;
  if (ttl === undefined) {
    ttl = st.dollarTtl ?? st.lastTtl ?? (type === RRType.SOA ? soaMinimum(bytes) : st.soaMinimum) ?? st.opts.defaultTtl;
    if (ttl === undefined) throw tokErr(fc.file, typeTok, 'a TTL before the type (no $TTL, earlier TTL or SOA minimum to default to)');
    if (ttl > MAX_TTL) ttl = MAX_TTL;
  }
  st.lastTtl = ttl;
  // BIND and Knot ignore data outside the zone with a warning; the rdata was still read, so its errors count.
  if (!inZone) {
    warn(st, fc.file, e.line, `ignoring out-of-zone data ${owner} ${typeName(type)} (outside ${st.apex})`);
    return;
  }
  if (type === RRType.SOA && st.soaMinimum === undefined) st.soaMinimum = Math.min(soaMinimum(bytes), MAX_TTL);
  if (rel !== undefined && st.sink.addUnder) st.sink.addUnder(rel, fc.ownerRelOrigin, owner, type, ttl, bytes, data, fc.file, e.line);
  else st.sink.add(owner, type, ttl, bytes, data, fc.file, e.line);
}

/** The MINIMUM field of SOA wire RDATA: its last 32 bits (RFC 1035 §3.3.13). */
function soaMinimum(b: Uint8Array): number {
  const n = b.length;
  return ((b[n - 4]! << 24) | (b[n - 3]! << 16) | (b[n - 2]! << 8) | b[n - 1]!) >>> 0;
}
