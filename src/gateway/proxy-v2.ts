// PROXY protocol version 2 (haproxy's proxy-protocol.txt §2.2): the binary header that tells a backend the client's address.
import { formatAddress, parseAddress } from '../net/cidr.js';
import type { Flow, Proto } from './types.js';

/** §2.2: the 12-byte signature that cannot start any HTTP/SMTP/… request. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

const VERSION_PROXY = 0x21; // version 2, command PROXY
const VERSION_LOCAL = 0x20; // version 2, command LOCAL (connection made by the proxy itself)

/** Header for a relayed flow: AF_INET/AF_INET6 with STREAM (TCP) or DGRAM (UDP), addresses in network order. */
export function encodeProxyV2(flow: Pick<Flow, 'proto' | 'src' | 'srcPort' | 'dst' | 'dstPort'>): Buffer {
  const src = parseAddress(flow.src);
  const dst = parseAddress(flow.dst);
  if (!src || !dst || src.family !== dst.family) {
    // §2.2: an unknown or mixed family is sent as AF_UNSPEC; the backend then uses the real connection's addresses.
    const h = Buffer.alloc(16);
    PROXY_V2_SIGNATURE.copy(h, 0);
    h[12] = VERSION_LOCAL;
    h[13] = 0x00;
    h.writeUInt16BE(0, 14);
    return h;
  }
  const alen = src.family === 4 ? 4 : 16;
  const len = alen * 2 + 4;
  const h = Buffer.alloc(16 + len);
  PROXY_V2_SIGNATURE.copy(h, 0);
  h[12] = VERSION_PROXY;
  h[13] = ((src.family === 4 ? 0x1 : 0x2) << 4) | (flow.proto === 'tcp' ? 0x1 : 0x2);
  h.writeUInt16BE(len, 14);
  h.set(src.bytes, 16);
  h.set(dst.bytes, 16 + alen);
  h.writeUInt16BE(flow.srcPort, 16 + alen * 2);
  h.writeUInt16BE(flow.dstPort, 18 + alen * 2);
  return h;
}

export interface ProxyV2Header {
  /** Bytes the header takes, TLVs included; the payload starts after them. */
  length: number;
  command: 'local' | 'proxy';
  proto?: Proto;
  src?: string;
  srcPort?: number;
  dst?: string;
  dstPort?: number;
}

/** Parses a header at the start of `b`: 'incomplete' when more bytes are needed, an Error when it is not one. */
export function decodeProxyV2(b: Uint8Array): ProxyV2Header | 'incomplete' | Error {
  const sigLen = Math.min(b.length, 12);
  for (let i = 0; i < sigLen; i++) if (b[i] !== PROXY_V2_SIGNATURE[i]) return new Error('no PROXY v2 signature');
  if (b.length < 16) return 'incomplete';
  const ver = b[12]! >> 4;
  const cmd = b[12]! & 0xf;
  if (ver !== 2 || cmd > 1) return new Error(`unsupported version/command 0x${b[12]!.toString(16)}`);
  const len = (b[14]! << 8) | b[15]!;
  if (b.length < 16 + len) return 'incomplete';
  const length = 16 + len;
  if (cmd === 0) return { length, command: 'local' };
  const fam = b[13]! >> 4;
  const tp = b[13]! & 0xf;
  const alen = fam === 1 ? 4 : fam === 2 ? 16 : 0;
  if (alen === 0 || (tp !== 1 && tp !== 2)) return { length, command: 'proxy' };
  if (len < alen * 2 + 4) return new Error(`address block of ${len} bytes is too short for its family`);
  const addr = (at: number) => formatAddress({ family: fam === 1 ? 4 : 6, bytes: Uint8Array.from(b.subarray(at, at + alen)) });
  const port = (at: number) => (b[at]! << 8) | b[at + 1]!;
  return {
    length,
    command: 'proxy',
    proto: tp === 1 ? 'tcp' : 'udp',
    src: addr(16),
    dst: addr(16 + alen),
    srcPort: port(16 + alen * 2),
    dstPort: port(18 + alen * 2),
  };
}
