// Turns the presentation form of record data (RFC 1035 §5.1, RFC 3597 §5) into the shared rdata model.

import { Reader } from '../wire/reader.js';
import { rdataCodecs } from '../wire/rdata/index.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../wire/rdata/ip.js';
import { RRType, WireError, typeName, type Rdata, type SOARdata, type TXTRdata, type CAARdata } from '../wire/types.js';
import { NameError, nameFromLabels, parseLabels } from '../wire/name.js';
import { ZoneError, describeToken, type Entry, type Token } from './lexer.js';

/** The rdata tokens of one entry and what a relative name in them is relative to. */
export interface RdataCursor {
  tokens: Token[];
  pos: number;
  entry: Entry;
  file: string;
  originLabels: Uint8Array[];
}

export const MAX_U32 = 0xffffffff;

function err(c: RdataCursor, t: Token | undefined, expected: string, found?: string): ZoneError {
  if (!t) return new ZoneError(c.file, c.entry.endLine, c.entry.endCol, expected, c.entry.atEof ? 'end of file' : 'end of line');
  return new ZoneError(c.file, t.line, t.col, expected, found ?? describeToken(t));
}

function take(c: RdataCursor, expected: string): Token {
  const t = c.tokens[c.pos];
  if (!t) throw err(c, undefined, expected);
  c.pos++;
  return t;
}

function expectEnd(c: RdataCursor): void {
  const t = c.tokens[c.pos];
  if (t) throw err(c, t, 'end of line');
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 0x30 || ch > 0x39) return false;
  }
  return true;
}

function takeUint(c: RdataCursor, max: number, what: string): number {
  const t = take(c, what);
  if (t.quoted || !isDigits(t.text)) throw err(c, t, what);
  const v = Number(t.text);
  if (v > max) throw err(c, t, `${what} of at most ${max}`);
  return v;
}

/**
 * Seconds from a TTL written as digits or with BIND's units (1w2d3h4m5s, any case): every number
 * must then carry a unit. Null when the text is not a TTL or exceeds 2^32-1.
 */
export function parseTtlText(s: string): number | null {
  if (isDigits(s)) {
    const v = Number(s);
    return v <= MAX_U32 ? v : null;
  }
  let total = 0;
  let num = -1;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0x30 && ch <= 0x39) {
      num = (num < 0 ? 0 : num * 10) + (ch - 0x30);
      if (num > MAX_U32) return null;
      continue;
    }
    if (num < 0) return null;
    let mult: number;
    switch (ch | 0x20) {
      case 0x77: mult = 604800; break; // w
      case 0x64: mult = 86400; break; // d
      case 0x68: mult = 3600; break; // h
      case 0x6d: mult = 60; break; // m
      case 0x73: mult = 1; break; // s
      default: return null;
    }
    total += num * mult;
    num = -1;
  }
  if (num >= 0 || total > MAX_U32) return null;
  return total;
}

function takeTimer(c: RdataCursor, what: string): number {
  const t = take(c, what);
  const v = t.quoted ? null : parseTtlText(t.text);
  if (v === null) throw err(c, t, `${what} (seconds, at most ${MAX_U32}, units w/d/h/m/s allowed)`);
  return v;
}

function takeName(c: RdataCursor, what: string): string {
  const t = take(c, what);
  return nameFromToken(c.file, t, c.originLabels, what);
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

/**
 * The bytes of one <character-string> (RFC 1035 §5.1): \DDD is a byte, \X is X, other characters
 * are their UTF-8 bytes. Null on a malformed escape.
 */
export function decodeCharString(s: string): Uint8Array | null {
  let simple = true;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x5c || ch > 0x7e) { simple = false; break; }
  }
  if (simple) {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x5c) {
      if (i + 1 >= s.length) return null;
      const d1 = s.charCodeAt(i + 1);
      if (d1 >= 0x30 && d1 <= 0x39) {
        const ddd = s.slice(i + 1, i + 4);
        if (!isDigits(ddd) || ddd.length !== 3) return null;
        const v = Number(ddd);
        if (v > 255) return null;
        bytes.push(v);
        i += 3;
        continue;
      }
      i++;
      const cp = s.codePointAt(i)!;
      if (cp < 0x80) bytes.push(cp);
      else {
        const ch2 = String.fromCodePoint(cp);
        for (const b of enc.encode(ch2)) bytes.push(b);
        i += ch2.length - 1;
      }
      continue;
    }
    if (ch < 0x80) bytes.push(ch);
    else {
      const cp = s.codePointAt(i)!;
      const ch2 = String.fromCodePoint(cp);
      for (const b of enc.encode(ch2)) bytes.push(b);
      i += ch2.length - 1;
    }
  }
  return Uint8Array.from(bytes);
}

