// The field kinds most rdata is made of (numbers, names, strings, addresses, encoded blobs), each
// with its text parser and formatter, and the codec built from a list of them.

import { WireError } from '../types.js';
import { formatIPv4, formatIPv6, parseIPv4Into, parseIPv6Into } from '../rdata/ip.js';
import { typeFromMnemonic, typeMnemonic } from './mnemonic.js';
import {
  Out, RdataTextError, type Span, type TextIn, type TextToken, atEnd, bad, describe, fromBase32hex, fromHex, need, nameText,
  quoteCharString, rdBytes, rdNameLabels, rdU16, rdU32, rdU8, take, takeBase64Rest, takeCharString, takeHexRest,
  takeStringBytes, takeUint, takeUintOrMnemonic, toBase32hex, toBase64, toHex, isDigits, writeNameToken,
} from './text.js';

/** One codec per RR type: presentation text ↔ uncompressed wire rdata. */
export interface RRTypeCodec {
  readonly code: number;
  /**
   * RFC 3597 §4: names inside may be compressed on output (the RFC 1035 types) and are
   * decompressed on input (those plus RFC 3597 §4's and RFC 4034 §6.2's lists): `expand` is set.
   */
  readonly compressible: boolean;
  /** Reads the text form into `o`; absent when the type has none (only RFC 3597 `\#`). */
  readonly parse?: (t: TextIn, o: Out) => void;
  /** The text form of the rdata in [s.pos, s.end); throws WireError when malformed or not representable. */
  readonly format?: (s: Span) => string;
  /** Copies the rdata to `o` with embedded names decompressed (names may point before s.pos in s.b). */
  readonly expand?: (s: Span, o: Out) => void;
}

export interface Field {
  parse(t: TextIn, o: Out): void;
  format(s: Span): string;
  /** True for a domain name: expand() writes it uncompressed; other fields are copied as they are. */
  readonly name?: boolean;
}

/** A codec whose rdata is the fields in order and nothing after them. */
export function fieldCodec(code: number, fields: readonly Field[], opts: { compressible?: boolean; decompress?: boolean } = {}): RRTypeCodec {
  const hasNames = fields.some((f) => f.name);
  return {
    code,
    compressible: opts.compressible ?? false,
    parse(t, o) {
      for (const f of fields) f.parse(t, o);
    },
    format(s) {
      let out = '';
      for (let i = 0; i < fields.length; i++) {
        const v = fields[i]!.format(s);
        out += i === 0 || v === '' ? v : ' ' + v;
      }
      if (s.pos !== s.end) throw new WireError('trailing bytes after the last field', s.pos);
      return out;
    },
    expand: hasNames && (opts.decompress ?? opts.compressible ?? false)
      ? (s, o) => {
          for (const f of fields) {
            if (f.name) o.labels(rdNameLabels(s));
            else {
              const at = s.pos;
              f.format(s);
              o.bytes(s.b.subarray(at, s.pos));
            }
          }
          if (s.pos !== s.end) throw new WireError('trailing bytes after the last field', s.pos);
        }
      : undefined,
  };
}

// ---- numbers ----

export function u8(what: string): Field {
  return { parse: (t, o) => o.u8(takeUint(t, 255, what)), format: (s) => String(rdU8(s, what)) };
}

export function u16(what: string): Field {
  return { parse: (t, o) => o.u16(takeUint(t, 65535, what)), format: (s) => String(rdU16(s, what)) };
}

export function u32(what: string): Field {
  return { parse: (t, o) => o.u32(takeUint(t, 0xffffffff, what)), format: (s) => String(rdU32(s, what)) };
}

/** A number or a mnemonic (DNSSEC algorithm names, CERT types); printed as the number. */
export function u8m(what: string, names: ReadonlyMap<string, number>): Field {
  return { parse: (t, o) => o.u8(takeUintOrMnemonic(t, 255, what, names)), format: (s) => String(rdU8(s, what)) };
}

export function u16m(what: string, names: ReadonlyMap<string, number>): Field {
  return { parse: (t, o) => o.u16(takeUintOrMnemonic(t, 65535, what, names)), format: (s) => String(rdU16(s, what)) };
}

/**
 * Seconds written as digits or with BIND's units (1w2d3h4m5s, any case): every number then
 * carries a unit. Null when the text is not that or exceeds 2^32-1.
 */
