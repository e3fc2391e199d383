// CAA (RFC 8659 §4.1): flags, a 1..15 byte alphanumeric tag, and the value as raw bytes.

import { RRType, WireError, type CAARdata } from '../types.js';
import { rdataEnd, type RdataCodec } from './codec.js';

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

export const caaCodec: RdataCodec<CAARdata> = {
  code: RRType.CAA,
  encode(w, d) {
    const tag = d.tag;
    if (tag.length < 1 || tag.length > 15) throw new WireError(`CAA tag length ${tag.length} (must be 1..15)`, w.pos);
    for (let i = 0; i < tag.length; i++) {
      if (!isAlnum(tag.charCodeAt(i))) throw new WireError(`CAA tag ${JSON.stringify(tag)} is not alphanumeric`, w.pos);
    }
    w.u8(d.flags);
    w.u8(tag.length);
    for (let i = 0; i < tag.length; i++) w.u8(tag.charCodeAt(i));
    w.bytes(d.value);
  },
  decode(r, length) {
    const end = rdataEnd(r, length);
    if (length < 2) throw new WireError('CAA rdata shorter than 2 bytes', r.pos);
    const flags = r.u8();
    const tagLen = r.u8();
    if (tagLen < 1 || tagLen > 15 || r.pos + tagLen > end) throw new WireError(`bad CAA tag length ${tagLen}`, r.pos - 1);
    let tag = '';
    for (let i = 0; i < tagLen; i++) {
      const c = r.buf[r.pos + i]!;
      if (!isAlnum(c)) throw new WireError('CAA tag is not alphanumeric', r.pos + i);
      tag += String.fromCharCode(c);
    }
    r.pos += tagLen;
    return { flags, tag, value: r.copy(end - r.pos) };
  },
};
