// A zone compiled into flat arrays (struct of arrays): nodes, RRsets, records, one names arena and one
// RDATA arena of uncompressed wire bytes, and a hash index of the lower-cased wire names probed from
// the apex down (one descent gives the exact match or the closest encloser). The arrays are plain
// ArrayBuffers, so a zone compiled in a worker thread is transferred, not copied.
import { nameToWire } from '../wire/name.js';
import { readNameAt } from '../wire/reader.js';
import { rdataCodec } from '../wire/rdata/index.js';
import { Writer } from '../wire/writer.js';
import { RRClass, RRType, type Rdata, type ResourceRecord } from '../wire/types.js';
import { rdataFromWire, TYPED_RDATA } from './rdata-text.js';
import { withWire } from '../wire/pre-encoded.js';
import { i32, u16, u32, u8 } from './huge-pages.js';

/** Slots of a zone's cache of decoded answer RDATA (CompiledStore.answerData). */
const HOT_DATA = 4096;

/** Node flags. */
export const F_APEX = 1;
/** NS below the apex: a zone cut (RFC 1034 §4.2.1). */
export const F_CUT = 2;
/** Holds a DNAME (RFC 6672). */
export const F_DNAME = 4;
/** Has a child "*" (RFC 4592 source of synthesis). */
export const F_WILD_CHILD = 8;
/** Holds a CNAME. */
export const F_CNAME = 16;

const FNV_SEED = 0x811c9dc5;

/** ASCII lower case of one wire byte (length bytes are < 64, so they pass through). */
function lc(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

/** FNV-1a of one label (length byte and lower-cased bytes) on top of the hash of its parent name. */
export function hashLabel(h: number, buf: Uint8Array, off: number): number {
  const len = buf[off]!;
  h = Math.imul(h ^ len, 0x01000193);
  for (let i = off + 1, end = off + 1 + len; i < end; i++) h = Math.imul(h ^ lc(buf[i]!), 0x01000193);
  return h >>> 0;
}

/**
 * A name as lower-cased wire bytes with the start offset of each label (offs[0] = 0, …), and the
 * hash of each suffix (hashes[i] = the name from label i on; hashes[labels] = the root).
 */
export interface WireName {
  wire: Uint8Array;
  offs: number[];
  hashes: number[];
  /** Offset of the root label (the terminating zero) in `wire`. */
  root: number;
}

/** Lower-cased wire form of a presentation name, with label offsets and suffix hashes. */
export function wireName(text: string): WireName {
  if (text === '.') return wireNameOf(new Uint8Array(1));
  let wire: Uint8Array;
  if (text.indexOf('\\') < 0) {
    // The common case, no escapes: every character is one byte and each dot starts the next label
    // ("a.b." is 01 61 01 62 00: one byte longer than the text).
    const n = text.length;
    wire = new Uint8Array(n + 1);
    let lenAt = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x2e) {
        wire[lenAt] = i - lenAt;
        lenAt = i + 1;
      } else wire[i + 1] = lc(c);
    }
  } else {
    wire = nameToWire(text);
    for (let i = 0; i < wire.length; i++) wire[i] = lc(wire[i]!);
  }
  return wireNameOf(wire);
}

/** Label offsets and suffix hashes of lower-cased wire bytes. */
export function wireNameOf(wire: Uint8Array): WireName {
  const offs: number[] = [];
  let p = 0;
  while (wire[p]! !== 0) {
    offs.push(p);
    p += wire[p]! + 1;
  }
  const hashes = new Array<number>(offs.length + 1);
  let h = FNV_SEED;
  hashes[offs.length] = h;
  for (let i = offs.length - 1; i >= 0; i--) {
    h = hashLabel(h, wire, offs[i]!);
    hashes[i] = h;
  }
  return { wire, offs, hashes, root: p };
}

/**
 * The scratches questionWireName fills, one per label count (sharing one byte buffer), so that their
 * arrays keep their length: setting an array's length per query was 1 % of a miss. One set per
 * process, the lookup is synchronous.
 */
const qwire = new Uint8Array(256);
const qoffs = new Int32Array(128);
const qscratches: WireName[] = [];

function qscratch(labels: number): WireName {
  let s = qscratches[labels];
  if (s === undefined) {
    s = { wire: qwire, offs: new Array<number>(labels).fill(0), hashes: new Array<number>(labels + 1).fill(0), root: 0 };
    qscratches[labels] = s;
  }
  return s;
}

let questionWireCalls = 0;

/**
 * Counts questionWireName calls: a WireName it gave is still valid while this count is the same (a
 * caller keeping one for the query checks this instead of scanning the name again).
 */
export function questionWireCount(): number {
  return questionWireCalls;
}

/**
 * The name at `src[at]` (a query's question, offset 12), lower-cased into a reused scratch WireName —
 * valid until the next call; undefined when the name is compressed or malformed. No allocation.
 */
export function questionWireName(src: Uint8Array, at: number): WireName | undefined {
  questionWireCalls++;
  const wire = qwire;
  let n = 0;
  let o = 0;
  for (let p = at; ; ) {
    if (p >= src.length) return undefined;
    const len = src[p]!;
    if (len >= 0x40 || o + len + 1 > 255) return undefined;
    wire[o] = len;
    if (len === 0) break;
    qoffs[n++] = o;
    for (let i = 1; i <= len; i++) wire[o + i] = lc(src[p + i]!);
    o += len + 1;
    p += len + 1;
  }
  const s = qscratch(n);
  const offs = s.offs;
  const hashes = s.hashes;
  for (let i = 0; i < n; i++) offs[i] = qoffs[i]!;
  s.root = o;
  let h = FNV_SEED;
  hashes[n] = h;
  for (let i = n - 1; i >= 0; i--) {
    h = hashLabel(h, wire, offs[i]!);
    hashes[i] = h;
  }
  return s;
}

/** Writes typed rdata uncompressed (names in full, case kept), as the zone stores it. */
class PlainWriter extends Writer {
  override writeName(name: string, _compress: boolean, keepCase = false): void {
    super.writeName(name, false, keepCase);
  }
}
const plainWriter = new PlainWriter(512);

