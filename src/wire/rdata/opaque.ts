// Every type without a codec of its own is carried as opaque bytes (RFC 3597 §4-5).

import type { OpaqueRdata } from '../types.js';
import { rdataEnd, type RdataCodec } from './codec.js';

export function opaqueCodec(code: number): RdataCodec<OpaqueRdata> {
  return {
    code,
    encode(w, d) {
      w.bytes(d.raw);
    },
    decode(r, length) {
      rdataEnd(r, length);
      return { raw: r.copy(length) };
    },
  };
}
