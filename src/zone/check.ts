// Semantic checks a parsed zone must pass before it is served (RFC 1034 §4.2, §3.6.2; RFC 6672), and the warnings Knot and BIND give.

import { RRType, typeName, type ResourceRecord, type TargetRdata } from '../wire/types.js';
import { isSubdomain, nameKey, namesEqual, parentName } from '../wire/name.js';
import type { ParsedZone, ZoneIssue } from './parser.js';
import { auditSignedZone } from '../dnssec/serve/audit.js';

export type { ZoneIssue } from './parser.js';

/** Errors refuse the zone; warnings (the parser's and these) are shown and the zone loads. */
export interface ZoneReport {
  errors: ZoneIssue[];
  warnings: ZoneIssue[];
}

/** "FILE:LINE: message" (or "FILE: message" for the whole zone), as zone check and check print them. */
export function formatZoneIssue(i: ZoneIssue): string {
  // A zone that came from no file (a transfer, an UPDATE's records) has nothing to name.
  if (i.file === '') return i.message;
  return `${i.file}${i.line ? `:${i.line}` : ''}: ${i.message}`;
}

/** Types that may share a name with a CNAME (RFC 4035 §2.5, RFC 2181 §10.1). */
const CNAME_COMPANIONS: ReadonlySet<number> = new Set([RRType.CNAME, RRType.RRSIG, RRType.NSEC]);
/** Types that belong at a delegation point itself: the cut's NS, DS (RFC 4034 §5), DNSSEC, glue. */
const AT_CUT: ReadonlySet<number> = new Set([RRType.NS, RRType.DS, RRType.RRSIG, RRType.NSEC, RRType.A, RRType.AAAA]);
const GLUE: ReadonlySet<number> = new Set([RRType.A, RRType.AAAA]);

/**
 * Lists what is wrong with a zone; an empty list means it can be served. Duplicate records are not
 * reported: parseZone already merges them. Warnings are left out (see checkZoneReport).
 */
export function checkZone(zone: ParsedZone, origin: string): ZoneIssue[] {
  return checkZoneReport(zone, origin).errors;
}

/**
 * Errors and warnings. As Knot and BIND do, data occluded by a delegation or a DNAME (RFC 6672 §2.4)
 * loads with a warning (it is never served: lookup stops at the cut), and an in-zone name server
 * without address records is a warning (named-checkzone's "has no address records"). `file`: the zone's
 * file, named by the issues of the zone as a whole.
 */
export function checkZoneReport(zone: ParsedZone, origin: string, file?: string): ZoneReport {
  const found: { order: number; issue: ZoneIssue }[] = [];
  const warned: { order: number; issue: ZoneIssue }[] = [];
  const { records, sources } = zone;
  const apexKey = nameKey(origin);
  // What concerns the zone as a whole (no SOA, no apex NS) names the zone's file: `file` when the caller
  // knows it — an empty file, or one whose every record lies outside the zone, has no record to take it from.
  const wholeFile = file ?? sources[0]?.file ?? '';
  const at = (i: number, message: string): void => {
    const src = sources[i] ?? { file: wholeFile, line: 0 };
    found.push({ order: i, issue: { file: src.file, line: src.line, message } });
  };
  const warnAt = (i: number, message: string): void => {
    const src = sources[i] ?? { file: wholeFile, line: 0 };
    warned.push({ order: i, issue: { file: src.file, line: src.line, message } });
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
        if (!AT_CUT.has(rr.type) && rr.type !== RRType.CNAME) warnAt(i, `${show(rr)} is occluded by the delegation at ${rr.name} (loaded, never served: only NS, DS and glue belong there)`);
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
        if (dname !== undefined) warnAt(i, `${show(rr)} is occluded by the DNAME at ${dname} (loaded, never served; RFC 6672 §2.4)`);
        else if (cut !== undefined && !GLUE.has(rr.type)) warnAt(i, `${show(rr)} is below the delegation at ${cut} (loaded, never served: only glue, A and AAAA, belongs there)`);
      }
    }
  }
  // Name servers inside the zone need addresses in it (glue below a cut, or authoritative data).
  const noGlue = new Set<string>();
  for (let i = 0; i < records.length; i++) {
    const rr = records[i]!;
    if (rr.type !== RRType.NS) continue;
    const target = (rr.data as TargetRdata).target;
    if (typeof target !== 'string' || !isSubdomain(target, origin)) continue;
    const tk = nameKey(target);
    if (noGlue.has(tk)) continue;
    const there = byName.get(tk);
    if (there?.some((j) => GLUE.has(records[j]!.type))) continue;
    noGlue.add(tk);
    warnAt(i, `NS ${target} of ${rr.name} has no address records (A or AAAA) in the zone`);
  }
  // Report in the order the records were written (Array.prototype.sort is stable).
  const byOrder = (a: { order: number }, b: { order: number }): number => a.order - b.order;
  return {
    errors: found.sort(byOrder).map((f) => f.issue),
    // A pre-signed zone's signatures and NSEC/NSEC3 chain (src/dnssec/serve/audit.ts): warnings, the zone still loads.
    warnings: [...zone.warnings, ...warned.sort(byOrder).map((f) => f.issue), ...auditSignedZone(zone, origin)],
  };
}
