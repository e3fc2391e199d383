// Records written from bytes made once: a DNSSEC proof record (NSEC or NSEC3, RFC 4035 §3.1.3, RFC 5155
// §7.2) or a negative answer's SOA, each with its RRSIGs, go out unchanged in answer after answer but for
// how their names are compressed. The block holds the owner (and the SOA's MNAME and RNAME) as names
// prepared for the compression table, and every other byte as the encoder writes it: type, class, TTL,
// RDATA copied (NSEC, NSEC3 and RRSIG RDATA has no compressible names, RFC 3597 §4), the RRSIGs' owners as
// pointers to the first owner. The encoder compresses those names through its table as for any record,
// copies the rest and sets the pointers (message.ts writeSection): the same bytes as writing the records
// one by one, without hashing the names byte by byte and copying field by field per answer.
import { RRType, type ResourceRecord } from './types.js';
import { nameToWire } from './name.js';
import { prepareName, type PreparedName, type Writer } from './writer.js';

export interface RecordBlock {
  /** The records the bytes stand for, in order (the caller's array, never changed): the encoder uses the block only for these very objects. */
  readonly records: readonly ResourceRecord[];
  /**
   * A block without RDATA names (NSEC, NSEC3: every proof record) is packed: `packed` holds the owner in
   * uncompressed wire form followed by every other byte (type, class, TTL, RDLENGTH, RDATA, the RRSIGs
   * with 2-byte owner slots), a view into a shared arena; `meta` the owner's label offsets, then its
   * compression hashes, then the owner slots' offsets after the owner. Why: proofs are picked at random
   * from a chain of thousands (the NSEC3 covering a random next closer name), so each is cold in the CPU
   * cache; bytes in one run cost a few cache lines where a PreparedName and three arrays cost a miss each.
   */
  readonly packed: Uint8Array | undefined;
  readonly meta: Int32Array;
  readonly ownerLen: number;
  readonly labels: number;
  readonly slots: number;
  /** The owner in uncompressed wire form, spelt as the record's name, with its compression hashes (SOA blocks). */
  readonly owner: PreparedName | undefined;
  /** The first record's type, class and TTL. */
  readonly head: Uint8Array;
  /** Names at the start of its RDATA that are compressed (an SOA's MNAME and RNAME, RFC 1035 §3.3.13); none for NSEC/NSEC3. */
  readonly rdataNames: readonly PreparedName[];
  /** The rest of its RDATA. */
  readonly rdataRest: Uint8Array;
  /** The RRSIGs that follow it, each with a 2-byte owner slot. */
  readonly tail: Uint8Array;
  /** Offsets in `tail` of the RRSIGs' owner slots. */
  readonly ownerSlots: readonly number[];
}

/** The arenas packed blocks live in: chunks handed out in order, a full one left to the blocks using it. */
const ARENA_BYTES = 1 << 18;
const ARENA_INTS = 1 << 15;
let arena = new Uint8Array(ARENA_BYTES);
let arenaUsed = 0;
let metaArena = new Int32Array(ARENA_INTS);
let metaUsed = 0;

function arenaBytes(n: number): Uint8Array {
  if (n > ARENA_BYTES >> 4) return new Uint8Array(n);
  if (arenaUsed + n > ARENA_BYTES) {
    arena = new Uint8Array(ARENA_BYTES);
    arenaUsed = 0;
  }
  const out = arena.subarray(arenaUsed, arenaUsed + n);
  arenaUsed += n;
  return out;
}

function arenaInts(n: number): Int32Array {
  if (n > ARENA_INTS >> 4) return new Int32Array(n);
  if (metaUsed + n > ARENA_INTS) {
    metaArena = new Int32Array(ARENA_INTS);
    metaUsed = 0;
  }
  const out = metaArena.subarray(metaUsed, metaUsed + n);
  metaUsed += n;
  return out;
}

const NO_INTS = new Int32Array(0);
const EMPTY = new Uint8Array(0);