export function parsePeriod(s: string): number | null {
  if (isDigits(s)) {
    const v = Number(s);
    return v <= 0xffffffff ? v : null;
  }
  let total = 0;
  let num = -1;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0x30 && ch <= 0x39) {
      num = (num < 0 ? 0 : num * 10) + (ch - 0x30);
      if (num > 0xffffffff) return null;
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
  if (num >= 0 || total > 0xffffffff) return null;
  return total;
}

/** A 32-bit time interval (SOA timers) with optional units. */
export function period(what: string): Field {
  return {
    parse(t, o) {
      const tok = take(t, what);
      const v = tok.quoted ? null : parsePeriod(tok.text);
      if (v === null) throw bad(t, `${what} (seconds, at most 4294967295, units w/d/h/m/s allowed)`);
      o.u32(v);
    },
    format: (s) => String(rdU32(s, what)),
  };
}

// ---- names ----

export function name(what: string): Field {
  return {
    name: true,
    parse: (t, o) => writeNameToken(t, o, what),
    format: (s) => nameText(rdNameLabels(s)),
  };
}

// ---- strings ----

/** One <character-string> of at most 255 bytes (RFC 1035 §3.3). */
export function str(what: string): Field {
  return {
    parse(t, o) {
      const b = takeCharString(t, what);
      o.u8(b.length);
      o.bytes(b);
    },
    format(s) {
      const n = rdU8(s, what);
      return quoteCharString(rdBytes(s, n, what));
    },
  };
}

/** The length of a token that is a character-string as written (printable ASCII, no "\\", ≤ 255), else -1. */
function plainString(tok: TextToken | undefined): number {
  if (tok === undefined) return -1;
  const s = tok.text;
  const n = s.length;
  if (n > 255) return -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c || c > 0x7e) return -1;
  }
  return n;
}

/**
 * One or more <character-string>s to the end (TXT, SPF, AVC, RESINFO). A string longer than 255
 * bytes is split into 255-byte pieces with a warning, as Knot does.
 */
export function strs(what: string): Field {
  return {
    parse(t, o) {
      let total = 0;
      do {
        const start = t.pos;
        // The common string (printable ASCII, no escape, at most 255 bytes) is written as it is:
        // a zone's TXT records would otherwise make two byte arrays each.
        const plain = plainString(t.tokens[start]);
        if (plain >= 0) {
          t.pos++;
          const at = o.reserve(plain + 1);
          const text = t.tokens[start]!.text;
          o.buf[at] = plain;
          for (let i = 0; i < plain; i++) o.buf[at + 1 + i] = text.charCodeAt(i);
          total += plain + 1;
          continue;
        }
        const b = takeStringBytes(t, what);
        if (b.length > 255) {
          t.warnings?.push({ token: start, message: `${what} of ${b.length} bytes split into ${Math.ceil(b.length / 255)} strings of at most 255 bytes` });
        }
        let p = 0;
        do {
          const piece = b.subarray(p, p + 255);
          o.u8(piece.length);
          o.bytes(piece);
          total += piece.length + 1;
          p += 255;
        } while (p < b.length);
      } while (!atEnd(t));
      if (total > 65535) throw bad(t, 'rdata of at most 65535 bytes');
    },
    format(s) {
      if (s.pos >= s.end) throw new WireError(`no ${what}`, s.pos);
      let out = '';
      while (s.pos < s.end) {
        const n = rdU8(s, what);
        out += (out ? ' ' : '') + quoteCharString(rdBytes(s, n, what));
      }
      return out;
    },
  };
}

/** The rest of the rdata as raw bytes written as one (possibly quoted) string (URI target, CAA value). */
export function restString(what: string): Field {
  return {
    parse(t, o) {
      o.bytes(takeStringBytes(t, what));
    },
    format(s) {
      const b = rdBytes(s, s.end - s.pos, what);
      return quoteCharString(b);
    },
  };
}

// ---- addresses ----

export function ipv4(what: string): Field {
  return {
    parse(t, o) {
      const tok = take(t, what);
      const at = o.reserve(4);
      if (tok.quoted || !parseIPv4Into(tok.text, o.buf, at)) throw bad(t, `${what} (dotted quad, no leading zeros)`);
    },
    format(s) {
      need(s, 4, what);
      const v = formatIPv4(s.b, s.pos);
      s.pos += 4;
      return v;
    },
  };
}

