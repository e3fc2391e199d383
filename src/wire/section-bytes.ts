// A section of record blocks (message.ts blockSection: a DNSSEC negative answer's SOA and proofs, each
// with its RRSIGs) as the bytes it was last written as, for the next answer whose question leaves its
// compression the same. In a message of a question and that section alone, each name of the section is
// compressed against the question's suffixes and the section's earlier names only (RFC 1035 §4.1.4). Two
// questions that end in the same suffix S — the longest any name of the section shares with the first one
// — and whose label before S is not the label before S of any name of the section, give every name of the
// section the same compression: every pointer moves by the difference of the two question lengths, and
// nothing else changes. So the section is copied and its pointers moved, rather than its names hashed
// and looked up again per answer. A question that does not fit that test is written as before.
import type { RecordBlock } from './record-block.js';

/** What a block section remembers of the last time it was written (see capture). */
export interface SectionBytes {
  /** The section's bytes, as written after a question name ending at `nameEnd`. */
  readonly bytes: Uint8Array;
  /** Offsets in `bytes` of every compression pointer (2 bytes each). */
  readonly ptrs: Int32Array;
  readonly nameEnd: number;
  /** The question's suffix the section's names point into, lower-cased, root label included. */
  readonly suffix: Uint8Array;
  /** The suffix was the whole question name. */
  readonly whole: boolean;
  /** The lower-cased label (length byte first) before `suffix` in each section name ending in it. */
  readonly guards: readonly Uint8Array[];
}

/** A section array's blocks, one per RRset group in order, and what its writes taught. */
export interface BlockSection {
  readonly blocks: readonly RecordBlock[];
  /** Times it was written the general way: bytes are kept from the second time on (one use is a waste to copy). */
  uses: number;
  memo: SectionBytes | undefined;
}

/** Pointers have 14 bits: everything stays where one can reach. */
const MAX_POINTER = 0x3fff;

const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

/** Where the uncompressed name starting at b[at] ends (after its root label). */
export function nameEndAt(b: Uint8Array, at: number): number {
  while (b[at] !== 0) at += b[at]! + 1;
  return at + 1;
}

/**
 * Whether the section's memo holds for a question name at query[12, nameEnd): the same suffix at a label
 * start, a label before it that is no guard, and the copied section within a pointer's reach.
 */
export function memoFits(m: SectionBytes, query: Uint8Array, nameEnd: number): boolean {
  const s = m.suffix;
  const sAt = nameEnd - s.length;
  if (sAt < 12 || (m.whole && sAt !== 12) || nameEnd + 4 + m.bytes.length > MAX_POINTER) return false;
  // The suffix must start at a label of the question: walk its labels up to there.
  let prev = -1;
  let p = 12;
  while (p < sAt) {
    prev = p;
    p += query[p]! + 1;
  }
  if (p !== sAt) return false;
  for (let i = 0; i < s.length; i++) if (lower(query[sAt + i]!) !== s[i]) return false;
  if (prev < 0) return true;
  // The label before the suffix must not lengthen any name's match with the question.
  const len = query[prev]! + 1;
  for (const g of m.guards) {
    if (g.length !== len) continue;
    let same = true;
    for (let i = 1; i < len && same; i++) same = lower(query[prev + i]!) === g[i];
    if (same) return false;
  }
  return true;
}

/** Sections written from a memo in this process (tests read it to know the copy was taken). */
export const sectionBytesStats = { hits: 0 };

/** Copies the memo's bytes to out[at...], each pointer moved by `delta`. */
export function writeMemo(out: Uint8Array, at: number, m: SectionBytes, delta: number): void {
  sectionBytesStats.hits++;
  out.set(m.bytes, at);
  for (const p of m.ptrs) {
    const v = (((out[at + p]! & 0x3f) << 8) | out[at + p + 1]!) + delta;
    out[at + p] = 0xc0 | (v >>> 8);
    out[at + p + 1] = v & 0xff;
  }
}

/** The pointer ending the name at b[at] (its offset, or -1) and where the name ends; labels are skipped. */
function scanName(b: Uint8Array, at: number, ptrs: number[], base: number): number {
  for (;;) {
    const c = b[at]!;
    if (c === 0) return at + 1;
    if (c >= 0xc0) {
      ptrs.push(at - base);
      return at + 2;
    }
    at += c + 1;
  }
}

/**
 * What the section's bytes at buf[start, end) teach, written after the question name at buf[12, nameEnd)
 * with `count` records (each an owner, then type, class, TTL, RDLENGTH and RDATA; an SOA's MNAME and RNAME
 * may be compressed, no other RDATA name of a block is). Undefined when the section does not point into
 * the question or does not read as expected.
 */
export function capture(s: BlockSection, buf: Uint8Array, nameEnd: number, start: number, end: number, count: number): SectionBytes | undefined {
  if (end > MAX_POINTER) return undefined;
  const ptrs: number[] = [];
  let p = start;
  for (let r = 0; r < count; r++) {
    if (p >= end) return undefined;
    p = scanName(buf, p, ptrs, start);
    const type = (buf[p]! << 8) | buf[p + 1]!;
    const rdlen = (buf[p + 8]! << 8) | buf[p + 9]!;
    const rdata = p + 10;
    if (type === 6) scanName(buf, scanName(buf, rdata, ptrs, start), ptrs, start);
    p = rdata + rdlen;
  }
  if (p !== end) return undefined;
  // The deepest place in the question any pointer reaches: the suffix the section depends on.
  let sAt = nameEnd;
  for (const o of ptrs) {
    const t = ((buf[start + o]! & 0x3f) << 8) | buf[start + o + 1]!;
    if (t >= 12 && t < nameEnd && t < sAt) sAt = t;
  }
  if (sAt === nameEnd) return undefined;
  const suffix = Uint8Array.from(buf.subarray(sAt, nameEnd), lower);
  const guards: Uint8Array[] = [];
  const names: Uint8Array[] = [];
  for (const b of s.blocks) {
    // A packed block (NSEC, NSEC3) holds its owner's wire form first.
    names.push(b.owner !== undefined ? b.owner.wire : b.packed!.subarray(0, b.ownerLen));
    for (const n of b.rdataNames) names.push(n.wire);
  }
  for (const n of names) {
    // The label before the suffix in a name that ends in it.
    let prev = -1;
    let q = 0;
    while (q < n.length - suffix.length) {
      prev = q;
      q += n[q]! + 1;
    }
    if (q !== n.length - suffix.length || prev < 0) continue;
    let same = true;
    for (let i = 0; i < suffix.length && same; i++) same = lower(n[q + i]!) === suffix[i];
    if (same) guards.push(Uint8Array.from(n.subarray(prev, q), lower));
  }
  return { bytes: buf.slice(start, end), ptrs: Int32Array.from(ptrs), nameEnd, suffix, whole: sAt === 12, guards };
}