/** Uncompressed wire RDATA of a record (typed data through its codec, `{ raw }` as it is). */
export function rdataToWire(rr: ResourceRecord): Uint8Array {
  const d = rr.data as { raw?: unknown };
  if (d.raw instanceof Uint8Array) return d.raw;
  plainWriter.pos = 0;
  rdataCodec(rr.type).encode(plainWriter, rr.data as Rdata);
  return plainWriter.buf.subarray(0, plainWriter.pos);
}

/** The transferable form of a compiled zone: every array's buffer can go through postMessage's transfer list. */
export interface CompiledZoneBuffers {
  origin: string;
  nodeCount: number;
  setCount: number;
  rrCount: number;
  names: Uint8Array;
  rdata: Uint8Array;
  nodeName: Int32Array;
  nodeParent: Int32Array;
  nodeHash: Uint32Array;
  nodeFlags: Uint8Array;
  nodeFirstSet: Int32Array;
  nodeSets: Uint16Array;
  nodeWild: Int32Array;
  setType: Uint16Array;
  setTtl: Uint32Array;
  setFirstRr: Int32Array;
  setRrs: Int32Array;
  rrOff: Int32Array;
  rrLen: Uint16Array;
  index: Int32Array;
}

/** A growable byte arena. */
class Arena {
  buf: Uint8Array;
  pos = 0;
  constructor(size = 1 << 16) {
    this.buf = u8(size);
  }
  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const nb = u8(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }
  add(b: Uint8Array): number {
    return this.addRange(b, 0, b.length);
  }
  /** Appends src[start, end) (no subarray: a million names would make a million views). */
  addRange(src: Uint8Array, start: number, end: number): number {
    const at = this.pos;
    const n = end - start;
    if (at + n > this.buf.length) this.grow(at + n);
    const buf = this.buf;
    // A loop beats TypedArray.prototype.set for the few bytes of most records.
    if (n < 48) for (let i = 0; i < n; i++) buf[at + i] = src[start + i]!;
    else buf.set(src.subarray(start, end), at);
    this.pos = at + n;
    return at;
  }
  /**
   * The bytes added: a view when they fill most of the buffer (a large zone's arena, sized from the
   * file: no copy of megabytes, and the untouched tail was never mapped), else a copy (a small zone
   * does not keep a 64 KiB buffer).
   */
  finish(): Uint8Array {
    return this.pos * 2 >= this.buf.length ? this.buf.subarray(0, this.pos) : this.buf.slice(0, this.pos);
  }
}

/**
 * Growable typed columns. A size hint sets the first capacity: a column sized from the file's length
 * is never copied while growing, and the part a smaller zone leaves untouched costs no memory (the
 * pages of a large ArrayBuffer are mapped on first write).
 */
class I32 {
  a: Int32Array;
  n = 0;
  constructor(size = 1024) {
    this.a = i32(size);
  }
  push(v: number): number {
    if (this.n === this.a.length) {
      const nb = i32(this.a.length * 2);
      nb.set(this.a);
      this.a = nb;
    }
    this.a[this.n] = v;
    return this.n++;
  }
}

/**
 * Compiles records into a zone, one record at a time (`add`), then `finish()`. Records outside the
 * origin are ignored (the zone checks report them before). RRsets keep the order in which their type
 * first appears at a node and records their order of arrival; an RRset's TTL is the smallest of its
 * records' (RFC 2181 §5.2).
 */
export class ZoneCompiler {
  private readonly originWire: WireName;
  private readonly names: Arena;
  private readonly rdata: Arena;
  private readonly nodeName: I32;
  private readonly nodeParent: I32;
  private readonly nodeHash: I32;
  private readonly nodeFlags: I32;
  /** Build time: each node's first RRset (a linked list through setNext), -1 when none. */
  private readonly nodeSetHead: I32;
  private readonly nodeSetTail: I32;
  private readonly setType: I32;
  private readonly setTtl: I32;
  private readonly setNext: I32;
  private readonly setRrHead: I32;
  private readonly setRrTail: I32;
  private readonly setRrCount: I32;
  private readonly rrOff: I32;
  private readonly rrLen: I32;
  private readonly rrNext: I32;
  /**
   * Build time: the open-addressing index as pairs (node + 1, name hash), so a probe reads one cache
   * line instead of also reading the node's hash elsewhere; finish() keeps the entries (`index`).
   */
  private table: Int32Array;
  private used = 0;
  private apexSpelt = false;
  /**
   * The last owner added and its node: a zone file writes an owner's records one after another. The
   * owner is `lastOwner` from add, or `lastRel` under `lastRelOrigin` from addUnder (the other undefined).
   */
  private lastOwner: string | undefined;
  private lastRel: string | undefined;
  private lastRelOrigin: string | undefined;
  private lastNode = -1;
  /**
   * addUnder's origin, scanned once (scan): as written, lower-cased, label offsets (the root's last)
   * and suffix hashes; `uLabels` -1 when it cannot be used (then addUnder reads the whole owner).
   */
  private uOrigin: string | undefined;
  private uSw = new Uint8Array(0);
  private uSl = new Uint8Array(0);
  private uOffs = new Int32Array(0);
  private uHash = new Uint32Array(0);
  private uLabels = -1;
  /** The node of the newest RRset (for `ordered`). */
  private lastSetNode = 0;
  /** Records ignored because their owner is outside the origin. */
  private outside = 0;
  /** RRsets of type SOA anywhere (the checks want one, at the apex). */
  private soaSets = 0;
  /**
   * With dedupe: an RRset of up to BIG_SET records is searched record by record; past that its
   * records go into a hash table (slot → record + 1, with the slot's hash and RRset beside it).
   */
  private readonly dedupe: boolean;
  private tab = new Int32Array(0);
  private tabHash = new Int32Array(0);
  private tabSet = new Int32Array(0);
  private tabUsed = 0;
  /**
   * Whether the records came grouped as finish() lays them out: each new RRset at the newest node
   * or a later one, each record in the newest RRset (a zone file that writes an owner's records
   * together). Then the build columns are already the final order and finish() hands them over.
   */
  private ordered = true;

