// RRSIG computation and verification: canonical RR form and order (RFC 4034 §6), the signed data (§3.1.8.1), ECDSA P-256 r‖s (RFC 6605 §4) and Ed25519 (RFC 8080 §4).
import { sign, verify } from 'node:crypto';
import { rdataCodec } from '../wire/rdata/index.js';
import { Writer } from '../wire/writer.js';
import { readNameAt } from '../wire/reader.js';
import { splitLabels } from '../wire/name.js';
import { RRClass, RRType, type OpaqueRdata, type ResourceRecord } from '../wire/types.js';
import { canonicalNameWire } from './canonical.js';
import { publicKeyFromField, type DnssecKey } from './keys.js';
import { nativeSign, nativeSignInto } from './native-signer.js';
import { wireOf } from '../wire/pre-encoded.js';
import { pooledBytes } from '../wire/pool.js';

/**
 * Types whose RDATA names are lower-cased in canonical form: RFC 4034 §6.2's list as corrected by
 * RFC 6840 §5.1 (NSEC removed; RRSIG's signer name stays). Only the types fluxdns holds in structured form
 * can be lower-cased here; the others are kept as the zone wrote them (see `canonicalRdata`).
 */
const LOWER_CASE_NAMES: ReadonlySet<number> = new Set([RRType.NS, RRType.CNAME, RRType.SOA, RRType.PTR, RRType.MX, RRType.SRV, RRType.DNAME]);

/** A writer that never compresses and lower-cases every name it writes (length bytes are < 64, below 'A'). */
class CanonicalWriter extends Writer {
  constructor(private readonly lower: boolean) {
    super(64);
  }
  override writeName(name: string): void {
    const start = this.pos;
    super.writeName(name, false);
    if (!this.lower) return;
    const b = this.buf;
    for (let i = start; i < this.pos; i++) {
      const c = b[i]!;
      if (c >= 0x41 && c <= 0x5a) b[i] = c + 0x20;
    }
  }
}

/**
 * Where the names are in the RDATA of the types RFC 4034 §6.2 lists (as corrected by RFC 6840 §5.1: not NSEC;
 * RRSIG's signer name is), for RDATA held as bytes: 'n' a name, 2 a 16-bit field, 18 RRSIG/SIG's fixed
 * fields, 's' a character-string. What follows the last name (NXT's bitmap, the signature) is copied.
 */
const RAW_NAME_LAYOUTS: ReadonlyMap<number, readonly ('n' | 's' | 2 | 18)[]> = new Map<number, readonly ('n' | 's' | 2 | 18)[]>([
  [RRType.NS, ['n']], [3, ['n']], [4, ['n']], [RRType.CNAME, ['n']], [RRType.SOA, ['n', 'n']], [7, ['n']], [8, ['n']], [9, ['n']],
  [RRType.PTR, ['n']], [14, ['n', 'n']], [RRType.MX, [2, 'n']], [17, ['n', 'n']], [18, [2, 'n']], [21, [2, 'n']], [24, [18, 'n']],
  [26, [2, 'n', 'n']], [30, ['n']], [RRType.SRV, [2, 2, 2, 'n']], [35, [2, 2, 's', 's', 's', 'n']], [36, [2, 'n']],
  [RRType.DNAME, ['n']], [RRType.RRSIG, [18, 'n']],
]);

/** Lower-cases (A–Z only) the uncompressed names of RDATA held as bytes, per RAW_NAME_LAYOUTS; the input when nothing changes or the layout does not fit (a compressed or truncated name is left to the zone checks). */
function lowerRawNames(type: number, raw: Uint8Array): Uint8Array {
  let layout = RAW_NAME_LAYOUTS.get(type);
  let p = 0;
  if (type === 38) {
    // A6 (RFC 2874 §3.1.1): prefix length, the address suffix, then a prefix name when the length is not 0.
    const plen = raw[0] ?? 0;
    p = 1 + ((128 - plen) >> 3);
    layout = plen > 0 && plen <= 128 ? ['n'] : undefined;
  }
  if (!layout) return raw;
  let out: Uint8Array | undefined;
  for (const f of layout) {
    if (f === 2 || f === 18) p += f;
    else if (f === 's') p += 1 + (raw[p] ?? 0);
    else {
      for (;;) {
        if (p >= raw.length) return raw;
        const len = raw[p]!;
        if (len === 0) break;
        if (len > 63 || p + 1 + len > raw.length) return raw;
        for (let i = p + 1; i <= p + len; i++) {
          const c = raw[i]!;
          if (c >= 0x41 && c <= 0x5a) (out ??= Uint8Array.from(raw))[i] = c + 0x20;
        }
        p += 1 + len;
      }
      p++;
    }
    if (p > raw.length) return raw;
  }
  return out ?? raw;
}

