// Growable message writer with case-insensitive name compression (RFC 1035 §4.1.4). One writer can be
// reused for every message (reset()): its buffer and its compression table are kept, so writing a
// message allocates nothing but what grows.

import { WireError } from './types.js';

/** Pointers have 14 bits, so only names starting below 0x4000 can be compression targets. */
const MAX_POINTER = 0x3fff;
/** Table entries at first; grown by doubling (a label takes at least 2 bytes, so at most 8,192 are reachable). */
const FIRST_TARGETS = 64;
const BUCKETS = 256;
const BUCKET_MASK = BUCKETS - 1;
/** A name has at most 127 labels (255 bytes). */
const MAX_LABELS = 128;

/** An uncompressed wire name with its label offsets and the compression table's suffix hashes (lower-cased). */
export interface PreparedName {
  readonly wire: Uint8Array;
  readonly labelAt: Int32Array;
  readonly hashes: Int32Array;
}

/** Prepares the uncompressed wire name `wire` (not the root) for Writer.writePreparedName. */
export function prepareName(wire: Uint8Array): PreparedName {
  const starts: number[] = [];
  for (let p = 0; wire[p] !== 0; p += wire[p]! + 1) starts.push(p);
  const labelAt = Int32Array.from(starts);
  const hashes = new Int32Array(starts.length);
  suffixHashes(wire, labelAt, starts.length, false, hashes);
  return { wire, labelAt, hashes };
}

/** The hash of each suffix of the name whose labels start at b[labelAt[i]], into `out` (see Writer's table). */
function suffixHashes(b: Uint8Array, labelAt: Int32Array, labels: number, exact: boolean, out: Int32Array): void {
  // Suffix hashes from the root label up, over lower-cased bytes (exact names hash their case too).
  let h = exact ? 0x2545f491 : 0x811c9dc5;
  for (let l = labels - 1; l >= 0; l--) {
    const p = labelAt[l]!;
    const end = p + 1 + b[p]!;
    h = Math.imul(h ^ b[p]!, 0x01000193);
    for (let k = p + 1; k < end; k++) {
      let c = b[k]!;
      if (!exact && c >= 0x41 && c <= 0x5a) c |= 0x20;
      h = Math.imul(h ^ c, 0x01000193);
    }
    out[l] = h;
  }
}

export class Writer {
  buf: Uint8Array;
  pos = 0;
  /**
   * The compression table: every name suffix written at an offset a pointer can reach, keyed by a hash
   * of its lower-cased wire bytes (no strings). A hit is confirmed by comparing the bytes in the message
   * itself, following its pointers. Entries sit in arrays in the order they were written, so rollback()
   * pops them and reset() forgets them without allocating; each bucket holds the newest entry's index,
   * each entry the index of the next older one in its bucket.
   */
  // Made on the first compressed name: writers that never compress (canonical RDATA for DNSSEC) skip them.
  private head: Int32Array | undefined;
  private entryAt = new Int32Array(0);
  private entryHash = new Int32Array(0);
  private entryNext = new Int32Array(0);
  /**
   * 1 for a suffix of an RDATA name written with upper-case letters (keepCase): such a name points only
   * at its own spelling, and nothing else points at it: it reads back as the zone wrote it (as BIND
   * does; Knot lower-cases such names when it loads them), and a lower-case name never picks up its letters.
   */
  private entryExact = new Uint8Array(0);
  private entries = 0;
  /** Label starts and suffix hashes of the name being written. */
  private labelAt = new Int32Array(0);
  private suffixHash = new Int32Array(0);
  /**
   * Where a name written by writeNameWireLater starts (-1: none): its suffixes go into the table just
   * before the next name is compressed. A message whose later names never compress (an A or TXT answer
   * whose owner is a pointer to the question, a negative answer from its template) never hashes it.
   */
  private later = -1;

  constructor(initialSize = 512) {
    this.buf = new Uint8Array(Math.max(16, initialSize));
  }

