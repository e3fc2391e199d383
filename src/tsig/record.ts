// The TSIG resource record on the wire (RFC 8945 §4.2): type 250, class ANY, TTL 0, and its rdata.
import { readNameAt, plain } from '../wire/reader.js';
import { nameToWire } from '../wire/name.js';
import { RRClass, RRType, WireError } from '../wire/types.js';

export interface TsigRecord {
  /** The key name, absolute, as it appeared (compare lower-cased). */
  keyName: string;
  /** The algorithm name, absolute. */
  algorithm: string;
  /** Seconds since the epoch (48 bits on the wire). */
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  error: number;
  other: Uint8Array;
}

/** RFC 8945 §4.3.3: names enter the digest in canonical form, uncompressed and lower case. */
export function canonicalName(name: string): Uint8Array {
  const wire = nameToWire(name);
  // Length bytes are at most 63 (below 'A'), so lowering every byte in A..Z touches only label text.
  for (let i = 0; i < wire.length; i++) {
    const c = wire[i]!;
    if (c >= 0x41 && c <= 0x5a) wire[i] = c + 0x20;
  }
  return wire;
}

export function read48(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 8) | buf[at + 1]!) * 2 ** 32 + (((buf[at + 2]! << 24) | (buf[at + 3]! << 16) | (buf[at + 4]! << 8) | buf[at + 5]!) >>> 0);
}

export function write48(buf: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / 2 ** 32);
  const lo = v >>> 0;
  buf[at] = (hi >>> 8) & 0xff;
  buf[at + 1] = hi & 0xff;
  buf[at + 2] = lo >>> 24;
  buf[at + 3] = (lo >>> 16) & 0xff;
  buf[at + 4] = (lo >>> 8) & 0xff;
  buf[at + 5] = lo & 0xff;
}

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/**
 * Decodes the TSIG record starting at `at` (its owner name), which must end the message. Throws
 * WireError for anything RFC 8945 §4.2 does not allow: the caller answers FORMERR (§5.1).
 */
export function parseTsigAt(input: Uint8Array, at: number): TsigRecord {
  const buf = plain(input);
  const owner = readNameAt(buf, at);
  let p = owner.end;
  if (p + 10 > buf.length) throw new WireError('truncated TSIG record', p);
  if (u16(buf, p) !== RRType.TSIG) throw new WireError('not a TSIG record', p);
  if (u16(buf, p + 2) !== RRClass.ANY) throw new WireError('TSIG class is not ANY', p + 2);
  if (u16(buf, p + 4) !== 0 || u16(buf, p + 6) !== 0) throw new WireError('TSIG TTL is not 0', p + 4);
  const rdlen = u16(buf, p + 8);
  p += 10;
  const end = p + rdlen;
  if (end !== buf.length) throw new WireError('TSIG rdata does not end the message', p - 2);
  const alg = readNameAt(buf, p);
  p = alg.end;
  if (p + 10 > end) throw new WireError('TSIG rdata too short', p);
  const timeSigned = read48(buf, p);
  const fudge = u16(buf, p + 6);
  const macSize = u16(buf, p + 8);
  p += 10;
  if (p + macSize + 6 > end) throw new WireError('TSIG MAC overruns the rdata', p - 2);
  const mac = buf.slice(p, p + macSize);
  p += macSize;
  const originalId = u16(buf, p);
  const error = u16(buf, p + 2);
  const otherLen = u16(buf, p + 4);
  p += 6;
  if (p + otherLen !== end) throw new WireError('TSIG Other Len does not match the rdata', p - 2);
  return { keyName: owner.name, algorithm: alg.name, timeSigned, fudge, mac, originalId, error, other: buf.slice(p, end) };
}

/** The whole TSIG RR, names uncompressed (RFC 8945 §4.2: the algorithm name must not be compressed). */
export function encodeTsigRecord(r: TsigRecord): Uint8Array {
  const owner = canonicalName(r.keyName);
  const alg = canonicalName(r.algorithm);
  const rdlen = alg.length + 16 + r.mac.length + r.other.length;
  const out = new Uint8Array(owner.length + 10 + rdlen);
  out.set(owner, 0);
  let p = owner.length;
  const put16 = (v: number) => {
    out[p++] = (v >>> 8) & 0xff;
    out[p++] = v & 0xff;
  };
  put16(RRType.TSIG);
  put16(RRClass.ANY);
  put16(0);
  put16(0);
  put16(rdlen);
  out.set(alg, p);
  p += alg.length;
  write48(out, p, r.timeSigned);
  p += 6;
  put16(r.fudge);
  put16(r.mac.length);
  out.set(r.mac, p);
  p += r.mac.length;
  put16(r.originalId);
  put16(r.error);
  put16(r.other.length);
  out.set(r.other, p);
  return out;
}

/** Bytes the record will take: for reserving room under a size limit before the MAC exists. */
export function tsigRecordLength(keyName: string, algorithm: string, macSize: number, otherLen: number): number {
  return nameToWire(keyName).length + 10 + nameToWire(algorithm).length + 16 + macSize + otherLen;
}
