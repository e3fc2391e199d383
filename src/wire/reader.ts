// Bounds-checked cursor over a DNS message and safe name decompression (RFC 1035 §4.1.4).

import { WireError } from './types.js';
import { nameFromLabels } from './name.js';

/**
 * A name has at most 127 labels, so a well-formed name needs at most 127 pointer hops; anything
 * beyond is hostile. Pointers must also point strictly backwards (see scanName), which on its own
 * already guarantees termination; the hop bound keeps the worst case cheap.
 */
const MAX_HOPS = 127;

/** Negative results of scanName; the reason strings are shared with the fast path. */
export const NAME_TRUNCATED = -1;
export const NAME_BAD_POINTER = -2;
export const NAME_LABEL_TYPE = -3;
export const NAME_TOO_LONG = -4;
export const NAME_TOO_MANY_HOPS = -5;

export function nameErrorReason(code: number): string {
  switch (code) {
    case NAME_TRUNCATED: return 'truncated name';
    case NAME_BAD_POINTER: return 'compression pointer does not point backwards';
    case NAME_LABEL_TYPE: return 'reserved label type';
    case NAME_TOO_LONG: return 'name longer than 255 bytes';
    default: return 'too many compression pointers';
  }
}

/**
 * Scratch output of scanName when `collect` is set: the label bytes joined by 0x2e, so that names
 * needing no escapes become text with a single String.fromCharCode call. 255 wire bytes leave at
 * most 254 bytes of labels and dots.
 */
const scratch = new Uint8Array(256);
/**
 * The same bytes as a Buffer: its latin1 decoding makes the text in one native call, about 2.5 × faster
 * than String.fromCharCode.apply over a subarray for a name of 20–30 bytes (the question of every query).
 */
const scratchText = Buffer.from(scratch.buffer, scratch.byteOffset, scratch.byteLength);
let scratchLen = 0;
let scratchNeedsEscape = false;
/** Offset where scanName found the problem (for error reporting). */
let scanErrorOffset = 0;

/** Bytes that labelToText (name.ts) escapes: controls, space, DEL and up, and . \ " ( ) ; @ $. */
const NEEDS_ESCAPE = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  if (b <= 0x20 || b >= 0x7f) NEEDS_ESCAPE[b] = 1;
}
for (const c of '.\\"();@$ ') NEEDS_ESCAPE[c.charCodeAt(0)] = 1;

/**
 * Walks the name at `off` without throwing. Returns the offset just past the name as it sits at
 * `off` (after the first pointer, if any), or a negative NAME_* code. Rules: labels ≤ 63 (the
 * 0x40/0x80 label types are reserved, RFC 6891 §5 retired 0x40), total wire length ≤ 255, and
 * every pointer must point strictly before the start of the segment that contains it, which
 * rules out loops, self pointers and forward pointers.
 */
export function scanName(buf: Uint8Array, off: number, collect: boolean): number {
  const end = buf.length;
  let pos = off;
  let segStart = off;
  let next = -1;
  let wireLen = 1;
  let hops = 0;
  let out = 0;
  let esc = false;
  for (;;) {
    if (pos >= end) { scanErrorOffset = pos; return NAME_TRUNCATED; }
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= end) { scanErrorOffset = pos; return NAME_TRUNCATED; }
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (target >= segStart) { scanErrorOffset = pos; return NAME_BAD_POINTER; }
      if (++hops > MAX_HOPS) { scanErrorOffset = pos; return NAME_TOO_MANY_HOPS; }
      if (next < 0) next = pos + 2;
      pos = segStart = target;
      continue;
    }
    if (kind !== 0) { scanErrorOffset = pos; return NAME_LABEL_TYPE; }
    wireLen += len + 1;
    if (wireLen > 255) { scanErrorOffset = pos; return NAME_TOO_LONG; }
    const lEnd = pos + 1 + len;
    if (lEnd > end) { scanErrorOffset = pos; return NAME_TRUNCATED; }
    if (collect) {
      for (let i = pos + 1; i < lEnd; i++) {
        const b = buf[i]!;
        if (NEEDS_ESCAPE[b] === 1) esc = true;
        scratch[out++] = b;
      }
      scratch[out++] = 0x2e;
    }
    pos = lEnd;
  }
  scratchLen = out;
  scratchNeedsEscape = esc;
  return next;
}

/** Offset of the last scanName failure. */
export function lastScanErrorOffset(): number {
  return scanErrorOffset;
}

/**
 * Text of the name scanned last with `collect`. The rare names that need escapes are rebuilt
 * label by label through nameFromLabels, the one canonical formatter.
 */
export function scannedNameText(buf: Uint8Array, off: number): string {
  if (scratchLen === 0) return '.';
  if (!scratchNeedsEscape) {
    return scratchText.toString('latin1', 0, scratchLen);
  }
  return nameFromLabels(collectLabels(buf, off));
}

/** Labels of an already validated name, as subarrays of `buf`. */
function collectLabels(buf: Uint8Array, off: number): Uint8Array[] {
  const labels: Uint8Array[] = [];
  let pos = off;
  for (;;) {
    const len = buf[pos]!;
    if (len === 0) return labels;
    if ((len & 0xc0) === 0xc0) {
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    labels.push(buf.subarray(pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
}

/** Reads a name at `off` and returns its text and the offset after it, or throws WireError. */
export function readNameAt(buf: Uint8Array, off: number): { name: string; end: number } {
  // An undefined or fractional offset compares false against every bound and would never end.
  if (!Number.isInteger(off) || off < 0) throw new WireError('name offset is not a byte position', 0);
  const endOff = scanName(buf, off, true);
  if (endOff < 0) throw new WireError(nameErrorReason(endOff), scanErrorOffset);
  return { name: scannedNameText(buf, off), end: endOff };
}

/**
 * A plain Uint8Array view of `buf`. Node's Buffer (what sockets hand over) overrides slice() to
 * return a view instead of a copy; reading through a plain view makes slice() copy as specified
 * and keeps Buffer out of decoded values.
 */
export function plain(buf: Uint8Array): Uint8Array {
  return buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export class Reader {
  /** The whole message: compression pointers are offsets into it. */
  readonly buf: Uint8Array;
  pos: number;

  constructor(buf: Uint8Array, pos = 0) {
    this.buf = plain(buf);
    this.pos = pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new WireError(`need ${n} bytes, ${this.buf.length - this.pos} left`, this.pos);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** A view into the message (no copy); callers that keep it past the buffer's life must copy. */
  bytes(n: number): Uint8Array {
    this.need(n);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /** Like bytes() but an independent copy. */
  copy(n: number): Uint8Array {
    this.need(n);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.slice(p, p + n);
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** Reads a possibly compressed name; case is preserved. */
  readName(): string {
    const start = this.pos;
    const next = scanName(this.buf, start, true);
    if (next < 0) throw new WireError(nameErrorReason(next), scanErrorOffset);
    this.pos = next;
    return scannedNameText(this.buf, start);
  }

  /** Validates and skips a name without building its text. */
  skipName(): void {
    const next = scanName(this.buf, this.pos, false);
    if (next < 0) throw new WireError(nameErrorReason(next), scanErrorOffset);
    this.pos = next;
  }
}
