// DNSSEC signing keys: BIND key files (dnssec-keygen's K<zone>+<alg>+<tag>.key/.private) ↔ node:crypto, key tags, DNSKEY and DS rdata.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseName, NameError } from '../wire/name.js';
import { canonicalNameWire } from './canonical.js';
import { RRClass, RRType, type ResourceRecord } from '../wire/types.js';

/** The algorithms fluxdns signs with (RFC 8624 §3.1: the two MUST/RECOMMENDED elliptic-curve ones). */
export const Algorithm = { ECDSAP256SHA256: 13, ED25519: 15 } as const;
export type AlgorithmNumber = (typeof Algorithm)[keyof typeof Algorithm];

/** BIND's mnemonics, as dnssec-keygen writes them after the number in `Algorithm: 13 (ECDSAP256SHA256)`. */
export const ALGORITHM_NAMES: Readonly<Record<AlgorithmNumber, string>> = { 13: 'ECDSAP256SHA256', 15: 'ED25519' };

export function algorithmByName(text: string): AlgorithmNumber | undefined {
  const t = text.trim().toUpperCase();
  if (t === '13' || t === 'ECDSAP256SHA256' || t === 'ECDSA256') return 13;
  if (t === '15' || t === 'ED25519') return 15;
  return undefined;
}

/** DNSKEY flags (RFC 4034 §2.1.1): bit 7 Zone Key, bit 15 Secure Entry Point. */
export const ZSK_FLAGS = 256;
export const KSK_FLAGS = 257;

export interface DnssecKey {
  /** Owner of the DNSKEY: absolute, lower case. */
  readonly zone: string;
  readonly flags: number;
  readonly algorithm: AlgorithmNumber;
  readonly keyTag: number;
  /** The DNSKEY public-key field: P-256 x‖y (64 bytes, RFC 6605 §4), Ed25519 32 bytes (RFC 8080 §3). */
  readonly publicKey: Uint8Array;
  /** flags ‖ protocol 3 ‖ algorithm ‖ public key. */
  readonly dnskeyRdata: Uint8Array;
  /** Never printed or logged. */
  readonly privateKey: KeyObject;
  /** The .private file it was read from, when it was. */
  readonly file?: string;
}

/** A key file that cannot be used; `line` is 1-based when the problem is on one line. The message never quotes key material. */
export class KeyFileError extends Error {
  constructor(readonly file: string, readonly line: number | undefined, readonly reason: string) {
    super(`${line === undefined ? file : `${file}:${line}`}: ${reason}`);
    this.name = 'KeyFileError';
  }
}

/** RFC 4034 Appendix B: the key tag of a DNSKEY rdata (algorithm 1 is obsolete and not handled). */
export function keyTag(rdata: Uint8Array): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i]! : rdata[i]! << 8;
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}

export function dnskeyRdataOf(flags: number, algorithm: number, publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + publicKey.length);
  out[0] = flags >>> 8;
  out[1] = flags & 0xff;
  out[2] = 3; // protocol: always 3 (RFC 4034 §2.1.2)
  out[3] = algorithm;
  out.set(publicKey, 4);
  return out;
}


/** DS rdata (RFC 4034 §5.1.4, digest type 2 = SHA-256 per RFC 4509; 4 = SHA-384 per RFC 6605). */
export function dsRdata(owner: string, dnskeyRdata: Uint8Array, digestType: 2 | 4 = 2): Uint8Array {
  const h = createHash(digestType === 2 ? 'sha256' : 'sha384');
  h.update(canonicalNameWire(owner));
  h.update(dnskeyRdata);
  const digest = h.digest();
  const out = new Uint8Array(4 + digest.length);
  const tag = keyTag(dnskeyRdata);
  out[0] = tag >>> 8;
  out[1] = tag & 0xff;
  out[2] = dnskeyRdata[3]!;
  out[3] = digestType;
  out.set(digest, 4);
  return out;
}

export function dnskeyRecord(key: DnssecKey, ttl: number): ResourceRecord {
  return { name: key.zone, type: RRType.DNSKEY, class: RRClass.IN, ttl, data: { raw: key.dnskeyRdata } };
}

/** Presentation text of a DS for the parent: `zone. IN DS tag alg 2 HEX` (as dnssec-dsfromkey prints it). */
export function dsText(key: DnssecKey, digestType: 2 | 4 = 2): string {
  const ds = dsRdata(key.zone, key.dnskeyRdata, digestType);
  return `${key.zone} IN DS ${key.keyTag} ${key.algorithm} ${digestType} ${Buffer.from(ds.subarray(4)).toString('hex').toUpperCase()}`;
}

// DER wrappers that let OpenSSL take the raw private scalars BIND stores (it derives the public key).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// SEC1 ECPrivateKey { version 1, privateKey OCTET STRING(32), [0] prime256v1 } without the optional public key.
const P256_SEC1_PREFIX = Buffer.from('30310201010420', 'hex');
const P256_SEC1_SUFFIX = Buffer.from('a00a06082a8648ce3d030107', 'hex');

