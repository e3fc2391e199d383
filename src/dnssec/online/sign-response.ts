// Online signing of a response as it will be sent: an RRSIG after every authoritative RRset of a signed zone, and negative answers by compact denial of existence (RFC 9824).
import { nameKey, namesEqual, parentName } from '../../wire/name.js';
import { Rcode, RRType, type ResourceRecord, type SOARdata } from '../../wire/types.js';
import type { ZoneSet } from '../../zone/tree.js';
import { immediateSuccessor, nsecRecord, NXNAME } from '../nsec.js';
import { CDNSKEY, CDS, type SignedZone, type SignerTable } from './signers.js';

/** What signing needs to know of a response (the pipeline's ResponseDraft has these fields). */
export interface SignableResponse {
  rcode: number;
  aa: boolean;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

/**
 * Records grouped into RRsets (owner, type), in the order the sets first appear. A linear search of the sets
 * found so far: a response holds a few sets, and this spares a key string per record (a signed pool answer is
 * one record).
 */
function rrsets(records: readonly ResourceRecord[]): ResourceRecord[][] {
  const sets: ResourceRecord[][] = [];
  for (const rr of records) {
    let set: ResourceRecord[] | undefined;
    for (let i = sets.length - 1; i >= 0; i--) {
      const head = sets[i]![0]!;
      if (head.type === rr.type && (head.name === rr.name || namesEqual(head.name, rr.name))) {
        set = sets[i];
        break;
      }
    }
    if (set) set.push(rr);
    else sets.push([rr]);
  }
  return sets;
}

/** The zone that signs an RRset: DS belongs to the parent side of the cut (RFC 4035 §2.4). */
function signerOf(table: SignerTable, rr: ResourceRecord): SignedZone | undefined {
  return table.find(rr.type === RRType.DS ? parentName(rr.name) : rr.name);
}

/**
 * The types present at `name` in the file zone that answers (name, qtype) (for a NODATA bitmap); empty when the
 * data is synthesized. DS at a cut: the parent's side of it (NS, no SOA), when the parent is served here.
 */
function typesAt(zones: ZoneSet | undefined, name: string, qtype: number): number[] {
  const node = zones?.findAuthority(name, qtype)?.get(nameKey(name));
  return node ? [...node.rrsets.keys()] : [];
}

function signSets(sets: ResourceRecord[][], table: SignerTable, skip: (set: ResourceRecord[]) => boolean): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (const set of sets) {
    out.push(...set);
    const t = set[0]!.type;
    // Data that is already signed (a pre-signed zone) or is a signature itself is left as it is.
    if (t === RRType.RRSIG || skip(set)) continue;
    const z = signerOf(table, set[0]!);
    if (z) out.push(...z.sign(set));
  }
  return out;
}

/**
 * Signs `r` in place for a DO query. Returns false when nothing in it belongs to a signed zone. Throws on a
 * signing failure (the pipeline turns that into SERVFAIL and logs it; keys never appear in the message).
 */