  /** Scratch for one owner name (scan). */
  private readonly sw = new Uint8Array(256);
  private readonly sl = new Uint8Array(256);
  private readonly soffs = new Int32Array(129);
  private readonly shash = new Uint32Array(129);

  /** `sink`'s RecordSink side: the compiler takes wire bytes, not the typed form. */
  readonly typed = false;

  /**
   * `dedupe`: identical records (names inside the data compared case-insensitively, as parseZone
   * merges them, format.ts rdataKey) are kept once, the first one's TTL counting; the spelling
   * whose wire bytes sort first is kept (BIND's choice).
   */
  /**
   * `sizeHint`: about how many records are coming (the loader guesses from the file's length); the
   * columns start at that size and never copy themselves while growing.
   */
  constructor(readonly origin: string, opts: { dedupe?: boolean; sizeHint?: number } = {}) {
    this.dedupe = opts.dedupe === true;
    const hint = Math.min(Math.max(opts.sizeHint ?? 0, 1024), 1 << 26);
    const col = (): I32 => new I32(hint);
    this.names = new Arena(Math.max(1 << 16, hint * 16));
    this.rdata = new Arena(Math.max(1 << 16, hint * 16));
    this.nodeName = col(); this.nodeParent = col(); this.nodeHash = col(); this.nodeFlags = col();
    this.nodeSetHead = col(); this.nodeSetTail = col();
    this.setType = col(); this.setTtl = col(); this.setNext = col();
    this.setRrHead = col(); this.setRrTail = col(); this.setRrCount = col();
    this.rrOff = col(); this.rrLen = col(); this.rrNext = col();
    let slots = 1 << 12;
    while (slots < hint) slots *= 2;
    this.table = i32(slots * 2);
    this.originWire = wireName(origin);
    // The apex is node 0 (its wire name with the case of `origin`).
    const apex = nameToWire(origin);
    this.newNode(apex, 0, apex.length, this.originWire.hashes[0]!, -1);
    this.nodeFlags.a[0] = F_APEX;
  }

  /**
   * A new node named src[start, end) (wire, case as written) with that lower-cased name's hash.
   * `slot`: the empty index slot where findNodeAt's probe for this name ended (-1: probe again), so
   * a new name costs one probe of the table, not two (the table is 16 MB for a million names: each
   * probe is a cache miss).
   */
  private newNode(src: Uint8Array, start: number, end: number, hash: number, parent: number, slot = -1): number {
    const n = this.nodeName.push(this.names.addRange(src, start, end));
    this.nodeParent.push(parent);
    this.nodeHash.push(hash | 0);
    this.nodeFlags.push(0);
    this.nodeSetHead.push(-1);
    this.nodeSetTail.push(-1);
    if ((this.used + 1) * 4 > this.table.length) {
      this.rehash();
      slot = -1;
    }
    if (slot < 0) this.insert(n, hash | 0);
    else {
      this.table[slot * 2] = n + 1;
      this.table[slot * 2 + 1] = hash | 0;
    }
    this.used++;
    return n;
  }

  private insert(n: number, hash: number): void {
    const t = this.table;
    const mask = (t.length >> 1) - 1;
    let i = hash & mask;
    while (t[i * 2] !== 0) i = (i + 1) & mask;
    t[i * 2] = n + 1;
    t[i * 2 + 1] = hash;
  }

  private rehash(): void {
    this.table = i32(this.table.length * 2);
    for (let n = 0; n < this.nodeName.n; n++) this.insert(n, this.nodeHash.a[n]!);
  }

  private findNode(w: WireName, label: number): number {
    return this.findNodeAt(w.hashes[label]!, w.wire, w.offs[label] ?? w.root);
  }

  /** Where the last findNodeAt that found nothing stopped: the empty slot for that name. */
  private missSlot = -1;