export function ipv6(what: string): Field {
  return {
    parse(t, o) {
      const tok = take(t, what);
      const at = o.reserve(16);
      if (tok.quoted || !parseIPv6Into(tok.text, o.buf, at)) throw bad(t, what);
    },
    format(s) {
      need(s, 16, what);
      const v = formatIPv6(s.b, s.pos);
      s.pos += 16;
      return v;
    },
  };
}

/** RFC 6742 §2.3 Locator64/NodeID: four 16-bit groups of 1 to 4 hex digits, colon-separated. */
export function ilnp64(what: string): Field {
  return {
    parse(t, o) {
      const tok = take(t, what);
      const m = tok.quoted ? null : /^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$/.exec(tok.text);
      if (!m) throw bad(t, `${what} (four groups of hex digits, e.g. 2001:db8:0:1)`);
      for (let i = 1; i <= 4; i++) o.u16(parseInt(m[i]!, 16));
    },
    format(s) {
      const g: string[] = [];
      for (let i = 0; i < 4; i++) g.push(rdU16(s, what).toString(16).padStart(4, '0'));
      return g.join(':');
    },
  };
}

/** RFC 7043 §3.2/§4.2: EUI-48 or EUI-64 as hex pairs joined by hyphens. */
export function eui(what: string, bytes: 6 | 8): Field {
  const re = new RegExp(`^[0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){${bytes - 1}}$`);
  return {
    parse(t, o) {
      const tok = take(t, what);
      if (tok.quoted || !re.test(tok.text)) throw bad(t, `${what} (${bytes} hex pairs joined by "-")`);
      o.bytes(fromHex(tok.text.replace(/-/g, ''))!);
    },
    format(s) {
      const b = rdBytes(s, bytes, what);
      const parts: string[] = [];
      for (const x of b) parts.push(x.toString(16).padStart(2, '0'));
      return parts.join('-');
    },
  };
}

// ---- encoded blobs ----

/** Base64 to the end of the rdata, blanks allowed between words (DNSKEY, RRSIG, CERT ...). */
export function base64Rest(what: string, allowEmpty = false): Field {
  return {
    parse: (t, o) => o.bytes(takeBase64Rest(t, what, allowEmpty)),
    format(s) {
      const b = rdBytes(s, s.end - s.pos, what);
      if (b.length === 0) {
        // An empty blob prints as nothing: only types that allow that may do so, others need \#.
        if (allowEmpty) return '';
        throw new WireError(`empty ${what}`, s.pos);
      }
      return toBase64(b);
    },
  };
}

/** Hex to the end of the rdata, blanks allowed (DS digest, TLSA data, SSHFP fingerprint ...). */
export function hexRest(what: string, allowEmpty = false): Field {
  return {
    parse: (t, o) => o.bytes(takeHexRest(t, what, allowEmpty)),
    format(s) {
      const b = rdBytes(s, s.end - s.pos, what);
      if (b.length === 0) {
        if (allowEmpty) return '';
        throw new WireError(`empty ${what}`, s.pos);
      }
      return toHex(b);
    },
  };
}

/** A length byte and hex, "-" for none (RFC 5155 §3.3 salt). */
export function saltHex(what: string): Field {
  return {
    parse(t, o) {
      const tok = take(t, what);
      if (!tok.quoted && tok.text === '-') return o.u8(0);
      const b = tok.quoted ? null : fromHex(tok.text);
      if (b === null || b.length > 255) throw bad(t, `${what} (hexadecimal of at most 255 bytes, or "-")`);
      o.u8(b.length);
      o.bytes(b);
    },
    format(s) {
      const n = rdU8(s, what);
      return n === 0 ? '-' : toHex(rdBytes(s, n, what));
    },
  };
}

/** A length byte and base32hex without padding (RFC 5155 §3.3 next hashed owner name). */
export function base32Len(what: string): Field {
  return {
    parse(t, o) {
      const tok = take(t, what);
      const b = tok.quoted ? null : fromBase32hex(tok.text);
      if (b === null || b.length === 0 || b.length > 255) throw bad(t, `${what} (base32hex without padding)`);
      o.u8(b.length);
      o.bytes(b);
    },
    format(s) {
      const n = rdU8(s, what);
      if (n === 0) throw new WireError(`empty ${what}`, s.pos - 1);
      return toBase32hex(rdBytes(s, n, what));
    },
  };
}

