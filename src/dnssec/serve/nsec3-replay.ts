// A signed NSEC3 zone's chain as the UDP addon's encloser replay reads it (native/udp_batch.c, the NSEC3
// hole): an NXDOMAIN, wildcard answer or wildcard NODATA for a name below its closest encloser E differs
// from the next such answer in one place only, the NSEC3 covering the next closer name (RFC 5155 §7.2.1-
// §7.2.6; E's matching NSEC3 and the one covering or matching *.E are E's). C hashes that name, finds its
// place in `digests` and copies the place's block into the reply template learnt for E. Each block is
// the NSEC3 and its RRSIGs exactly as the encoder writes them after the question (step.ts proofWithSigs,
// wire/record-block.ts): the owner as its hashed label (lower case) and a pointer to the apex, where the
// question holds it; each RRSIG's owner a pointer to the block's first byte. Both pointers are written
// as 0xC000 here; C sets them (it knows where the apex and the block land in each reply).
import { fromBase32hex, NSEC3_SHA1 } from '../nsec3-hash.js';
import { nameKey } from '../../wire/name.js';
import { put16, putRecordAfterOwner } from '../../wire/record-block.js';
import { RRType } from '../../wire/types.js';
import type { DnssecIndex } from './index.js';
import { rawRdata } from './rdata.js';

export interface Nsec3ReplayArena {
  /** The zone's NSEC3 parameters (DnssecIndex.nsec3Param): what the engine hashes names with. */
  readonly salt: Uint8Array;
  readonly iterations: number;
  /** 20 bytes per chain place, in chain (byte) order. */
  readonly digests: Uint8Array;
  /** Place i's block is blocks[blockAt[i], blockAt[i + 1]). */
  readonly blocks: Uint8Array;
  readonly blockAt: Int32Array;
}

/** An NSEC3 owner's hashed label: base32hex of a SHA-1 digest (RFC 5155 §3.3). */
const LABEL = 32;
/**
 * The largest arena built (a zone whose blocks need more keeps its NSEC3 answers in JS): 184 bytes a place
 * for the bench's 20,000-record zone signed by dnssec-signzone with ECDSA P-256 (16,239 places, 2.99 MB,
 * built in 147 ms), so 64 MiB is a chain of some 360,000 names. Built once per loaded zone, on the first
 * registration with the addon.
 */
export const NSEC3_ARENA_MAX = 64 << 20;
/**
 * Above this many iterations no arena (RFC 9276 §3.2: validators may treat the zone as bogus): the addon
 * refuses more than 2500 (native/nsec3.c n3_zone_of), and a zone it refused would turn encloser replay off.
 */
const ITERATIONS_MAX = 500;

const arenas = new WeakMap<DnssecIndex, Nsec3ReplayArena | null>();

/** The arena of a signed NSEC3 zone, made once per index; undefined when the zone is not of that shape. */
export function nsec3ReplayArena(idx: DnssecIndex, max = NSEC3_ARENA_MAX): Nsec3ReplayArena | undefined {
  let a = arenas.get(idx);
  if (a === undefined) arenas.set(idx, (a = buildArena(idx, max) ?? null));
  return a ?? undefined;
}

function buildArena(idx: DnssecIndex, max: number): Nsec3ReplayArena | undefined {
  const p = idx.nsec3Param;
  const places = idx.nsec3Count;
  // The root zone's owners end in the root label, not a pointer: not worth a second block format.
  if (idx.denial !== 'nsec3' || p === undefined || p.algorithm !== NSEC3_SHA1 || p.iterations > ITERATIONS_MAX || places === 0 || idx.origin === '.') return undefined;
  const originKey = nameKey(idx.origin);
  // First pass: sizes and checks (every owner a hashed label right below the apex, all RDATA in wire form).
  let size = 0;
  for (let i = 0; i < places; i++) {
    const r = idx.nsec3RecordAt(i);
    const key = nameKey(r.name);
    const raw = rawRdata(r);
    if (raw === undefined || key.length !== LABEL + 1 + originKey.length || key.charCodeAt(LABEL) !== 0x2e || key.slice(LABEL + 1) !== originKey) return undefined;
    size += 1 + LABEL + 2 + 10 + raw.length;
    for (const s of idx.sigsFor(r.name, RRType.NSEC3) ?? []) {
      const sr = rawRdata(s);
      if (sr === undefined) return undefined;
      size += 12 + sr.length;
    }
    if (size > max) return undefined;
  }
  const digests = new Uint8Array(20 * places);
  const blocks = new Uint8Array(size);
  const blockAt = new Int32Array(places + 1);
  let o = 0;
  for (let i = 0; i < places; i++) {
    const r = idx.nsec3RecordAt(i);
    const label = nameKey(r.name).slice(0, LABEL);
    const d = fromBase32hex(label);
    if (d === undefined || d.length !== 20) return undefined;
    digests.set(d, 20 * i);
    blockAt[i] = o;
    blocks[o++] = LABEL;
    for (let k = 0; k < LABEL; k++) blocks[o++] = label.charCodeAt(k);
    put16(blocks, o, 0xc000);
    o = putRecordAfterOwner(blocks, o + 2, RRType.NSEC3, r.class, r.ttl, rawRdata(r)!);
    // As step.ts proofWithSigs sends them: the zone's order, each at the NSEC3's TTL (sigsAs).
    for (const s of idx.sigsFor(r.name, RRType.NSEC3) ?? []) {
      put16(blocks, o, 0xc000);
      o = putRecordAfterOwner(blocks, o + 2, RRType.RRSIG, s.class, r.ttl, rawRdata(s)!);
    }
  }
  blockAt[places] = o;
  // The chain's order is the hashes' text order, which is their byte order: C's binary search relies on it.
  for (let i = 1; i < places; i++) {
    let c = 0;
    for (let k = 0; k < 20 && c === 0; k++) c = digests[20 * (i - 1) + k]! - digests[20 * i + k]!;
    if (c >= 0) return undefined;
  }
  return { salt: p.salt, iterations: p.iterations, digests, blocks, blockAt };
}
