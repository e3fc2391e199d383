// Load-time checks of a pre-signed zone: expired or not-yet-valid signatures, RRSIGs that no DNSKEY at the
// apex made or that do not verify, signed data without signatures, and breaks in the NSEC/NSEC3 chain.
// Each problem is one warning with the file and line of the record (RFC 4034, RFC 4035 §5.3, RFC 5155).
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { isSubdomain, nameKey, parentName } from '../../wire/name.js';
import { RRType, typeName, type ResourceRecord } from '../../wire/types.js';
import type { ParsedZone, ZoneIssue } from '../../zone/parser.js';
import { compareCanonical } from '../canonical.js';
import { keyTag } from '../keys.js';
import { base32hex, nsec3ParamWarning } from '../nsec3-hash.js';
import { parseRrsig, signedData, type RrsigFields } from '../rrsig.js';
import { rawRdata, readNsec, readNsec3, readNsec3Param } from './rdata.js';

/** Warnings of one kind beyond this are summed up in one line: an expired zone has one per signature. */
export const AUDIT_WARNINGS_PER_KIND = 20;

type Kind = 'expired' | 'future' | 'nokey' | 'bad' | 'unsigned' | 'nsec' | 'nsec3' | 'param';

const KIND_TEXT: Record<Kind, string> = {
  expired: 'expired signatures',
  future: 'signatures not yet valid',
  nokey: 'signatures by keys not in the DNSKEY RRset',
  bad: 'signatures that do not verify',
  unsigned: 'RRsets without a signature',
  nsec: 'NSEC chain breaks',
  nsec3: 'NSEC3 chain breaks',
  param: 'NSEC3 parameter notes',
};

/** Reads RDATA that may be malformed (hand-written test zones): undefined instead of a throw. */
function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

const date = (t: number): string => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

/** The hash algorithm node:crypto verifies with, by DNSSEC algorithm (RFC 8624 §3.1); null: none (EdDSA). */
const HASH: Record<number, string | null> = { 5: 'sha1', 7: 'sha1', 8: 'sha256', 10: 'sha512', 13: 'sha256', 14: 'sha384', 15: null, 16: null };

