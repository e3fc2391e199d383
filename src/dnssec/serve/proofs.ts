// Which NSEC or NSEC3 records prove a denial: the cases of RFC 4035 §3.1.3 (NSEC) and RFC 5155 §7.2 (NSEC3).
import { nameKey, parentName } from '../../wire/name.js';
import type { ResourceRecord } from '../../wire/types.js';
import { wildcardOf, type DnssecIndex, type LowerWireName } from './index.js';

/** What has to be proven, after the lookup decided the answer. */
export type Denial =
  /**
   * NXDOMAIN for `sname` (RFC 4035 §3.1.3.2, RFC 5155 §7.2.2). `encloser`: the node of its closest
   * encloser as the lookup found it (LookupResult.closestNode), so the proof needs no walk by name.
   */
  | { kind: 'nxdomain'; sname: string; encloser?: number; wire?: LowerWireName }
  /** NODATA at an existing `sname` (§3.1.3.1; §7.2.3, and §7.2.4 for DS). */
  | { kind: 'nodata'; sname: string; qtype: number }
  /** NODATA from a wildcard `source` that has no `qtype` (§3.1.3.4; §7.2.5). */
  | { kind: 'wildcard-nodata'; sname: string; source: string }
  /**
   * An answer synthesized from a wildcard: no closer name exists (§3.1.3.3; §7.2.6). `encloser`: the source's
   * parent node, when known. `wire` (here and for NXDOMAIN): `sname` in lower-cased wire form when it is
   * the question's name, so the covering record is searched without making text into wire again.
   */
  | { kind: 'wildcard-answer'; sname: string; source: string; encloser?: number; wire?: LowerWireName }
  /** A referral to a child without DS: the cut has no DS (RFC 4035 §3.1.4; RFC 5155 §7.2.7, opt-out). */
  | { kind: 'no-ds'; cut: string };

/** The proof records, each once, in the order they go into the authority section. */
export function denialProof(idx: DnssecIndex, d: Denial): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  if (idx.denial === 'nsec') {
    switch (d.kind) {
      case 'nxdomain':
        // The NSEC covering the name, and the one covering the wildcard at its closest encloser.
        addOnce(out, d.wire ? idx.nsecCoveringWire(d.wire) : idx.nsecCovering(d.sname));
        addOnce(out, d.encloser !== undefined && d.encloser >= 0 ? idx.nsecWildcardCoveringNode(d.encloser) : idx.nsecCovering(wildcardOf(idx.closestEncloser(d.sname)), true));
        break;
      case 'nodata':
        // The name's own NSEC shows the type is absent; an empty non-terminal has none, so the NSEC
        // whose next name lies below it (the one covering it) proves it exists without data (§3.1.3.2 of RFC 4035 and RFC 4592 §4).
        addOnce(out, idx.nsecAt(d.sname) ?? idx.nsecCovering(d.sname));
        break;
      case 'wildcard-nodata':
        addOnce(out, idx.nsecCovering(d.sname));
        addOnce(out, idx.nsecAt(d.source));
        break;
      case 'wildcard-answer':
        addOnce(out, d.wire ? idx.nsecCoveringWire(d.wire) : idx.nsecCovering(d.sname));
        break;
      case 'no-ds':
        addOnce(out, idx.nsecAt(d.cut));
        break;
    }
    return out;
  }
  if (idx.denial === 'nsec3') {
    switch (d.kind) {
      case 'nxdomain': {
        if (d.encloser !== undefined && d.encloser >= 0) {
          // The encloser's own NSEC3 and the one covering its wildcard come from the per-node tables;
          // only the next closer name is hashed. Without a matching NSEC3 (an empty non-terminal above
          // opt-out delegations only) the closest provable encloser is searched by name below.
          const match = idx.nsec3MatchingNode(d.encloser);
          const next = match ? idx.nsec3CoveringNextCloser(d.sname, d.encloser, d.wire) : undefined;
          if (match && next) {
            addOnce(out, match);
            addOnce(out, next);
            addOnce(out, idx.nsec3WildcardCoveringNode(d.encloser));
            break;
          }
        }
        const ce = closestEncloserProof(idx, d.sname, idx.closestEncloser(d.sname), out);
        addOnce(out, idx.nsec3Covering(wildcardOf(ce))?.record);
        break;
      }
      case 'nodata': {
        const match = idx.nsec3Matching(d.sname);
        // §7.2.3; §7.2.4: a DS query at an opt-out delegation has no matching NSEC3, so the closest
        // provable encloser proof stands in (its next-closer NSEC3 carries the opt-out flag).
        if (match) addOnce(out, match);
        else closestEncloserProof(idx, d.sname, parentName(d.sname), out);
        break;
      }
      case 'wildcard-nodata': {
        const ce = parentName(d.source);
        closestEncloserProof(idx, d.sname, ce, out);
        addOnce(out, idx.nsec3Matching(d.source));
        break;
      }
      case 'wildcard-answer':
        // §7.2.6: only the NSEC3 covering the next closer name; the RRSIG's label count names the encloser.
        addOnce(out, (d.encloser !== undefined && d.encloser >= 0 ? idx.nsec3CoveringNextCloser(d.sname, d.encloser, d.wire) : undefined) ?? idx.nsec3Covering(idx.nextCloser(d.sname, parentName(d.source)), false)?.record);
        break;
      case 'no-ds': {
        const match = idx.nsec3Matching(d.cut);
        if (match) addOnce(out, match);
        else closestEncloserProof(idx, d.cut, parentName(d.cut), out);
        break;
      }
    }
  }
  return out;
}

function addOnce(out: ResourceRecord[], r: ResourceRecord | undefined): void {
  if (r && !out.includes(r)) out.push(r);
}

/**
 * RFC 5155 §7.2.1: the NSEC3 matching the closest (provable) encloser and the one covering the next
 * closer name. Starts at `candidate` and walks up to the first ancestor with a matching NSEC3 (an
 * empty non-terminal leading only to opt-out delegations has none). Returns the encloser used.
 */
function closestEncloserProof(idx: DnssecIndex, sname: string, candidate: string, out: ResourceRecord[]): string {
  let ce = candidate;
  let match = idx.nsec3Matching(ce);
  while (!match && nameKey(ce) !== nameKey(idx.origin) && ce !== '.') {
    ce = parentName(ce);
    match = idx.nsec3Matching(ce);
  }
  addOnce(out, match);
  if (nameKey(ce) !== nameKey(sname)) addOnce(out, idx.nsec3Covering(idx.nextCloser(sname, ce), false)?.record);
  return ce;
}
