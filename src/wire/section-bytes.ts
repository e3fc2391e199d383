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

/**
 * What a block section remembers of the last time it was written (see capture), in one buffer and in the
 * section's own object: sections are many (one per proof pair) and each is cold in the CPU cache when a
 * random name needs it, so its parts lie in one run of bytes rather than behind a memo object, four arrays
 * and an array of guards (a cache miss each).
 */
export interface SectionBytes {
  /**
   * Undefined until a write was learnt. data[0, len): the section's bytes, as written after a question name
   * ending at `nameEnd`; then the question's suffix the section's names point into (lower-cased, root label
   * included, `suffixLen` bytes); then the guards, `guardsLen` bytes: each the lower-cased label (length
   * byte first) before the suffix in a section name ending in it; then the offsets in the section's bytes
   * of every compression pointer, `ptrCount` of them, 2 bytes each, big-endian.
   */
  data: Uint8Array | undefined;
  /** The section's length as written (the head's bytes included). */
  len: number;
  /** Bytes of the section held in `data` (after the head's, when there is one). */
  own: number;
  /**
   * The first block's bytes when they are those of every section that begins with that block and is
   * written the same way (a negative answer's SOA and its RRSIGs, shared by thousands of NXDOMAIN
   * sections): kept once and warm in the CPU cache, not copied into each section's own bytes.
   */
  head: SharedHead | undefined;
  nameEnd: number;
  suffixLen: number;
  guardsLen: number;
  ptrCount: number;
  /** The suffix was the whole question name. */
  whole: boolean;
}

/** A first block's bytes as written after a question name ending at `nameEnd`, then its pointers' offsets (2 bytes each). */
export interface SharedHead {
  readonly data: Uint8Array;
  readonly len: number;
  readonly nameEnd: number;
  readonly ptrCount: number;
}

/** The shared head of each first block, learnt from the first section written with it (see capture). */
const sharedHeads = new WeakMap<RecordBlock, SharedHead>();

/** A section array's blocks, one per RRset group in order, and what its writes taught. */
export interface BlockSection extends SectionBytes {
  readonly blocks: readonly RecordBlock[];
  /** Times it was written the general way: bytes are kept from the second time on (one use is a waste to copy). */
  uses: number;
}

/** A block section that has learnt nothing yet. */
export function newBlockSection(blocks: readonly RecordBlock[]): BlockSection {
  return { blocks, uses: 0, data: undefined, len: 0, own: 0, head: undefined, nameEnd: 0, suffixLen: 0, guardsLen: 0, ptrCount: 0, whole: false };
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
  const d = m.data;
  if (d === undefined) return false;
  const sLen = m.suffixLen;
  const sAt = nameEnd - sLen;
  if (sAt < 12 || (m.whole && sAt !== 12) || nameEnd + 4 + m.len > MAX_POINTER) return false;
  // The suffix must start at a label of the question: walk its labels up to there.
  let prev = -1;
  let p = 12;
  while (p < sAt) {
    prev = p;
    p += query[p]! + 1;
  }
  if (p !== sAt) return false;
  const s0 = m.own;
  for (let i = 0; i < sLen; i++) if (lower(query[sAt + i]!) !== d[s0 + i]) return false;
  if (prev < 0) return true;
  // The label before the suffix must not lengthen any name's match with the question.
  const len = query[prev]! + 1;
  for (let g = s0 + sLen, gEnd = g + m.guardsLen; g < gEnd; g += d[g]! + 1) {
    if (d[g]! + 1 !== len) continue;
    let same = true;
    for (let i = 1; i < len && same; i++) same = lower(query[prev + i]!) === d[g + i];
    if (same) return false;
  }
  return true;
}

/** Sections written from a memo in this process, and of them those with a shared head (tests read it to know the copy was taken). */
export const sectionBytesStats = { hits: 0, sharedHeads: 0 };

/** Copies the memo's bytes to out[at...] (its shared head first), each pointer moved by `delta`. */
export function writeMemo(out: Uint8Array, at: number, m: SectionBytes, delta: number): void {
  sectionBytesStats.hits++;
  const h = m.head;
  if (h !== undefined) {
    sectionBytesStats.sharedHeads++;
    // Captured after a question of another length than the section's bytes were: its own move.
    out.set(h.data.subarray(0, h.len), at);
    movePointers(out, at, h.data, h.len, h.ptrCount, delta + m.nameEnd - h.nameEnd);
  }
  const d = m.data!;
  out.set(d.subarray(0, m.own), at + m.len - m.own);
  movePointers(out, at, d, m.own + m.suffixLen + m.guardsLen, m.ptrCount, delta);
}

/** Moves by `delta` the pointers at out[at + offset] for the `count` 2-byte offsets at d[k...]. */
function movePointers(out: Uint8Array, at: number, d: Uint8Array, k: number, count: number, delta: number): void {
  for (const end = k + 2 * count; k < end; k += 2) {
    const p = at + ((d[k]! << 8) | d[k + 1]!);
    const v = (((out[p]! & 0x3f) << 8) | out[p + 1]!) + delta;
    out[p] = 0xc0 | (v >>> 8);
    out[p + 1] = v & 0xff;
  }
}

