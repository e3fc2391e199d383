// The data model every part of fluxdns shares: record types, record data, messages, EDNS.
// Names are absolute presentation-format strings ("www.example.com.", root "."); see name.ts.

import { typeFromMnemonic, typeMnemonic } from './rrtype/mnemonic.js';

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  NSEC3PARAM: 51,
  SVCB: 64,
  HTTPS: 65,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  CAA: 257,
} as const;
export type RRTypeName = keyof typeof RRType;

export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADVERS: 16,
  BADCOOKIE: 23,
} as const;

export const EdnsOptionCode = {
  NSID: 3,
  CLIENT_SUBNET: 8,
  COOKIE: 10,
  TCP_KEEPALIVE: 11,
  PADDING: 12,
} as const;

/** RR types that must never appear as data in a zone or an answer's record set. */
export const META_TYPES: ReadonlySet<number> = new Set([RRType.OPT, RRType.TSIG, RRType.IXFR, RRType.AXFR, RRType.MAILB, RRType.MAILA, RRType.ANY]);

export interface ARdata { address: string }
export interface AAAARdata { address: string }
/** NS, CNAME, DNAME, PTR. */
export interface TargetRdata { target: string }
export interface SOARdata {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}
export interface MXRdata { preference: number; exchange: string }
/** Each element is one <character-string> (at most 255 bytes), kept as bytes. */
export interface TXTRdata { strings: Uint8Array[] }
export interface SRVRdata { priority: number; weight: number; port: number; target: string }
export interface CAARdata { flags: number; tag: string; value: Uint8Array }
/** RFC 3597: every type without a codec of its own. */
export interface OpaqueRdata { raw: Uint8Array }

export type Rdata = ARdata | AAAARdata | TargetRdata | SOARdata | MXRdata | TXTRdata | SRVRdata | CAARdata | OpaqueRdata;

/** Maps a type code to the shape of its data; types not listed are opaque. */
export interface RdataByType {
  1: ARdata;
  2: TargetRdata;
  5: TargetRdata;
  6: SOARdata;
  12: TargetRdata;
  15: MXRdata;
  16: TXTRdata;
  28: AAAARdata;
  33: SRVRdata;
  39: TargetRdata;
  257: CAARdata;
}

export interface ResourceRecord<D extends Rdata = Rdata> {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: D;
}

/** RFC 2181 §8: a TTL is an unsigned 31-bit value. */
export const MAX_TTL = 0x7fffffff;

/** A TTL read from another server's message: one with the top bit set counts as zero (RFC 2181 §8). */
export function receivedTtl(ttl: number): number {
  return ttl > MAX_TTL ? 0 : ttl;
}

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface EdnsOption {
  code: number;
  data: Uint8Array;
}

/** RFC 7871 client subnet, decoded. address is the (possibly truncated) prefix as text. */
export interface ClientSubnet {
  family: 1 | 2;
  sourcePrefix: number;
  scopePrefix: number;
  address: string;
}

/** RFC 7873: client cookie is 8 bytes; server cookie 8 to 32 bytes when present. */
export interface Cookie {
  client: Uint8Array;
  server?: Uint8Array;
}

export interface Edns {
  udpSize: number;
  /** Upper 8 bits of the 12-bit extended rcode. */
  extendedRcode: number;
  version: number;
  dnssecOk: boolean;
  /** The 15 flag bits other than DO, kept so unknown flags can be observed (RFC 6891 §6.1.4). */
  z: number;
  /** Every option in wire order, known ones included, so nothing is lost. */
  options: EdnsOption[];
}

export interface Flags {
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** The reserved Z bit (must be zero in queries; ignored). */
  z: boolean;
  ad: boolean;
  cd: boolean;
  /** The low 4 bits in the header; combined with edns.extendedRcode for the full rcode. */
  rcode: number;
}

export interface Message {
  id: number;
  flags: Flags;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  /** Additional records other than OPT; OPT is decoded into `edns`. */
  additionals: ResourceRecord[];
  edns?: Edns;
}

/** Thrown by the codec for malformed input; `offset` is where decoding failed. */
export class WireError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'WireError';
  }
}

/** The type's mnemonic (every IANA-registered one), or TYPEnnn (RFC 3597 §5). */
export function typeName(code: number): string {
  return typeMnemonic(code);
}

/** A mnemonic (any case) or TYPEnnn to its type code; undefined when neither. */
export function typeCode(name: string): number | undefined {
  return typeFromMnemonic(name);
}

export function rcodeName(code: number): string {
  for (const [k, v] of Object.entries(Rcode)) if (v === code) return k;
  return `RCODE${code}`;
}