/** A DNSKEY's public key (RFC 3110 RSA, RFC 6605 ECDSA, RFC 8080 EdDSA) as a node:crypto key; undefined if unsupported. */
export function dnskeyPublicKey(rdata: Uint8Array): KeyObject | undefined {
  const alg = rdata[3];
  const field = rdata.subarray(4);
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  try {
    switch (alg) {
      case 5:
      case 7:
      case 8:
      case 10: {
        // RFC 3110 §2: exponent length in one byte, or 0 then two bytes; then exponent, then modulus.
        let at = 1;
        let elen = field[0]!;
        if (elen === 0) {
          elen = (field[1]! << 8) | field[2]!;
          at = 3;
        }
        return createPublicKey({ key: { kty: 'RSA', e: b64(field.subarray(at, at + elen)), n: b64(field.subarray(at + elen)) }, format: 'jwk' });
      }
      case 13:
      case 14: {
        const half = alg === 13 ? 32 : 48;
        if (field.length !== half * 2) return undefined;
        return createPublicKey({ key: { kty: 'EC', crv: alg === 13 ? 'P-256' : 'P-384', x: b64(field.subarray(0, half)), y: b64(field.subarray(half)) }, format: 'jwk' });
      }
      case 15:
      case 16:
        return createPublicKey({ key: { kty: 'OKP', crv: alg === 15 ? 'Ed25519' : 'Ed448', x: b64(field) }, format: 'jwk' });
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** RFC 4035 §5.3.3: the signature over the RRset verifies with the key. undefined: the algorithm is not supported here. */
export function verifyRrsig(rrset: readonly ResourceRecord[], rrsigRdata: Uint8Array, sig: RrsigFields, key: KeyObject, algorithm: number): boolean | undefined {
  const hash = HASH[algorithm];
  if (hash === undefined) return undefined;
  const header = rrsigRdata.subarray(0, rrsigRdata.length - sig.signature.length);
  const data = signedData(rrset, header, sig.originalTtl);
  try {
    if (algorithm === 13 || algorithm === 14) return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig.signature);
    return verify(hash, data, key, sig.signature);
  } catch {
    return false;
  }
}

/** Warnings for a parsed zone that carries DNSSEC records; none for an unsigned zone. `now` in seconds. */
export function auditSignedZone(zone: ParsedZone, origin: string, now = Math.floor(Date.now() / 1000)): ZoneIssue[] {
  const { records, sources } = zone;
  const originKey = nameKey(origin);
  const wholeFile = sources[0]?.file ?? '';
  const counts = new Map<Kind, number>();
  const out: ZoneIssue[] = [];
  const warn = (kind: Kind, i: number, message: string): void => {
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    if (n > AUDIT_WARNINGS_PER_KIND) return;
    const src = sources[i] ?? { file: wholeFile, line: 0 };
    out.push({ file: src.file, line: src.line, message });
  };

  // RRsets by owner and type (first record's index kept for the line), RRSIGs apart, the cuts.
  const sets = new Map<string, { records: ResourceRecord[]; index: number }>();
  const sigs: number[] = [];
  const cuts = new Set<string>();
  const dnskeys: { rdata: Uint8Array; tag: number; key: KeyObject | undefined }[] = [];
  let dnssec = false;
  records.forEach((rr, i) => {
    const key = nameKey(rr.name);
    if (rr.type === RRType.RRSIG) {
      sigs.push(i);
      dnssec = true;
      return;
    }
    if (rr.type === RRType.NSEC || rr.type === RRType.NSEC3) dnssec = true;
    if (rr.type === RRType.NS && key !== originKey) cuts.add(key);
    if (rr.type === RRType.DNSKEY && key === originKey) {
      const raw = rawRdata(rr);
      if (raw) dnskeys.push({ rdata: raw, tag: keyTag(raw), key: dnskeyPublicKey(raw) });
    }
    const k = `${key}/${rr.type}`;
    const set = sets.get(k);
    if (set) set.records.push(rr);
    else sets.set(k, { records: [rr], index: i });
  });
  if (!dnssec) return [];

  /** At or below a cut (delegation NS, glue, occluded data): the parent signs none of it but DS and NSEC at the cut. */
  const cutOf = (name: string): string | undefined => {
    for (let n = nameKey(name); n !== originKey && n !== '.'; n = parentName(n)) if (cuts.has(n)) return n;
    return undefined;
  };

  // Signatures: validity period, a DNSKEY that made them, and the cryptography.
  const signed = new Set<string>();
  for (const i of sigs) {
    const rr = records[i]!;
    const raw = rawRdata(rr);
    if (!raw) continue;
    const f = safe(() => parseRrsig(raw));
    if (!f) continue;
    const what = `RRSIG ${rr.name} ${typeName(f.typeCovered)} (key tag ${f.keyTag})`;
    signed.add(`${nameKey(rr.name)}/${f.typeCovered}`);
    if (f.expiration < now) warn('expired', i, `${what} expired on ${date(f.expiration)}`);
    else if (f.inception > now) warn('future', i, `${what} is not valid before ${date(f.inception)}`);
    if (nameKey(f.signer) !== originKey) continue;
    const candidates = dnskeys.filter((k) => k.tag === f.keyTag && k.rdata[3] === f.algorithm);
    if (candidates.length === 0) {
      warn('nokey', i, `${what} was made by a key (algorithm ${f.algorithm}) that is not in the DNSKEY RRset at ${origin}`);
      continue;
    }
    const set = sets.get(`${nameKey(rr.name)}/${f.typeCovered}`);
    if (!set) continue;
    const results = candidates.map((k) => (k.key ? verifyRrsig(set.records, raw, f, k.key, f.algorithm) : undefined));
    if (results.every((r) => r === false)) warn('bad', i, `${what} does not verify with the DNSKEY of that tag: the data or the key changed after signing`);
  }

  // Authoritative RRsets without a signature (RFC 4035 §2.2), when the zone has keys.
  if (dnskeys.length > 0) {
    for (const [k, set] of sets) {
      const type = set.records[0]!.type;
      const name = set.records[0]!.name;
      const cut = cutOf(name);
      if (cut !== undefined && !(cut === nameKey(name) && (type === RRType.DS || type === RRType.NSEC))) continue;
      if (!signed.has(k)) warn('unsigned', set.index, `${name} ${typeName(type)} has no RRSIG`);
    }
  }

  // NSEC chain (RFC 4034 §4.1.1): each next name is the following owner in canonical order, the last points to the apex.
  const nsecs = records.map((rr, i) => ({ rr, i })).filter((x) => x.rr.type === RRType.NSEC);
  if (nsecs.length > 0) {
    const sorted = [...nsecs].sort((a, b) => compareCanonical(a.rr.name, b.rr.name));
    sorted.forEach((x, j) => {
      const raw = rawRdata(x.rr);
      const next = raw && safe(() => readNsec(raw).next);
      if (next === undefined) return;
      const expected = sorted[(j + 1) % sorted.length]!.rr.name;
      if (nameKey(next) !== nameKey(expected)) warn('nsec', x.i, `NSEC chain broken at ${x.rr.name}: its next name is ${next}, but the next name with an NSEC is ${expected}`);
    });
    // Every authoritative name has an NSEC (delegations included, glue not).
    const owners = new Set(nsecs.map((x) => nameKey(x.rr.name)));
    const seen = new Set<string>();
    records.forEach((rr, i) => {
      const key = nameKey(rr.name);
      if (seen.has(key) || !isSubdomain(rr.name, origin)) return;
      seen.add(key);
      const cut = cutOf(rr.name);
      if (cut !== undefined && cut !== key) return;
      if (!owners.has(key)) warn('nsec', i, `NSEC chain broken: ${rr.name} has records but no NSEC`);
    });
  }

  // NSEC3 chain (RFC 5155 §7.1): hashed owners in order, each next hash the following one, the parameters of NSEC3PARAM.
  const nsec3s = records.map((rr, i) => ({ rr, i })).filter((x) => x.rr.type === RRType.NSEC3);
  const paramAt = records.findIndex((rr) => rr.type === RRType.NSEC3PARAM && nameKey(rr.name) === originKey);
  if (paramAt >= 0) {
    const raw = rawRdata(records[paramAt]!);
    const p = raw && safe(() => readNsec3Param(raw));
    if (p) {
      const note = nsec3ParamWarning(p.iterations, p.salt);
      if (note) warn('param', paramAt, note);
    }
  }
  if (nsec3s.length > 0) {
    const entries = nsec3s.map((x) => ({ ...x, hash: (x.rr.name.split('.')[0] ?? '').toLowerCase() })).sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    entries.forEach((x, j) => {
      const raw = rawRdata(x.rr);
      const f = raw && safe(() => readNsec3(raw));
      if (!f) return;
      const next = base32hex(f.nextHash);
      const expected = entries[(j + 1) % entries.length]!.hash;
      if (next !== expected) warn('nsec3', x.i, `NSEC3 chain broken at ${x.rr.name}: its next hashed owner is ${next}, but the next NSEC3 is ${expected}`);
    });
  }

  for (const [kind, n] of counts) {
    if (n > AUDIT_WARNINGS_PER_KIND) out.push({ file: wholeFile, line: 0, message: `… and ${n - AUDIT_WARNINGS_PER_KIND} more ${KIND_TEXT[kind]} (${n} in all)` });
  }
  return out;
}
