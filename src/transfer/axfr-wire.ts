// AXFR messages written straight from a compiled zone's arrays (RFC 5936 §2.2): owner names from the names
// arena, RDATA copied from the RDATA arena as stored, no record objects. This is the AXFR writer; IXFR's
// differences are record objects and go through packMessages (messages.ts).
//
// Compression (RFC 1035 §4.1.4): each owner is written as its labels above the zone's apex plus a pointer
// to the apex, or as one pointer when the previous record had the same owner. RDATA is copied
// uncompressed — always valid (RFC 3597 §4 forbids compressing unknown types; compressing the known ones
// is optional), and what lets the bytes be copied as they are.
import type { TsigStreamSigner } from '../tsig/sign.js';
import { nameToWire } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import type { Zone } from '../zone/tree.js';
import { STREAM_MAX, type TransferHead } from './messages.js';

const HEADER = 12;
const OPT_SIZE = 11;

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
 * Yields the AXFR of `zone` as encoded messages, each under `maxSize` less the TSIG's room and signed
 * by `signer` when given: the apex SOA, every other record node by node (each RRset together), the apex
 * SOA again. Lazily: one message is built per step, so a million-record zone is never held encoded.
 */
export function* axfrMessages(zone: Zone, head: TransferHead, signer?: TsigStreamSigner, maxSize = STREAM_MAX): Generator<Uint8Array> {
  const b = zone.store.b;
  const names = b.names;
  const rdata = b.rdata;
  const budget = maxSize - (signer?.overhead ?? 0) - (head.edns ? OPT_SIZE : 0);
  const buf = new Uint8Array(STREAM_MAX + 512);
  const dv = new DataView(buf.buffer);
  // The apex's wire name: every owner ends with it.
  const apexOff = b.nodeName[0]!;
  const apexLen = nameLength(names, apexOff);
  const soaSet = zone.store.setOf(0, RRType.SOA);
  if (soaSet < 0) throw new Error(`zone ${zone.origin} has no SOA`);
  const qname = nameToWire(head.question.name);

  let pos = 0;
  let count = 0;
  let first = true;
  /** Offset of the apex name in this message (a compression target), -1 before it is written. */
  let apexAt = -1;
  /** The node whose owner was written last in this message, and where. */
  let lastNode = -1;
  let lastAt = -1;

  const open = (): void => {
    buf.fill(0, 0, HEADER);
    dv.setUint16(0, head.id);
    // QR, opcode, AA, RD (RFC 5936 §2.2.1).
    buf[2] = 0x80 | ((head.opcode & 0xf) << 3) | 0x04 | (head.rd ? 1 : 0);
    pos = HEADER;
    apexAt = -1;
    lastNode = -1;
    if (first) {
      dv.setUint16(4, 1);
      buf.set(qname, pos);
      // The question names the apex: spelt the same, it is the first compression target.
      if (sameBytes(qname, names, apexOff, apexLen)) apexAt = pos;
      pos += qname.length;
      dv.setUint16(pos, head.question.type);
      dv.setUint16(pos + 2, head.question.class);
      pos += 4;
    }
    count = 0;
  };

  const close = (): Uint8Array => {
    dv.setUint16(6, count);
    if (head.edns) {
      // OPT (RFC 6891 §6.1.2): root owner, our UDP size, DO copied, no options.
      buf[pos] = 0;
      dv.setUint16(pos + 1, RRType.OPT);
      dv.setUint16(pos + 3, head.edns.udpSize);
      dv.setUint32(pos + 5, head.edns.dnssecOk ? 0x8000 : 0);
      dv.setUint16(pos + 9, 0);
      pos += OPT_SIZE;
      dv.setUint16(10, 1);
    }
    first = false;
    const wire = buf.slice(0, pos);
    return signer ? signer.sign(wire) : wire;
  };

  /** Writes record `r` of set `s` at node `n`; false (nothing written) when it does not fit. */
  const put = (n: number, s: number, r: number): boolean => {
    const start = pos;
    const len = b.rrLen[r]!;
    if (n === lastNode) {
      if (pos + 2 + 10 + len > budget) return false;
      dv.setUint16(pos, 0xc000 | lastAt);
      pos += 2;
    } else {
      const off = b.nodeName[n]!;
      const full = nameLength(names, off);
      const own = full - apexLen;
      const nameBytes = apexAt >= 0 ? own + 2 : full;
      if (pos + nameBytes + 10 + len > budget) return false;
      if (apexAt >= 0) {
        buf.set(names.subarray(off, off + own), pos);
        pos += own;
        dv.setUint16(pos, 0xc000 | apexAt);
        pos += 2;
      } else {
        buf.set(names.subarray(off, off + full), pos);
        // Pointers reach the first 16 KiB only; a message is at most 64 KiB, so check.
        if (pos + own < 0x4000) apexAt = pos + own;
        pos += full;
      }
      if (start < 0x4000) {
        lastNode = n;
        lastAt = start;
      }
    }
    dv.setUint16(pos, b.setType[s]!);
    dv.setUint16(pos + 2, 1);
    dv.setUint32(pos + 4, b.setTtl[s]!);
    dv.setUint16(pos + 8, len);
    pos += 10;
    const ro = b.rrOff[r]!;
    if (len < 32) for (let i = 0; i < len; i++) buf[pos + i] = rdata[ro + i]!;
    else buf.set(rdata.subarray(ro, ro + len), pos);
    pos += len;
    count++;
    return true;
  };

  const soaRr = b.setFirstRr[soaSet]!;
  open();
  put(0, soaSet, soaRr);
  for (let n = 0; n < b.nodeCount; n++) {
    for (let s = b.nodeFirstSet[n]!, send = s + b.nodeSets[n]!; s < send; s++) {
      if (s === soaSet) continue;
      for (let r = b.setFirstRr[s]!, rend = r + b.setRrs[s]!; r < rend; r++) {
        if (put(n, s, r)) continue;
        if (count === 0) throw new Error(`record of ${zone.store.nodeText(n)} type ${b.setType[s]} does not fit in a ${maxSize}-byte message`);
        yield close();
        open();
        if (!put(n, s, r)) throw new Error(`record of ${zone.store.nodeText(n)} type ${b.setType[s]} does not fit in a ${maxSize}-byte message`);
      }
    }
  }
  if (!put(0, soaSet, soaRr)) {
    yield close();
    open();
    put(0, soaSet, soaRr);
  }
  yield close();
}