  /** The node whose lower-cased name is q[qoff…] (with that suffix hash), or -1 (then `missSlot` is set). */
  private findNodeAt(hash: number, q: Uint8Array, qoff: number): number {
    const t = this.table;
    const mask = (t.length >> 1) - 1;
    const h = hash | 0;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const e = t[i * 2]!;
      if (e === 0) {
        this.missSlot = i;
        return -1;
      }
      if (t[i * 2 + 1] === h && sameName(this.names.buf, this.nodeName.a[e - 1]!, q, qoff)) return e - 1;
    }
  }

  /**
   * Reads an owner name into the scratch arrays: sw (as written), sl (lower case), soffs (label
   * offsets; soffs[labels] is the root) and shash (suffix hashes). Returns the number of labels.
   */
  private scan(owner: string): number {
    const sw = this.sw, sl = this.sl;
    const n = owner.length;
    let len: number;
    if (n > 1 && n < 256 && owner.charCodeAt(n - 1) === 0x2e && owner.indexOf('\\') < 0) {
      // Canonical text without escapes: one byte a character, each dot ends a label.
      let lenAt = 0;
      for (let i = 0; i < n; i++) {
        const c = owner.charCodeAt(i);
        if (c === 0x2e) {
          sw[lenAt] = sl[lenAt] = i - lenAt;
          lenAt = i + 1;
        } else {
          sw[i + 1] = c;
          sl[i + 1] = lc(c);
        }
      }
      sw[n] = sl[n] = 0;
      len = n + 1;
    } else {
      const w = nameToWire(owner);
      len = w.length;
      for (let i = 0; i < len; i++) sl[i] = lc((sw[i] = w[i]!));
    }
    let labels = 0;
    for (let p = 0; sl[p] !== 0; p += sl[p]! + 1) this.soffs[labels++] = p;
    this.soffs[labels] = len - 1;
    let h = FNV_SEED;
    this.shash[labels] = h;
    for (let i = labels - 1; i >= 0; i--) this.shash[i] = h = hashLabel(h, sl, this.soffs[i]!);
    return labels;
  }

  /** The node of an owner name (created with the names between it and the apex), or -1 outside the origin. */
  private nodeFor(owner: string): number {
    if (owner === this.lastOwner) return this.lastNode;
    const node = this.descend(this.scan(owner));
    if (node >= 0) {
      this.lastOwner = owner;
      this.lastRel = undefined;
      this.lastNode = node;
    }
    return node;
  }

  /** nodeFor(owner), where owner is `rel` + "." + `origin` (RecordSink.addUnder). */
  private nodeUnder(rel: string, origin: string, owner: string): number {
    if (rel === this.lastRel && origin === this.lastRelOrigin) return this.lastNode;
    const labels = this.scanUnder(rel, origin);
    if (labels < 0) return this.nodeFor(owner);
    const node = this.descend(labels);
    if (node >= 0) {
      this.lastRel = rel;
      this.lastRelOrigin = origin;
      this.lastOwner = undefined;
      this.lastNode = node;
    }
    return node;
  }

  /**
   * scan(rel + "." + origin) without reading the origin's text: `rel` is plain (no escape, no empty
   * label, labels of at most 63: the parser's plainName), the origin's bytes and hashes are copied from
   * its scan, kept while the origin stays the same. -1 when the name would be too long (or the origin
   * cannot be scanned alone): then the caller scans the whole owner.
   */
  private scanUnder(rel: string, origin: string): number {
    if (origin !== this.uOrigin) {
      this.uOrigin = origin;
      this.uLabels = -1;
      if (origin.length < 2) return -1;
      const labels = this.scan(origin);
      const len = this.soffs[labels]! + 1;
      this.uSw = this.sw.slice(0, len);
      this.uSl = this.sl.slice(0, len);
      this.uOffs = this.soffs.slice(0, labels + 1);
      this.uHash = this.shash.slice(0, labels + 1);
      this.uLabels = labels;
    }
    const ol = this.uLabels;
    const m = rel.length;
    const olen = this.uSw.length;
    if (ol < 0 || m + 1 + olen > 255) return -1;
    const { sw, sl, soffs, shash } = this;
    // rel as wire: each dot becomes the length of the label before it; the first length at 0.
    let labels = 0;
    let lenAt = 0;
    soffs[labels++] = 0;
    for (let i = 0; i < m; i++) {
      const c = rel.charCodeAt(i);
      if (c === 0x2e) {
        sw[lenAt] = sl[lenAt] = i - lenAt;
        lenAt = i + 1;
        soffs[labels++] = lenAt;
      } else {
        sw[i + 1] = c;
        sl[i + 1] = lc(c);
      }
    }
    sw[lenAt] = sl[lenAt] = m - lenAt;
    // Then the origin's wire bytes, offsets and suffix hashes (a suffix hash is the suffix's own).
    const at = m + 1;
    const uSw = this.uSw, uSl = this.uSl;
    for (let i = 0; i < olen; i++) {
      sw[at + i] = uSw[i]!;
      sl[at + i] = uSl[i]!;
    }
    for (let j = 0; j <= ol; j++) {
      soffs[labels + j] = this.uOffs[j]! + at;
      shash[labels + j] = this.uHash[j]!;
    }
    let h = shash[labels]!;
    for (let i = labels - 1; i >= 0; i--) shash[i] = h = hashLabel(h, sl, soffs[i]!);
    return labels + ol;
  }

  /**
   * The node of the name in the scan scratch (`labels` labels), created with the names between it and
   * the apex, or -1 outside the origin.
   */
  private descend(labels: number): number {
    const { sw, sl, soffs, shash } = this;
    const depth0 = this.originWire.offs.length;
    const top = labels - depth0;
    if (top < 0 || shash[top] !== this.originWire.hashes[0] || !sameName(this.names.buf, this.nodeName.a[0]!, sl, soffs[top]!)) return -1;
    const end = soffs[labels]! + 1;
    // The apex is spelt as the first record in the zone spells it (same length: only the case differs).
    if (!this.apexSpelt) {
      this.names.buf.set(sw.subarray(soffs[top]!, end), this.nodeName.a[0]!);
      this.apexSpelt = true;
    }
    // From the apex down: every name between the apex and the owner exists (empty non-terminals included).
    let node = 0;
    for (let i = top - 1; i >= 0; i--) {
      const off = soffs[i]!;
      let next = this.findNodeAt(shash[i]!, sl, off);
      if (next < 0) {
        next = this.newNode(sw, off, end, shash[i]!, node, this.missSlot);
        if (sl[off] === 1 && sl[off + 1] === 0x2a) this.nodeFlags.a[node]! |= F_WILD_CHILD;
      }
      node = next;
    }
    return node;
  }

  /** Adds one record; `rdata` is its uncompressed wire RDATA (copied). */
  add(owner: string, type: number, ttl: number, rdata: Uint8Array): void {
    this.addAt(this.nodeFor(owner), type, ttl, rdata);
  }

  /** add, for an owner `rel` + "." + `origin` written that way (the parser's RecordSink.addUnder). */
  addUnder(rel: string, origin: string, owner: string, type: number, ttl: number, rdata: Uint8Array): void {
    this.addAt(this.nodeUnder(rel, origin, owner), type, ttl, rdata);
  }

  private addAt(node: number, type: number, ttl: number, rdata: Uint8Array): void {
    if (node < 0) {
      this.outside++;
      return;
    }
    // Its RRset of this type, or a new one at the end of the node's list.
    let set = this.nodeSetHead.a[node]!;
    while (set >= 0 && this.setType.a[set] !== type) set = this.setNext.a[set]!;
    if (set >= 0 && this.dedupe && this.isDuplicate(set, type, rdata)) return;
    if (set < 0) {
      if (node < this.lastSetNode) this.ordered = false;
      this.lastSetNode = node;
      set = this.setType.push(type);
      this.setTtl.push(ttl);
      this.setNext.push(-1);
      this.setRrHead.push(-1);
      this.setRrTail.push(-1);
      this.setRrCount.push(0);
      const tail = this.nodeSetTail.a[node]!;
      if (tail < 0) this.nodeSetHead.a[node] = set;
      else this.setNext.a[tail] = set;
      this.nodeSetTail.a[node] = set;
      if (type === RRType.NS && node !== 0) this.nodeFlags.a[node]! |= F_CUT;
      else if (type === RRType.DNAME) this.nodeFlags.a[node]! |= F_DNAME;
      else if (type === RRType.CNAME) this.nodeFlags.a[node]! |= F_CNAME;
      else if (type === RRType.SOA) this.soaSets++;
    } else {
      if (ttl < this.setTtl.a[set]! >>> 0) this.setTtl.a[set] = ttl;
      if (set !== this.setType.n - 1) this.ordered = false;
    }
    const rr = this.rrOff.push(this.rdata.add(rdata));
    this.rrLen.push(rdata.length);
    this.rrNext.push(-1);
    const tail = this.setRrTail.a[set]!;
    if (tail < 0) this.setRrHead.a[set] = rr;
    else this.rrNext.a[tail] = rr;
    this.setRrTail.a[set] = rr;
    const count = ++this.setRrCount.a[set]!;
    // An RRset is in the hash table once it has held more than BIG_SET records.
    if (this.dedupe && count > BIG_SET) {
      if (count > BIG_SET + 1) this.tabInsert(rr, set, rdataHash(type, rdata, set));
      else {
        for (let r = this.setRrHead.a[set]!; r >= 0; r = this.rrNext.a[r]!) this.tabInsert(r, set, rdataHash(type, this.rdataAt(r), set));
      }
    }
  }

  private rdataAt(r: number): Uint8Array {
    const off = this.rrOff.a[r]!;
    return this.rdata.buf.subarray(off, off + this.rrLen.a[r]!);
  }

  private tabInsert(rr: number, set: number, hash: number): void {
    if ((this.tabUsed + 1) * 2 > this.tab.length) {
      const [ot, oh, os] = [this.tab, this.tabHash, this.tabSet];
      const size = Math.max(1024, ot.length * 2);
      this.tab = new Int32Array(size);
      this.tabHash = new Int32Array(size);
      this.tabSet = new Int32Array(size);
      for (let i = 0; i < ot.length; i++) if (ot[i] !== 0) this.tabPut(ot[i]!, os[i]!, oh[i]!);
    }
    this.tabPut(rr + 1, set, hash);
    this.tabUsed++;
  }

  private tabPut(entry: number, set: number, hash: number): void {
    const mask = this.tab.length - 1;
    let i = hash & mask;
    while (this.tab[i] !== 0) i = (i + 1) & mask;
    this.tab[i] = entry;
    this.tabHash[i] = hash;
    this.tabSet[i] = set;
  }

  /** True when `set` already holds this data (then the spelling that sorts first is kept, in place). */
  private isDuplicate(set: number, type: number, rdata: Uint8Array): boolean {
    const len = rdata.length;
    if (this.setRrCount.a[set]! <= BIG_SET) {
      for (let r = this.setRrHead.a[set]!; r >= 0; r = this.rrNext.a[r]!) {
        if (this.rrLen.a[r] === len && sameRdata(type, this.rdata.buf, this.rrOff.a[r]!, rdata)) return this.keepFirstSpelling(r, rdata);
      }
      return false;
    }
    const hash = rdataHash(type, rdata, set);
    const mask = this.tab.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const e = this.tab[i]!;
      if (e === 0) return false;
      const r = e - 1;
      if (this.tabHash[i] === hash && this.tabSet[i] === set && this.rrLen.a[r] === len && sameRdata(type, this.rdata.buf, this.rrOff.a[r]!, rdata)) return this.keepFirstSpelling(r, rdata);
    }
  }

  /**
   * Equal but for the case of a name inside: BIND keeps the spelling whose wire bytes sort first
   * (parser.ts ListSink does the same), so that `zone print` matches named-compilezone.
   */
  private keepFirstSpelling(r: number, rdata: Uint8Array): true {
    const arena = this.rdata.buf;
    const off = this.rrOff.a[r]!;
    for (let k = 0; k < rdata.length; k++) {
      if (rdata[k] === arena[off + k]) continue;
      if (rdata[k]! < arena[off + k]!) arena.set(rdata, off);
      break;
    }
    return true;
  }

  /**
   * After the last `add`: undefined when the zone certainly passes the checks of check.ts with
   * nothing to report, else why it may not (then run checkZoneReport on the parsed records: it
   * words the errors and warnings with file and line). Checked on each node's RRset types: a CNAME
   * with other data (RFC 1034 §3.6.2), a second CNAME or DNAME (RFC 6672 §2.4), one SOA at the apex,
   * NS at the apex, data occluded by a cut or DNAME, in-zone NS targets without addresses; zones
   * with DNSSEC records or ZONEMD (whose checks need the records) are always reported.
   */
  quickCheck(): string | undefined {
    if (this.outside > 0) return 'records outside the zone';
    const soa = this.buildSetOf(0, RRType.SOA);
    if (soa < 0 || this.setRrCount.a[soa] !== 1 || this.soaSets !== 1) return 'not exactly one SOA, at the apex';
    if (this.buildSetOf(0, RRType.NS) < 0) return 'no NS at the apex';
    const count = this.nodeName.n;
    // Bit 1: below a cut; bit 2: below a DNAME (parents are created before their children).
    const under = new Uint8Array(count);
    for (let n = 0; n < count; n++) {
      const p = this.nodeParent.a[n]!;
      if (p >= 0) {
        const pf = this.nodeFlags.a[p]!;
        under[n] = under[p]! | (pf & F_CUT ? 1 : 0) | (pf & F_DNAME ? 2 : 0);
      }
      const flags = this.nodeFlags.a[n]!;
      for (let set = this.nodeSetHead.a[n]!; set >= 0; set = this.setNext.a[set]!) {
        const type = this.setType.a[set]!;
        if (type === RRType.RRSIG || type === RRType.NSEC || type === RRType.NSEC3 || type === ZONEMD) return 'DNSSEC or ZONEMD records';
        if (flags & F_CNAME && (type !== RRType.CNAME || this.setRrCount.a[set]! > 1)) return 'CNAME and other data';
        if (type === RRType.DNAME && this.setRrCount.a[set]! > 1) return 'two DNAMEs';
        if (flags & F_CUT && type !== RRType.NS && type !== RRType.DS && type !== RRType.A && type !== RRType.AAAA && type !== RRType.CNAME) return 'data at a cut';
        if (under[n]! & 2) return 'data below a DNAME';
        if (under[n]! & 1 && type !== RRType.A && type !== RRType.AAAA) return 'data below a cut';
        if (type === RRType.NS && !this.nsHaveAddresses(set)) return 'an in-zone name server without addresses';
      }
    }
    return undefined;
  }

  /** A node's RRset of `type` while building, or -1. */
  private buildSetOf(node: number, type: number): number {
    let set = this.nodeSetHead.a[node]!;
    while (set >= 0 && this.setType.a[set] !== type) set = this.setNext.a[set]!;
    return set;
  }

  /** Every NS target of the RRset inside the zone has A or AAAA records (named-checkzone's rule, check.ts). */
  private nsHaveAddresses(set: number): boolean {
    const apex = this.originWire;
    const depth0 = apex.offs.length;
    for (let rr = this.setRrHead.a[set]!; rr >= 0; rr = this.rrNext.a[rr]!) {
      const off = this.rrOff.a[rr]!;
      const w = wireNameOf(lowerCopy(this.rdata.buf.subarray(off, off + this.rrLen.a[rr]!)));
      const labels = w.offs.length;
      if (labels < depth0 || w.hashes[labels - depth0] !== apex.hashes[0] || !sameName(this.names.buf, this.nodeName.a[0]!, w.wire, w.offs[labels - depth0] ?? w.root)) continue;
      const node = this.findNode(w, 0);
      if (node < 0 || (this.buildSetOf(node, RRType.A) < 0 && this.buildSetOf(node, RRType.AAAA) < 0)) return false;
    }
    return true;
  }

  /** Adds a record as the parser or a caller gives it (typed or `{ raw }` data). */
  addRecord(rr: ResourceRecord): void {
    this.add(rr.name, rr.type, rr.ttl, rdataToWire(rr));
  }

  /** The flat arrays: RRsets of a node contiguous, records of an RRset contiguous. Call once, last. */
  finish(): CompiledZoneBuffers {
    const nodeCount = this.nodeName.n;
    const setCount = this.setType.n;
    const rrCount = this.rrOff.n;
    const nodeWild = i32(nodeCount).fill(-1);
    for (let n = 1; n < nodeCount; n++) {
      const off = this.nodeName.a[n]!;
      if (this.names.buf[off] === 1 && this.names.buf[off + 1] === 0x2a) nodeWild[this.nodeParent.a[n]!] = n;
    }
    const sets = this.ordered ? this.orderedSets(nodeCount, setCount, rrCount) : this.linkedSets(nodeCount, setCount, rrCount);
    // The index keeps the entries of the build table's pairs. Its size is the one the table would
    // have grown to from 4,096 slots without a size hint (at most half full), so the arrays do not
    // depend on the hint: when the hint made the table larger, the nodes are inserted again, in
    // their order, which is where growing would have put them.
    const t = this.table;
    let slots = 1 << 12;
    while (nodeCount > slots / 2) slots *= 2;
    const index = i32(slots);
    if (slots === t.length >> 1) {
      for (let i = 0; i < slots; i++) index[i] = t[i * 2]!;
    } else {
      const mask = slots - 1;
      const hashes = this.nodeHash.a;
      for (let n = 0; n < nodeCount; n++) {
        let i = hashes[n]! & mask;
        while (index[i] !== 0) i = (i + 1) & mask;
        index[i] = n + 1;
      }
    }
    this.table = new Int32Array(0);
    // The node columns that keep their layout are handed over as they are (views, no copy: a
    // million-node zone's peak is lower by their size); the compiler is spent after finish().
    return {
      origin: this.origin, nodeCount, setCount, rrCount,
      names: this.names.finish(), rdata: this.rdata.finish(),
      nodeName: this.nodeName.a.subarray(0, nodeCount), nodeParent: this.nodeParent.a.subarray(0, nodeCount),
      nodeHash: new Uint32Array(this.nodeHash.a.buffer, 0, nodeCount), nodeFlags: bytesOf(this.nodeFlags.a, nodeCount),
      nodeFirstSet: sets.nodeFirstSet, nodeSets: sets.nodeSets, nodeWild, setType: sets.setType, setTtl: sets.setTtl,
      setFirstRr: sets.setFirstRr, setRrs: sets.setRrs, rrOff: sets.rrOff, rrLen: sets.rrLen, index,
    };
  }

  /**
   * finish()'s RRset and record columns when the records came `ordered`: the build columns are in
   * the final order already, so those whose type is the final one are handed over as views (no
   * copy: lower peak RSS, no pass over a million RRsets); the 16-bit ones are converted in one call.
   */
  private orderedSets(nodeCount: number, setCount: number, rrCount: number): SetColumns {
    // A node without RRsets starts where the next RRset will be (as linkedSets gives it).
    const nodeFirstSet = this.nodeSetHead.a.subarray(0, nodeCount);
    const tails = this.nodeSetTail.a;
    const nodeSets = u16(nodeCount);
    let next = 0;
    for (let n = 0; n < nodeCount; n++) {
      if (nodeFirstSet[n]! < 0) nodeFirstSet[n] = next;
      else {
        nodeSets[n] = tails[n]! - nodeFirstSet[n]! + 1;
        next = tails[n]! + 1;
      }
    }
    const setType = u16(setCount);
    setType.set(this.setType.a.subarray(0, setCount));
    const rrLen = u16(rrCount);
    rrLen.set(this.rrLen.a.subarray(0, rrCount));
    return {
      nodeFirstSet, nodeSets, setType,
      setTtl: new Uint32Array(this.setTtl.a.buffer, 0, setCount),
      setFirstRr: this.setRrHead.a.subarray(0, setCount),
      setRrs: this.setRrCount.a.subarray(0, setCount),
      rrOff: this.rrOff.a.subarray(0, rrCount),
      rrLen,
    };
  }

  /** finish()'s RRset and record columns in any order of arrival: the lists walked node by node, copied. */
  private linkedSets(nodeCount: number, setCount: number, rrCount: number): SetColumns {
    const nodeFirstSet = i32(nodeCount);
    const nodeSets = u16(nodeCount);
    const setType = u16(setCount);
    const setTtl = u32(setCount);
    const setFirstRr = i32(setCount);
    const setRrs = i32(setCount);
    const rrOff = i32(rrCount);
    const rrLen = u16(rrCount);
    let s = 0;
    let r = 0;
    for (let n = 0; n < nodeCount; n++) {
      nodeFirstSet[n] = s;
      for (let set = this.nodeSetHead.a[n]!; set >= 0; set = this.setNext.a[set]!) {
        setType[s] = this.setType.a[set]!;
        setTtl[s] = this.setTtl.a[set]! >>> 0;
        setFirstRr[s] = r;
        setRrs[s] = this.setRrCount.a[set]!;
        for (let rr = this.setRrHead.a[set]!; rr >= 0; rr = this.rrNext.a[rr]!) {
          rrOff[r] = this.rrOff.a[rr]!;
          rrLen[r] = this.rrLen.a[rr]!;
          r++;
        }
        s++;
      }
      nodeSets[n] = s - nodeFirstSet[n]!;
    }
    return { nodeFirstSet, nodeSets, setType, setTtl, setFirstRr, setRrs, rrOff, rrLen };
  }
}

