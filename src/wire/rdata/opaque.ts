// Every type without a structured codec of its own is carried as its wire bytes (RFC 3597 §4-5).

import { WireError, type OpaqueRdata } from '../types.js';
import { expandRdata } from '../rrtype/index.js';
import { rdataEnd, type RdataCodec } from './codec.js';

export function opaqueCodec(code: number): RdataCodec<OpaqueRdata> {
  return {
    code,
    encode(w, d) {
      w.bytes(d.raw);
    },
    decode(r, length) {
      const end = rdataEnd(r, length);
      // RFC 3597 §4 / RFC 4034 §6.2: names in well-known types may arrive compressed; they are
      // kept uncompressed. Bytes that do not parse as the type are kept as they are.
      let raw: Uint8Array;
      try {
        raw = expandRdata(code, r.buf, r.pos, length);
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        raw = r.buf.slice(r.pos, end);
      }
      r.pos = end;
      return { raw };
    },
  };
}
