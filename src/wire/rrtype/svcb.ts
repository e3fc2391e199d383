// SVCB and HTTPS (RFC 9460): SvcPriority, TargetName and SvcParams with every key of RFC 9460 §7,
// dohpath (RFC 9461) and ohttp (RFC 9540); value lists per Appendix A.1; checks of §2.1 and §8.

import { WireError } from '../types.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../rdata/ip.js';
import type { RRTypeCodec } from './fields.js';
import {
  RdataTextError, atEnd, decodeCharString, describe, escapeBytes, fromBase64, nameText, rdBytes, rdNameLabels, rdU16,
  take, takeName, takeUint, toBase64, type Out, type Span, type TextIn,
} from './text.js';

const KEY_NAMES = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint', 'dohpath', 'ohttp'];
const KEY_CODES = new Map(KEY_NAMES.map((n, i) => [n, i]));

export function svcKeyName(k: number): string {
  return KEY_NAMES[k] ?? `key${k}`;
}

/** A key name or keyNNNNN (key names are lower case, §2.1); key65535 is reserved but loads, as in Knot. */
function svcKeyCode(name: string): number | undefined {
  const known = KEY_CODES.get(name);
  if (known !== undefined) return known;
  const m = /^key(\d{1,5})$/.exec(name);
  if (!m) return undefined;
  const v = Number(m[1]);
  return v <= 65535 ? v : undefined;
}

/** Appendix A.1: items split at commas that are not escaped by a backslash; `\\` and `\,` unescape. */
function splitValueList(b: Uint8Array): Uint8Array[] | null {
  const items: Uint8Array[] = [];
  let cur: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x5c) {
      // Only "\\" and "\," are escapes in a value list (RFC 9460 Appendix A.1).
      const n = b[i + 1];
      if (n !== 0x5c && n !== 0x2c) return null;
      cur.push(n);
      i++;
    } else if (c === 0x2c) {
      items.push(Uint8Array.from(cur));
      cur = [];
    } else {
      cur.push(c);
    }
  }
  items.push(Uint8Array.from(cur));
  return items;
}

function ascii(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

/** The value of one SvcParam in wire form (§7), from its already unescaped presentation bytes. */
function paramValue(key: number, v: Uint8Array | null, fail: (expected: string) => RdataTextError): Uint8Array {
  const list = (): Uint8Array[] => {
    if (v === null || v.length === 0) throw fail(`a value for ${svcKeyName(key)}`);
    const items = splitValueList(v);
    if (!items) throw fail(`a comma-separated list for ${svcKeyName(key)}`);
    return items;
  };
  switch (key) {
    case 0: { // mandatory: keys, sorted, no duplicates, not "mandatory" itself (§8)
      const codes: number[] = [];
      for (const item of list()) {
        const c = svcKeyCode(ascii(item));
        if (c === undefined) throw fail(`a key name in mandatory, not ${JSON.stringify(ascii(item))}`);
        if (c === 0) throw fail('mandatory without "mandatory" in its own list (RFC 9460 §8)');
        if (codes.includes(c)) throw fail(`each key once in mandatory (${svcKeyName(c)} is repeated)`);
        codes.push(c);
      }
      codes.sort((a, b) => a - b);
      const out = new Uint8Array(codes.length * 2);
      codes.forEach((c, i) => { out[2 * i] = c >>> 8; out[2 * i + 1] = c & 0xff; });
      return out;
    }
    case 1: { // alpn: length-prefixed ids of 1..255 bytes
      const items = list();
      let n = 0;
      for (const it of items) {
        if (it.length === 0 || it.length > 255) throw fail('alpn ids of 1 to 255 bytes');
        n += 1 + it.length;
      }
      const out = new Uint8Array(n);
      let p = 0;
      for (const it of items) { out[p++] = it.length; out.set(it, p); p += it.length; }
      return out;
    }
    case 2: case 8: // no-default-alpn, ohttp: no value, not even "=" (§7.1.1, RFC 9540 §4; as Knot)
      if (v !== null) throw fail(`no value for ${svcKeyName(key)}`);
      return new Uint8Array(0);
    case 3: { // port
      const s = v === null ? '' : ascii(v);
      if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) throw fail('a port number (0 to 65535)');
      return Uint8Array.of(Number(s) >>> 8, Number(s) & 0xff);
    }
    case 4: case 6: { // ipv4hint, ipv6hint: one or more addresses
      const size = key === 4 ? 4 : 16;
      const items = list();
      const out = new Uint8Array(items.length * size);
      items.forEach((it, i) => {
        const a = key === 4 ? parseIPv4(ascii(it)) : parseIPv6(ascii(it));
        if (!a) throw fail(`${svcKeyName(key)} addresses separated by commas`);
        out.set(a, i * size);
      });
      return out;
    }
    case 5: { // ech: base64 ECHConfigList
      const b = v === null ? null : fromBase64(ascii(v));
      if (b === null || b.length === 0) throw fail('an ech value in base64');
      return b;
    }
    case 7: // dohpath: a URI template (RFC 9461 §5), kept as given
      if (v === null || v.length === 0) throw fail('a dohpath value');
      return v;
    default:
      return v ?? new Uint8Array(0);
  }
}