/** The columns finish() lays out node by node. */
type SetColumns = Pick<CompiledZoneBuffers, 'nodeFirstSet' | 'nodeSets' | 'setType' | 'setTtl' | 'setFirstRr' | 'setRrs' | 'rrOff' | 'rrLen'>;

/** Past this many records an RRset's duplicates are found by hash, not by comparing each record. */
const BIG_SET = 8;

/** RFC 8976's ZONEMD type code (not in RRType). */
const ZONEMD = 63;

/**
 * Where the names are in wire RDATA of the types whose names compare case-insensitively when records
 * are merged (format.ts rdataKey): [start, end) to fold, or null. SOA's two names come first and
 * run up to the 20 bytes of numbers; CAA's tag is case-folded too.
 */
function foldRange(type: number, b: Uint8Array, off: number, len: number): number {
  switch (type) {
    case RRType.NS: case RRType.CNAME: case RRType.DNAME: case RRType.PTR: return pack(0, len);
    case RRType.SOA: return pack(0, len - 20);
    case RRType.MX: return pack(2, len);
    case RRType.SRV: return pack(6, len);
    case RRType.CAA: return len >= 2 ? pack(2, Math.min(len, 2 + b[off + 1]!)) : -1;
    default: return -1;
  }
}
function pack(start: number, end: number): number {
  return start * 0x10000 + end;
}

