// AAAA (RFC 3596 §2.2): sixteen bytes, RFC 5952 canonical text.

import { RRType, WireError, type AAAARdata } from '../types.js';
import type { RdataCodec } from './codec.js';
import { formatIPv6, parseIPv6Into } from './ip.js';

export const aaaaCodec: RdataCodec<AAAARdata> = {
  code: RRType.AAAA,
  encode(w, data) {
    const at = w.reserve(16);
    if (!parseIPv6Into(data.address, w.buf, at)) {
      w.pos = at;
      throw new WireError(`bad IPv6 address ${JSON.stringify(data.address)}`, at);
    }
  },
  decode(r, length) {
    if (length !== 16) throw new WireError(`AAAA rdata must be 16 bytes, not ${length}`, r.pos);
    const at = r.pos;
    r.skip(16);
    return { address: formatIPv6(r.buf, at) };
  },
};
