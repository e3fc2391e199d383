// Shared codec for the types whose rdata is a single domain name (NS, CNAME, DNAME, PTR).

import type { TargetRdata } from '../types.js';
import { expectEnd, rdataEnd, type RdataCodec } from './codec.js';

/** `compress` follows RFC 3597 §4: allowed for the RFC 1035 types, not for DNAME (RFC 6672 §2.5). */
export function targetCodec(code: number, compress: boolean, label: string): RdataCodec<TargetRdata> {
  return {
    code,
    encode(w, data) {
      w.writeName(data.target, compress, true);
    },
    decode(r, length) {
      const end = rdataEnd(r, length);
      const target = r.readName();
      expectEnd(r, end, label);
      return { target };
    },
  };
}
