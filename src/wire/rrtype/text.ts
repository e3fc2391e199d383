// Shared pieces of the per-type codecs: the token cursor, the byte builder, the error and warning
// shapes, and the encodings presentation forms use (character-strings, hex, base64, base32hex).

import { NameError, labelToText, parseLabels } from '../name.js';
import { WireError } from '../types.js';

/** One word of rdata as the master-file lexer produced it: escapes kept, quotes removed. */
export interface TextToken {
  readonly text: string;
  readonly quoted: boolean;
  /** 1-based column, when known (for messages that point at another token). */
  readonly col?: number;
}

/** Something in the text the parser accepts but repairs (e.g. a split long string), by token index. */
export interface RdataWarning {
  token: number;
  message: string;
}

/** The rdata tokens of one record and what relative names in them are relative to. */
export interface TextIn {
  readonly tokens: readonly TextToken[];
  pos: number;
  /** Labels of the current $ORIGIN (relative names get them appended, "@" is the origin). */
  readonly origin: readonly Uint8Array[];
  /** Where repairs are reported; without it they happen silently. */
  readonly warnings?: RdataWarning[];
}

/**
 * A text problem at token `token` (an index into TextIn.tokens), or at the end of the rdata when
 * `token` is -1. `found` replaces the default description of the token (e.g. to add a reason).
 */
export class RdataTextError extends Error {
  constructor(readonly token: number, readonly expected: string, readonly found?: string) {
    super(`expected ${expected}${found !== undefined ? `, found ${found}` : ''}`);
    this.name = 'RdataTextError';
  }
}

/** Growable byte buffer for one rdata (at most 65535 bytes, checked by the caller). */
export class Out {
  buf = new Uint8Array(64);
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.room(4);
    this.buf[this.pos++] = v >>> 24;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  /** Makes room for `n` bytes, advances past them and returns where they start. */
  reserve(n: number): number {
    this.room(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** An uncompressed wire name from its labels (case kept). */
  labels(labels: readonly Uint8Array[]): void {
    for (const l of labels) {
      this.u8(l.length);
      this.bytes(l);
    }
    this.u8(0);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** A read position inside one rdata: [pos, end) of `b`. Names may point anywhere before pos in `b`. */
export interface Span {
  readonly b: Uint8Array;
  pos: number;
  readonly end: number;
}

export function need(s: Span, n: number, what: string): void {
  if (s.pos + n > s.end) throw new WireError(`${what} overruns the rdata`, s.pos);
}

export function rdU8(s: Span, what: string): number {
  need(s, 1, what);
  return s.b[s.pos++]!;
}

export function rdU16(s: Span, what: string): number {
  need(s, 2, what);
  const v = (s.b[s.pos]! << 8) | s.b[s.pos + 1]!;
  s.pos += 2;
  return v;
}

export function rdU32(s: Span, what: string): number {
  need(s, 4, what);
  const b = s.b;
  const p = s.pos;
  s.pos += 4;
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

export function rdBytes(s: Span, n: number, what: string): Uint8Array {
  need(s, n, what);
  const v = s.b.subarray(s.pos, s.pos + n);
  s.pos += n;
  return v;
}

// ---- tokens ----

export function describe(t: TextToken): string {
  return t.quoted ? `quoted string ${JSON.stringify(t.text)}` : JSON.stringify(t.text);
}

export function peek(t: TextIn): TextToken | undefined {
  return t.tokens[t.pos];
}

export function take(t: TextIn, expected: string): TextToken {
  const tok = t.tokens[t.pos];
  if (!tok) throw new RdataTextError(-1, expected);
  t.pos++;
  return tok;
}

/** Fails at the token just taken. */
export function bad(t: TextIn, expected: string, found?: string): RdataTextError {
  return new RdataTextError(t.pos - 1, expected, found);
}

export function atEnd(t: TextIn): boolean {
  return t.pos >= t.tokens.length;
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 0x30 || ch > 0x39) return false;
  }
  return true;
}

export function takeUint(t: TextIn, max: number, what: string): number {
  const tok = take(t, what);
  if (tok.quoted || !isDigits(tok.text)) throw bad(t, what);
  const v = Number(tok.text);
  if (v > max) throw bad(t, `${what} of at most ${max}`);
  return v;
}

/** A number or one of the mnemonics in `names` (upper case keys), e.g. DNSSEC algorithm names. */
export function takeUintOrMnemonic(t: TextIn, max: number, what: string, names: ReadonlyMap<string, number>): number {
  const tok = take(t, what);
  if (!tok.quoted) {
    if (isDigits(tok.text)) {
      const v = Number(tok.text);
      if (v > max) throw bad(t, `${what} of at most ${max}`);
      return v;
    }
    const v = names.get(tok.text.toUpperCase());
    if (v !== undefined) return v;
  }
  throw bad(t, what);
}

export function takeName(t: TextIn, what: string): Uint8Array[] {
  const tok = take(t, what);
  return nameLabels(t, tok, what);
}

/**
 * Writes the name token uncompressed into `o`, straight from the text for the common names (plain
 * letters, digits, hyphens and underscores, or "@"); anything else goes through parseLabels, which
 * also words the errors.
 */
export function writeNameToken(t: TextIn, o: Out, what: string): void {
  const tok = take(t, what);
  const s = tok.text;
  const n = s.length;
  if (tok.quoted || n === 0 || n > 254) return o.labels(nameLabels(t, tok, what));
  if (s === '@') return o.labels(t.origin);
  const start = o.reserve(n + 1);
  const b = o.buf;
  let lenAt = start;
  let p = start + 1;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      const len = p - lenAt - 1;
      if (len === 0 || len > 63) break;
      b[lenAt] = len;
      lenAt = p++;
    } else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2a || c === 0x2f) {
      b[p++] = c;
    } else {
      break;
    }
  }
  const last = p - lenAt - 1;
  if (i < n || last > 63) {
    o.pos = start;
    return o.labels(nameLabels(t, tok, what));
  }
  if (s.charCodeAt(n - 1) === 0x2e) {
    // Absolute: the last dot left an empty label slot, which is the root.
    b[lenAt] = 0;
    o.pos = p;
    return;
  }
  b[lenAt] = last;
  o.pos = p;
  let wire = p - start;
  for (const l of t.origin) wire += l.length + 1;
  if (wire + 1 > 255) {
    o.pos = start;
    return o.labels(nameLabels(t, tok, what));
  }
  for (const l of t.origin) {
    o.u8(l.length);
    o.bytes(l);
  }
  o.u8(0);
}