  /** Starts a new message: the buffer and the table are kept, their contents forgotten. */
  reset(): void {
    this.rollback(0);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  u8(v: number): void {
    if (v >>> 0 !== v || v > 0xff) throw new RangeError(`u8 out of range: ${v}`);
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    if (v >>> 0 !== v || v > 0xffff) throw new RangeError(`u16 out of range: ${v}`);
    if (this.pos + 2 > this.buf.length) this.grow(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }

  u32(v: number): void {
    if (v >>> 0 !== v) throw new RangeError(`u32 out of range: ${v}`);
    if (this.pos + 4 > this.buf.length) this.grow(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  bytes(data: Uint8Array): void {
    if (this.pos + data.length > this.buf.length) this.grow(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Copies src[start, end) without making a view of it. */
  bytesFrom(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.pos + n > this.buf.length) this.grow(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) b[p++] = src[i]!;
    this.pos = p;
  }

  /** Makes room for `n` bytes, advances past them and returns where they start (filled by the caller). */
  reserve(n: number): number {
    if (this.pos + n > this.buf.length) this.grow(n);
    const at = this.pos;
    this.pos = at + n;
    return at;
  }

  /** Overwrites a u16 written earlier (counts, rdlength). */
  patchU16(at: number, v: number): void {
    if (v >>> 0 !== v || v > 0xffff) throw new RangeError(`u16 out of range: ${v}`);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v;
  }

  /**
   * Writes an absolute canonical name. With `compress`, a known suffix becomes a pointer and the
   * new suffixes are remembered; matching is case-insensitive (as BIND does; RFC 4343 makes the
   * names equal). Without it (RFC 3597 §4: DNAME, SRV, unknown types) the name is written in
   * full and not registered either, so nothing ever points into uncompressible rdata.
   * `keepCase` marks a name inside RDATA: see `entryExact`. A lower-case one still points at any case,
   * so an answer is laid out the same whatever the case of the question (the answer cache relies
   * on that).
   */
  writeName(name: string, compress: boolean, keepCase = false): void {
    const n = name.length;
    if (n === 0 || name.charCodeAt(n - 1) !== 0x2e) throw new WireError(`name is not absolute: ${JSON.stringify(name)}`, this.pos);
    if (n === 1) {
      this.u8(0);
      return;
    }
    // Worst case without escapes is n + 1 bytes; escapes only shrink it.
    if (this.pos + n + 1 > this.buf.length) this.grow(n + 1);
    if (compress && this.later >= 0) this.registerLater();
    const start = this.pos;
    const b = this.buf;
    const labelAt = compress ? this.tables().labelAt : this.labelAt;
    let labels = 0;
    let upper = false;
    let p = start;
    let i = 0;
    while (i < n) {
      const lenAt = p++;
      if (compress && labels < MAX_LABELS) labelAt[labels] = lenAt;
      labels++;
      let c = name.charCodeAt(i);
      while (c !== 0x2e) {
        if (c === 0x5c) {
          const d0 = name.charCodeAt(i + 1) - 0x30;
          if (d0 >= 0 && d0 <= 9) {
            const d1 = name.charCodeAt(i + 2) - 0x30;
            const d2 = name.charCodeAt(i + 3) - 0x30;
            if (!(d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) throw this.fail('bad \\DDD escape', name, start);
            c = d0 * 100 + d1 * 10 + d2;
            if (c > 255) throw this.fail('escape above 255', name, start);
            i += 3;
          } else {
            c = name.charCodeAt(i + 1);
            if (Number.isNaN(c)) throw this.fail('lone backslash', name, start);
            i += 1;
          }
        }
        if (c > 0xff) throw this.fail('character outside Latin-1', name, start);
        if (c >= 0x41 && c <= 0x5a) upper = true;
        b[p++] = c;
        // An escaped final dot leaves the name without its terminating one.
        if (++i >= n) throw this.fail('name is not absolute', name, start);
        c = name.charCodeAt(i);
      }
      const len = p - lenAt - 1;
      if (len === 0) throw this.fail('empty label', name, start);
      if (len > 63) throw this.fail('label longer than 63 bytes', name, start);
      b[lenAt] = len;
      i++;
    }
    b[p++] = 0;
    if (p - start > 255) throw this.fail('name longer than 255 bytes', name, start);
    this.pos = p;
    if (compress) this.compressWritten(start, labels, keepCase && upper);
  }

  /**
   * Writes the uncompressed wire name at `src[at]` (as a zone or a query holds it), compressing it like
   * writeName. The caller vouches for the name (lengths checked when it was read).
   */
  writeNameWire(src: Uint8Array, at: number, compress: boolean, keepCase = false): void {
    let end = at;
    while (src[end] !== 0) end += src[end]! + 1;
    const n = end + 1 - at;
    if (this.pos + n > this.buf.length) this.grow(n);
    const start = this.pos;
    // A byte loop: a name is short, and a subarray to set() from would be an allocation per name.
    const dst = this.buf;
    for (let i = 0; i < n; i++) dst[start + i] = src[at + i]!;
    this.pos = start + n;
    if (!compress || n === 1) return;
    if (this.later >= 0) this.registerLater();
    const labelAt = this.tables().labelAt;
    let labels = 0;
    let upper = false;
    const b = this.buf;
    for (let p = start; b[p] !== 0; p += b[p]! + 1) {
      labelAt[labels++] = p;
      if (keepCase && !upper) for (let k = p + 1, e = p + 1 + b[p]!; k < e; k++) if (b[k]! >= 0x41 && b[k]! <= 0x5a) upper = true;
    }
    this.compressWritten(start, labels, keepCase && upper);
  }

  /**
   * Writes a name prepared once (prepareName) for names written again and again (a DNSSEC proof's owner):
   * as writeNameWire with compression and without keepCase, but the bytes are copied at once and the
   * suffix hashes are the prepared ones, so only a hash hit reads the message's bytes.
   */
  writePreparedName(n: PreparedName): void {
    const wire = n.wire;
    const len = wire.length;
    if (this.pos + len > this.buf.length) this.grow(len);
    const start = this.pos;
    this.buf.set(wire, start);
    this.pos = start + len;
    if (this.later >= 0) this.registerLater();
    this.tables();
    this.compressPrepared(start, n.labelAt, n.hashes, 0, n.labelAt.length);
  }

  /**
   * Compresses the name just copied to `start` whose label offsets (relative to start) are offs[0, labels)
   * and suffix hashes hashes[hashAt, hashAt + labels): the first suffix the table holds becomes a pointer
   * (pos moves to after it), and the suffixes before it are added to the table.
   */
  private compressPrepared(start: number, offs: Int32Array, hashes: Int32Array, hashAt: number, labels: number): void {
    const b = this.buf;
    let l = 0;
    for (; l < labels; l++) {
      const at = this.find(start + offs[l]!, hashes[hashAt + l]!, 0);
      if (at >= 0) {
        const p = start + offs[l]!;
        b[p] = 0xc0 | (at >>> 8);
        b[p + 1] = at & 0xff;
        this.pos = p + 2;
        break;
      }
    }
    for (let k = 0; k < l; k++) {
      const p = start + offs[k]!;
      if (p > MAX_POINTER) break;
      this.add(p, hashes[hashAt + k]!, 0);
    }
  }

  /**
   * Writes `packed`: an uncompressed wire name of `nameLen` bytes followed by bytes copied as they are,
   * all in one copy; the name is compressed as writePreparedName does (label offsets in meta[0, labels),
   * their suffix hashes in meta[labels, 2 * labels)) and the bytes after it moved up to where it ends.
   * Returns where the name ends (the copied bytes start); pos is after them.
   */
  writePackedName(packed: Uint8Array, nameLen: number, meta: Int32Array, labels: number): number {
    const total = packed.length;
    if (this.pos + total > this.buf.length) this.grow(total);
    const start = this.pos;
    this.buf.set(packed, start);
    this.pos = start + nameLen;
    if (this.later >= 0) this.registerLater();
    this.tables();
    this.compressPrepared(start, meta, meta, labels, labels);
    const end = this.pos;
    if (end !== start + nameLen) this.buf.copyWithin(end, start + nameLen, start + total);
    this.pos = end + total - nameLen;
    return end;
  }

  /**
   * Writes the uncompressed wire name at `src[at]` as the first name of a message (the question, copied
   * from the query): as writeNameWire with compression, but its suffixes are registered only when a
   * later name is compressed (`later`) — until then nothing could point at them.
   */
  writeNameWireLater(src: Uint8Array, at: number): void {
    if (this.entries > 0 || this.later >= 0) return this.writeNameWire(src, at, true);
    const start = this.pos;
    this.writeNameWire(src, at, false);
    if (this.pos - start > 1 && start <= MAX_POINTER) this.later = start;
  }

  /** Registers the suffixes of the name writeNameWireLater wrote (the table is empty before it). */
  private registerLater(): void {
    const start = this.later;
    this.later = -1;
    const labelAt = this.tables().labelAt;
    const b = this.buf;
    let labels = 0;
    for (let p = start; b[p] !== 0; p += b[p]! + 1) labelAt[labels++] = p;
    this.hashSuffixes(labels, false);
    for (let k = 0; k < labels; k++) {
      const p = labelAt[k]!;
      if (p > MAX_POINTER) break;
      this.add(p, this.suffixHash[k]!, 0);
    }
  }

  /** The hash of each suffix of the name whose labels are at labelAt, into suffixHash. */
  private hashSuffixes(labels: number, exact: boolean): void {
    suffixHashes(this.buf, this.labelAt, labels, exact, this.suffixHash);
  }

  /**
   * The name just written uncompressed at `start` (labels at labelAt): replaces its longest suffix
   * already in the message by a pointer and registers the suffixes before it. `exact`: the name keeps
   * its case (see entryExact).
   */
  private compressWritten(start: number, labels: number, exact: boolean): void {
    const b = this.buf;
    const labelAt = this.labelAt;
    const hashes = this.suffixHash;
    this.hashSuffixes(labels, exact);
    const flag = exact ? 1 : 0;
    let l = 0;
    for (; l < labels; l++) {
      const at = this.find(labelAt[l]!, hashes[l]!, flag);
      if (at >= 0) {
        const p = labelAt[l]!;
        b[p] = 0xc0 | (at >>> 8);
        b[p + 1] = at & 0xff;
        this.pos = p + 2;
        break;
      }
    }
    // Every suffix before the one found (or all of them) is new: remember where it starts.
    for (let k = 0; k < l; k++) {
      const p = labelAt[k]!;
      if (p > MAX_POINTER) break;
      this.add(p, hashes[k]!, flag);
    }
  }

  /** The compression table, made on first use. */
  private tables(): this {
    if (this.head === undefined) {
      this.head = new Int32Array(BUCKETS).fill(-1);
      this.labelAt = new Int32Array(MAX_LABELS);
      this.suffixHash = new Int32Array(MAX_LABELS);
      this.growEntries(FIRST_TARGETS);
    }
    return this;
  }

  private growEntries(size: number): void {
    const at = new Int32Array(size);
    const hash = new Int32Array(size);
    const next = new Int32Array(size);
    const exact = new Uint8Array(size);
    at.set(this.entryAt);
    hash.set(this.entryHash);
    next.set(this.entryNext);
    exact.set(this.entryExact);
    this.entryAt = at;
    this.entryHash = hash;
    this.entryNext = next;
    this.entryExact = exact;
  }

  /** Offset of an earlier name equal to the uncompressed suffix at `at`, or -1. */
  private find(at: number, hash: number, exact: number): number {
    for (let e = this.head![hash & BUCKET_MASK]!; e >= 0; e = this.entryNext[e]!) {
      if (this.entryHash[e] === hash && this.entryExact[e] === exact && this.sameName(at, this.entryAt[e]!, exact === 1)) return this.entryAt[e]!;
    }
    return -1;
  }

  /** Whether the uncompressed name at `a` equals the (possibly compressed) name at `c` in the message. */
  private sameName(a: number, c: number, exact: boolean): boolean {
    const b = this.buf;
    for (;;) {
      let lc = b[c]!;
      while (lc >= 0xc0) {
        c = ((lc & 0x3f) << 8) | b[c + 1]!;
        lc = b[c]!;
      }
      const la = b[a]!;
      if (la !== lc) return false;
      if (la === 0) return true;
      for (let k = 1; k <= la; k++) {
        let x = b[a + k]!;
        let y = b[c + k]!;
        if (x !== y) {
          if (exact) return false;
          if (x >= 0x41 && x <= 0x5a) x |= 0x20;
          if (y >= 0x41 && y <= 0x5a) y |= 0x20;
          if (x !== y) return false;
        }
      }
      a += la + 1;
      c += la + 1;
    }
  }

  private add(at: number, hash: number, exact: number): void {
    const e = this.entries++;
    if (e === this.entryAt.length) this.growEntries(e * 2);
    const head = this.head!;
    const bucket = hash & BUCKET_MASK;
    this.entryAt[e] = at;
    this.entryHash[e] = hash;
    this.entryExact[e] = exact;
    this.entryNext[e] = head[bucket]!;
    head[bucket] = e;
  }

  /** Undoes a half-written name so the writer stays usable after the error. */
  private fail(reason: string, name: string, start: number): WireError {
    this.rollback(start);
    return new WireError(`${reason} in name ${JSON.stringify(name)}`, start);
  }

  /** Current length; pass it to rollback() to undo everything written since. */
  mark(): number {
    return this.pos;
  }

  /** Drops bytes and compression targets written at or after `mark`. */
  rollback(mark: number): void {
    if (this.later >= mark) this.later = -1;
    // Entries were added in the order of their offsets, so the ones at or after mark are the newest.
    let e = this.entries;
    const head = this.head;
    while (e > 0 && this.entryAt[e - 1]! >= mark) {
      e--;
      head![this.entryHash[e]! & BUCKET_MASK] = this.entryNext[e]!;
    }
    this.entries = e;
    this.pos = mark;
  }

  /** The written bytes (a view; copy it if the writer is reused). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
