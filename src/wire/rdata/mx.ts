// MX (RFC 1035 §3.3.9): preference and a compressible exchange name.

import { RRType, type MXRdata } from '../types.js';
import { expectEnd, rdataEnd, type RdataCodec } from './codec.js';

export const mxCodec: RdataCodec<MXRdata> = {
  code: RRType.MX,
  encode(w, d) {
    w.u16(d.preference);
    w.writeName(d.exchange, true, true);
  },
  decode(r, length) {
    const end = rdataEnd(r, length);
    if (length < 3) expectEnd(r, r.pos + 3, 'MX');
    const preference = r.u16();
    const exchange = r.readName();
    expectEnd(r, end, 'MX');
    return { preference, exchange };
  },
};