export function signResponse(r: SignableResponse, qname: string, qtype: number, table: SignerTable, zones?: ZoneSet): boolean {
  if (r.rcode !== Rcode.NOERROR && r.rcode !== Rcode.NXDOMAIN) return false;
  const answerSets = rrsets(r.answer);
  const authSets = rrsets(r.authority);
  if (answerSets.some((s) => s[0]!.type === RRType.RRSIG) || authSets.some((s) => s[0]!.type === RRType.RRSIG || s[0]!.type === RRType.NSEC || s[0]!.type === RRType.NSEC3)) return false; // pre-signed data: served as it is
  const qzone = table.find(qname);
  if (!qzone && !answerSets.some((s) => signerOf(table, s[0]!)) && !authSets.some((s) => signerOf(table, s[0]!))) return false;

  // Where the answer ends: the last name of a CNAME chain, or the question.
  let last = qname;
  for (const set of answerSets) if (set[0]!.type === RRType.CNAME && nameKey(set[0]!.name) === nameKey(last) && qtype !== RRType.CNAME) last = (set[0]!.data as { target: string }).target;
  const answered = answerSets.some((s) => nameKey(s[0]!.name) === nameKey(last) && (s[0]!.type === qtype || qtype === RRType.ANY));
  const soaSet = authSets.find((s) => s[0]!.type === RRType.SOA);
  const negative = !answered && soaSet !== undefined;

  r.answer = signSets(answerSets, table, () => false);

  if (negative) {
    const soa = soaSet[0] as ResourceRecord<SOARdata>;
    // DS is the parent's (RFC 4035 §2.4): its NODATA is proved by the zone that answered it — the parent when
    // served here, whose SOA is in the authority section — never by the child's key and apex bitmap, which a
    // validator rejects (a DS denial with SOA in the bitmap comes from the child side).
    const z = qtype === RRType.DS ? table.apex(soa.name) : table.find(last);
    const out = signSets([soaSet], table, () => false);
    if (z) {
      // RFC 9077: the NSEC TTL is the lesser of the SOA's TTL and its minimum field (as sent).
      const ttl = Math.min(soa.ttl, soa.data.minimum);
      let types: number[];
      if (r.rcode === Rcode.NXDOMAIN) {
        // RFC 9824 §3.2: the name "exists" with only NSEC, RRSIG and NXNAME; the rcode becomes NOERROR.
        types = [RRType.RRSIG, RRType.NSEC, NXNAME];
        r.rcode = Rcode.NOERROR;
      } else {
        const here = new Set(typesAt(zones, last, qtype));
        if (nameKey(last) === z.apexKey) {
          here.add(RRType.DNSKEY);
          if (z.cdsSet.length > 0) (here.add(CDS), here.add(CDNSKEY));
        }
        // The bitmap must not claim the asked type (or CNAME, which would have been answered).
        here.delete(qtype);
        // (A query for NSEC or RRSIG at a CNAME is answered at the alias: its NSEC shows the CNAME.)
        if (qtype !== RRType.NSEC && qtype !== RRType.RRSIG) here.delete(RRType.CNAME);
        types = [...here, RRType.RRSIG, RRType.NSEC];
      }
      const nsec = nsecRecord(last, immediateSuccessor(last), types, ttl);
      // Asked for NSEC or RRSIG, both of which the name has (the bitmap says so): a NODATA proved by an NSEC whose
      // bitmap holds the type asked contradicts itself (unbound: "nodata proof failed", BIND: SERVFAIL). The NSEC
      // itself is the answer, signed like any RRset; for RRSIG, the signatures of the name's RRsets and of its NSEC
      // (as NSD answers RRSIG queries: every RRSIG at the name).
      if ((qtype === RRType.NSEC || qtype === RRType.RRSIG) && r.answer.length === 0) {
        if (qtype === RRType.NSEC) r.answer = [nsec, ...z.sign([nsec])];
        else {
          const sigs: ResourceRecord[] = [];
          for (const set of zones?.find(last)?.get(nameKey(last))?.rrsets.values() ?? []) {
            const signer = set.records.length > 0 ? signerOf(table, set.records[0]!) : undefined;
            if (signer && set.type !== RRType.RRSIG) sigs.push(...signer.sign(set.records));
          }
          r.answer = [...sigs, ...z.sign([nsec])];
        }
        r.authority = [];
        return true;
      }
      out.push(nsec, ...z.sign([nsec]));
    }
    r.authority = out;
    return true;
  }

  // A referral: NS of a cut (not an apex we sign). Sign its DS, or prove there is none (RFC 4035 §3.1.4).
  const cut = !r.aa ? authSets.find((s) => s[0]!.type === RRType.NS && !table.apex(s[0]!.name)) : undefined;
  if (cut) {
    const owner = cut[0]!.name;
    const parent = table.find(parentName(owner));
    const hasDs = authSets.some((s) => s[0]!.type === RRType.DS);
    const out = signSets(authSets, table, (set) => set[0]!.type === RRType.NS && !table.apex(set[0]!.name));
    if (parent && !hasDs) {
      const nsec = nsecRecord(owner, immediateSuccessor(owner), [RRType.NS, RRType.RRSIG, RRType.NSEC], 3600);
      out.push(nsec, ...parent.sign([nsec]));
    }
    r.authority = out;
    return true;
  }
  // A positive answer's authority (an apex NS set, if any) is signed like the answer.
  r.authority = signSets(authSets, table, (set) => set[0]!.type === RRType.NS && !table.apex(set[0]!.name));
  return true;
}