function takeCharString(c: RdataCursor, what: string, max = 255): Uint8Array {
  const t = take(c, what);
  const b = decodeCharString(t.text);
  if (b === null) throw err(c, t, `${what} with valid escapes (\\DDD at most 255, or \\X)`);
  if (b.length > max) throw err(c, t, `${what} of at most ${max} bytes`, `${describeToken(t)} (${b.length} bytes)`);
  return b;
}

/** Canonical RFC 5952 text for an IPv6 address given as text, or null when it is not one. */
export function canonicalIPv6(s: string): string | null {
  const b = parseIPv6(s);
  return b ? formatIPv6(b) : null;
}

export { formatIPv6, parseIPv4, parseIPv6 };

const TARGET_TYPES: ReadonlySet<number> = new Set([RRType.NS, RRType.CNAME, RRType.DNAME, RRType.PTR]);

/** Types whose presentation form this module reads; HINFO is read but stored opaque (wire form). */
export const TEXT_FORM_TYPES: ReadonlySet<number> = new Set([
  RRType.A, RRType.AAAA, RRType.NS, RRType.CNAME, RRType.DNAME, RRType.SOA, RRType.PTR,
  RRType.MX, RRType.TXT, RRType.SRV, RRType.CAA, RRType.HINFO,
]);

/** Types held in a typed rdata interface rather than OpaqueRdata (types.ts RdataByType). */
export const TYPED_RDATA: ReadonlySet<number> = new Set([
  RRType.A, RRType.AAAA, RRType.NS, RRType.CNAME, RRType.DNAME, RRType.SOA, RRType.PTR,
  RRType.MX, RRType.TXT, RRType.SRV, RRType.CAA,
]);

function hexValue(ch: number): number {
  if (ch >= 0x30 && ch <= 0x39) return ch - 0x30;
  const l = ch | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** RFC 3597 §5: `\# <length> <hex...>`; the hex may be split into several words. */
function parseGeneric(c: RdataCursor, type: number): Rdata {
  const lenTok = c.tokens[c.pos];
  const len = takeUint(c, 65535, 'the rdata length after \\# (0 to 65535)');
  const raw = new Uint8Array(len);
  let o = 0;
  let nibble = -1;
  while (c.pos < c.tokens.length) {
    const t = c.tokens[c.pos++]!;
    if (t.quoted) throw err(c, t, 'hexadecimal rdata');
    const s = t.text;
    if (s.length % 2 !== 0) throw err(c, t, 'hexadecimal rdata in whole bytes (an even number of digits per word)');
    for (let i = 0; i < s.length; i++) {
      const v = hexValue(s.charCodeAt(i));
      if (v < 0) throw err(c, t, 'hexadecimal rdata');
      if (nibble < 0) nibble = v;
      else {
        if (o >= len) throw err(c, t, `exactly ${len} bytes of rdata as the \\# length says`, `${describeToken(t)} (more bytes)`);
        raw[o++] = (nibble << 4) | v;
        nibble = -1;
      }
    }
  }
  if (o !== len) {
    throw err(c, undefined, `${len} bytes of rdata as the \\# length${lenTok ? ` at column ${lenTok.col}` : ''} says (got ${o})`);
  }
  if (!TYPED_RDATA.has(type)) return { raw };
  try {
    return rdataFromWire(type, raw);
  } catch (e) {
    if (e instanceof RangeError) throw err(c, lenTok, `well-formed ${typeName(type)} rdata in the \\# form`, `${describeToken(lenTok!)} (${e.message})`);
    throw e;
  }
}

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

function isCaaTag(s: string): boolean {
  if (s.length === 0 || s.length > 255) return false;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i) | 0x20;
    const digit = s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39;
    if (!digit && !(ch >= 0x61 && ch <= 0x7a)) return false;
  }
  return true;
}

