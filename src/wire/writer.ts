// Growable message writer with case-insensitive name compression (RFC 1035 §4.1.4).

import { WireError } from './types.js';

/** Pointers have 14 bits, so only names starting below 0x4000 can be compression targets. */
const MAX_POINTER = 0x3fff;

export class Writer {
  buf: Uint8Array;
  pos = 0;
  /** Lower-cased presentation suffix ("example.com.") → offset of its wire form. */
  private readonly names = new Map<string, number>();
  /** Keys in insertion order, so rollback() can forget names written after a mark. */
  private readonly added: string[] = [];
  private readonly addedAt: number[] = [];
  /**
   * Suffixes of RDATA names written with upper-case letters, spelled as written → offset. Such a
   * name points only at its own spelling, and nothing else points at it: it reads back as the zone
   * wrote it (as BIND does; Knot lower-cases such names when it loads them), and a lower-case name
   * never picks up its letters. Kept apart so the common, lower-case path does no extra work.
   */
  private readonly exact = new Map<string, number>();
  private readonly exactAdded: string[] = [];
  private readonly exactAt: number[] = [];

  constructor(initialSize = 512) {
    this.buf = new Uint8Array(Math.max(16, initialSize));
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
   * `keepCase` marks a name inside RDATA: see `exact`. A lower-case one still points at any case,
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
    // Escapes only shrink the wire form, so text of ≤ 254 characters always fits in 255 bytes;
    // longer text is checked by a trial write, because a pointer ends the loop below early.
    if (compress && n > 254) {
      const m = this.pos;
      this.writeName(name, false);
      this.pos = m;
    }
    // Worst case without escapes is n + 1 bytes; escapes only shrink it.
    if (this.pos + n + 1 > this.buf.length) this.grow(n + 1);
    let lower = compress ? name.toLowerCase() : '';
    const exact = compress && keepCase && lower !== name;
    // Exact spelling: the same loop with the names as written and the other table.
    if (exact) lower = name;
    const table = exact ? this.exact : this.names;
    const start = this.pos;
    const b = this.buf;
    let p = this.pos;
    let i = 0;
    while (i < n) {
      if (compress) {
        const key = i === 0 ? lower : lower.slice(i);
        const at = table.get(key);
        if (at !== undefined) {
          b[p] = 0xc0 | (at >>> 8);
          b[p + 1] = at & 0xff;
          this.pos = p + 2;
          return;
        }
        if (p <= MAX_POINTER) {
          table.set(key, p);
          if (exact) {
            this.exactAdded.push(key);
            this.exactAt.push(p);
          } else {
            this.added.push(key);
            this.addedAt.push(p);
          }
        }
      }
      const lenAt = p++;
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
    const added = this.added;
    const at = this.addedAt;
    while (at.length > 0 && at[at.length - 1]! >= mark) {
      this.names.delete(added.pop()!);
      at.pop();
    }
    const ex = this.exactAt;
    while (ex.length > 0 && ex[ex.length - 1]! >= mark) {
      this.exact.delete(this.exactAdded.pop()!);
      ex.pop();
    }
    this.pos = mark;
  }

  /** The written bytes (a view; copy it if the writer is reused). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
