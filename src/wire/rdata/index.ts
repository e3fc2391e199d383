// The codec for each type code; unknown types get the RFC 3597 opaque codec.

import type { Rdata, RdataByType } from '../types.js';
import type { RdataCodec } from './codec.js';
import { aCodec } from './a.js';
import { aaaaCodec } from './aaaa.js';
import { nsCodec } from './ns.js';
import { cnameCodec } from './cname.js';
import { dnameCodec } from './dname.js';
import { ptrCodec } from './ptr.js';
import { soaCodec } from './soa.js';
import { mxCodec } from './mx.js';
import { txtCodec } from './txt.js';
import { srvCodec } from './srv.js';
import { caaCodec } from './caa.js';
import { opaqueCodec } from './opaque.js';

export type { RdataCodec } from './codec.js';
export { opaqueCodec } from './opaque.js';

export const rdataCodecs: ReadonlyMap<number, RdataCodec> = new Map<number, RdataCodec>(
  ([aCodec, aaaaCodec, nsCodec, cnameCodec, dnameCodec, ptrCodec, soaCodec, mxCodec, txtCodec, srvCodec, caaCodec] as RdataCodec[]).map(
    (c) => [c.code, c],
  ),
);

/** Opaque codecs are stateless, so one per type code is cached. */
const opaque = new Map<number, RdataCodec>();

export function rdataCodec<T extends keyof RdataByType>(type: T): RdataCodec<RdataByType[T]>;
export function rdataCodec(type: number): RdataCodec;
export function rdataCodec(type: number): RdataCodec<Rdata> {
  const c = rdataCodecs.get(type);
  if (c) return c;
  let o = opaque.get(type);
  if (!o) {
    o = opaqueCodec(type) as RdataCodec;
    opaque.set(type, o);
  }
  return o;
}

/** True when the type has a structured codec (false: RFC 3597 opaque). */
export function hasKnownCodec(type: number): boolean {
  return rdataCodecs.has(type);
}
