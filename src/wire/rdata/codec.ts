// The shape every rdata codec shares, and the exact-length check RFC 1035 §3.2.1 implies.

import { WireError, type Rdata } from '../types.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

export interface RdataCodec<D extends Rdata = Rdata> {
  readonly code: number;
  /** Writes the rdata only (the caller writes and patches RDLENGTH). */
  encode(w: Writer, data: D): void;
  /** Reads exactly `length` bytes starting at r.pos, or throws WireError. */
  decode(r: Reader, length: number): D;
}

/** Names and strings inside rdata must end exactly at RDLENGTH, never before nor after. */
export function expectEnd(r: Reader, end: number, what: string): void {
  if (r.pos !== end) throw new WireError(`${what} rdata ${r.pos < end ? 'has trailing bytes' : 'overruns RDLENGTH'}`, r.pos);
}

/** Guards the start of a decode: RDLENGTH itself must lie inside the message. */
export function rdataEnd(r: Reader, length: number): number {
  const end = r.pos + length;
  if (end > r.buf.length) throw new WireError(`RDLENGTH ${length} overruns the message`, r.pos);
  return end;
}
