// Reads the RDATA of NSEC, NSEC3 and NSEC3PARAM (RFC 4034 §4.1; RFC 5155 §3.2, §4.2) and type bitmaps; RRSIG: parseRrsig in ../rrsig.ts.
import { readNameAt } from '../../wire/reader.js';
import type { OpaqueRdata, ResourceRecord } from '../../wire/types.js';

export interface NsecFields {
  next: string;
  /** The type bitmap's bytes (RFC 4034 §4.1.2), read with bitmapHas. */
  bitmap: Uint8Array;
}

export interface Nsec3Fields {
  algorithm: number;
  /** Bit 0 (0x01): opt-out (RFC 5155 §3.1.2.1). */
  flags: number;
  iterations: number;
  salt: Uint8Array;
  nextHash: Uint8Array;
  bitmap: Uint8Array;
}

export interface Nsec3ParamFields {
  algorithm: number;
  flags: number;
  iterations: number;
  salt: Uint8Array;
}

/** The wire RDATA of a record the zone holds in RFC 3597 form; undefined for structured RDATA. */
export function rawRdata(rr: ResourceRecord): Uint8Array | undefined {
  const raw = (rr.data as Partial<OpaqueRdata>).raw;
  return raw instanceof Uint8Array ? raw : undefined;
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Throws when the RDATA is too short; the zone parser already checked the text form. */
function need(b: Uint8Array, n: number, what: string): void {
  if (b.length < n) throw new Error(`${what} RDATA is ${b.length} bytes, shorter than its fixed fields`);
}

/** Just the type an RRSIG covers, without reading the rest. */
export function rrsigTypeCovered(b: Uint8Array): number {
  need(b, 2, 'RRSIG');
  return u16(b, 0);
}

export function readNsec(b: Uint8Array): NsecFields {
  const { name, end } = readNameAt(b, 0);
  return { next: name, bitmap: b.subarray(end) };
}

export function readNsec3(b: Uint8Array): Nsec3Fields {
  need(b, 5, 'NSEC3');
  const saltLen = b[4]!;
  const hashAt = 5 + saltLen;
  need(b, hashAt + 1, 'NSEC3');
  const hashLen = b[hashAt]!;
  need(b, hashAt + 1 + hashLen, 'NSEC3');
  return {
    algorithm: b[0]!,
    flags: b[1]!,
    iterations: u16(b, 2),
    salt: b.subarray(5, hashAt),
    nextHash: b.subarray(hashAt + 1, hashAt + 1 + hashLen),
    bitmap: b.subarray(hashAt + 1 + hashLen),
  };
}

export function readNsec3Param(b: Uint8Array): Nsec3ParamFields {
  need(b, 5, 'NSEC3PARAM');
  const saltLen = b[4]!;
  need(b, 5 + saltLen, 'NSEC3PARAM');
  return { algorithm: b[0]!, flags: b[1]!, iterations: u16(b, 2), salt: b.subarray(5, 5 + saltLen) };
}

/** RFC 4034 §4.1.2: whether the window-block bitmap lists `type`. */
export function bitmapHas(bitmap: Uint8Array, type: number): boolean {
  const window = type >> 8;
  const bit = type & 0xff;
  let o = 0;
  while (o + 2 <= bitmap.length) {
    const w = bitmap[o]!;
    const len = bitmap[o + 1]!;
    if (w === window) {
      const byte = bit >> 3;
      return byte < len && o + 2 + byte < bitmap.length + 0 && (bitmap[o + 2 + byte]! & (0x80 >> (bit & 7))) !== 0;
    }
    if (w > window) return false;
    o += 2 + len;
  }
  return false;
}

/** Every type a bitmap lists, ascending. */
export function bitmapTypes(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  let o = 0;
  while (o + 2 <= bitmap.length) {
    const w = bitmap[o]!;
    const len = bitmap[o + 1]!;
    for (let i = 0; i < len && o + 2 + i < bitmap.length; i++) {
      const byte = bitmap[o + 2 + i]!;
      for (let k = 0; k < 8; k++) if (byte & (0x80 >> k)) out.push(w * 256 + i * 8 + k);
    }
    o += 2 + len;
  }
  return out;
}