/**
 * The record's RDATA in canonical form (RFC 4034 §6.2): uncompressed, names lower-cased for the types
 * that say so — also when the RDATA is held as bytes (RFC 3597 form, or types without a structured codec:
 * RP, AFSDB, NAPTR, KX …), as validators (unbound, BIND) lower-case them before checking a signature.
 */
export function canonicalRdata(rr: ResourceRecord): Uint8Array {
  const d = rr.data as Partial<OpaqueRdata>;
  if (d.raw instanceof Uint8Array) return lowerRawNames(rr.type, d.raw);
  // Pre-encoded RDATA (a compiled zone's, a pool address) is the codec's uncompressed output: only its names need lower-casing.
  const wire = wireOf(rr.data);
  if (wire) return lowerRawNames(rr.type, wire);
  const w = new CanonicalWriter(LOWER_CASE_NAMES.has(rr.type));
  rdataCodec(rr.type).encode(w, rr.data);
  return w.buf.slice(0, w.pos);
}

export interface SignOptions {
  /** Seconds since the epoch (RFC 4034 §3.1.5: serial-number arithmetic, written mod 2^32). */
  readonly inception: number;
  readonly expiration: number;
  /** The TTL the RRset is sent with; the RRSIG's Original TTL and its own TTL (RFC 4034 §3). Default: the set's. */
  readonly ttl?: number;
}

/** The signer name's canonical wire form per key (the same for every signature it makes). */
const signerWire = new WeakMap<DnssecKey, Uint8Array>();

/** Labels in a wire name (RFC 4034 §3.1.3), not counting a leading "*" label (a wildcard owner). */
function wireLabels(wire: Uint8Array): number {
  let n = 0;
  for (let p = 0; wire[p] !== 0; p += wire[p]! + 1) n++;
  return n > 0 && wire[0] === 1 && wire[1] === 0x2a ? n - 1 : n;
}

/**
 * RFC 4034 §3.1.8.1: RRSIG_RDATA (no signature) ‖ RR(1) ‖ RR(2) … with each RR as owner | type | class |
 * original TTL | RDLENGTH | RDATA, all canonical, sorted by RDATA (§6.3) with duplicates removed.
 */
export function signedData(rrset: readonly ResourceRecord[], header: Uint8Array, ttl: number): Uint8Array {
  const first = rrset[0]!;
  return signedDataOf(canonicalNameWire(first.name), first.type, first.class, rrset.map(canonicalRdata), header, ttl);
}

/** signedData from canonical parts; `rdatas` is sorted in place. Written into one buffer (no parts to concatenate). */
function signedDataOf(owner: Uint8Array, type: number, klass: number, rdatas: Uint8Array[], header: Uint8Array, ttl: number): Uint8Array {
  const out = Buffer.allocUnsafe(header.length + rrsLength(owner, rdatas));
  out.set(header, 0);
  writeRRs(out, header.length, owner, type, klass, ttl, rdatas);
  return out;
}

/** Bytes of the RRs of the signed data (§3.1.8.1): sorts `rdatas` in place (§6.3), duplicates counted once. */
function rrsLength(owner: Uint8Array, rdatas: Uint8Array[]): number {
  if (rdatas.length > 1) rdatas.sort(compareBytes);
  let len = 0;
  for (let i = 0; i < rdatas.length; i++) if (i === 0 || compareBytes(rdatas[i - 1]!, rdatas[i]!) !== 0) len += owner.length + 10 + rdatas[i]!.length;
  return len;
}