/** Parses the rdata tokens at `c.pos` for `type`, consuming all of them. */
export function parseRdata(type: number, c: RdataCursor): Rdata {
  const first = c.tokens[c.pos];
  if (first && !first.quoted && first.text === '\\#') {
    c.pos++;
    return parseGeneric(c, type);
  }
  let data: Rdata;
  if (TARGET_TYPES.has(type)) {
    data = { target: takeName(c, `a ${typeName(type)} target name`) };
  } else {
    switch (type) {
      case RRType.A: {
        const t = take(c, 'an IPv4 address');
        const q = t.quoted ? undefined : parseIPv4(t.text);
        if (!q) throw err(c, t, 'an IPv4 address (dotted quad, no leading zeros)');
        data = { address: formatIPv4(q) };
        break;
      }
      case RRType.AAAA: {
        const t = take(c, 'an IPv6 address');
        const a = t.quoted ? null : canonicalIPv6(t.text);
        if (!a) throw err(c, t, 'an IPv6 address');
        data = { address: a };
        break;
      }
      case RRType.SOA: {
        const mname = takeName(c, 'the SOA primary server name (MNAME)');
        const rname = takeName(c, 'the SOA mailbox name (RNAME)');
        const serial = takeUint(c, MAX_U32, 'the SOA serial');
        const refresh = takeTimer(c, 'the SOA refresh');
        const retry = takeTimer(c, 'the SOA retry');
        const expire = takeTimer(c, 'the SOA expire');
        const minimum = takeTimer(c, 'the SOA minimum');
        data = { mname, rname, serial, refresh, retry, expire, minimum } satisfies SOARdata;
        break;
      }
      case RRType.MX: {
        const preference = takeUint(c, 65535, 'an MX preference');
        data = { preference, exchange: takeName(c, 'an MX exchange name') };
        break;
      }
      case RRType.SRV: {
        const priority = takeUint(c, 65535, 'an SRV priority');
        const weight = takeUint(c, 65535, 'an SRV weight');
        const port = takeUint(c, 65535, 'an SRV port');
        data = { priority, weight, port, target: takeName(c, 'an SRV target name') };
        break;
      }
      case RRType.TXT: {
        const strings: Uint8Array[] = [];
        let total = 0;
        do {
          const s = takeCharString(c, 'a character-string');
          total += s.length + 1;
          strings.push(s);
        } while (c.pos < c.tokens.length);
        if (total > 65535) throw err(c, c.tokens[c.pos - 1], 'TXT rdata of at most 65535 bytes');
        data = { strings } satisfies TXTRdata;
        break;
      }
      case RRType.CAA: {
        const flags = takeUint(c, 255, 'CAA flags (0 to 255)');
        const tt = take(c, 'a CAA tag');
        if (tt.quoted || !isCaaTag(tt.text)) throw err(c, tt, 'a CAA tag (letters and digits)');
        const value = takeCharString(c, 'a CAA value', 65535 - 2 - tt.text.length);
        data = { flags, tag: tt.text, value } satisfies CAARdata;
        break;
      }
      case RRType.HINFO: {
        // RFC 1035 §3.3.2: CPU and OS character-strings; kept as opaque wire bytes.
        const cpu = takeCharString(c, 'the HINFO CPU string');
        const os = takeCharString(c, 'the HINFO OS string');
        const raw = new Uint8Array(2 + cpu.length + os.length);
        raw[0] = cpu.length;
        raw.set(cpu, 1);
        raw[1 + cpu.length] = os.length;
        raw.set(os, 2 + cpu.length);
        data = { raw };
        break;
      }
      default: {
        const t = c.tokens[c.pos];
        throw err(c, t, `the RFC 3597 form "\\# <length> <hex>" for ${typeName(type)} (its text form is not supported)`);
      }
    }
  }
  expectEnd(c);
  return data;
}