/** Hash of an RRset number and its record's data, case-folded as foldRange says. */
function rdataHash(type: number, b: Uint8Array, set: number): number {
  const fr = foldRange(type, b, 0, b.length);
  const fs = fr < 0 ? 0 : Math.floor(fr / 0x10000), fe = fr < 0 ? 0 : fr % 0x10000;
  let h = Math.imul(FNV_SEED ^ set, 0x01000193);
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ (i >= fs && i < fe ? lc(b[i]!) : b[i]!), 0x01000193);
  return h | 0;
}

/** Same data (same length assumed) at arena[off] and in b, case-folded as foldRange says. */
function sameRdata(type: number, arena: Uint8Array, off: number, b: Uint8Array): boolean {
  const fr = foldRange(type, b, 0, b.length);
  const fs = fr < 0 ? 0 : Math.floor(fr / 0x10000), fe = fr < 0 ? 0 : fr % 0x10000;
  for (let i = 0; i < b.length; i++) {
    const x = arena[off + i]!, y = b[i]!;
    if (x !== y && !(i >= fs && i < fe && lc(x) === lc(y))) return false;
  }
  return true;
}

/** The first `n` values of a column as bytes (node flags fit in 8 bits). */
function bytesOf(a: Int32Array, n: number): Uint8Array {
  const out = u8(n);
  for (let i = 0; i < n; i++) out[i] = a[i]!;
  return out;
}

