// Equality of RDATA for transfers and updates: rdataKey (src/zone/format.ts), except that RDATA held raw
// (types without a typed codec) is first put in canonical form, so names inside it compare without case
// for the types RFC 4034 §6.2 lists (RFC 4343: an IXFR deletion or an UPDATE delete spelt in another case
// still names the same record).
import { toHex } from '../wire/rrtype/text.js';
import type { ResourceRecord } from '../wire/types.js';
import { rdataKey } from '../zone/format.js';
import { canonicalRdata } from '../zone/zonemd.js';

export function foldedRdataKey(rr: ResourceRecord): string {
  const raw = (rr.data as { raw?: unknown } | undefined)?.raw;
  return raw instanceof Uint8Array ? `\\# ${toHex(canonicalRdata(rr.type, raw))}` : rdataKey(rr);
}