/** Writes each RR as owner | type | class | original TTL | RDLENGTH | RDATA at `b[at]`, `rdatas` sorted, duplicates once. */
function writeRRs(b: Buffer, at: number, owner: Uint8Array, type: number, klass: number, ttl: number, rdatas: readonly Uint8Array[]): void {
  for (let i = 0; i < rdatas.length; i++) {
    const rd = rdatas[i]!;
    if (i > 0 && compareBytes(rdatas[i - 1]!, rd) === 0) continue;
    b.set(owner, at);
    at += owner.length;
    at = b.writeUInt16BE(type, at);
    at = b.writeUInt16BE(klass, at);
    at = b.writeUInt32BE(ttl >>> 0, at);
    at = b.writeUInt16BE(rd.length, at);
    b.set(rd, at);
    at += rd.length;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Signs data with the key: ECDSA gives r‖s, 32 bytes each (RFC 6605 §4), not DER; Ed25519 is pure EdDSA (RFC 8080 §4). */
export function signBytes(key: DnssecKey, data: Uint8Array): Uint8Array {
  const fast = nativeSign(key.algorithm, key.privateKey, data);
  if (fast) return fast;
  if (key.algorithm === 15) return sign(null, data, key.privateKey);
  return sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
}

/** The RRSIG record covering `rrset` (all of one owner, type and class). Its TTL is the set's TTL as sent. */
export function signRRset(rrset: readonly ResourceRecord[], key: DnssecKey, o: SignOptions): ResourceRecord<OpaqueRdata> {
  const first = rrset[0];
  if (!first) throw new Error('cannot sign an empty RRset');
  return signCanonical(first, canonicalNameWire(first.name), rrset.map(canonicalRdata), key, o);
}

/**
 * The signed data of an online signature is built here, not in a new buffer per signature: the signer only
 * reads it during the call (neither the native signer nor node:crypto keeps a reference to it), and signing
 * is synchronous. The RRs start at HEADER_ROOM, so each key's RRSIG_RDATA header is written just before them
 * (18 bytes and the signer's name, at most 255). Grown when an RRset needs more.
 */
const HEADER_ROOM = 18 + 255;
let scratch = Buffer.allocUnsafeSlow(4096);

/**
 * The RR part of the signed data (RFC 4034 §3.1.8.1: owner | type | class | TTL | RDLENGTH | RDATA per record,
 * canonical, sorted by RDATA, duplicates once) of an RRset sent with `ttl`. It says everything a signature
 * covers besides the RRSIG header, so the online signer's cache keys on it. A view of the shared scratch:
 * valid until the next call here (copy it to keep it); `rdatas` is sorted in place.
 */
export function signedRRs(first: ResourceRecord, ownerWire: Uint8Array, rdatas: Uint8Array[], ttl: number): Uint8Array {
  const len = rrsLength(ownerWire, rdatas);
  if (HEADER_ROOM + len > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(HEADER_ROOM + len, scratch.length * 2));
  writeRRs(scratch, HEADER_ROOM, ownerWire, first.type, first.class ?? RRClass.IN, ttl, rdatas);
  return scratch.subarray(HEADER_ROOM, HEADER_ROOM + len);
}

/** Writes RRSIG_RDATA without the signature (RFC 4034 §3.1) at `b[at]`; returns its length. */
function writeRrsigHeader(b: Buffer, at: number, ownerWire: Uint8Array, type: number, key: DnssecKey, ttl: number, o: SignOptions, signer: Uint8Array): number {
  b.writeUInt16BE(type, at);
  b[at + 2] = key.algorithm;
  // Labels (§3.1.3): the owner's labels without the root and without a leading "*" (a wildcard owner).
  b[at + 3] = wireLabels(ownerWire);
  b.writeUInt32BE(ttl >>> 0, at + 4);
  b.writeUInt32BE(o.expiration >>> 0, at + 8);
  b.writeUInt32BE(o.inception >>> 0, at + 12);
  b.writeUInt16BE(key.keyTag, at + 16);
  b.set(signer, at + 18);
  return 18 + signer.length;
}

/**
 * signRRset with the owner's canonical wire form and the records' canonical RDATA already made (the online
 * signer makes them once for its cache key and for every key that signs). `rdatas` is sorted in place.
 */
export function signCanonical(first: ResourceRecord, ownerWire: Uint8Array, rdatas: Uint8Array[], key: DnssecKey, o: SignOptions): ResourceRecord<OpaqueRdata> {
  const ttl = o.ttl ?? first.ttl;
  return signRRs(first, ownerWire, signedRRs(first, ownerWire, rdatas, ttl), key, o);
}

/**
 * The RRSIG of `key` over the RRs `signedRRs` just wrote (the last call's view; several keys may sign it in
 * turn). Its TTL and Original TTL are o.ttl, which must be the TTL those RRs were written with.
 */
export function signRRs(first: ResourceRecord, ownerWire: Uint8Array, rrs: Uint8Array, key: DnssecKey, o: SignOptions): ResourceRecord<OpaqueRdata> {
  if (rrs.buffer !== scratch.buffer || rrs.byteOffset - scratch.byteOffset !== HEADER_ROOM) throw new Error('signRRs: the RRs must be the last signedRRs view');
  const ttl = o.ttl ?? first.ttl;
  const klass = first.class ?? RRClass.IN;
  let signer = signerWire.get(key);
  if (!signer) signerWire.set(key, (signer = canonicalNameWire(key.zone)));
  // RFC 4034 §3.1.8.1: RRSIG_RDATA ‖ RR(1) ‖ RR(2) …, the header written just before the RRs.
  const b = scratch;
  const at = HEADER_ROOM - 18 - signer.length;
  const headerLen = writeRrsigHeader(b, at, ownerWire, first.type, key, ttl, o, signer);
  const data = b.subarray(at, HEADER_ROOM + rrs.length);
  // Both algorithms give 64 bytes (P-256 r‖s, Ed25519): the native signer writes them straight into the RDATA.
  // A view of a shared slab (an RRSIG is over 64 bytes: its own memory would be an off-heap allocation);
  // whoever keeps signatures long (the online signer's cache) copies them out of the slab.
  let raw = pooledBytes(headerLen + 64);
  if (!nativeSignInto(key.algorithm, key.privateKey, data, raw, headerLen)) {
    const signature = signBytes(key, data);
    if (signature.length !== 64) raw = new Uint8Array(headerLen + signature.length);
    raw.set(signature, headerLen);
  }
  raw.set(b.subarray(at, HEADER_ROOM));
  return { name: first.name, type: RRType.RRSIG, class: klass, ttl, data: { raw } };
}

/** Fields of an RRSIG rdata (RFC 4034 §3.1). */
export interface RrsigFields {
  typeCovered: number;
  algorithm: number;
  labels: number;
  originalTtl: number;
  /** Seconds since the epoch (RFC 4034 §3.1.5; serial-number arithmetic is applied by the reader of these). */
  expiration: number;
  inception: number;
  keyTag: number;
  signer: string;
  /** Length of the fixed fields and the signer name: where the signature starts. */
  signatureAt: number;
  signature: Uint8Array;
}

/** Reads an RRSIG's RDATA; throws on one too short for its fixed fields or with a bad signer name (it may come off the wire). */
export function parseRrsig(raw: Uint8Array): RrsigFields {
  if (raw.length < 19) throw new Error(`RRSIG RDATA is ${raw.length} bytes, shorter than its fixed fields`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const { name, end } = readNameAt(raw, 18);
  return {
    typeCovered: dv.getUint16(0),
    algorithm: raw[2]!,
    labels: raw[3]!,
    originalTtl: dv.getUint32(4),
    expiration: dv.getUint32(8),
    inception: dv.getUint32(12),
    keyTag: dv.getUint16(16),
    signer: name,
    signatureAt: end,
    signature: raw.subarray(end),
  };
}

/** True when `rrsig` is a valid signature of `rrset` by the DNSKEY (rdata) given; validity dates are not checked. */
export function verifyRRset(rrset: readonly ResourceRecord[], rrsig: ResourceRecord, dnskeyRdata: Uint8Array): boolean {
  const raw = (rrsig.data as OpaqueRdata).raw;
  const f = parseRrsig(raw);
  const alg = dnskeyRdata[3]!;
  if (alg !== f.algorithm) return false;
  const pub = publicKeyFromField(alg, dnskeyRdata.subarray(4));
  // A wildcard answer was signed over "*.<closest encloser>" (RFC 4035 §5.3.2): the Labels field says how much to keep.
  const labels = splitLabels(rrset[0]!.name);
  const owner = f.labels < labels.length ? ['*', ...labels.slice(labels.length - f.labels)].join('.') + '.' : rrset[0]!.name;
  const data = signedData(owner === rrset[0]!.name ? rrset : rrset.map((r) => ({ ...r, name: owner })), raw.subarray(0, f.signatureAt), f.originalTtl);
  if (alg === 15) return verify(null, data, pub, f.signature);
  return verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, f.signature);
}
