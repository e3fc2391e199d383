// Stateless DNS data ⇄ query-name labels (seed 003 §2.4): the one encoding the echo server and the client share.
//
// API (every label is in presentation form, as splitLabels() returns it; escapes like `\@` are read):
//   encodeA(ip) / decodeA(labels)          "198.51.100.7" ⇄ ["198","51","100","7"]  (seed §2.4: dotted IPv4)
//   encodeAAAA(ip) / decodeAAAA(labels)    "2001:db8::7" ⇄ ["2001-db8--7"]  (one label: RFC 5952 text with
//                                          ":" written "-"; 32 hex digits are accepted too)
//   encodeTxt(text) / decodeTxt(labels)    "key=value" ⇄ ["key=value"]; decodeTxtBytes gives the raw bytes
//   encodeSrv(target, port) / decodeSrv    ("host.name.", 22) ⇄ ["host","name-22"]  (seed §2.4: host.name-PORT)
//   encodeData(type, value) / decodeData   dispatch by record type (A, AAAA, TXT, SRV)
//   checkDataLabels(labels)                throws unless labels are usable as *U data (non-empty, no "00")
// Encoders throw EchoEncodingError for data that cannot be carried; decoders return undefined, never throw.
//
// TXT escape (documented in src/modules/echo/README.md): a "." in the text separates labels;
// the bytes a-z 0-9 - _ = + , : / ~ ! are written as they are; every other byte (upper-case letters,
// space, ".", "%", non-ASCII UTF-8 bytes, …) is written %XX (hex, either case). Upper-case letters are
// escaped because resolvers may change the case of a query name (0x20 randomization, RFC 4343); the
// decoder reads an unescaped letter as lower case, so KEY=x and key=x (the same name) decode alike.
// A label that ends in a lone "%" continues into the next label with no "." between them, so texts
// with runs longer than 63 bytes fit. A segment that would be "00" (the echo delimiter) is written
// "0%30"; an empty segment (leading, trailing or doubled ".") is carried by writing the dot as %2e.
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../wire/rdata/ip.js';
import { parseLabels, parseName, splitLabels, MAX_LABEL } from '../wire/name.js';

export class EchoEncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EchoEncodingError';
  }
}

export type EchoDataType = 'A' | 'AAAA' | 'TXT' | 'SRV';
export const ECHO_DATA_TYPES: readonly EchoDataType[] = ['A', 'AAAA', 'TXT', 'SRV'];

export interface SrvData {
  /** Absolute target name, e.g. "host.name.". */
  target: string;
  port: number;
}

/** The echo delimiter label (seed §2.3): never allowed as a data label. */
export const ECHO_DELIMITER = '00';

