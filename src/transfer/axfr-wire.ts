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
// §4.2.2): the socket takes it as it is, no copy after writing (a million records are 35 MB of messages).
import type { TsigStreamSigner } from '../tsig/sign.js';
import { nameToWire } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import type { Zone } from '../zone/tree.js';
import type { CompiledZoneBuffers } from '../zone/compiled.js';
import { streamFrame } from '../wire/frame.js';
import { STREAM_MAX, type TransferHead } from './messages.js';

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

  constructor(
    private readonly zone: Zone,
    private readonly head: TransferHead,
    private readonly maxSize: number,
    private readonly signer: TsigStreamSigner | undefined,
  ) {
    const b = zone.store.b;
    this.b = b;
    this.budget = maxSize - (signer?.overhead ?? 0) - (head.edns ? OPT_SIZE : 0);
    this.apexOff = b.nodeName[0]!;
    this.apexLen = nameLength(b.names, this.apexOff);
    this.soaSet = zone.store.setOf(0, RRType.SOA);
    if (this.soaSet < 0) throw new Error(`zone ${zone.origin} has no SOA`);
    this.qname = nameToWire(head.question.name);
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

  private open(): Uint8Array {
    // Room for the largest message this budget allows, the OPT after it, and the prefix.
    const frame = Buffer.allocUnsafe(FRAME + this.budget + OPT_SIZE);
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

  private close(frame: Uint8Array): Uint8Array {
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
    // TSIG appends a record: the signer returns a new message, framed again (signed transfers pay one copy).
    if (this.signer) return streamFrame(this.signer.sign(m.subarray(0, pos)));
    frame[0] = pos >>> 8;
    frame[1] = pos & 0xff;
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
          pos = rrFixed(m, pos, type, ttl, len);
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
 * Yields the AXFR of `zone` as messages in stream framing (each after its 2-byte length), each under
 * `maxSize` less the TSIG's room and signed by `signer` when given: the apex SOA, every other record node
 * by node (each RRset together), the apex SOA again. Lazily: one message is built per step, so a
 * million-record zone is never held encoded.
 */
export function* axfrFrames(zone: Zone, head: TransferHead, signer?: TsigStreamSigner, maxSize = STREAM_MAX): Generator<Uint8Array> {
  const w = new AxfrWriter(zone, head, maxSize, signer);
  while (!w.done) yield w.next();
}