const BLOCK: unique symbol = Symbol('record.block');
type WithBlock = { [BLOCK]?: RecordBlock };

/**
 * The block starting at this record, if one was attached. Only NSEC, NSEC3 and SOA records carry one: the
 * type is read first, since records come in many shapes and the hidden property's lookup is a slow
 * (megamorphic) one for every RRset an answer writes.
 */
export function recordBlockOf(rr: ResourceRecord): RecordBlock | undefined {
  const t = rr.type;
  return t === RRType.NSEC3 || t === RRType.NSEC || t === RRType.SOA ? (rr as WithBlock)[BLOCK] : undefined;
}

/** Writes `v` big-endian (network order) at `at`; also used by dnssec/serve/nsec3-replay.ts's arena. */
export function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}

/** Writes `v` big-endian (network order) at `at`. */
function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, v >>> 16);
  put16(b, at + 2, v & 0xffff);
}

/** Writes a record's fields after its owner at b[at] — type, class, TTL, RDLENGTH, then `rdata` — and returns where they end. */
export function putRecordAfterOwner(b: Uint8Array, at: number, type: number, klass: number, ttl: number, rdata: Uint8Array): number {
  put16(b, at, type);
  put16(b, at + 2, klass);
  put32(b, at + 4, ttl);
  put16(b, at + 8, rdata.length);
  b.set(rdata, at + 10);
  return at + 10 + rdata.length;
}

function endOfName(b: Uint8Array, at: number): number {
  while (b[at] !== 0) at += b[at]! + 1;
  return at + 1;
}

/** An RDATA name in lower case (keepCase changes nothing for it, writer.ts entryExact) and not the root. */
function plainRdataName(b: Uint8Array, at: number, end: number): boolean {
  if (end - at <= 1) return false;
  for (let i = at; i < end; i++) if (b[i]! >= 0x41 && b[i]! <= 0x5a) return false;
  return true;
}

/**
 * Attaches a block for `records` (one NSEC, NSEC3 or SOA record, then RRSIGs covering it with the very
 * same owner string, each with wire RDATA from `rdataOf`) to the first of them; nothing when they are not of that
 * shape (an SOA whose MNAME or RNAME has upper-case letters or is the root keeps the general path).
 * Not enumerable: the record compares and prints as before.
 */
