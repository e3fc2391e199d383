// Codecs whose text form is not a plain list of fields: LOC, APL, WKS, IPSECKEY, AMTRELAY, HIP,
// NSAP and CAA.

import { WireError } from '../types.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../rdata/ip.js';
import type { RRTypeCodec } from './fields.js';
import {
  RdataTextError, atEnd, bad, fromBase64, fromHex, nameText, quoteCharString, rdBytes, rdNameLabels, rdU16, rdU8,
  take, takeBase64Rest, takeName, takeStringBytes, takeUint, toBase64, toHex, type Out, type Span, type TextIn,
} from './text.js';

// ---- LOC (RFC 1876) ----

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/** RFC 1876 §2 SIZE/HORIZ PRE/VERT PRE: centimetres as mantissa × 10^exponent, both 0..9. */
function precsize(cm: number): number {
  let exp = 0;
  while (exp < 9 && cm >= POW10[exp + 1]!) exp++;
  const mant = Math.floor(cm / POW10[exp]!);
  return (Math.min(mant, 9) << 4) | exp;
}

function precsizeText(v: number): string {
  const mant = v >>> 4;
  const exp = v & 15;
  if (mant > 9 || exp > 9) throw new WireError('LOC size digit above 9', 0);
  // Zero has one encoding in the text form (0m reads back as 0x00).
  if (mant === 0 && exp !== 0) throw new WireError('LOC size 0 with an exponent', 0);
  const cm = mant * POW10[exp]!;
  return cm % 100 === 0 ? `${cm / 100}m` : `${Math.floor(cm / 100)}.${String(cm % 100).padStart(2, '0')}m`;
}

/** Metres with at most two decimals (and an optional "m") to centimetres; null when not that. */
function metresToCm(text: string, allowNegative: boolean): number | null {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?m?$/.exec(text);
  if (!m || (m[1] && !allowNegative)) return null;
  const cm = Number(m[2]) * 100 + Number((m[3] ?? '0').padEnd(2, '0'));
  return m[1] ? -cm : cm;
}

function locParse(t: TextIn, o: Out): void {
  // Degrees [minutes [seconds]] then the hemisphere letter, for latitude then longitude.
  const coord = (max: number, hemis: string, what: string): number => {
    const deg = takeUint(t, max, `${what} degrees`);
    let min = 0;
    let msec = 0;
    let tok = take(t, `${what} minutes or ${hemis}`);
    if (!tok.quoted && /^\d+$/.test(tok.text)) {
      min = Number(tok.text);
      if (min > 59) throw bad(t, `${what} minutes of at most 59`);
      tok = take(t, `${what} seconds or ${hemis}`);
      const sm = tok.quoted ? null : /^(\d+)(?:\.(\d{1,3}))?$/.exec(tok.text);
      if (sm) {
        msec = Number(sm[1]) * 1000 + Number((sm[2] ?? '0').padEnd(3, '0'));
        if (msec > 59999) throw bad(t, `${what} seconds below 60`);
        tok = take(t, hemis);
      }
    }
    const h = tok.quoted ? '' : tok.text.toUpperCase();
    if (h.length !== 1 || !hemis.includes(h)) throw bad(t, `${hemis[0]} or ${hemis[2]}`);
    const total = ((deg * 60 + min) * 60) * 1000 + msec;
    if (total > max * 3600000) throw bad(t, `${what} of at most ${max} degrees`, `"${h}"`);
    return h === hemis[0] ? 0x80000000 + total : 0x80000000 - total;
  };
  const lat = coord(90, 'N/S', 'latitude');
  const lon = coord(180, 'E/W', 'longitude');
  const altTok = take(t, 'the altitude in metres');
  const alt = altTok.quoted ? null : metresToCm(altTok.text, true);
  if (alt === null || alt < -10000000 || alt > 4284967295) throw bad(t, 'the altitude in metres (-100000.00 to 42849672.95)');
  const sizes = [100, 1000000, 1000]; // RFC 1876 §3 defaults: 1m, 10000m, 10m
  const names = ['the size', 'the horizontal precision', 'the vertical precision'];
  for (let i = 0; i < 3 && !atEnd(t); i++) {
    take(t, names[i]!);
    const tok = t.tokens[t.pos - 1]!;
    const cm = tok.quoted ? null : metresToCm(tok.text, false);
    if (cm === null || cm > 9000000000) throw bad(t, `${names[i]!} in metres (0 to 90000000.00)`);
    sizes[i] = cm;
  }
  o.u8(0);
  for (const cm of sizes) o.u8(precsize(cm));
  o.u32(lat >>> 0);
  o.u32(lon >>> 0);
  o.u32((alt + 10000000) >>> 0);
}