export function nameLabels(t: TextIn, tok: TextToken, what: string): Uint8Array[] {
  if (tok.quoted) throw bad(t, what);
  if (tok.text === '@') return t.origin.slice();
  try {
    return parseLabels(tok.text, t.origin);
  } catch (e) {
    if (e instanceof NameError) throw bad(t, what, `${describe(tok)} (${e.message})`);
    throw e;
  }
}

/** Text of an uncompressed or compressed name at s.pos (case kept); advances past it. */
export function rdNameText(s: Span): string {
  return nameText(rdNameLabels(s));
}

export function nameText(labels: readonly Uint8Array[]): string {
  if (labels.length === 0) return '.';
  let out = '';
  for (const l of labels) out += labelToText(l) + '.';
  return out;
}

/**
 * Labels of the name at s.pos, following compression pointers backwards inside s.b (RFC 1035
 * §4.1.4); the span advances past the name as written. Throws WireError on anything malformed.
 */
export function rdNameLabels(s: Span): Uint8Array[] {
  const b = s.b;
  const labels: Uint8Array[] = [];
  let p = s.pos;
  let segStart = p;
  let next = -1;
  let wire = 1;
  let hops = 0;
  // Before the first pointer the name must stay inside the rdata; after it, anywhere before.
  let limit = s.end;
  for (;;) {
    if (p >= limit) throw new WireError('truncated name', p);
    const len = b[p]!;
    if (len === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= limit) throw new WireError('truncated name', p);
      const target = ((len & 0x3f) << 8) | b[p + 1]!;
      if (target >= segStart || ++hops > 127) throw new WireError('compression pointer does not point backwards', p);
      if (next < 0) next = p + 2;
      p = segStart = target;
      limit = b.length;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new WireError('reserved label type', p);
    wire += len + 1;
    if (wire > 255) throw new WireError('name longer than 255 bytes', p);
    if (p + 1 + len > limit) throw new WireError('truncated name', p);
    labels.push(b.subarray(p + 1, p + 1 + len));
    p += 1 + len;
  }
  s.pos = next;
  return labels;
}

// ---- character-strings (RFC 1035 §5.1) ----

const enc = new TextEncoder();

