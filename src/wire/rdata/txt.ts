// TXT (RFC 1035 §3.3.14): one or more <character-string>s, each a length byte and up to 255 bytes.

import { RRType, WireError, type TXTRdata } from '../types.js';
import { rdataEnd, type RdataCodec } from './codec.js';

export const txtCodec: RdataCodec<TXTRdata> = {
  code: RRType.TXT,
  encode(w, d) {
    for (const s of d.strings) {
      if (s.length > 255) throw new WireError(`TXT string of ${s.length} bytes (max 255)`, w.pos);
      w.u8(s.length);
      w.bytes(s);
    }
  },
  decode(r, length) {
    const end = rdataEnd(r, length);
    const strings: Uint8Array[] = [];
    while (r.pos < end) {
      const n = r.buf[r.pos]!;
      if (r.pos + 1 + n > end) throw new WireError('TXT string overruns RDLENGTH', r.pos);
      r.pos++;
      strings.push(r.copy(n));
    }
    return { strings };
  },
};