function locFormat(s: Span): string {
  if (s.end - s.pos !== 16) throw new WireError('LOC rdata must be 16 bytes', s.pos);
  const b = s.b;
  const p = s.pos;
  if (b[p] !== 0) throw new WireError(`LOC version ${b[p]}`, p);
  const u32 = (o: number): number => ((b[p + o]! << 24) | (b[p + o + 1]! << 16) | (b[p + o + 2]! << 8) | b[p + o + 3]!) >>> 0;
  const size = precsizeText(b[p + 1]!);
  const hp = precsizeText(b[p + 2]!);
  const vp = precsizeText(b[p + 3]!);
  const coord = (v: number, pos: string, neg: string, max: number): string => {
    let d = v - 0x80000000;
    const h = d < 0 ? neg : pos;
    d = Math.abs(d);
    if (d > max * 3600000) throw new WireError('LOC coordinate out of range', p);
    const deg = Math.floor(d / 3600000);
    const min = Math.floor((d % 3600000) / 60000);
    const ms = d % 60000;
    return `${deg} ${min} ${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')} ${h}`;
  };
  const lat = coord(u32(4), 'N', 'S', 90);
  const lon = coord(u32(8), 'E', 'W', 180);
  const altCm = u32(12) - 10000000;
  const a = Math.abs(altCm);
  const alt = `${altCm < 0 ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}m`;
  s.pos = s.end;
  return `${lat} ${lon} ${alt} ${size} ${hp} ${vp}`;
}

export const locCodec = (code: number): RRTypeCodec => ({ code, compressible: false, parse: locParse, format: locFormat });

// ---- APL (RFC 3123) ----

function aplParse(t: TextIn, o: Out): void {
  while (!atEnd(t)) {
    const tok = take(t, 'an APL item ([!]afi:address/prefix)');
    const m = tok.quoted ? null : /^(!?)(\d+):([^/]+)\/(\d+)$/.exec(tok.text);
    if (!m) throw bad(t, 'an APL item ([!]afi:address/prefix)');
    const afi = Number(m[2]);
    const prefix = Number(m[4]);
    let addr: Uint8Array | undefined;
    if (afi === 1) addr = parseIPv4(m[3]!);
    else if (afi === 2) addr = parseIPv6(m[3]!);
    else throw bad(t, 'an APL item with address family 1 (IPv4) or 2 (IPv6)');
    if (!addr || prefix > addr.length * 8) throw bad(t, `an APL item with a valid ${afi === 1 ? 'IPv4' : 'IPv6'} address and prefix`);
    // RFC 3123 §4: trailing zero bytes of the address are not sent.
    let len = addr.length;
    while (len > 0 && addr[len - 1] === 0) len--;
    o.u16(afi);
    o.u8(prefix);
    o.u8((m[1] ? 0x80 : 0) | len);
    o.bytes(addr.subarray(0, len));
  }
}

function aplFormat(s: Span): string {
  const items: string[] = [];
  while (s.pos < s.end) {
    const afi = rdU16(s, 'APL family');
    const prefix = rdU8(s, 'APL prefix');
    const nl = rdU8(s, 'APL length');
    const len = nl & 0x7f;
    const part = rdBytes(s, len, 'APL address');
    const size = afi === 1 ? 4 : afi === 2 ? 16 : 0;
    if (size === 0) throw new WireError(`APL address family ${afi}`, s.pos);
    if (len > size || prefix > size * 8 || (len > 0 && part[len - 1] === 0)) throw new WireError('bad APL item', s.pos);
    const full = new Uint8Array(size);
    full.set(part);
    items.push(`${nl & 0x80 ? '!' : ''}${afi}:${afi === 1 ? formatIPv4(full) : formatIPv6(full)}/${prefix}`);
  }
  return items.join(' ');
}

export const aplCodec = (code: number): RRTypeCodec => ({ code, compressible: false, parse: aplParse, format: aplFormat });

// ---- WKS (RFC 1035 §3.4.2) ----

const PROTOCOLS = new Map([['TCP', 6], ['UDP', 17]]);