function lowerCopy(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = lc(b[i]!);
  return out;
}

/** True when the wire name at names[off] equals (case-insensitively) the lower-cased name at q[qoff]. */
function sameName(names: Uint8Array, off: number, q: Uint8Array, qoff: number): boolean {
  for (;;) {
    const len = names[off]!;
    if (len !== q[qoff]) return false;
    if (len === 0) return true;
    for (let i = 1; i <= len; i++) if (lc(names[off + i]!) !== q[qoff + i]) return false;
    off += len + 1;
    qoff += len + 1;
  }
}

/** A compiled zone's arrays with the read side: probing, names and records. */
/**
 * `b`'s fields in an object made here, so every store's arrays object has one hidden class whatever
 * built it (finish()'s literals, the loader joining transferred parts, a compiled file): the lookup's
 * optimised code, specialised to the first zone's, took "wrong map" deoptimisations on the first
 * queries after a reload swapped in a zone from the loader thread.
 */
function sameShape(b: CompiledZoneBuffers): CompiledZoneBuffers {
  return {
    origin: b.origin, nodeCount: b.nodeCount, setCount: b.setCount, rrCount: b.rrCount, names: b.names, rdata: b.rdata,
    nodeName: b.nodeName, nodeParent: b.nodeParent, nodeHash: b.nodeHash, nodeFlags: b.nodeFlags, nodeFirstSet: b.nodeFirstSet,
    nodeSets: b.nodeSets, nodeWild: b.nodeWild, setType: b.setType, setTtl: b.setTtl, setFirstRr: b.setFirstRr, setRrs: b.setRrs,
    rrOff: b.rrOff, rrLen: b.rrLen, index: b.index,
  };
}

/**
 * The TTL record `r` of set `s` (at node `n`) is sent with: its set's, except an RRSIG's. The zone holds a
 * node's RRSIGs as one set, whose TTL is the smallest; each RRSIG goes out with the TTL of the RRset it
 * covers at that owner (RFC 4034 §3, what signers write and Knot and NSD send), so a transfer or a written
 * file gives back the signed zone's TTLs (and its ZONEMD digest, RFC 8976 §3.3, still matches). An RRSIG
 * whose covered RRset is not at the node keeps the set's TTL.
 */
