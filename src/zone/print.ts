// The canonical presentation of a zone for `fluxdns zone print`: one record a line, absolute names, sorted (RFC 4034 §6.1 name order).
import { parseLabels } from '../wire/name.js';
import type { OpaqueRdata, ResourceRecord } from '../wire/types.js';
import { genericText, parseRdataText } from '../wire/rrtype/index.js';
import { formatRdata, formatRecord } from './format.js';
import { Lexer } from './lexer.js';

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

/** Byte-wise order of two byte strings (a shorter prefix first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
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

/** A record's rdata as uncompressed wire bytes (RFC 3597 §4: names in it as written, case kept). */
export function rdataWire(rr: ResourceRecord): Uint8Array {
  const d = rr.data as Partial<OpaqueRdata>;
  if (d.raw instanceof Uint8Array) return d.raw;
  // Typed rdata (A, MX, SOA …): its text, every name absolute, read back by the type's codec.
  const text = formatRdata(rr);
  const tokens = text === '' ? [] : (new Lexer(text, '<rdata>').next()?.tokens ?? []);
  return parseRdataText(rr.type, { tokens, pos: 0, origin: [] }).wire;
}

/** RFC 3597 §5 generic form of a whole record: `owner ttl CLASS TYPEnnn \# len hex` (as `ldns-read-zone -U` writes it). */
export function genericRecord(rr: ResourceRecord): string {
  return `${rr.name}\t${rr.ttl}\tIN\tTYPE${rr.type}\t${genericText(rdataWire(rr))}`;
}

/**
 * The zone's lines: owners in canonical order, then type code, then the record's text (so equal
 * input gives equal output whatever the order of the file). Owners print as written (case kept).
 * `generic` writes every rdata in RFC 3597 form, for byte-exact comparison with other servers' output.
 */
export function printZone(records: readonly ResourceRecord[], opts: { generic?: boolean } = {}): string[] {
  const fmt = opts.generic ? genericRecord : formatRecord;
  const rows = records.map((rr) => ({ key: sortLabels(rr.name), type: rr.type, line: fmt(rr) }));
  rows.sort((x, y) => compareNames(x.key, y.key) || x.type - y.type || (x.line < y.line ? -1 : x.line > y.line ? 1 : 0));
  return rows.map((r) => r.line);
}