export function privateKeyFromRaw(algorithm: AlgorithmNumber, raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error(`expected a 32-byte private key, found ${raw.length} bytes`);
  if (algorithm === 15) return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return createPrivateKey({ key: Buffer.concat([P256_SEC1_PREFIX, raw, P256_SEC1_SUFFIX]), format: 'der', type: 'sec1' });
}

/** The DNSKEY public-key field of a node:crypto key (public or private). */
export function publicKeyField(algorithm: AlgorithmNumber, key: KeyObject): Uint8Array {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (algorithm === 15) return Buffer.from(jwk.x!, 'base64url');
  return Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

/** A node:crypto public key from the DNSKEY public-key field (for verification). */
export function publicKeyFromField(algorithm: number, field: Uint8Array): KeyObject {
  if (algorithm === 15) {
    if (field.length !== 32) throw new Error('an Ed25519 DNSKEY holds 32 bytes');
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(field).toString('base64url') }, format: 'jwk' });
  }
  if (algorithm === 13) {
    if (field.length !== 64) throw new Error('an ECDSA P-256 DNSKEY holds 64 bytes');
    return createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: Buffer.from(field.subarray(0, 32)).toString('base64url'), y: Buffer.from(field.subarray(32)).toString('base64url') },
      format: 'jwk',
    });
  }
  throw new Error(`algorithm ${algorithm} is not supported (13 ECDSAP256SHA256, 15 ED25519)`);
}

export function rawPrivateKey(algorithm: AlgorithmNumber, key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  const d = Buffer.from(jwk.d!, 'base64url');
  if (algorithm === 13 && d.length < 32) return Buffer.concat([Buffer.alloc(32 - d.length), d]);
  return d;
}

export function generateKey(zone: string, algorithm: AlgorithmNumber, ksk: boolean): DnssecKey {
  // The key leaves the generator as PKCS #8 bytes and is imported afresh. Node 20's key-generation job,
  // when the collector frees it, locks the mutex of the key it made; a JWK export of that same key
  // (publicKeyField) holds that mutex and may allocate, run the collector, and wait on itself for ever —
  // CI hung 17 minutes in rrsig.test that way (gdb: ExportJWKEcKey → GC → ~KeyGenJob → mutex_lock).
  const pub = { type: 'spki', format: 'der' } as const;
  const priv = { type: 'pkcs8', format: 'der' } as const;
  const der: Buffer =
    algorithm === 15
      ? generateKeyPairSync('ed25519', { publicKeyEncoding: pub, privateKeyEncoding: priv }).privateKey
      : generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: pub, privateKeyEncoding: priv }).privateKey;
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return makeKey(parseName(zone.endsWith('.') ? zone : zone + '.').toLowerCase(), ksk ? KSK_FLAGS : ZSK_FLAGS, algorithm, privateKey);
}

function makeKey(zone: string, flags: number, algorithm: AlgorithmNumber, privateKey: KeyObject, file?: string): DnssecKey {
  const publicKey = publicKeyField(algorithm, privateKey);
  const dnskeyRdata = dnskeyRdataOf(flags, algorithm, publicKey);
  return { zone, flags, algorithm, keyTag: keyTag(dnskeyRdata), publicKey, dnskeyRdata, privateKey, file };
}

