// SOA (RFC 1035 §3.3.13): two compressible names and five 32-bit counters.

import { RRType, type SOARdata } from '../types.js';
import { expectEnd, rdataEnd, type RdataCodec } from './codec.js';

export const soaCodec: RdataCodec<SOARdata> = {
  code: RRType.SOA,
  encode(w, d) {
    w.writeName(d.mname, true, true);
    w.writeName(d.rname, true, true);
    w.u32(d.serial);
    w.u32(d.refresh);
    w.u32(d.retry);
    w.u32(d.expire);
    w.u32(d.minimum);
  },
  decode(r, length) {
    const end = rdataEnd(r, length);
    const mname = r.readName();
    const rname = r.readName();
    if (end - r.pos !== 20) expectEnd(r, end - 20, 'SOA');
    const d: SOARdata = { mname, rname, serial: r.u32(), refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32() };
    return d;
  },
};
