// Writes records back in master-file form (RFC 1035 §5.1, RFC 3597 §5) that parseZone reads unchanged.

import {
  RRClass, RRType, typeName,
  type AAAARdata, type ARdata, type CAARdata, type MXRdata, type OpaqueRdata, type ResourceRecord,
  type SOARdata, type SRVRdata, type TargetRdata, type TXTRdata,
} from '../wire/types.js';
import { nameKey } from '../wire/name.js';
import { formatRdata as formatWireRdata, genericText } from '../wire/rrtype/index.js';
import { quoteCharString } from '../wire/rrtype/text.js';

export { quoteCharString };

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** RFC 3597 §5 generic rdata. */
export function genericRdata(raw: Uint8Array): string {
  return genericText(raw);
}

function isOpaque(d: unknown): d is OpaqueRdata {
  return typeof d === 'object' && d !== null && 'raw' in d;
}

/** The rdata part of a record's presentation form. */
export function formatRdata(rr: ResourceRecord): string {
  const d = rr.data;
  // Wire rdata: the type's own text form when it has one and the bytes fit it, else RFC 3597.
  if (isOpaque(d)) return formatWireRdata(rr.type, d.raw);
  switch (rr.type) {
    case RRType.A: return (d as ARdata).address;
    case RRType.AAAA: return (d as AAAARdata).address;
    case RRType.NS: case RRType.CNAME: case RRType.DNAME: case RRType.PTR: return (d as TargetRdata).target;
    case RRType.SOA: {
      const s = d as SOARdata;
      return `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    case RRType.MX: { const m = d as MXRdata; return `${m.preference} ${m.exchange}`; }
    case RRType.SRV: { const v = d as SRVRdata; return `${v.priority} ${v.weight} ${v.port} ${v.target}`; }
    case RRType.TXT: return (d as TXTRdata).strings.map(quoteCharString).join(' ');
    case RRType.CAA: { const c = d as CAARdata; return `${c.flags} ${c.tag} ${quoteCharString(c.value)}`; }
    default: throw new TypeError(`no text form for ${typeName(rr.type)} data ${JSON.stringify(d)}`);
  }
}

/**
 * A string equal for two records' data exactly when they are the same data: names inside are
 * compared case-insensitively (RFC 4343; RFC 4034 §6.2 canonical form), strings byte for byte.
 */
export function rdataKey(rr: ResourceRecord): string {
  const d = rr.data;
  if (isOpaque(d)) return hex(d.raw);
  switch (rr.type) {
    case RRType.NS: case RRType.CNAME: case RRType.DNAME: case RRType.PTR: return nameKey((d as TargetRdata).target);
    case RRType.SOA: {
      const s = d as SOARdata;
      return `${nameKey(s.mname)} ${nameKey(s.rname)} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    case RRType.MX: { const m = d as MXRdata; return `${m.preference} ${nameKey(m.exchange)}`; }
    case RRType.SRV: { const v = d as SRVRdata; return `${v.priority} ${v.weight} ${v.port} ${nameKey(v.target)}`; }
    case RRType.CAA: { const c = d as CAARdata; return `${c.flags} ${c.tag.toLowerCase()} ${quoteCharString(c.value)}`; }
    default: return formatRdata(rr);
  }
}

function className(c: number): string {
  return c === RRClass.IN ? 'IN' : c === RRClass.CH ? 'CH' : c === RRClass.HS ? 'HS' : `CLASS${c}`;
}

/** One line: absolute owner, TTL, class, type mnemonic (or TYPEnnn), rdata. */
export function formatRecord(rr: ResourceRecord): string {
  return `${rr.name}\t${rr.ttl}\t${className(rr.class)}\t${typeName(rr.type)}\t${formatRdata(rr)}`;
}

/** A whole master file, one record per line; every name absolute, so no $ORIGIN is needed. */
export function formatZone(records: readonly ResourceRecord[]): string {
  let s = '';
  for (const rr of records) s += formatRecord(rr) + '\n';
  return s;
}