/** Bytes of one presentation label (\X and \DDD escapes resolved). */
function labelBytes(label: string): Uint8Array | undefined {
  try {
    const parsed = parseLabels(label + '.');
    return parsed.length === 1 ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}

/** A presentation label without escapes (what every decoder below expects for A, AAAA, SRV ports). */
function plainLabel(label: string): string | undefined {
  const b = labelBytes(label);
  if (!b) return undefined;
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

// ---- A ------------------------------------------------------------------------------------------

export function encodeA(address: string): string[] {
  const b = parseIPv4(address);
  if (!b) throw new EchoEncodingError(`expected a dotted IPv4 address, found ${JSON.stringify(address)}`);
  return formatIPv4(b).split('.');
}

export function decodeA(labels: readonly string[]): string | undefined {
  if (labels.length !== 4) return undefined;
  const parts: string[] = [];
  for (const l of labels) {
    const p = plainLabel(l);
    if (p === undefined) return undefined;
    parts.push(p);
  }
  const b = parseIPv4(parts.join('.'));
  return b ? formatIPv4(b) : undefined;
}

// ---- AAAA ---------------------------------------------------------------------------------------

function hex32(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function encodeAAAA(address: string): string[] {
  const b = parseIPv6(address);
  if (!b) throw new EchoEncodingError(`expected an IPv6 address, found ${JSON.stringify(address)}`);
  const text = formatIPv6(b);
  // RFC 5952 §5 writes IPv4-mapped addresses with dots, which would split the label: use hex then.
  return [text.includes('.') ? hex32(b) : text.replace(/:/g, '-')];
}

export function decodeAAAA(labels: readonly string[]): string | undefined {
  if (labels.length !== 1) return undefined;
  const p = plainLabel(labels[0]!);
  if (p === undefined) return undefined;
  if (/^[0-9a-fA-F]{32}$/.test(p)) {
    const b = new Uint8Array(16);
    for (let i = 0; i < 16; i++) b[i] = parseInt(p.slice(i * 2, i * 2 + 2), 16);
    return formatIPv6(b);
  }
  if (!/^[0-9a-fA-F-]+$/.test(p)) return undefined;
  const b = parseIPv6(p.replace(/-/g, ':'));
  return b ? formatIPv6(b) : undefined;
}

// ---- TXT ----------------------------------------------------------------------------------------

const SAFE = new Set<number>();
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-_=+,:/~!') SAFE.add(c.charCodeAt(0));

function escapeByte(b: number): string {
  return '%' + b.toString(16).padStart(2, '0');
}

/** One dot-free segment of text, escaped, split into labels joined by a trailing "%". */
function encodeSegment(bytes: Uint8Array): string[] {
  const tokens: string[] = [];
  if (bytes.length === 0) return tokens;
  for (const b of bytes) tokens.push(SAFE.has(b) ? String.fromCharCode(b) : escapeByte(b));
  const labels: string[] = [];
  let cur = '';
  for (const t of tokens) {
    // Keep room for the joining "%"; an escape is never split across labels.
    if (cur.length + t.length > MAX_LABEL - 1) {
      labels.push(cur + '%');
      cur = '';
    }
    cur += t;
  }
  // Only the last chunk can be exactly "00" (the others end in the joining "%").
  labels.push(cur === '00' ? '0%30' : cur);
  return labels;
}

export function encodeTxt(text: string): string[] {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length === 0) throw new EchoEncodingError('expected a non-empty text');
  // A dot separates labels unless that would leave an empty label; then it is escaped in place.
  const segments: number[][] = [[]];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const last = segments[segments.length - 1]!;
    const emptyAfter = i + 1 >= bytes.length || bytes[i + 1] === 0x2e;
    if (b === 0x2e && last.length > 0 && !emptyAfter) segments.push([]);
    else last.push(b);
  }
  const labels: string[] = [];
  for (const seg of segments) labels.push(...encodeSegment(Uint8Array.from(seg)));
  return labels;
}

/** The raw bytes of a TXT data form; undefined when an escape is malformed. */
export function decodeTxtBytes(labels: readonly string[]): Uint8Array | undefined {
  if (labels.length === 0) return undefined;
  const out: number[] = [];
  for (let li = 0; li < labels.length; li++) {
    const b = labelBytes(labels[li]!);
    if (!b || b.length === 0) return undefined;
    let end = b.length;
    const joins = b[end - 1] === 0x25 && li < labels.length - 1;
    if (joins) end--;
    for (let i = 0; i < end; i++) {
      const c = b[i]!;
      if (c !== 0x25) {
        // Names compare case-insensitively, so an unescaped letter means its lower case (RFC 4343).
        out.push(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
        continue;
      }
      const h = String.fromCharCode(b[i + 1] ?? 0, b[i + 2] ?? 0);
      if (i + 2 >= end || !/^[0-9a-fA-F]{2}$/.test(h)) return undefined;
      out.push(parseInt(h, 16));
      i += 2;
    }
    if (!joins && li < labels.length - 1) out.push(0x2e);
  }
  return Uint8Array.from(out);
}

export function decodeTxt(labels: readonly string[]): string | undefined {
  const b = decodeTxtBytes(labels);
  return b ? new TextDecoder().decode(b) : undefined;
}

// ---- SRV ----------------------------------------------------------------------------------------

export function encodeSrv(target: string, port: number): string[] {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new EchoEncodingError(`expected a port from 0 to 65535, found ${port}`);
  let labels: string[];
  try {
    labels = splitLabels(parseName(target.endsWith('.') ? target : target + '.'));
  } catch (e) {
    throw new EchoEncodingError(`expected a host name, found ${JSON.stringify(target)}: ${(e as Error).message}`);
  }
  if (labels.length === 0) throw new EchoEncodingError('expected a host name, found the root');
  checkDataLabels(labels);
  const last = labels.length - 1;
  labels[last] = `${labels[last]}-${port}`;
  if (labels[last]!.length > MAX_LABEL) throw new EchoEncodingError(`the last label of ${target} with "-${port}" is longer than ${MAX_LABEL}`);
  return labels;
}

export function decodeSrv(labels: readonly string[]): SrvData | undefined {
  if (labels.length === 0) return undefined;
  const last = labels[labels.length - 1]!;
  const m = /^(.+)-(0|[1-9][0-9]{0,4})$/.exec(last);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const hostLabels = [...labels.slice(0, -1), m[1]!];
  for (const l of hostLabels) if (!labelBytes(l)) return undefined;
  return { target: hostLabels.join('.') + '.', port };
}

// ---- dispatch -----------------------------------------------------------------------------------

export type EchoValue<T extends EchoDataType> = T extends 'SRV' ? SrvData : string;

export function encodeData(type: 'SRV', value: SrvData): string[];
export function encodeData(type: 'A' | 'AAAA' | 'TXT', value: string): string[];
export function encodeData(type: EchoDataType, value: string | SrvData): string[];
export function encodeData(type: EchoDataType, value: string | SrvData): string[] {
  if (type === 'SRV') {
    if (typeof value === 'string') throw new EchoEncodingError('SRV data needs { target, port }');
    return encodeSrv(value.target, value.port);
  }
  if (typeof value !== 'string') throw new EchoEncodingError(`${type} data is a string`);
  return type === 'A' ? encodeA(value) : type === 'AAAA' ? encodeAAAA(value) : encodeTxt(value);
}

export function decodeData(type: 'SRV', labels: readonly string[]): SrvData | undefined;
export function decodeData(type: 'A' | 'AAAA' | 'TXT', labels: readonly string[]): string | undefined;
export function decodeData(type: EchoDataType, labels: readonly string[]): string | SrvData | undefined;
export function decodeData(type: EchoDataType, labels: readonly string[]): string | SrvData | undefined {
  switch (type) {
    case 'A':
      return decodeA(labels);
    case 'AAAA':
      return decodeAAAA(labels);
    case 'TXT':
      return decodeTxt(labels);
    case 'SRV':
      return decodeSrv(labels);
  }
}

/** Data labels for the *U methods (any labels) must be non-empty and must not contain the delimiter. */
export function checkDataLabels(labels: readonly string[]): void {
  if (labels.length === 0) throw new EchoEncodingError('expected at least one data label');
  for (const l of labels) {
    if (l.length === 0) throw new EchoEncodingError('empty data label');
    if (l.toLowerCase() === ECHO_DELIMITER) throw new EchoEncodingError(`the data label "${ECHO_DELIMITER}" is the echo delimiter (seed §2.3)`);
    if (!labelBytes(l)) throw new EchoEncodingError(`bad data label ${JSON.stringify(l)}`);
  }
}
