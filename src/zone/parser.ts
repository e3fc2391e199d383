// Reads an RFC 1035 §5 master file (with RFC 2308 $TTL and RFC 3597 generic rdata) into records.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { META_TYPES, RRClass, RRType, typeCode, typeName, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { NameError, nameFromLabels, nameKey, parseLabels } from '../wire/name.js';
import { Lexer, ZoneError, describeToken, type Entry, type Token } from './lexer.js';
import { nameFromToken, parseRdata, parseTtlText, type RdataCursor } from './rdata-text.js';
import { rdataKey } from './format.js';

export { ZoneError } from './lexer.js';

export interface ParsedZone {
  records: ResourceRecord[];
  /** Parallel to `records`: where each record was written. */
  sources: { file: string; line: number }[];
}

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

/** RFC 2181 §8: a TTL is an unsigned 31-bit value. */
export const MAX_TTL = 0x7fffffff;

interface State {
  opts: ParseZoneOptions;
  out: ParsedZone;
  seen: Set<string>;
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
  depth: number;
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
 * as an RRset is a set (RFC 2181 §5). Throws ZoneError.
 */
export function parseZone(text: string, opts: ParseZoneOptions): ParsedZone {
  const file = opts.file ?? '<input>';
  const originLabels = originFromOption(opts.origin, file);
  if (!opts.origin.endsWith('.')) throw new ZoneError(file, 0, 0, 'an absolute origin name', JSON.stringify(opts.origin));
  const st: State = { opts, out: { records: [], sources: [] }, seen: new Set(), dollarTtl: undefined, lastTtl: undefined, soaMinimum: undefined };
  parseText(st, text, { file, originLabels, origin: nameFromLabels(originLabels), owner: undefined, ownerText: undefined, depth: 0 });
  return st.out;
}

/** Reads a zone file from disk; $INCLUDE paths are relative to the including file's directory. */
export function loadZoneFile(path: string, origin: string): ParsedZone {
  return parseZone(readFileSync(path, 'utf8'), { origin, file: path, readInclude: (p) => readFileSync(p, 'utf8') });
}

function parseText(st: State, text: string, fc: FileCtx): void {
  const lx = new Lexer(text, fc.file);
  for (let e = lx.next(); e; e = lx.next()) {
    const t0 = e.tokens[0]!;
    if (!e.indented && !t0.quoted && t0.text.charCodeAt(0) === 0x24 /* $ */) directive(st, fc, e);
    else record(st, fc, e);
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
    // The same relative owner text now names something else.
    fc.ownerText = undefined;
  } else if (name === '$TTL') {
    if (!a1) throw endErr(fc.file, e, 'a TTL after $TTL');
    const v = a1.quoted ? null : parseTtlText(a1.text);
    if (v === null || v > MAX_TTL) throw tokErr(fc.file, a1, `a TTL after $TTL (seconds, at most ${MAX_TTL}, units w/d/h/m/s allowed)`);
    if (a2) throw tokErr(fc.file, a2, 'end of line after $TTL <ttl>');
    st.dollarTtl = v;
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
    parseText(st, text, { file: path, originLabels: parseLabels(childOrigin), origin: childOrigin, owner: undefined, ownerText: undefined, depth: fc.depth + 1 });
  } else {
    throw tokErr(fc.file, d, 'a directive ($ORIGIN, $TTL or $INCLUDE)');
  }
}

// typeCode walks the RRType table; a zone uses a handful of spellings millions of times.
const typeCodes = new Map<string, number | undefined>();
function typeCodeCached(s: string): number | undefined {
  if (typeCodes.has(s)) return typeCodes.get(s);
  const code = typeCode(s);
  if (typeCodes.size < 1024) typeCodes.set(s, code);
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
      owner = nameFromToken(fc.file, t, fc.originLabels, 'an owner name');
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
      if (v === null || v > MAX_TTL) throw tokErr(fc.file, t, `a TTL (seconds, at most ${MAX_TTL}, units w/d/h/m/s allowed)`);
      ttl = v;
      continue;
    }
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
    const code = typeCodeCached(s);
    if (code === undefined) throw tokErr(fc.file, t, what);
    if (META_TYPES.has(code) || code === 0) throw tokErr(fc.file, t, `a data type (${typeName(code)} is a meta type, not zone data)`);
    type = code;
    typeTok = t;
    break;
  }
  if (type === undefined || typeTok === undefined) {
    const what = ttl === undefined ? (haveClass ? 'a TTL or a type' : 'a TTL, a class or a type') : haveClass ? 'a type' : 'a class or a type';
    throw endErr(fc.file, e, what);
  }
  const cur: RdataCursor = { tokens: toks, pos: i, entry: e, file: fc.file, originLabels: fc.originLabels };
  const data = parseRdata(type, cur);
  if (ttl === undefined) {
    ttl = st.dollarTtl ?? st.lastTtl ?? (type === RRType.SOA ? (data as SOARdata).minimum : st.soaMinimum) ?? st.opts.defaultTtl;
    if (ttl === undefined) throw tokErr(fc.file, typeTok, 'a TTL before the type (no $TTL, earlier TTL or SOA minimum to default to)');
    if (ttl > MAX_TTL) ttl = MAX_TTL;
  }
  st.lastTtl = ttl;
  if (type === RRType.SOA && st.soaMinimum === undefined) st.soaMinimum = Math.min((data as SOARdata).minimum, MAX_TTL);
  const rr: ResourceRecord = { name: owner, type, class: RRClass.IN, ttl, data };
  const key = nameKey(owner) + ' ' + type + ' ' + rdataKey(rr);
  if (st.seen.has(key)) return;
  st.seen.add(key);
  st.out.records.push(rr);
  st.out.sources.push({ file: fc.file, line: e.line });
}
