// A (RFC 1035 §3.4.1): four bytes, dotted-quad text.

import { RRType, WireError, type ARdata } from '../types.js';
import type { RdataCodec } from './codec.js';
import { formatIPv4, parseIPv4Into } from './ip.js';

export const aCodec: RdataCodec<ARdata> = {
  code: RRType.A,
  encode(w, data) {
    const at = w.reserve(4);
    if (!parseIPv4Into(data.address, w.buf, at)) {
      w.pos = at;
      throw new WireError(`bad IPv4 address ${JSON.stringify(data.address)}`, at);
    }
  },
  decode(r, length) {
    if (length !== 4) throw new WireError(`A rdata must be 4 bytes, not ${length}`, r.pos);
    const at = r.pos;
    r.skip(4);
    return { address: formatIPv4(r.buf, at) };
  },
};