/** `K<zone>+<alg>+<tag>` as dnssec-keygen names it (zone without the final dot, root as "."). */
export function keyBaseName(key: DnssecKey): string {
  const z = key.zone === '.' ? '.' : key.zone.slice(0, -1);
  return `K${z}+${String(key.algorithm).padStart(3, '0')}+${String(key.keyTag).padStart(5, '0')}`;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The two files dnssec-keygen would write (BIND 9.18 layout); the caller writes them (the .private with mode 0600). */
export function keyFileTexts(key: DnssecKey, now = new Date()): { key: string; private: string } {
  const kind = key.flags & 1 ? 'key-signing' : 'zone-signing';
  const t = stamp(now);
  const pub = Buffer.from(key.publicKey).toString('base64');
  const keyText =
    `; This is a ${kind} key, keyid ${key.keyTag}, for ${key.zone}\n` +
    `; Created: ${t} (${now.toUTCString()})\n; Publish: ${t} (${now.toUTCString()})\n; Activate: ${t} (${now.toUTCString()})\n` +
    `${key.zone} IN DNSKEY ${key.flags} 3 ${key.algorithm} ${pub}\n`;
  const privText =
    `Private-key-format: v1.3\nAlgorithm: ${key.algorithm} (${ALGORITHM_NAMES[key.algorithm]})\n` +
    `PrivateKey: ${Buffer.from(rawPrivateKey(key.algorithm, key.privateKey)).toString('base64')}\n` +
    `Created: ${t}\nPublish: ${t}\nActivate: ${t}\n`;
  return { key: keyText, private: privText };
}

export function writeKeyFiles(dir: string, key: DnssecKey, now = new Date()): { keyFile: string; privateFile: string } {
  const base = join(dir, keyBaseName(key));
  const texts = keyFileTexts(key, now);
  writeFileSync(`${base}.key`, texts.key, { mode: 0o644 });
  writeFileSync(`${base}.private`, texts.private, { mode: 0o600 });
  return { keyFile: `${base}.key`, privateFile: `${base}.private` };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch (e) {
    throw new KeyFileError(file, undefined, `cannot read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The first DNSKEY line of a .key file (comments and blank lines skipped); `$`-directives are not expected. */
export function parseKeyFile(file: string, text: string): { zone: string; flags: number; algorithm: number; publicKey: Uint8Array; line: number } {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.replace(/;.*$/, '').trim();
    if (l === '') continue;
    const toks = l.split(/\s+/);
    const at = toks.findIndex((t) => t.toUpperCase() === 'DNSKEY');
    if (at < 1 || toks.length < at + 5) throw new KeyFileError(file, i + 1, 'expected "ZONE [TTL] [IN] DNSKEY FLAGS 3 ALGORITHM BASE64"');
    let zone: string;
    try {
      zone = parseName(toks[0]!.endsWith('.') ? toks[0]! : toks[0]! + '.').toLowerCase();
    } catch (e) {
      throw new KeyFileError(file, i + 1, `bad owner name: ${e instanceof NameError ? e.message : String(e)}`);
    }
    const flags = Number(toks[at + 1]);
    const protocol = Number(toks[at + 2]);
    const algorithm = Number(toks[at + 3]);
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff) throw new KeyFileError(file, i + 1, 'bad DNSKEY flags');
    if (protocol !== 3) throw new KeyFileError(file, i + 1, 'DNSKEY protocol must be 3');
    const b64 = toks.slice(at + 4).join('').replace(/[()]/g, '');
    const publicKey = Buffer.from(b64, 'base64');
    if (!/^[A-Za-z0-9+/]+=*$/.test(b64) || publicKey.length === 0) throw new KeyFileError(file, i + 1, 'bad base64 public key');
    return { zone, flags, algorithm, publicKey, line: i + 1 };
  }
  throw new KeyFileError(file, undefined, 'no DNSKEY record in the file');
}

/**
 * Reads a key pair. `path` may name the .key, the .private or their common stem. The private key is
 * checked against the public one, so a mismatched pair is an error here and not a bogus signature later.
 */
export function readKeyFiles(path: string): DnssecKey {
  const stem = path.endsWith('.key') ? path.slice(0, -4) : path.endsWith('.private') ? path.slice(0, -8) : path;
  const keyFile = `${stem}.key`;
  const privFile = `${stem}.private`;
  const pub = parseKeyFile(keyFile, readText(keyFile));
  const ptext = readText(privFile);
  const fields = new Map<string, { value: string; line: number }>();
  ptext.split('\n').forEach((l, i) => {
    const m = /^([A-Za-z-]+):\s*(.*?)\s*$/.exec(l);
    if (m) fields.set(m[1]!.toLowerCase(), { value: m[2]!, line: i + 1 });
  });
  const fmt = fields.get('private-key-format');
  if (!fmt || !/^v1\.\d+$/.test(fmt.value)) throw new KeyFileError(privFile, fmt?.line ?? 1, 'expected "Private-key-format: v1.x" (a BIND private key file)');
  const alg = fields.get('algorithm');
  if (!alg) throw new KeyFileError(privFile, undefined, 'missing "Algorithm:"');
  const algorithm = Number(/^(\d+)/.exec(alg.value)?.[1]);
  if (algorithm !== 13 && algorithm !== 15) throw new KeyFileError(privFile, alg.line, `algorithm ${alg.value} is not supported (13 ECDSAP256SHA256, 15 ED25519)`);
  if (pub.algorithm !== algorithm) throw new KeyFileError(keyFile, pub.line, `DNSKEY algorithm ${pub.algorithm} differs from ${privFile}'s ${algorithm}`);
  const pk = fields.get('privatekey');
  if (!pk) throw new KeyFileError(privFile, undefined, 'missing "PrivateKey:"');
  let privateKey: KeyObject;
  try {
    privateKey = privateKeyFromRaw(algorithm, Buffer.from(pk.value, 'base64'));
  } catch (e) {
    // The reason only (length, curve), never the value.
    throw new KeyFileError(privFile, pk.line, `unusable PrivateKey: ${(e as Error).message.split('\n')[0]}`);
  }
  const key = makeKey(pub.zone, pub.flags, algorithm, privateKey, privFile);
  if (Buffer.compare(Buffer.from(key.publicKey), Buffer.from(pub.publicKey)) !== 0) {
    throw new KeyFileError(privFile, pk.line, `the private key does not match the public key in ${basename(keyFile)}`);
  }
  return key;
}

/** Used by the CLI: every K<zone>+*.key file in `dir` for `zone`. */
export function keyStemsIn(dir: string, names: readonly string[], zone: string): string[] {
  const z = zone === '.' ? '.' : zone.replace(/\.$/, '').toLowerCase();
  return names
    .filter((n) => n.endsWith('.key') && n.toLowerCase().startsWith(`k${z}+`))
    .map((n) => join(dir, n.slice(0, -4)))
    .sort();
}
