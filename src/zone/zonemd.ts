// ZONEMD (RFC 8976): the SIMPLE-scheme digest of a zone, its verification at load and transfer, and its computation for a primary zone.
import { createHash } from 'node:crypto';
import { isSubdomain, nameKey, nameToWire, namesEqual } from '../wire/name.js';
import { RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { compareBytes, rdataWire } from './print.js';

export const ZONEMD_TYPE = 63;
/** RFC 8976 §5.2: scheme 1 is SIMPLE. */
export const SCHEME_SIMPLE = 1;
/** RFC 8976 §5.3: hash algorithm 1 is SHA-384, 2 is SHA-512. */
export const HASH_SHA384 = 1;
export const HASH_SHA512 = 2;
const HASHES: ReadonlyMap<number, { name: string; size: number }> = new Map([
  [HASH_SHA384, { name: 'sha384', size: 48 }],
  [HASH_SHA512, { name: 'sha512', size: 64 }],
]);

export interface ZonemdRdata {
  serial: number;
  scheme: number;
  hashAlgorithm: number;
  digest: Uint8Array;
}

/** Decodes ZONEMD rdata (RFC 8976 §2.2); undefined when shorter than its fixed part plus a 12-byte digest (§2.2.4). */
export function decodeZonemd(raw: Uint8Array): ZonemdRdata | undefined {
  if (raw.length < 6 + 12) return undefined;
  return { serial: ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0, scheme: raw[4]!, hashAlgorithm: raw[5]!, digest: raw.slice(6) };
}

export function encodeZonemd(z: ZonemdRdata): Uint8Array {
  const out = new Uint8Array(6 + z.digest.length);
  out[0] = z.serial >>> 24;
  out[1] = (z.serial >>> 16) & 0xff;
  out[2] = (z.serial >>> 8) & 0xff;
  out[3] = z.serial & 0xff;
  out[4] = z.scheme;
  out[5] = z.hashAlgorithm;
  out.set(z.digest, 6);
  return out;
}

/** Lower-cases the uncompressed name at `off` in place; returns where it ends. */
function lowerName(b: Uint8Array, off: number): number {
  let p = off;
  while (p < b.length) {
    const len = b[p]!;
    if (len === 0) return p + 1;
    for (let i = p + 1; i <= p + len && i < b.length; i++) {
      const c = b[i]!;
      if (c >= 0x41 && c <= 0x5a) b[i] = c + 0x20;
    }
    p += 1 + len;
  }
  return p;
}

/**
 * RFC 4034 §6.2 item 3 (as amended by RFC 6840 §5.1: not NSEC): the names inside the RDATA of these
 * types are lower-cased in canonical form. `rdataWire` gives them uncompressed with case kept.
 */
export function canonicalRdata(type: number, wire: Uint8Array): Uint8Array {
  const b = new Uint8Array(wire);
  switch (type) {
    case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12: case 39: case 30: // NS MD MF CNAME MB MG MR PTR DNAME NXT
      lowerName(b, 0);
      break;
    case 6: case 14: case 17: // SOA MINFO RP
      lowerName(b, lowerName(b, 0));
      break;
    case 15: case 18: case 21: case 36: // MX AFSDB RT KX
      lowerName(b, 2);
      break;
    case 26: // PX
      lowerName(b, lowerName(b, 2));
      break;
    case 33: // SRV
      lowerName(b, 6);
      break;
    case 35: { // NAPTR: order, preference, flags, services, regexp, replacement
      let p = 4;
      for (let i = 0; i < 3 && p < b.length; i++) p += 1 + b[p]!;
      lowerName(b, p);
      break;
    }
    case 24: case 46: // SIG RRSIG: the signer's name after 18 fixed bytes
      lowerName(b, 18);
      break;
    case 38: { // A6: prefix length, address suffix, prefix name
      const plen = b[0]!;
      if (plen > 0) lowerName(b, 1 + Math.ceil((128 - plen) / 8));
      break;
    }
  }
  return b;
}

/** The records the digest covers (RFC 8976 §3.1–3.3): all in-zone data but the apex ZONEMD RRs and their RRSIGs. */
function digestRecords(origin: string, records: readonly ResourceRecord[]): ResourceRecord[] {
  const apex = nameKey(origin);
  return records.filter((rr) => {
    if (!isSubdomain(rr.name, origin)) return false;
    if (nameKey(rr.name) !== apex) return true;
    if (rr.type === ZONEMD_TYPE) return false;
    if (rr.type === RRType.RRSIG) {
      const raw = rdataWire(rr);
      if (((raw[0]! << 8) | raw[1]!) === ZONEMD_TYPE) return false;
    }
    return true;
  });
}

/**
 * The SIMPLE digest (RFC 8976 §3.3.1): every covered record in RFC 4034 §6.2 canonical wire form
 * (owner lower-cased, names inside lower-cased for the listed types, each record's own TTL), in
 * canonical order (RFC 4034 §6.3: owner, then type, then RDATA), duplicates once, hashed in turn.
 */
export function zoneDigest(origin: string, records: readonly ResourceRecord[], hashAlgorithm: number): Uint8Array {
  const h = HASHES.get(hashAlgorithm);
  if (!h) throw new Error(`ZONEMD hash algorithm ${hashAlgorithm} is not supported (1: SHA-384, 2: SHA-512)`);
  const rows = digestRecords(origin, records).map((rr) => {
    const owner = nameToWire(rr.name.toLowerCase());
    return { order: ownerOrder(rr.name), owner, type: rr.type, klass: rr.class, ttl: rr.ttl, rdata: canonicalRdata(rr.type, rdataWire(rr)) };
  });
  rows.sort((a, b) => compareOrder(a.order, b.order) || a.type - b.type || compareBytes(a.rdata, b.rdata));
  const hash = createHash(h.name);
  const fixed = new Uint8Array(10);
  let prev: (typeof rows)[number] | undefined;
  for (const r of rows) {
    // §3.3.1.1: duplicate RRs are digested once.
    if (prev && prev.type === r.type && compareOrder(prev.order, r.order) === 0 && compareBytes(prev.rdata, r.rdata) === 0) continue;
    prev = r;
    fixed[0] = r.type >>> 8;
    fixed[1] = r.type & 0xff;
    fixed[2] = r.klass >>> 8;
    fixed[3] = r.klass & 0xff;
    fixed[4] = r.ttl >>> 24;
    fixed[5] = (r.ttl >>> 16) & 0xff;
    fixed[6] = (r.ttl >>> 8) & 0xff;
    fixed[7] = r.ttl & 0xff;
    fixed[8] = r.rdata.length >>> 8;
    fixed[9] = r.rdata.length & 0xff;
    hash.update(r.owner);
    hash.update(fixed);
    hash.update(r.rdata);
  }
  return new Uint8Array(hash.digest());
}

/** Lower-cased labels, most significant first: the RFC 4034 §6.1 sort key. */
function ownerOrder(name: string): Uint8Array[] {
  const wire = nameToWire(name.toLowerCase());
  const labels: Uint8Array[] = [];
  for (let p = 0; wire[p]! !== 0; p += 1 + wire[p]!) labels.push(wire.subarray(p + 1, p + 1 + wire[p]!));
  return labels.reverse();
}

function compareOrder(a: Uint8Array[], b: Uint8Array[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareBytes(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

export type ZonemdVerdict =
  /** No ZONEMD at the apex: nothing to verify (RFC 8976 §4 step 2 is for zones that must have one). */
  | { status: 'absent' }
  /** One ZONEMD with a supported scheme and hash matched. */
  | { status: 'valid'; hashAlgorithm: number }
  /** ZONEMD present but none usable (unknown scheme or hash, or serial ≠ SOA serial): §4 — not verifiable, accepted. */
  | { status: 'unverifiable'; reason: string }
  /** Verification failed: the zone must not be used (§4). */
  | { status: 'invalid'; reason: string };

/** RFC 8976 §4: verifies the apex ZONEMD RRs of a zone whose records (SOA included) are `records`. */
export function verifyZonemd(origin: string, records: readonly ResourceRecord[]): ZonemdVerdict {
  const apex = records.filter((rr) => rr.type === ZONEMD_TYPE && namesEqual(rr.name, origin));
  if (apex.length === 0) return { status: 'absent' };
  const soa = records.find((rr) => rr.type === RRType.SOA && namesEqual(rr.name, origin)) as ResourceRecord<SOARdata> | undefined;
  if (!soa) return { status: 'invalid', reason: 'no SOA at the apex' };
  const usable: ZonemdRdata[] = [];
  const seen = new Set<string>();
  for (const rr of apex) {
    const z = decodeZonemd(rdataWire(rr));
    if (!z) return { status: 'invalid', reason: 'a ZONEMD record is too short (RFC 8976 §2.2.4)' };
    // §4 step 5: two ZONEMD RRs with the same scheme and hash algorithm make the zone unverifiable: refuse it.
    const k = `${z.scheme}/${z.hashAlgorithm}`;
    if (seen.has(k)) return { status: 'invalid', reason: `two ZONEMD records with scheme ${z.scheme} and hash algorithm ${z.hashAlgorithm} (RFC 8976 §2.4)` };
    seen.add(k);
    if (z.serial !== soa.data.serial) continue; // §4 step 3 applies per record: a stale one is ignored
    if (z.scheme !== SCHEME_SIMPLE || !HASHES.has(z.hashAlgorithm)) continue;
    if (z.digest.length !== HASHES.get(z.hashAlgorithm)!.size) return { status: 'invalid', reason: `ZONEMD digest of ${z.digest.length} bytes for hash algorithm ${z.hashAlgorithm}` };
    usable.push(z);
  }
  if (usable.length === 0) {
    const serials = apex.map((rr) => decodeZonemd(rdataWire(rr))!.serial);
    if (!serials.includes(soa.data.serial)) return { status: 'invalid', reason: `ZONEMD serial ${serials.join(', ')} differs from the SOA serial ${soa.data.serial} (RFC 8976 §4 step 3)` };
    return { status: 'unverifiable', reason: 'no ZONEMD with a supported scheme (1) and hash algorithm (1, 2)' };
  }
  for (const z of usable) {
    const d = zoneDigest(origin, records, z.hashAlgorithm);
    if (compareBytes(d, z.digest) === 0) return { status: 'valid', hashAlgorithm: z.hashAlgorithm };
  }
  return { status: 'invalid', reason: `ZONEMD digest mismatch: the zone's data does not match its ZONEMD (serial ${soa.data.serial})` };
}

/**
 * The zone with its apex ZONEMD replaced by a freshly computed one (scheme SIMPLE), for a primary
 * zone configured with `zonemd: sha384|sha512`. Its TTL is the SOA's.
 */
export function withZonemd(origin: string, records: readonly ResourceRecord[], hashAlgorithm: number): ResourceRecord[] {
  const soa = records.find((rr) => rr.type === RRType.SOA && namesEqual(rr.name, origin)) as ResourceRecord<SOARdata> | undefined;
  if (!soa) throw new Error(`zone ${origin} has no SOA at its apex`);
  const rest = records.filter((rr) => !(rr.type === ZONEMD_TYPE && namesEqual(rr.name, origin)));
  const digest = zoneDigest(origin, rest, hashAlgorithm);
  const raw = encodeZonemd({ serial: soa.data.serial, scheme: SCHEME_SIMPLE, hashAlgorithm, digest });
  return [...rest, { name: soa.name, type: ZONEMD_TYPE, class: soa.class, ttl: soa.ttl, data: { raw } }];
}

export function zonemdHashCode(name: 'sha384' | 'sha512'): number {
  return name === 'sha384' ? HASH_SHA384 : HASH_SHA512;
}