function wksParse(t: TextIn, o: Out): void {
  const tok = take(t, 'an IPv4 address');
  const a = tok.quoted ? undefined : parseIPv4(tok.text);
  if (!a) throw bad(t, 'an IPv4 address (dotted quad, no leading zeros)');
  o.bytes(a);
  const p = take(t, 'a protocol (tcp, udp or a number)');
  const proto = PROTOCOLS.get(p.text.toUpperCase()) ?? (/^\d{1,3}$/.test(p.text) && Number(p.text) <= 255 ? Number(p.text) : undefined);
  if (proto === undefined || p.quoted) throw bad(t, 'a protocol (tcp, udp or a number)');
  o.u8(proto);
  const bits = new Uint8Array(8192);
  let len = 0;
  while (!atEnd(t)) {
    const port = takeUint(t, 65535, 'a port number');
    bits[port >>> 3]! |= 0x80 >> (port & 7);
    len = Math.max(len, (port >>> 3) + 1);
  }
  o.bytes(bits.subarray(0, len));
}

function wksFormat(s: Span): string {
  const addr = formatIPv4(rdBytes(s, 4, 'WKS address'), 0);
  const proto = rdU8(s, 'WKS protocol');
  const out = [addr, String(proto)];
  const start = s.pos;
  // The text form lists ports, so it cannot say how many zero bytes end the bitmap: only the
  // shortest bitmap has one.
  if (s.end > start && s.b[s.end - 1] === 0) throw new WireError('WKS bitmap with a trailing zero byte', s.end - 1);
  for (; s.pos < s.end; s.pos++) {
    const v = s.b[s.pos]!;
    for (let j = 0; j < 8; j++) if (v & (0x80 >> j)) out.push(String((s.pos - start) * 8 + j));
  }
  return out.join(' ');
}

export const wksCodec = (code: number): RRTypeCodec => ({ code, compressible: false, parse: wksParse, format: wksFormat });

// ---- gateways: IPSECKEY (RFC 4025 §3) and AMTRELAY (RFC 8777 §4.3) ----

/** Gateway/relay by type: 0 none ("."), 1 IPv4, 2 IPv6, 3 an uncompressed name. */
function gatewayParse(t: TextIn, o: Out, type: number, what: string): void {
  switch (type) {
    case 0: {
      const tok = take(t, `"." (no ${what})`);
      if (tok.quoted || tok.text !== '.') throw bad(t, `"." (no ${what})`);
      return;
    }
    case 1: {
      const tok = take(t, `an IPv4 ${what}`);
      const a = tok.quoted ? undefined : parseIPv4(tok.text);
      if (!a) throw bad(t, `an IPv4 ${what}`);
      return o.bytes(a);
    }
    case 2: {
      const tok = take(t, `an IPv6 ${what}`);
      const a = tok.quoted ? undefined : parseIPv6(tok.text);
      if (!a) throw bad(t, `an IPv6 ${what}`);
      return o.bytes(a);
    }
    case 3:
      return o.labels(takeName(t, `a ${what} name`));
    default:
      throw new RdataTextError(t.pos - 1, `a ${what} type of 0 to 3`);
  }
}

function gatewayFormat(s: Span, type: number): string {
  switch (type) {
    case 0: return '.';
    case 1: { const a = formatIPv4(rdBytes(s, 4, 'gateway'), 0); return a; }
    case 2: { const a = formatIPv6(rdBytes(s, 16, 'gateway'), 0); return a; }
    case 3: return nameText(rdNameLabels(s));
    default: throw new WireError(`gateway type ${type}`, s.pos);
  }
}

export const ipseckeyCodec = (code: number): RRTypeCodec => ({
  code,
  compressible: false,
  parse(t, o) {
    o.u8(takeUint(t, 255, 'the IPSECKEY precedence'));
    const gt = takeUint(t, 3, 'the IPSECKEY gateway type');
    o.u8(gt);
    o.u8(takeUint(t, 255, 'the IPSECKEY algorithm'));
    gatewayParse(t, o, gt, 'gateway');
    if (!atEnd(t)) o.bytes(takeBase64Rest(t, 'the IPSECKEY public key'));
  },
  format(s) {
    const prec = rdU8(s, 'precedence');
    const gt = rdU8(s, 'gateway type');
    const alg = rdU8(s, 'algorithm');
    const gw = gatewayFormat(s, gt);
    const key = rdBytes(s, s.end - s.pos, 'key');
    return `${prec} ${gt} ${alg} ${gw}${key.length ? ' ' + toBase64(key) : ''}`;
  },
});

