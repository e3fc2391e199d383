// The canonical presentation of a zone for `fluxdns zone print`: one record a line, absolute names, sorted (RFC 4034 §6.1 name order).
import { parseLabels } from '../wire/name.js';
import type { ResourceRecord } from '../wire/types.js';
import { formatRecord } from './format.js';

/** Lower-cased wire labels, most significant first: the RFC 4034 §6.1 sort key of a name. */
function sortLabels(name: string): Uint8Array[] {
  const labels = parseLabels(name);
  const out: Uint8Array[] = [];
  for (let i = labels.length - 1; i >= 0; i--) {
    const l = labels[i]!;
    const c = new Uint8Array(l.length);
    for (let j = 0; j < l.length; j++) {
      const b = l[j]!;
      c[j] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
    }
    out.push(c);
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** RFC 4034 §6.1 canonical order of two names. */
export function compareNames(a: Uint8Array[], b: Uint8Array[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareBytes(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/**
 * The zone's lines: owners in canonical order, then type code, then the record's text (so equal
 * input gives equal output whatever the order of the file). Owners print as written (case kept).
 */
export function printZone(records: readonly ResourceRecord[]): string[] {
  const rows = records.map((rr) => ({ key: sortLabels(rr.name), type: rr.type, line: formatRecord(rr) }));
  rows.sort((x, y) => compareNames(x.key, y.key) || x.type - y.type || (x.line < y.line ? -1 : x.line > y.line ? 1 : 0));
  return rows.map((r) => r.line);
}
