// Semantic checks a parsed zone must pass before it is served (RFC 1034 §4.2, §3.6.2; RFC 6672).

import { RRType, typeName, type ResourceRecord } from '../wire/types.js';
import { isSubdomain, nameKey, namesEqual, parentName } from '../wire/name.js';
import type { ParsedZone } from './parser.js';

export interface ZoneIssue {
  file: string;
  /** 0 when the issue concerns the zone as a whole (e.g. no SOA at all). */
  line: number;
  message: string;
}

/** Types that may share a name with a CNAME (RFC 4035 §2.5, RFC 2181 §10.1). */
const CNAME_COMPANIONS: ReadonlySet<number> = new Set([RRType.CNAME, RRType.RRSIG, RRType.NSEC]);
/** Types that belong at a delegation point itself: the cut's NS, DS (RFC 4034 §5), DNSSEC, glue. */
const AT_CUT: ReadonlySet<number> = new Set([RRType.NS, RRType.DS, RRType.RRSIG, RRType.NSEC, RRType.A, RRType.AAAA]);
const GLUE: ReadonlySet<number> = new Set([RRType.A, RRType.AAAA]);

/**
 * Lists what is wrong with a zone; an empty list means it can be served. Duplicate records are not
 * reported: parseZone already merges them.
 */
export function checkZone(zone: ParsedZone, origin: string): ZoneIssue[] {
  const found: { order: number; issue: ZoneIssue }[] = [];
  const { records, sources } = zone;
  const apexKey = nameKey(origin);
  const wholeFile = sources[0]?.file ?? '';
  const at = (i: number, message: string): void => {
    const src = sources[i] ?? { file: wholeFile, line: 0 };
    found.push({ order: i, issue: { file: src.file, line: src.line, message } });
  };
  const show = (rr: ResourceRecord): string => `${rr.name} ${typeName(rr.type)}`;

  // Index by owner; remember the cuts (NS below the apex) and DNAME owners.
  const byName = new Map<string, number[]>();
  const cuts = new Set<string>();
  const dnames = new Set<string>();
  let soaCount = 0;
  let apexNs = false;
  for (let i = 0; i < records.length; i++) {
    const rr = records[i]!;
    const k = nameKey(rr.name);
    let list = byName.get(k);
    if (!list) byName.set(k, (list = []));
    list.push(i);
    if (!isSubdomain(rr.name, origin)) {
      at(i, `${show(rr)} is outside the zone ${origin}`);
      continue;
    }
    if (rr.type === RRType.SOA) {
      soaCount++;
      if (k !== apexKey) at(i, `SOA at ${rr.name}: the only SOA must be at the apex ${origin}`);
      else if (soaCount > 1) at(i, `second SOA at ${rr.name}: a zone has exactly one`);
    } else if (rr.type === RRType.NS) {
      if (k === apexKey) apexNs = true;
      else cuts.add(k);
    } else if (rr.type === RRType.DNAME) {
      dnames.add(k);
    }
  }
  if (soaCount === 0) found.push({ order: -1, issue: { file: wholeFile, line: 0, message: `no SOA record at the apex ${origin}` } });
  if (!apexNs) {
    const soaIdx = records.findIndex((r) => r.type === RRType.SOA && namesEqual(r.name, origin));
    if (soaIdx >= 0) at(soaIdx, `no NS records at the apex ${origin}`);
    else found.push({ order: -1, issue: { file: wholeFile, line: 0, message: `no NS records at the apex ${origin}` } });
  }

  for (const [k, idxs] of byName) {
    const first = records[idxs[0]!]!;
    if (!isSubdomain(first.name, origin)) continue;
    // RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME owner has no other data, and one CNAME only.
    const cnames = idxs.filter((i) => records[i]!.type === RRType.CNAME);
    if (cnames.length > 0) {
      for (const i of cnames.slice(1)) at(i, `second CNAME at ${records[i]!.name}: a name has at most one`);
      for (const i of idxs) {
        const rr = records[i]!;
        if (CNAME_COMPANIONS.has(rr.type)) continue;
        if (rr.type === RRType.DNAME) at(i, `DNAME and CNAME at the same name ${rr.name} (RFC 6672 §2.4)`);
        else at(i, `${show(rr)} next to a CNAME: a CNAME owner has no other data (RFC 1034 §3.6.2)`);
      }
    }
    const dn = idxs.filter((i) => records[i]!.type === RRType.DNAME);
    for (const i of dn.slice(1)) at(i, `second DNAME at ${records[i]!.name}: a name has at most one (RFC 6672 §2.4)`);

    // At a cut only the delegation itself and glue belong; everything else is occluded.
    if (cuts.has(k)) {
      for (const i of idxs) {
        const rr = records[i]!;
        if (!AT_CUT.has(rr.type) && rr.type !== RRType.CNAME) at(i, `${show(rr)} is occluded by the delegation at ${rr.name} (only NS, DS and glue belong there)`);
      }
    }
    // Below a cut only glue; below a DNAME nothing (RFC 6672 §2.4).
    if (k !== apexKey) {
      let cut: string | undefined;
      let dname: string | undefined;
      for (let p = parentName(first.name); ; p = parentName(p)) {
        const pk = nameKey(p);
        if (dnames.has(pk)) dname = p;
        if (cuts.has(pk)) cut = p;
        if (pk === apexKey || p === '.') break;
      }
      for (const i of idxs) {
        const rr = records[i]!;
        if (dname !== undefined) at(i, `${show(rr)} is occluded by the DNAME at ${dname} (RFC 6672 §2.4)`);
        else if (cut !== undefined && !GLUE.has(rr.type)) at(i, `${show(rr)} is below the delegation at ${cut}: only glue (A, AAAA) may be there`);
      }
    }
  }
  // Report in the order the records were written (Array.prototype.sort is stable).
  return found.sort((a, b) => a.order - b.order).map((f) => f.issue);
}