export function attachRecordBlock(records: readonly ResourceRecord[], rdataOf: (rr: ResourceRecord) => Uint8Array | undefined): void {
  const first = records[0];
  if (first === undefined || (first.type !== RRType.NSEC3 && first.type !== RRType.NSEC && first.type !== RRType.SOA) || first.name.length <= 1) return;
  if (recordBlockOf(first) !== undefined) return;
  let owner: Uint8Array;
  try {
    owner = nameToWire(first.name);
  } catch {
    return;
  }
  const raw0 = rdataOf(first);
  if (raw0 === undefined) return;
  const rdataNames: PreparedName[] = [];
  let restAt = 0;
  if (first.type === RRType.SOA) {
    for (let k = 0; k < 2; k++) {
      const end = endOfName(raw0, restAt);
      if (!plainRdataName(raw0, restAt, end)) return;
      rdataNames.push(prepareName(raw0.slice(restAt, end)));
      restAt = end;
    }
  }
  const head = new Uint8Array(8);
  put16(head, 0, first.type);
  put16(head, 2, first.class);
  put32(head, 4, first.ttl);
  // The RRSIGs after it: a 2-byte owner slot, type, class, TTL, RDLENGTH and RDATA each.
  const sigRdata: Uint8Array[] = [];
  let size = 0;
  for (let i = 1; i < records.length; i++) {
    const rr = records[i]!;
    const raw = rdataOf(rr);
    // Each an RRSIG covering the record's type (RFC 4034 §3.1): the group the encoder would make of them.
    if (raw === undefined || rr.name !== first.name || rr.type !== RRType.RRSIG || raw.length < 2 || ((raw[0]! << 8) | raw[1]!) !== first.type) return;
    sigRdata.push(raw);
    size += 12 + raw.length;
  }
  const tail = new Uint8Array(size);
  const ownerSlots: number[] = [];
  let o = 0;
  for (let i = 1; i < records.length; i++) {
    const rr = records[i]!;
    const raw = sigRdata[i - 1]!;
    ownerSlots.push(o);
    put16(tail, o, 0xc000);
    o = putRecordAfterOwner(tail, o + 2, rr.type, rr.class, rr.ttl, raw);
  }
  const rdataRest = restAt === 0 ? raw0 : raw0.subarray(restAt);
  let block: RecordBlock;
  if (rdataNames.length === 0 && rdataRest.length <= 0xffff) {
    const prepared = prepareName(owner);
    const labels = prepared.labelAt.length;
    const ownerLen = owner.length;
    const packed = arenaBytes(ownerLen + 10 + rdataRest.length + tail.length);
    packed.set(owner, 0);
    packed.set(head, ownerLen);
    put16(packed, ownerLen + 8, rdataRest.length);
    packed.set(rdataRest, ownerLen + 10);
    packed.set(tail, ownerLen + 10 + rdataRest.length);
    const meta = arenaInts(2 * labels + ownerSlots.length);
    meta.set(prepared.labelAt, 0);
    meta.set(prepared.hashes, labels);
    for (let k = 0; k < ownerSlots.length; k++) meta[2 * labels + k] = 10 + rdataRest.length + ownerSlots[k]!;
    block = { records, packed, meta, ownerLen, labels, slots: ownerSlots.length, owner: undefined, head: EMPTY, rdataNames: [], rdataRest: EMPTY, tail: EMPTY, ownerSlots: [] };
  } else {
    block = { records, packed: undefined, meta: NO_INTS, ownerLen: 0, labels: 0, slots: 0, owner: prepareName(owner), head, rdataNames, rdataRest, tail, ownerSlots };
  }
  Object.defineProperty(first, BLOCK, { value: block, enumerable: false, writable: false, configurable: false });
}

/**
 * Writes the block: the owner (and RDATA names) compressed through the writer's table as writeRecord
 * would, the rest copied. Each RRSIG's owner is what the table gives for the same name again: the
 * owner's own pointer when it was written as one pointer, else a pointer to where it starts. The caller
 * checks that the owner starts where a pointer can reach (below 0x4000).
 */
export function writeRecordBlock(w: Writer, b: RecordBlock): void {
  const start = w.pos;
  if (b.packed !== undefined) {
    const meta = b.meta;
    const labels = b.labels;
    const end = w.writePackedName(b.packed, b.ownerLen, meta, labels);
    const buf = w.buf;
    // A pointer alone (0xC0..): the name already was in the message, at the pointer's target.
    const alone = end - start === 2;
    const hi = alone ? buf[start]! : 0xc0 | (start >>> 8);
    const lo = alone ? buf[start + 1]! : start & 0xff;
    for (let k = 0; k < b.slots; k++) {
      const p = end + meta[2 * labels + k]!;
      buf[p] = hi;
      buf[p + 1] = lo;
    }
    return;
  }
  w.writePreparedName(b.owner!);
  const buf0 = w.buf;
  // A pointer alone (0xC0..): the name already was in the message, at the pointer's target.
  const alone = w.pos - start === 2;
  const hi = alone ? buf0[start]! : 0xc0 | (start >>> 8);
  const lo = alone ? buf0[start + 1]! : start & 0xff;
  w.bytes(b.head);
  const lenAt = w.reserve(2);
  for (const n of b.rdataNames) w.writePreparedName(n);
  w.bytes(b.rdataRest);
  w.patchU16(lenAt, w.pos - lenAt - 2);
  const at = w.pos;
  w.bytes(b.tail);
  const buf = w.buf;
  for (const p of b.ownerSlots) {
    buf[at + p] = hi;
    buf[at + p + 1] = lo;
  }
}
