// AXFR messages written straight from a compiled zone's arrays (RFC 5936 §2.2): owner names from the names
// arena, RDATA copied from the RDATA arena as stored, no record objects. This is the AXFR writer; IXFR's
// differences are record objects and go through packMessages (messages.ts).
//
// Compression (RFC 1035 §4.1.4): each owner is written as its labels above the zone's apex plus a pointer
// to the apex, or as one pointer when the previous record had the same owner. RDATA is copied
// uncompressed — always valid (RFC 3597 §4 forbids compressing unknown types; compressing the known ones
// is optional), and what lets the bytes be copied as they are.
//
// Each message is written once, into a buffer that starts with the stream's 2-byte length (RFC 1035
// §4.2.2): the socket takes it as it is, no copy after writing (a million records are 35 MB of messages);
// a TSIG is appended in place. The transport hands written frames back (recycle, wire/frame.ts) and the
// next messages are written into them: fresh 64-KiB buffers for every message made V8 run a full garbage
// collection or two per million-record transfer ("external memory pressure"). The record loop runs in C
// when the addon is built (native/axfr_body.c: one memcpy per owner and RDATA), else in JavaScript.
import type { TsigStreamSigner } from '../tsig/sign.js';
import { nameToWire } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import type { Zone } from '../zone/tree.js';
import { recordTtl, type CompiledZoneBuffers } from '../zone/compiled.js';
import type { RecyclingFrames } from '../wire/frame.js';
import { STREAM_MAX, type TransferHead } from './messages.js';
import { nativeAxfrBody, ST_APEX_AT, ST_APEX_LEN, ST_BUDGET, ST_COUNT, ST_FULL, ST_NODE, ST_NODE_COUNT, ST_POS, ST_RR, ST_SET, ST_SOA_SET, ST_WORDS, type AxfrBodyFn } from './axfr-native.js';

const HEADER = 12;
const OPT_SIZE = 11;
/** The length prefix in front of each message. */
const FRAME = 2;

/** Length of the uncompressed wire name at b[off]. */
function nameLength(b: Uint8Array, off: number): number {
  let p = off;
  while (b[p] !== 0) p += b[p]! + 1;
  return p + 1 - off;
}

