// A small DNSSEC validator for answers fluxdns itself relies on (OBO verification records): an RRset is secure when its RRSIG verifies with a key of its zone's DNSKEY set, and that set is signed by a configured trust anchor for the zone (RFC 4035 §5.3, one level: the anchor is at the signer's apex).
import { queryMessage } from '../wire/message.js';
import { nameKey } from '../wire/name.js';
import { RRType, type Message, type OpaqueRdata, type ResourceRecord } from '../wire/types.js';
import type { Stub } from '../client/stub.js';
import { keyTag, parseKeyFile } from './keys.js';
import { parseRrsig, verifyRRset } from './rrsig.js';

/** A trust anchor: the DNSKEY rdata a zone's key set must contain and be signed by. */
export interface TrustAnchor {
  readonly zone: string;
  readonly dnskeyRdata: Uint8Array;
}

/** "zone. DNSKEY 257 3 13 BASE64" (as a .key file line or dig prints it); throws with the reason. */
export function parseTrustAnchor(text: string): TrustAnchor {
  const k = parseKeyFile('<trust anchor>', text);
  const rdata = new Uint8Array(4 + k.publicKey.length);
  rdata[0] = k.flags >> 8;
  rdata[1] = k.flags & 0xff;
  rdata[2] = 3;
  rdata[3] = k.algorithm;
  rdata.set(k.publicKey, 4);
  return { zone: k.zone, dnskeyRdata: rdata };
}

export type Validation = { secure: true; records: ResourceRecord[] } | { secure: false; reason: string };

function signerOf(raw: Uint8Array): string {
  // The signer's name starts at byte 18 of the RRSIG rdata (RFC 4034 §3.1), uncompressed.
  const labels: string[] = [];
  let p = 18;
  while (raw[p] !== 0) {
    labels.push(Buffer.from(raw.subarray(p + 1, p + 1 + raw[p]!)).toString('latin1'));
    p += raw[p]! + 1;
  }
  return labels.length === 0 ? '.' : labels.join('.') + '.';
}

/** RRSIGs in `section` covering (owner, type), and the RRset itself. */
function setAndSigs(section: readonly ResourceRecord[], owner: string, type: number): { set: ResourceRecord[]; sigs: ResourceRecord[] } {
  const k = nameKey(owner);
  const set = section.filter((r) => r.type === type && nameKey(r.name) === k);
  const sigs = section.filter((r) => r.type === RRType.RRSIG && nameKey(r.name) === k && parseRrsig((r.data as OpaqueRdata).raw).typeCovered === type);
  return { set, sigs };
}

/** One RRSIG among `sigs` made by one of `keys` verifies `set` and is inside its validity period (RFC 4035 §5.3.1). */
function anyValid(set: ResourceRecord[], sigs: ResourceRecord[], keys: readonly Uint8Array[], now: number): boolean {
  for (const sig of sigs) {
    const f = parseRrsig((sig.data as OpaqueRdata).raw);
    // Serial-number arithmetic (RFC 4034 §3.1.5): compare as signed 32-bit differences.
    if (((now - f.inception) | 0) < 0) continue;
    if (((f.expiration - now) | 0) < 0) continue;
    for (const key of keys) {
      if (key[3] !== f.algorithm || keyTag(key) !== f.keyTag) continue;
      try {
        if (verifyRRset(set, sig, key)) return true;
      } catch {
        // An unusable key or signature is simply not a valid one.
      }
    }
  }
  return false;
}

async function ask(stub: Stub, name: string, type: number): Promise<Message> {
  // DO (RFC 3225) so the signatures come with the data; CD so a validating resolver in between hands
  // over what it has even when it could not validate it itself (RFC 4035 §3.2.2).
  const q = queryMessage(name, type, { id: stub.buildQuery(name, type).id, rd: true, edns: 1232, dnssecOk: true, cd: true });
  return (await stub.exchange(q)).message;
}

/**
 * Asks (name, type) with DO and validates the answer against `anchors` (seconds since the epoch in `now`).
 * Only positive answers whose signer holds an anchor are secure; anything else says why not.
 */
export async function validatedQuery(stub: Stub, name: string, type: number, anchors: readonly TrustAnchor[], now: number): Promise<Validation> {
  const m = await ask(stub, name, type);
  if (m.flags.rcode !== 0) return { secure: false, reason: `rcode ${m.flags.rcode}` };
  const { set, sigs } = setAndSigs(m.answers, name, type);
  if (set.length === 0) return { secure: false, reason: 'no data' };
  if (sigs.length === 0) return { secure: false, reason: 'unsigned (no RRSIG)' };
  const signer = signerOf((sigs[0]!.data as OpaqueRdata).raw);
  const anchorKeys = anchors.filter((a) => nameKey(a.zone) === nameKey(signer)).map((a) => a.dnskeyRdata);
  if (anchorKeys.length === 0) return { secure: false, reason: `no trust anchor for the signer ${signer}` };
  const km = await ask(stub, signer, RRType.DNSKEY);
  const keys = setAndSigs(km.answers, signer, RRType.DNSKEY);
  const keyRdatas = keys.set.map((r) => (r.data as OpaqueRdata).raw);
  // The anchor must be in the key set and sign it; then any key of the set may sign the data.
  const anchored = anchorKeys.filter((a) => keyRdatas.some((k) => Buffer.compare(Buffer.from(k), Buffer.from(a)) === 0));
  if (anchored.length === 0 || !anyValid(keys.set, keys.sigs, anchored, now)) return { secure: false, reason: `the DNSKEY set of ${signer} is not signed by its trust anchor` };
  if (!anyValid(set, sigs, keyRdatas, now)) return { secure: false, reason: 'no valid signature over the answer' };
  return { secure: true, records: set };
}