function svcbParse(t: TextIn, o: Out): void {
  o.u16(takeUint(t, 65535, 'the SvcPriority'));
  o.labels(takeName(t, 'the TargetName'));
  const params = new Map<number, Uint8Array>();
  while (!atEnd(t)) {
    const at = t.pos;
    const tok = take(t, 'a SvcParam');
    if (tok.quoted) throw new RdataTextError(at, 'a SvcParam key');
    const eq = tok.text.indexOf('=');
    const keyText = eq < 0 ? tok.text : tok.text.slice(0, eq);
    const key = svcKeyCode(keyText);
    // keyNNNNN takes its value as opaque bytes, also for a number that has a name (as Knot does).
    const generic = keyText.startsWith('key');
    if (key === undefined) throw new RdataTextError(at, 'a SvcParam key (mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint, dohpath, ohttp or keyNNNNN)', describe(tok));
    let raw: string | null = null;
    if (eq >= 0) {
      raw = tok.text.slice(eq + 1);
      // key="value": the lexer ends the word at the quote, so the value is the next, quoted token.
      const next = t.tokens[t.pos];
      if (raw === '' && next?.quoted) {
        raw = next.text;
        t.pos++;
      }
    }
    const fail = (expected: string): RdataTextError => new RdataTextError(at, expected, describe(tok));
    let v: Uint8Array | null = null;
    if (raw !== null) {
      v = decodeCharString(raw);
      if (v === null) throw fail('a SvcParam value with valid escapes');
    }
    if (params.has(key)) throw fail(`each SvcParam key once (${svcKeyName(key)} is repeated, RFC 9460 §2.1)`);
    const value = generic ? v ?? new Uint8Array(0) : paramValue(key, v, fail);
    if (value.length > 65535) throw fail('a SvcParam value of at most 65535 bytes');
    params.set(key, value);
  }
  const mandatory = params.get(0);
  if (mandatory) {
    for (let i = 0; i < mandatory.length; i += 2) {
      const k = (mandatory[i]! << 8) | mandatory[i + 1]!;
      if (!params.has(k)) throw new RdataTextError(t.pos - 1, `the key ${svcKeyName(k)} that mandatory lists (RFC 9460 §8)`, 'end of rdata');
    }
  }
  // Wire order is strictly increasing by key (§2.2), whatever the order in the text.
  for (const k of [...params.keys()].sort((a, b) => a - b)) {
    const v = params.get(k)!;
    o.u16(k);
    o.u16(v.length);
    o.bytes(v);
  }
}

/** Presentation of one value list item: commas and backslashes escaped for the list, then for the string. */
function listItem(b: Uint8Array): string {
  const parts: number[] = [];
  for (const c of b) {
    if (c === 0x2c || c === 0x5c) parts.push(0x5c);
    parts.push(c);
  }
  return escapeBytes(Uint8Array.from(parts));
}

function valueText(key: number, v: Uint8Array): string {
  const s: Span = { b: v, pos: 0, end: v.length };
  switch (key) {
    case 0: {
      if (v.length === 0 || v.length % 2) throw new WireError('bad mandatory list', 0);
      const names: string[] = [];
      let last = -1;
      for (let i = 0; i < v.length; i += 2) {
        const k = (v[i]! << 8) | v[i + 1]!;
        if (k <= last || k === 0) throw new WireError('mandatory keys not strictly increasing', i);
        last = k;
        names.push(svcKeyName(k));
      }
      return '=' + names.join(',');
    }
    case 1: {
      const items: string[] = [];
      while (s.pos < s.end) {
        const n = v[s.pos++]!;
        if (n === 0) throw new WireError('empty alpn id', s.pos);
        items.push(listItem(rdBytes(s, n, 'alpn id')));
      }
      if (items.length === 0) throw new WireError('empty alpn', 0);
      return `="${items.join(',')}"`;
    }
    case 2: case 8:
      if (v.length) throw new WireError(`${svcKeyName(key)} with a value`, 0);
      return '';
    case 3:
      if (v.length !== 2) throw new WireError('port is not 2 bytes', 0);
      return '=' + String((v[0]! << 8) | v[1]!);
    case 4: case 6: {
      const size = key === 4 ? 4 : 16;
      if (v.length === 0 || v.length % size) throw new WireError(`bad ${svcKeyName(key)}`, 0);
      const out: string[] = [];
      for (let i = 0; i < v.length; i += size) out.push(key === 4 ? formatIPv4(v, i) : formatIPv6(v, i));
      return '=' + out.join(',');
    }
    case 5:
      return '=' + toBase64(v);
    case 7:
      if (v.length === 0) throw new WireError('empty dohpath', 0);
      return `="${escapeBytes(v)}"`;
    default:
      return v.length ? `="${escapeBytes(v)}"` : '';
  }
}

function svcbFormat(s: Span): string {
  const prio = rdU16(s, 'SvcPriority');
  let out = `${prio} ${nameText(rdNameLabels(s))}`;
  let last = -1;
  const keys = new Set<number>();
  let mandatory: Uint8Array | undefined;
  while (s.pos < s.end) {
    const k = rdU16(s, 'SvcParamKey');
    if (k <= last) throw new WireError('SvcParamKeys not strictly increasing (RFC 9460 §2.2)', s.pos - 2);
    last = k;
    const len = rdU16(s, 'SvcParamValue length');
    const v = rdBytes(s, len, 'SvcParamValue');
    keys.add(k);
    if (k === 0) mandatory = v;
    let text: string;
    try {
      text = svcKeyName(k) + valueText(k, v);
    } catch (e) {
      if (!(e instanceof WireError) || k === 0) throw e;
      // A known key whose value does not fit its format reads back the same in the generic form.
      text = `key${k}` + valueText(65534, v);
    }
    out += ' ' + text;
  }
  if (mandatory) {
    for (let i = 0; i < mandatory.length; i += 2) {
      if (!keys.has((mandatory[i]! << 8) | mandatory[i + 1]!)) throw new WireError('mandatory lists a key that is missing', 0);
    }
  }
  return out;
}

export const svcbCodec = (code: number): RRTypeCodec => ({
  code,
  compressible: false,
  parse: svcbParse,
  format: svcbFormat,
});
