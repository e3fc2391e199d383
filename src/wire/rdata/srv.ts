// SRV (RFC 2782): priority, weight, port and a target that is never compressed (RFC 3597 §4).

import { RRType, type SRVRdata } from '../types.js';
import { expectEnd, rdataEnd, type RdataCodec } from './codec.js';

export const srvCodec: RdataCodec<SRVRdata> = {
  code: RRType.SRV,
  encode(w, d) {
    w.u16(d.priority);
    w.u16(d.weight);
    w.u16(d.port);
    w.writeName(d.target, false);
  },
  decode(r, length) {
    const end = rdataEnd(r, length);
    if (length < 7) expectEnd(r, r.pos + 7, 'SRV');
    const priority = r.u16();
    const weight = r.u16();
    const port = r.u16();
    const target = r.readName();
    expectEnd(r, end, 'SRV');
    return { priority, weight, port, target };
  },
};