export const amtrelayCodec = (code: number): RRTypeCodec => ({
  code,
  compressible: false,
  parse(t, o) {
    o.u8(takeUint(t, 255, 'the AMTRELAY precedence'));
    const d = takeUint(t, 1, 'the AMTRELAY discovery-optional bit (0 or 1)');
    const type = takeUint(t, 3, 'the AMTRELAY relay type');
    o.u8((d << 7) | type);
    gatewayParse(t, o, type, 'relay');
  },
  format(s) {
    const prec = rdU8(s, 'precedence');
    const dt = rdU8(s, 'type');
    const type = dt & 0x7f;
    const relay = gatewayFormat(s, type);
    if (s.pos !== s.end) throw new WireError('AMTRELAY trailing bytes', s.pos);
    return `${prec} ${dt >>> 7} ${type} ${relay}`;
  },
});

// ---- HIP (RFC 8005 §5) ----

export const hipCodec = (code: number): RRTypeCodec => ({
  code,
  compressible: false,
  parse(t, o) {
    const alg = takeUint(t, 255, 'the HIP public key algorithm');
    const hitTok = take(t, 'the HIP HIT (hexadecimal)');
    const hit = hitTok.quoted ? null : fromHex(hitTok.text);
    if (!hit || hit.length === 0 || hit.length > 255) throw bad(t, 'the HIP HIT (hexadecimal)');
    const pkTok = take(t, 'the HIP public key (base64)');
    const pk = pkTok.quoted ? null : fromBase64(pkTok.text);
    if (!pk || pk.length === 0 || pk.length > 65535) throw bad(t, 'the HIP public key (base64)');
    o.u8(hit.length);
    o.u8(alg);
    o.u16(pk.length);
    o.bytes(hit);
    o.bytes(pk);
    while (!atEnd(t)) o.labels(takeName(t, 'a rendezvous server name'));
  },
  format(s) {
    const hl = rdU8(s, 'HIT length');
    const alg = rdU8(s, 'algorithm');
    const pl = rdU16(s, 'key length');
    if (hl === 0 || pl === 0) throw new WireError('empty HIP HIT or key', s.pos);
    const hit = toHex(rdBytes(s, hl, 'HIT'));
    const pk = toBase64(rdBytes(s, pl, 'key'));
    let out = `${alg} ${hit} ${pk}`;
    while (s.pos < s.end) out += ' ' + nameText(rdNameLabels(s));
    return out;
  },
});

// ---- NSAP (RFC 1706 §5) ----

export const nsapCodec = (code: number): RRTypeCodec => ({
  code,
  compressible: false,
  parse(t, o) {
    const tok = take(t, 'an NSAP address (0x followed by hexadecimal)');
    const m = tok.quoted ? null : /^0[xX]([0-9a-fA-F.]+)$/.exec(tok.text);
    const b = m ? fromHex(m[1]!.replace(/\./g, '')) : null;
    if (!b || b.length === 0) throw bad(t, 'an NSAP address (0x followed by hexadecimal)');
    o.bytes(b);
  },
  format(s) {
    const b = rdBytes(s, s.end - s.pos, 'NSAP');
    if (b.length === 0) throw new WireError('empty NSAP', s.pos);
    return '0x' + toHex(b);
  },
});

// ---- CAA (RFC 8659 §4.1) ----

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

export const caaCodec = (code: number): RRTypeCodec => ({
  code,
  compressible: false,
  parse(t, o) {
    o.u8(takeUint(t, 255, 'CAA flags (0 to 255)'));
    const tt = take(t, 'a CAA tag');
    const tag = tt.text;
    let ok = !tt.quoted && tag.length >= 1 && tag.length <= 255;
    for (let i = 0; ok && i < tag.length; i++) ok = isAlnum(tag.charCodeAt(i));
    if (!ok) throw bad(t, 'a CAA tag (letters and digits)');
    o.u8(tag.length);
    for (let i = 0; i < tag.length; i++) o.u8(tag.charCodeAt(i));
    const v = takeStringBytes(t, 'a CAA value');
    if (v.length > 65535 - 2 - tag.length) throw bad(t, `a CAA value of at most ${65535 - 2 - tag.length} bytes`);
    o.bytes(v);
  },
  format(s) {
    const flags = rdU8(s, 'CAA flags');
    const tl = rdU8(s, 'CAA tag length');
    const tag = rdBytes(s, tl, 'CAA tag');
    if (tl === 0) throw new WireError('empty CAA tag', s.pos);
    for (const c of tag) if (!isAlnum(c)) throw new WireError('CAA tag is not alphanumeric', s.pos);
    return `${flags} ${String.fromCharCode(...tag)} ${quoteCharString(rdBytes(s, s.end - s.pos, 'CAA value'))}`;
  },
});
