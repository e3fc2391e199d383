// Records written from bytes made once: an NSEC3 record and its RRSIGs (a DNSSEC denial proof, RFC 5155 §7.2)
// go out unchanged in answer after answer but for where their owner's parent (the zone apex) sits in the
// question. The block holds them as the encoder would write them after a question ending in the apex:
// the owner's first label, a pointer to the apex, the RRSIGs' owners as pointers to that owner, RDATA copied
// (NSEC3 and RRSIG RDATA has no compressible names, RFC 3597 §4). The encoder copies the bytes and moves
// the pointers (message.ts writeSection) instead of compressing two names and copying per record.
import { RRType, type ResourceRecord } from './types.js';
import { nameToWire } from './name.js';
import { Writer } from './writer.js';

export interface RecordBlock {
  /** The records the bytes stand for, in order: the encoder uses the block only for these very objects. */
  readonly records: readonly ResourceRecord[];
  readonly bytes: Uint8Array;
  /** The owner's parent in lower-cased wire form: it must end the question for the block to be written. */
  readonly apex: Uint8Array;
  /** Offsets in `bytes` of the pointer to the apex (after the owner's first label). */
  readonly apexPtr: number;
  /** Offsets in `bytes` of pointers to the owner (the block's first byte). */
  readonly ownerPtr: readonly number[];
}

const BLOCK: unique symbol = Symbol('record.block');
type WithBlock = { [BLOCK]?: RecordBlock };

/** The block starting at this record, if one was attached. */
export function recordBlockOf(rr: ResourceRecord): RecordBlock | undefined {
  return (rr as WithBlock)[BLOCK];
}

/**
 * Attaches a block for `records` (an NSEC3 RRset of one record owned by `label.apex.`, then RRSIGs at the
 * same owner, each with RFC 3597 RDATA bytes) to the first of them; nothing when they are not of that shape.
 * Not enumerable: the record compares and prints as before.
 */
export function attachRecordBlock(records: readonly ResourceRecord[], rdataOf: (rr: ResourceRecord) => Uint8Array | undefined): void {
  const first = records[0];
  if (first === undefined || first.type !== RRType.NSEC3) return;
  let owner: Uint8Array;
  try {
    owner = nameToWire(first.name.toLowerCase());
  } catch {
    return;
  }
  const labelEnd = 1 + owner[0]!;
  if (owner[0] === 0 || labelEnd >= owner.length - 1) return;
  const w = new Writer(256);
  const ownerPtr: number[] = [];
  let apexPtr = -1;
  for (let i = 0; i < records.length; i++) {
    const rr = records[i]!;
    const raw = rdataOf(rr);
    if (raw === undefined || rr.name !== first.name || (i > 0 && rr.type !== RRType.RRSIG)) return;
    if (i === 0) {
      w.bytesFrom(owner, 0, labelEnd);
      apexPtr = w.pos;
    } else ownerPtr.push(w.pos);
    w.u16(0xc000);
    w.u16(rr.type);
    w.u16(rr.class);
    w.u32(rr.ttl);
    w.u16(raw.length);
    w.bytes(raw);
  }
  const block: RecordBlock = { records: [...records], bytes: w.buf.slice(0, w.pos), apex: owner.slice(labelEnd), apexPtr, ownerPtr };
  Object.defineProperty(first, BLOCK, { value: block, enumerable: false, writable: false, configurable: false });
}

/**
 * Where `apex` (lower-cased wire) starts in the uncompressed question name at buf[12...], matched without
 * regard to case, or -1 when the question does not end in it.
 */
export function apexInMessage(buf: Uint8Array, apex: Uint8Array): number {
  let end = 12;
  while (buf[end] !== 0) {
    if (buf[end]! >= 0x40) return -1;
    end += buf[end]! + 1;
  }
  end++;
  const at = end - apex.length;
  if (at < 12) return -1;
  // At a label boundary of the question.
  let p = 12;
  while (p < at) p += buf[p]! + 1;
  if (p !== at) return -1;
  for (let i = 0; i < apex.length; i++) {
    let c = buf[at + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== apex[i]) return -1;
  }
  return at;
}

/** Copies the block to the writer with its pointers moved: the apex at `apexAt` in the message. */
export function writeRecordBlock(w: Writer, b: RecordBlock, apexAt: number): void {
  const start = w.pos;
  w.bytes(b.bytes);
  const buf = w.buf;
  buf[start + b.apexPtr] = 0xc0 | (apexAt >>> 8);
  buf[start + b.apexPtr + 1] = apexAt & 0xff;
  for (const p of b.ownerPtr) {
    buf[start + p] = 0xc0 | (start >>> 8);
    buf[start + p + 1] = start & 0xff;
  }
}