export function recordTtl(b: CompiledZoneBuffers, n: number, s: number, r: number): number {
  if (b.setType[s] !== RRType.RRSIG || b.rrLen[r]! < 2) return b.setTtl[s]!;
  const off = b.rrOff[r]!;
  const covered = (b.rdata[off]! << 8) | b.rdata[off + 1]!;
  for (let x = b.nodeFirstSet[n]!, end = x + b.nodeSets[n]!; x < end; x++) if (b.setType[x] === covered) return b.setTtl[x]!;
  return b.setTtl[s]!;
}

export class CompiledStore {
  readonly b: CompiledZoneBuffers;
  private readonly mask: number;

  constructor(b: CompiledZoneBuffers) {
    this.b = sameShape(b);
    this.mask = b.index.length - 1;
  }

  /** The node named by `w` from label `label` on (the suffix), or -1. */
  probe(w: WireName, label: number): number {
    const hash = w.hashes[label]!;
    const b = this.b;
    const index = b.index;
    const qoff = label < w.offs.length ? w.offs[label]! : w.root;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const e = index[i]!;
      if (e === 0) return -1;
      const n = e - 1;
      if (b.nodeHash[n] === hash && sameName(b.names, b.nodeName[n]!, w.wire, qoff)) return n;
    }
  }

  /** The node of a presentation name, or -1. */
  findNode(name: string): number {
    return this.probe(wireName(name), 0);
  }

  /** The owner name of a node as first written in the zone (case kept). */
  nodeText(n: number): string {
    return readNameAt(this.b.names, this.b.nodeName[n]!).name;
  }

  /** The node's RRset of `type`, or -1. */
  setOf(n: number, type: number): number {
    const b = this.b;
    const first = b.nodeFirstSet[n]!;
    for (let s = first, end = first + b.nodeSets[n]!; s < end; s++) if (b.setType[s] === type) return s;
    return -1;
  }

  /** Uncompressed wire RDATA of record `r` (a view into the arena: do not mutate). */
  rdataOf(r: number): Uint8Array {
    const off = this.b.rrOff[r]!;
    return this.b.rdata.subarray(off, off + this.b.rrLen[r]!);
  }

  /**
   * Decoded RDATA of recently answered records, direct-mapped by record number (bounded, so a scan of
   * a large zone keeps no more than HOT_DATA objects). Each carries its wire bytes (wire/pre-encoded.ts):
   * the encoder copies them, and a repeated answer (a wildcard, a popular host) decodes nothing.
   * Made on first use.
   */
  private hotRr: Int32Array | undefined;
  private hotData: Rdata[] = [];

  /** The RDATA of record `r` (of type `type`) for an answer: shared between answers, never to be mutated. */
  answerData(type: number, r: number): Rdata {
    let slots = this.hotRr;
    if (slots === undefined) {
      let n = 16;
      while (n < HOT_DATA && n < this.b.rrCount) n <<= 1;
      slots = this.hotRr = new Int32Array(n).fill(-1);
      this.hotData = new Array<Rdata>(n);
    }
    const slot = r & (slots.length - 1);
    if (slots[slot] === r) return this.hotData[slot]!;
    const wire = this.rdataOf(r);
    const d = withWire(rdataOf(type, wire), wire);
    slots[slot] = r;
    this.hotData[slot] = d;
    return d;
  }

  /** The records of an RRset for an answer (`records`, with `answerData`'s shared, pre-encoded RDATA). */
  answerRecords(set: number, owner: string, out: ResourceRecord[] = []): ResourceRecord[] {
    const b = this.b;
    const type = b.setType[set]!;
    const ttl = b.setTtl[set]!;
    const first = b.setFirstRr[set]!;
    for (let r = first, end = first + b.setRrs[set]!; r < end; r++) out.push({ name: owner, type, class: RRClass.IN, ttl, data: this.answerData(type, r) });
    return out;
  }

  /**
   * answerRecords into a new array; a set of one record (most answers) in an array of one: a push into
   * an empty array reserves room for 17, and the array is made per query the answer cache does not serve (issue 11).
   */
  answerRecordsExact(set: number, owner: string): ResourceRecord[] {
    const b = this.b;
    const type = b.setType[set]!;
    const ttl = b.setTtl[set]!;
    const first = b.setFirstRr[set]!;
    const n = b.setRrs[set]!;
    if (n === 1) return [{ name: owner, type, class: RRClass.IN, ttl, data: this.answerData(type, first) }];
    // Several records: pushed, so the array stays packed (new Array(n) is holey, and the encoder's loops would see two kinds).
    return this.answerRecords(set, owner, []);
  }

  /**
   * The records of an RRset (set `set` of node `node`) as ResourceRecords with `owner`, at the RRset's
   * TTL; RRSIGs each at the TTL of the RRset they cover (recordTtl).
   */
  records(node: number, set: number, owner: string, out: ResourceRecord[] = []): ResourceRecord[] {
    const b = this.b;
    const type = b.setType[set]!;
    const ttl = b.setTtl[set]!;
    const first = b.setFirstRr[set]!;
    const sig = type === RRType.RRSIG;
    for (let r = first, end = first + b.setRrs[set]!; r < end; r++) out.push({ name: owner, type, class: RRClass.IN, ttl: sig ? recordTtl(b, node, set, r) : ttl, data: rdataOf(type, this.rdataOf(r)) });
    return out;
  }

  /** The first name inside the RDATA of record `r` (CNAME, DNAME, NS … targets) as text. */
  targetText(r: number): string {
    return readNameAt(this.b.rdata, this.b.rrOff[r]!).name;
  }
}

/** Typed data for the RFC 1035 types (what the lookup and responders read), `{ raw }` for the rest. */
export function rdataOf(type: number, wire: Uint8Array): Rdata {
  return TYPED_RDATA.has(type) ? rdataFromWire(type, wire) : { raw: wire };
}