/**
 * The bytes of one <character-string>: \DDD is a byte, \X is X, U+DC80..U+DCFF the byte 0x80..0xFF
 * (a zone file's byte that was not UTF-8), other characters are their UTF-8 bytes. Null on a malformed escape.
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
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x5c) {
      if (i + 1 >= s.length) return null;
      const d1 = s.charCodeAt(i + 1);
      if (d1 >= 0x30 && d1 <= 0x39) {
        const ddd = s.slice(i + 1, i + 4);
        if (ddd.length !== 3 || !isDigits(ddd)) return null;
        const v = Number(ddd);
        if (v > 255) return null;
        bytes.push(v);
        i += 3;
        continue;
      }
      i++;
    }
    // A byte of a zone file that was not UTF-8, kept as a lone surrogate (zone/file-text.ts): the byte itself.
    if (ch >= 0xdc80 && ch <= 0xdcff) {
      bytes.push(ch - 0xdc00);
      continue;
    }
    const cp = s.codePointAt(i)!;
    if (cp < 0x80) bytes.push(cp);
    else {
      const ch2 = String.fromCodePoint(cp);
      for (const x of enc.encode(ch2)) bytes.push(x);
      i += ch2.length - 1;
    }
  }
  return Uint8Array.from(bytes);
}

/** A <character-string> in quotes: printable ASCII as is, `"` and `\` escaped, other bytes \DDD. */
export function quoteCharString(b: Uint8Array): string {
  return '"' + escapeBytes(b) + '"';
}

export function escapeBytes(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const x = b[i]!;
    if (x === 0x22 || x === 0x5c) s += '\\' + String.fromCharCode(x);
    else if (x < 0x20 || x > 0x7e) s += '\\' + String(x).padStart(3, '0');
    else s += String.fromCharCode(x);
  }
  return s;
}

/** One token as the bytes of a character-string (no length limit: the caller decides). */
export function takeStringBytes(t: TextIn, what: string): Uint8Array {
  const tok = take(t, what);
  const b = decodeCharString(tok.text);
  if (b === null) throw bad(t, `${what} with valid escapes (\\DDD at most 255, or \\X)`);
  return b;
}

export function takeCharString(t: TextIn, what: string, max = 255): Uint8Array {
  const b = takeStringBytes(t, what);
  if (b.length > max) throw bad(t, `${what} of at most ${max} bytes`, `${describe(t.tokens[t.pos - 1]!)} (${b.length} bytes)`);
  return b;
}

// ---- hex, base64, base32hex ----

function hexValue(ch: number): number {
  if (ch >= 0x30 && ch <= 0x39) return ch - 0x30;
  const l = ch | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Hex digits to bytes, or null when not an even number of hex digits. */
export function fromHex(s: string): Uint8Array | null {
  if (s.length % 2 !== 0) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const h = hexValue(s.charCodeAt(2 * i));
    const l = hexValue(s.charCodeAt(2 * i + 1));
    if (h < 0 || l < 0) return null;
    out[i] = (h << 4) | l;
  }
  return out;
}

const HEX = '0123456789ABCDEF';
export function toHex(b: Uint8Array, lower = false): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >>> 4]! + HEX[b[i]! & 15]!;
  return lower ? s.toLowerCase() : s;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export function fromBase64(s: string): Uint8Array | null {
  if (!B64.test(s)) return null;
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Every remaining token joined (base64 and hex may be split by blanks, RFC 4034 §2.2 etc.). */
export function takeRest(t: TextIn, what: string, allowEmpty: boolean): string {
  if (atEnd(t)) {
    if (allowEmpty) return '';
    throw new RdataTextError(-1, what);
  }
  let s = '';
  while (!atEnd(t)) {
    const tok = t.tokens[t.pos++]!;
    if (tok.quoted) throw bad(t, what);
    s += tok.text;
  }
  return s;
}

export function takeBase64Rest(t: TextIn, what: string, allowEmpty = false): Uint8Array {
  const first = t.pos;
  const s = takeRest(t, what, allowEmpty);
  const b = fromBase64(s);
  if (b === null) throw new RdataTextError(first, `${what} (base64)`);
  return b;
}

export function takeHexRest(t: TextIn, what: string, allowEmpty = false): Uint8Array {
  const first = t.pos;
  const s = takeRest(t, what, allowEmpty);
  const b = fromHex(s);
  if (b === null) throw new RdataTextError(first, `${what} (hexadecimal, whole bytes)`);
  return b;
}

const B32 = '0123456789abcdefghijklmnopqrstuv';

/** RFC 4648 §7 base32hex without padding (RFC 5155 §3.3), lower case. */
export function toBase32hex(b: Uint8Array): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < b.length; i++) {
    acc = (acc << 8) | b[i]!;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32[(acc >>> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) s += B32[(acc << (5 - bits)) & 31]!;
  return s;
}

/** Base32hex text (any case, no padding) to bytes; null when malformed or with stray bits. */
export function fromBase32hex(s: string): Uint8Array | null {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20;
    let v: number;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x61 && c <= 0x76) v = c - 0x61 + 10;
    else return null;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >>> bits) & 0xff);
      acc &= (1 << bits) - 1;
    }
  }
  // Leftover bits must be padding zeros of fewer than 5 bits (RFC 4648 §6's lengths).
  if (bits >= 5 || acc !== 0) return null;
  return Uint8Array.from(out);
}