/**
 * The shared head of `block` if the section's first `headLen` bytes at buf[start...] (pointers at `ptrs`,
 * offsets from start, ascending) are its bytes with every pointer moved by the same difference of question
 * lengths; the first such bytes learnt become it. Undefined when they differ (a question whose suffix
 * lengthened one of the block's names): the section then keeps every byte itself.
 */
function sharedHead(block: RecordBlock, buf: Uint8Array, start: number, headLen: number, ptrs: readonly number[], nameEnd: number): SharedHead | undefined {
  let n = 0;
  while (n < ptrs.length && ptrs[n]! < headLen) n++;
  const known = sharedHeads.get(block);
  if (known === undefined) {
    const data = new Uint8Array(headLen + 2 * n);
    data.set(buf.subarray(start, start + headLen), 0);
    for (let i = 0; i < n; i++) {
      data[headLen + 2 * i] = ptrs[i]! >>> 8;
      data[headLen + 2 * i + 1] = ptrs[i]! & 0xff;
    }
    const h: SharedHead = { data, len: headLen, nameEnd, ptrCount: n };
    sharedHeads.set(block, h);
    return h;
  }
  if (known.len !== headLen || known.ptrCount !== n) return undefined;
  const d = known.data;
  const delta = nameEnd - known.nameEnd;
  let i = 0;
  for (let k = 0; k < headLen; k++) {
    if (i < n && k === ptrs[i]) {
      if (((d[headLen + 2 * i]! << 8) | d[headLen + 2 * i + 1]!) !== k) return undefined;
      const want = (((d[k]! & 0x3f) << 8) | d[k + 1]!) + delta;
      if (buf[start + k] !== (0xc0 | (want >>> 8)) || buf[start + k + 1] !== (want & 0xff)) return undefined;
      k++;
      i++;
    } else if (buf[start + k] !== d[k]) return undefined;
  }
  return known;
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
 * Learns what the section's bytes at buf[start, end) teach, written after the question name at buf[12, nameEnd)
 * with `count` records (each an owner, then type, class, TTL, RDLENGTH and RDATA; an SOA's MNAME and RNAME
 * may be compressed, no other RDATA name of a block is), into `s`. False, `s` unchanged, when the section
 * does not point into the question or does not read as expected.
 */
export function capture(s: BlockSection, buf: Uint8Array, nameEnd: number, start: number, end: number, count: number): boolean {
  if (end > MAX_POINTER) return false;
  const ptrs: number[] = [];
  let p = start;
  // The first block's records end where its bytes do (blocks are whole sets, message.ts blockSection).
  const headCount = s.blocks.length > 1 ? s.blocks[0]!.records.length : 0;
  let headEnd = start;
  for (let r = 0; r < count; r++) {
    if (r === headCount) headEnd = p;
    if (p >= end) return false;
    p = scanName(buf, p, ptrs, start);
    const type = (buf[p]! << 8) | buf[p + 1]!;
    const rdlen = (buf[p + 8]! << 8) | buf[p + 9]!;
    const rdata = p + 10;
    if (type === 6) scanName(buf, scanName(buf, rdata, ptrs, start), ptrs, start);
    p = rdata + rdlen;
  }
  if (p !== end) return false;
  // The deepest place in the question any pointer reaches: the suffix the section depends on.
  let sAt = nameEnd;
  for (const o of ptrs) {
    const t = ((buf[start + o]! & 0x3f) << 8) | buf[start + o + 1]!;
    if (t >= 12 && t < nameEnd && t < sAt) sAt = t;
  }
  if (sAt === nameEnd) return false;
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
  const len = end - start;
  const head = headEnd > start ? sharedHead(s.blocks[0]!, buf, start, headEnd - start, ptrs, nameEnd) : undefined;
  const headLen = head !== undefined ? head.len : 0;
  const own = len - headLen;
  const ownPtrs = head !== undefined ? ptrs.filter((q) => q >= headLen) : ptrs;
  const guardsLen = guards.reduce((n, g) => n + g.length, 0);
  const data = new Uint8Array(own + suffix.length + guardsLen + 2 * ownPtrs.length);
  data.set(buf.subarray(start + headLen, end), 0);
  data.set(suffix, own);
  let o = own + suffix.length;
  for (const g of guards) {
    data.set(g, o);
    o += g.length;
  }
  for (const q of ownPtrs) {
    data[o++] = q >>> 8;
    data[o++] = q & 0xff;
  }
  s.data = data;
  s.len = len;
  s.own = own;
  s.head = head;
  s.nameEnd = nameEnd;
  s.suffixLen = suffix.length;
  s.guardsLen = guardsLen;
  s.ptrCount = ownPtrs.length;
  s.whole = sAt === 12;
  return true;
}