// ---- types and times ----

/** A type mnemonic or TYPEnnn (RRSIG type covered). */
export function rrtype(what: string): Field {
  return {
    parse(t, o) {
      const tok = take(t, what);
      const v = tok.quoted ? undefined : typeFromMnemonic(tok.text);
      if (v === undefined) throw bad(t, `${what} (a type mnemonic or TYPEnnn)`);
      o.u16(v);
    },
    format: (s) => typeMnemonic(rdU16(s, what)),
  };
}

/**
 * RFC 4034 §3.2: YYYYMMDDHHmmSS (UTC), or the number of seconds since 1970 when it is not 14 digits;
 * printed as YYYYMMDDHHmmSS. The wire value is modulo 2^32 (RFC 1982 serial arithmetic).
 */
export function sigTime(what: string): Field {
  return {
    parse(t, o) {
      const tok = take(t, what);
      const s = tok.text;
      if (tok.quoted || !isDigits(s)) throw bad(t, `${what} (YYYYMMDDHHmmSS or seconds)`);
      if (s.length === 14) {
        const [y, mo, d, h, mi, se] = [s.slice(0, 4), s.slice(4, 6), s.slice(6, 8), s.slice(8, 10), s.slice(10, 12), s.slice(12, 14)].map(Number) as [number, number, number, number, number, number];
        const ms = Date.UTC(y, mo - 1, d, h, mi, se);
        const back = new Date(ms);
        if (y < 1970 || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
          throw bad(t, `${what} (a valid date YYYYMMDDHHmmSS)`);
        }
        o.u32((ms / 1000) % 0x100000000);
        return;
      }
      const v = Number(s);
      if (v > 0xffffffff) throw bad(t, `${what} of at most 4294967295`);
      o.u32(v);
    },
    format(s) {
      const v = rdU32(s, what);
      const d = new Date(v * 1000);
      const p = (n: number, w = 2): string => String(n).padStart(w, '0');
      return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
    },
  };
}

/**
 * RFC 4034 §4.1.2 type bitmap to the end of the rdata: windows in increasing order, each 1 to 32
 * bytes without trailing zero bytes. Text: type mnemonics or TYPEnnn, any order, duplicates merged.
 */
export function typeBitmap(what: string): Field {
  return {
    parse(t, o) {
      const types = new Set<number>();
      while (!atEnd(t)) {
        const tok = take(t, what);
        const v = tok.quoted ? undefined : typeFromMnemonic(tok.text);
        if (v === undefined) throw bad(t, `${what} (type mnemonics or TYPEnnn)`);
        types.add(v);
      }
      writeBitmap([...types], o);
    },
    format(s) {
      const names: string[] = [];
      let last = -1;
      while (s.pos < s.end) {
        const win = rdU8(s, what);
        const len = rdU8(s, what);
        if (win <= last) throw new WireError('type bitmap windows out of order', s.pos - 2);
        if (len < 1 || len > 32) throw new WireError(`type bitmap window length ${len}`, s.pos - 1);
        const bits = rdBytes(s, len, what);
        if (bits[len - 1] === 0) throw new WireError('type bitmap window with a trailing zero byte', s.pos - 1);
        for (let i = 0; i < len; i++) {
          for (let j = 0; j < 8; j++) if (bits[i]! & (0x80 >> j)) names.push(typeMnemonic(win * 256 + i * 8 + j));
        }
        last = win;
      }
      return names.join(' ');
    },
  };
}

export function writeBitmap(types: number[], o: Out): void {
  types.sort((a, b) => a - b);
  let i = 0;
  while (i < types.length) {
    const win = types[i]! >>> 8;
    const bits = new Uint8Array(32);
    let len = 0;
    while (i < types.length && types[i]! >>> 8 === win) {
      const low = types[i]! & 0xff;
      bits[low >>> 3]! |= 0x80 >> (low & 7);
      len = (low >>> 3) + 1;
      i++;
    }
    o.u8(win);
    o.u8(len);
    o.bytes(bits.subarray(0, len));
  }
}

export { RdataTextError, describe };
