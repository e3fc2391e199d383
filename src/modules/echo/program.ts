// Answers to programming queries data.M.alias.@, one builder per method exactly as seed 003 §2.4–2.8 prints them.
import type { EchoMethod } from '../../echo/methods.js';
import { XY_TLD } from '../../echo/methods.js';
import { Rcode, RRType, type ResourceRecord } from '../../wire/types.js';
import { addressRecord, joinName, positive, referral, rr, typedRecord, type EchoAnswer } from './records.js';
import type { EchoZoneConfig } from './schema.js';

export interface Program {
  readonly method: EchoMethod;
  readonly data: readonly string[];
  readonly alias: string;
}

export interface ProgramQuery {
  /** The question name as asked (owner of the answers that answer it). */
  readonly qname: string;
  readonly qtype: number;
}

/**
 * undefined means the data does not parse for this method and query type: the responder answers
 * NODATA (the name exists for the types whose form the data has, so it is not NXDOMAIN).
 */
export type Builder = (z: EchoZoneConfig, q: ProgramQuery, p: Program) => EchoAnswer | undefined;

export const cname = (owner: string, target: string, ttl: number) => rr(owner, RRType.CNAME, ttl, { target });
export const dname = (owner: string, target: string, ttl: number) => rr(owner, RRType.DNAME, ttl, { target });
const ns = (owner: string, target: string, ttl: number) => rr(owner, RRType.NS, ttl, { target });

/** alias.@ — always fits: it is a suffix of the question. */
export const aliasName = (z: EchoZoneConfig, p: Program) => joinName([p.alias], z.zone)!;
/** data.xy. — shorter than the question, so it fits too (seed §2.5.2). */
export const xyName = (p: Program) => joinName(p.data, XY_TLD)!;
/** data.00.@ (seed §2.3). */
export const echoName = (z: EchoZoneConfig, p: Program) => joinName([...p.data, '00'], z.zone);

/** RFC 6672 §2.2: a DNAME substitution that would exceed 255 octets is answered YXDOMAIN with the DNAME. */
export const yxdomain = (records: ResourceRecord[]): EchoAnswer => ({ rcode: Rcode.YXDOMAIN, aa: true, answer: records, authority: [], additional: [] });

/** The DNAME target of the D* methods: 00.data.00.@ (seed §2.7.1) or 00.data.xy. (§2.7.3). */
export function dnameTarget(z: EchoZoneConfig, p: Program, unresolvable: boolean): string | undefined {
  return unresolvable ? joinName(['00', ...p.data], XY_TLD) : joinName(['00', ...p.data, '00'], z.zone);
}

/** The question's labels with alias.@ replaced by the DNAME target, as a resolver would (RFC 6672 §2.2). */
function substituted(z: EchoZoneConfig, p: Program, target: string): string | undefined {
  return joinName([...p.data, p.method], target);
}

// §2.4 A: alias.@ <type> data — an answer that does not answer the question.
const a: Builder = (z, q, p) => {
  const rec = typedRecord(aliasName(z, p), q.qtype, p.data, z.ttl);
  return rec && positive([rec]);
};

// §2.5.1 CA: the question CNAME alias.@, and alias.@ <type> data.
const ca: Builder = (z, q, p) => {
  const rec = typedRecord(aliasName(z, p), q.qtype, p.data, z.ttl);
  return rec && positive([cname(q.qname, aliasName(z, p), z.ttl), rec]);
};

// §2.5.2 CU: the question CNAME data.xy. (any data; the query type is immaterial).
const cu: Builder = (z, q, p) => positive([cname(q.qname, xyName(p), z.ttl)]);

// §2.6.1 CCA / §2.6.2 CCX: the question CNAME alias.@ CNAME data.00.@ (CCA adds data.00.@ <type> data).
function chainToEcho(withData: boolean): Builder {
  return (z, q, p) => {
    const target = echoName(z, p);
    const rec = target === undefined ? undefined : typedRecord(target, q.qtype, p.data, z.ttl);
    if (!target || !rec) return undefined;
    const chain = [cname(q.qname, aliasName(z, p), z.ttl), cname(aliasName(z, p), target, z.ttl)];
    return positive(withData ? [...chain, rec] : chain);
  };
}

// §2.6.3 CCU: the question CNAME alias.@ CNAME data.xy.
const ccu: Builder = (z, q, p) => positive([cname(q.qname, aliasName(z, p), z.ttl), cname(aliasName(z, p), xyName(p), z.ttl)]);

// §2.7.1 DA: alias.@ DNAME 00.data.00.@ and data.DA.00.data.00.@ <type> data (no CNAME, as printed).
// §2.7.2 DX: the DNAME alone.
function dnameToEcho(withData: boolean): Builder {
  return (z, q, p) => {
    // The data must be what the type asks for, or the resolver's follow-up query could not be answered.
    if (!typedRecord(z.zone, q.qtype, p.data, z.ttl)) return undefined;
    const target = dnameTarget(z, p, false);
    if (!target) return undefined;
    const d = dname(aliasName(z, p), target, z.ttl);
    const owner = substituted(z, p, target);
    if (!owner) return yxdomain([d]);
    return positive(withData ? [d, typedRecord(owner, q.qtype, p.data, z.ttl)!] : [d]);
  };
}

// §2.7.3 DU: alias.@ DNAME 00.data.xy. and the synthesized CNAME for the question (as printed).
const du: Builder = (z, q, p) => {
  const target = dnameTarget(z, p, true);
  if (!target) return undefined;
  const d = dname(aliasName(z, p), target, z.ttl);
  const owner = substituted(z, p, target);
  return owner ? positive([d, cname(q.qname, owner, z.ttl)]) : yxdomain([d]);
};

// §2.8.1 NA: delegation of alias.@ to data.00.@, its address as glue.
const na: Builder = (z, q, p) => {
  const host = echoName(z, p);
  const glue = host === undefined ? undefined : addressRecord(host, p.data, z.nsTtl);
  return host !== undefined && glue ? referral([ns(aliasName(z, p), host, z.nsTtl)], [glue]) : undefined;
};

// §2.8.2 NU: delegation of alias.@ to data.xy. (printed in the authority section).
const nu: Builder = (z, q, p) => referral([ns(aliasName(z, p), xyName(p), z.nsTtl)], []);

// §2.8.3 NR: delegation of alias.@ to nr.alias.@, in its own bailiwick, with the data as its address.
const nr: Builder = (z, q, p) => {
  const host = joinName(['nr', p.alias], z.zone)!;
  const glue = addressRecord(host, p.data, z.nsTtl);
  return glue && referral([ns(aliasName(z, p), host, z.nsTtl)], [glue]);
};

export const BUILDERS: Readonly<Record<EchoMethod, Builder>> = {
  a,
  ca,
  cu,
  cca: chainToEcho(true),
  ccx: chainToEcho(false),
  ccu,
  da: dnameToEcho(true),
  dx: dnameToEcho(false),
  du,
  na,
  nu,
  nr,
};

export function programAnswer(z: EchoZoneConfig, q: ProgramQuery, p: Program): EchoAnswer | undefined {
  return BUILDERS[p.method](z, q, p);
}