function sameBytes(a: Uint8Array, b: Uint8Array, off: number, len: number): boolean {
  if (a.length !== len) return false;
  for (let i = 0; i < len; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

/**
 * Writes one message after another. The cursor (node, set, record) lives in fields between messages
 * and in locals while a message is written: the loop over records touches no closure or object state.
 */
class AxfrWriter {
  private readonly b: CompiledZoneBuffers;
  private readonly budget: number;
  private readonly apexOff: number;
  private readonly apexLen: number;
  private readonly soaSet: number;
  private readonly qname: Uint8Array;
  /** 0: the opening SOA is next; 1: the zone's other records; 2: the closing SOA; 3: done. */
  private phase = 0;
  private n = 0;
  /** -1: at the start of node n; otherwise the set being written. */
  private s = -1;
  /** -1: at the start of set s; otherwise the next record to write. */
  private r = -1;
  private first = true;
  /** The message being written (after its length prefix) and its end. */
  private m: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private count = 0;
  /** Offset of the apex name in this message (a compression target), -1 before it is written. */
  private apexAt = -1;
  /** The C record loop's state words (axfr-native.ts), when it writes the records. */
  private readonly state: Int32Array | undefined;
  /** Bytes of each frame: prefix, the largest message the budget allows, the OPT and the TSIG after it. */
  private readonly frameBytes: number;
  /** Frames handed back by the transport (recycle), written again before a new one is allocated. */
  private readonly free: Buffer[] = [];
  /** Each frame given out, by its memory: what recycle() takes back (weakly: a frame never handed back is collected). */
  private readonly issued = new WeakMap<ArrayBufferLike, Buffer>();

  constructor(
    private readonly zone: Zone,
    private readonly head: TransferHead,
    private readonly maxSize: number,
    private readonly signer: TsigStreamSigner | undefined,
    private readonly native: AxfrBodyFn | null,
  ) {
    const b = zone.store.b;
    this.b = b;
    this.budget = maxSize - (signer?.overhead ?? 0) - (head.edns ? OPT_SIZE : 0);
    this.frameBytes = FRAME + this.budget + OPT_SIZE + (signer?.overhead ?? 0);
    this.apexOff = b.nodeName[0]!;
    this.apexLen = nameLength(b.names, this.apexOff);
    this.soaSet = zone.store.setOf(0, RRType.SOA);
    if (this.soaSet < 0) throw new Error(`zone ${zone.origin} has no SOA`);
    this.qname = nameToWire(head.question.name);
    if (native) {
      const st = new Int32Array(ST_WORDS);
      st[ST_BUDGET] = this.budget;
      st[ST_APEX_LEN] = this.apexLen;
      st[ST_SOA_SET] = this.soaSet;
      st[ST_NODE_COUNT] = b.nodeCount;
      this.state = st;
    }
  }

  get done(): boolean {
    return this.phase === 3;
  }

  /** The next message, with its length prefix. */
  next(): Uint8Array {
    const frame = this.open();
    const soaRr = this.b.setFirstRr[this.soaSet]!;
    if (this.phase === 0) {
      this.putSoa(soaRr);
      this.phase = 1;
    }
    if (this.phase === 1 && this.body()) this.phase = 2;
    if (this.phase === 2 && this.putSoa(soaRr)) this.phase = 3;
    if (this.count === 0) throw new Error(`a record of ${this.zone.store.nodeText(this.n)} does not fit in a ${this.maxSize}-byte message`);
    return this.close(frame);
  }

  /** A frame the transport has written out (one next() returned): its buffer carries a later message. */
  recycle(view: Uint8Array): void {
    const frame = this.issued.get(view.buffer);
    if (frame === undefined || view.byteOffset !== 0) return;
    this.issued.delete(view.buffer);
    this.free.push(frame);
  }

  private open(): Buffer {
    // Its own ArrayBuffer (allocUnsafeSlow: never a slice of Node's pool), so recycle() knows it by its memory.
    const frame = this.free.pop() ?? Buffer.allocUnsafeSlow(this.frameBytes);
    const m = frame.subarray(FRAME);
    const h = this.head;
    m.fill(0, 0, HEADER);
    m[0] = h.id >>> 8;
    m[1] = h.id & 0xff;
    // QR, opcode, AA, RD (RFC 5936 §2.2.1).
    m[2] = 0x80 | ((h.opcode & 0xf) << 3) | 0x04 | (h.rd ? 1 : 0);
    let pos = HEADER;
    this.apexAt = -1;
    if (this.first) {
      m[5] = 1;
      const q = this.qname;
      m.set(q, pos);
      // The question names the apex: spelt the same, it is the first compression target.
      if (sameBytes(q, this.b.names, this.apexOff, this.apexLen)) this.apexAt = pos;
      pos += q.length;
      m[pos] = h.question.type >>> 8;
      m[pos + 1] = h.question.type & 0xff;
      m[pos + 2] = h.question.class >>> 8;
      m[pos + 3] = h.question.class & 0xff;
      pos += 4;
    }
    this.m = m;
    this.pos = pos;
    this.count = 0;
    return frame;
  }

  private close(frame: Buffer): Uint8Array {
    const m = this.m;
    let pos = this.pos;
    m[6] = this.count >>> 8;
    m[7] = this.count & 0xff;
    const edns = this.head.edns;
    if (edns) {
      // OPT (RFC 6891 §6.1.2): root owner, our UDP size, DO copied, no options.
      m[pos] = 0;
      m[pos + 1] = RRType.OPT >>> 8;
      m[pos + 2] = RRType.OPT & 0xff;
      m[pos + 3] = edns.udpSize >>> 8;
      m[pos + 4] = edns.udpSize & 0xff;
      m.fill(0, pos + 5, pos + OPT_SIZE);
      if (edns.dnssecOk) m[pos + 7] = 0x80;
      pos += OPT_SIZE;
      m[11] = 1;
    }
    this.first = false;
    // TSIG is appended in place, in the room the budget left for it (RFC 8945 §5.3.1: each message signed).
    if (this.signer) pos = this.signer.signInto(m, pos);
    frame[0] = pos >>> 8;
    frame[1] = pos & 0xff;
    this.issued.set(frame.buffer, frame);
    return frame.subarray(0, FRAME + pos);
  }

  /** The apex SOA, if it fits; its owner is the apex, a pointer when the apex is already in the message. */
  private putSoa(soaRr: number): boolean {
    const b = this.b;
    const m = this.m;
    let pos = this.pos;
    const len = b.rrLen[soaRr]!;
    const nameBytes = this.apexAt >= 0 ? 2 : this.apexLen;
    if (pos + nameBytes + 10 + len > this.budget) return false;
    if (this.apexAt >= 0) {
      m[pos] = 0xc0 | (this.apexAt >>> 8);
      m[pos + 1] = this.apexAt & 0xff;
      pos += 2;
    } else {
      m.set(b.names.subarray(this.apexOff, this.apexOff + this.apexLen), pos);
      if (pos < 0x4000) this.apexAt = pos;
      pos += this.apexLen;
    }
    pos = rrFixed(m, pos, RRType.SOA, b.setTtl[this.soaSet]!, len);
    m.set(b.rdata.subarray(b.rrOff[soaRr]!, b.rrOff[soaRr]! + len), pos);
    this.pos = pos + len;
    this.count++;
    return true;
  }

  /** Writes records from the cursor until the message is full (false) or the zone's records end (true). */
  private body(): boolean {
    if (this.native) return this.nativeBody(this.native, this.state!);
    const b = this.b;
    const m = this.m;
    const names = b.names;
    const rdata = b.rdata;
    const nodeName = b.nodeName;
    const nodeFirstSet = b.nodeFirstSet;
    const nodeSets = b.nodeSets;
    const setType = b.setType;
    const setTtl = b.setTtl;
    const setFirstRr = b.setFirstRr;
    const setRrs = b.setRrs;
    const rrOff = b.rrOff;
    const rrLen = b.rrLen;
    const nodeCount = b.nodeCount;
    const soaSet = this.soaSet;
    const apexLen = this.apexLen;
    const budget = this.budget;
    let pos = this.pos;
    let count = this.count;
    let apexAt = this.apexAt;
    let n = this.n;
    let s = this.s;
    let r = this.r;
    let full = false;
    outer: for (; n < nodeCount; n++, s = -1) {
      const firstSet = nodeFirstSet[n]!;
      const setEnd = firstSet + nodeSets[n]!;
      if (s < 0) s = firstSet;
      /** Where this node's owner was written in this message (a pointer target), -1 not yet. */
      let ownerAt = -1;
      for (; s < setEnd; s++, r = -1) {
        if (s === soaSet) continue;
        const type = setType[s]!;
        const ttl = setTtl[s]!;
        const rEnd = setFirstRr[s]! + setRrs[s]!;
        if (r < 0) r = setFirstRr[s]!;
        for (; r < rEnd; r++) {
          const len = rrLen[r]!;
          const start = pos;
          if (ownerAt >= 0) {
            if (pos + 12 + len > budget) {
              full = true;
              break outer;
            }
            m[pos] = 0xc0 | (ownerAt >>> 8);
            m[pos + 1] = ownerAt & 0xff;
            pos += 2;
          } else {
            const off = nodeName[n]!;
            const whole = nameLength(names, off);
            const own = whole - apexLen;
            const nameBytes = apexAt >= 0 ? own + 2 : whole;
            if (pos + nameBytes + 10 + len > budget) {
              full = true;
              break outer;
            }
            // Labels are a few bytes: a loop beats a subarray and set() per owner.
            const copy = apexAt >= 0 ? own : whole;
            for (let i = 0; i < copy; i++) m[pos + i] = names[off + i]!;
            if (apexAt >= 0) {
              m[pos + own] = 0xc0 | (apexAt >>> 8);
              m[pos + own + 1] = apexAt & 0xff;
            } else if (pos + own < 0x4000) apexAt = pos + own;
            pos += nameBytes;
            // Pointers reach the first 16 KiB only; a message is up to 64 KiB.
            if (start < 0x4000) ownerAt = start;
          }
          pos = rrFixed(m, pos, type, type === RRType.RRSIG ? recordTtl(b, n, s, r) : ttl, len);
          const ro = rrOff[r]!;
          if (len < 48) for (let i = 0; i < len; i++) m[pos + i] = rdata[ro + i]!;
          else m.set(rdata.subarray(ro, ro + len), pos);
          pos += len;
          count++;
        }
      }
    }
    this.pos = pos;
    this.count = count;
    this.apexAt = apexAt;
    this.n = n;
    this.s = s;
    this.r = r;
    return !full;
  }

  /** body() by the C loop (native/axfr_body.c): the same bytes, the cursor handed over in `st`. */
  private nativeBody(fn: AxfrBodyFn, st: Int32Array): boolean {
    const b = this.b;
    st[ST_POS] = this.pos;
    st[ST_COUNT] = this.count;
    st[ST_APEX_AT] = this.apexAt;
    st[ST_NODE] = this.n;
    st[ST_SET] = this.s;
    st[ST_RR] = this.r;
    fn(this.m, st, b.names, b.rdata, b.nodeName, b.nodeFirstSet, b.nodeSets, b.setType, b.setTtl, b.setFirstRr, b.setRrs, b.rrOff, b.rrLen);
    this.pos = st[ST_POS]!;
    this.count = st[ST_COUNT]!;
    this.apexAt = st[ST_APEX_AT]!;
    this.n = st[ST_NODE]!;
    this.s = st[ST_SET]!;
    this.r = st[ST_RR]!;
    return st[ST_FULL] === 0;
  }
}

/** TYPE, CLASS IN, TTL and RDLENGTH of a record at m[pos]; returns the position after them. */
function rrFixed(m: Uint8Array, pos: number, type: number, ttl: number, len: number): number {
  m[pos] = type >>> 8;
  m[pos + 1] = type & 0xff;
  m[pos + 2] = 0;
  m[pos + 3] = 1;
  m[pos + 4] = ttl >>> 24;
  m[pos + 5] = (ttl >>> 16) & 0xff;
  m[pos + 6] = (ttl >>> 8) & 0xff;
  m[pos + 7] = ttl & 0xff;
  m[pos + 8] = len >>> 8;
  m[pos + 9] = len & 0xff;
  return pos + 10;
}

/**
 * The AXFR of `zone` as messages in stream framing (each after its 2-byte length), each under `maxSize`
 * less the TSIG's room and signed by `signer` when given: the apex SOA, every other record node by node
 * (each RRset together), the apex SOA again. Lazily: one message is built per step, so a million-record
 * zone is never held encoded; frames handed back with `recycle` carry later messages (wire/frame.ts).
 * `loop: 'js'` writes the records with the JavaScript loop even when the C one is built (tests compare the two).
 */
export function axfrFrames(zone: Zone, head: TransferHead, signer?: TsigStreamSigner, maxSize = STREAM_MAX, loop: 'native' | 'js' = 'native'): RecyclingFrames & IterableIterator<Uint8Array> {
  const w = new AxfrWriter(zone, head, maxSize, signer, loop === 'native' ? nativeAxfrBody() : null);
  return {
    next: (): IteratorResult<Uint8Array> => (w.done ? { done: true, value: undefined } : { done: false, value: w.next() }),
    recycle: (frame: Uint8Array) => w.recycle(frame),
    [Symbol.iterator]() {
      return this;
    },
  };
}
