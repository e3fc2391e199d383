// The table of RR type codecs by type code (presentation text ↔ wire rdata), and the entry points
// the zone parser, the zone printer and the message decoder use.

import { WireError } from '../types.js';
import {
  base32Len, base64Rest, eui, fieldCodec, hexRest, ilnp64, ipv4, ipv6, name, period, restString, rrtype, saltHex, sigTime,
  str, strs, typeBitmap, u16, u16m, u32, u8, u8m, type RRTypeCodec,
} from './fields.js';
import { amtrelayCodec, aplCodec, caaCodec, hipCodec, ipseckeyCodec, locCodec, nsapCodec, wksCodec } from './special.js';
import { svcbCodec } from './svcb.js';
import { Out, RdataTextError, fromHex, take, takeUint, toHex, bad, describe, type TextIn } from './text.js';
import { typeMnemonic } from './mnemonic.js';

export type { RRTypeCodec } from './fields.js';
export { Out, RdataTextError, type RdataWarning, type TextIn, type TextToken } from './text.js';
export { typeFromMnemonic, typeMnemonic } from './mnemonic.js';

/** RFC 4034 Appendix A.1 algorithm mnemonics (BIND accepts them in DNSKEY/DS/RRSIG text). */
const ALGORITHMS = new Map<string, number>([
  ['RSAMD5', 1], ['DH', 2], ['DSA', 3], ['RSASHA1', 5], ['DSA-NSEC3-SHA1', 6], ['RSASHA1-NSEC3-SHA1', 7],
  ['RSASHA256', 8], ['RSASHA512', 10], ['ECC-GOST', 12], ['ECDSAP256SHA256', 13], ['ECDSAP384SHA384', 14],
  ['ED25519', 15], ['ED448', 16], ['INDIRECT', 252], ['PRIVATEDNS', 253], ['PRIVATEOID', 254],
]);

/** RFC 4398 §2.1 certificate types. */
const CERT_TYPES = new Map<string, number>([
  ['PKIX', 1], ['SPKI', 2], ['PGP', 3], ['IPKIX', 4], ['ISPKI', 5], ['IPGP', 6], ['ACPKIX', 7], ['IACPKIX', 8], ['URI', 253], ['OID', 254],
]);

const NONE = new Map<string, number>();

/** The RFC 1035 types: the only ones whose names may be compressed on output (RFC 3597 §4). */
const c1035 = { compressible: true };
/** Types whose names are decompressed when read (RFC 3597 §4, RFC 4034 §6.2), never compressed when written. */
const dec = { decompress: true };

function dsLike(code: number): RRTypeCodec {
  return fieldCodec(code, [u16('the key tag'), u8m('the algorithm', ALGORITHMS), u8('the digest type'), hexRest('the digest')]);
}

function dnskeyLike(code: number): RRTypeCodec {
  return fieldCodec(code, [u16('the flags'), u8('the protocol'), u8m('the algorithm', ALGORITHMS), base64Rest('the public key')]);
}

function sigLike(code: number): RRTypeCodec {
  return fieldCodec(code, [
    rrtype('the type covered'), u8m('the algorithm', ALGORITHMS), u8('the label count'), u32('the original TTL'),
    sigTime('the signature expiration'), sigTime('the signature inception'), u16('the key tag'), name('the signer name'),
    base64Rest('the signature'),
  ], dec);
}

function txtLike(code: number): RRTypeCodec {
  return fieldCodec(code, [strs('a character-string')]);
}

function tlsaLike(code: number): RRTypeCodec {
  return fieldCodec(code, [u8('the certificate usage'), u8('the selector'), u8('the matching type'), hexRest('the certificate association data')]);
}

const ISDN_ADDRESS = str('the ISDN address');
const ISDN_SUB = str('the ISDN subaddress');

const CODECS: RRTypeCodec[] = [
  fieldCodec(1, [ipv4('an IPv4 address')]),
  fieldCodec(2, [name('a NS target name')], c1035),
  fieldCodec(3, [name('an MD target name')], c1035),
  fieldCodec(4, [name('an MF target name')], c1035),
  fieldCodec(5, [name('a CNAME target name')], c1035),
  fieldCodec(6, [
    name('the SOA primary server name (MNAME)'), name('the SOA mailbox name (RNAME)'), u32('the SOA serial'),
    period('the SOA refresh'), period('the SOA retry'), period('the SOA expire'), period('the SOA minimum'),
  ], c1035),
  fieldCodec(7, [name('an MB mailbox name')], c1035),
  fieldCodec(8, [name('an MG mailbox name')], c1035),
  fieldCodec(9, [name('an MR mailbox name')], c1035),
  // 10 NULL: no text form (RFC 1035 §3.3.10), only RFC 3597 \#.
  wksCodec(11),
  fieldCodec(12, [name('a PTR target name')], c1035),
  fieldCodec(13, [str('the HINFO CPU string'), str('the HINFO OS string')]),
  fieldCodec(14, [name('the MINFO responsible mailbox'), name('the MINFO error mailbox')], c1035),
  fieldCodec(15, [u16('an MX preference'), name('an MX exchange name')], c1035),
  txtLike(16),
  fieldCodec(17, [name('the RP mailbox'), name('the RP TXT name')], dec),
  fieldCodec(18, [u16('the AFSDB subtype'), name('the AFSDB hostname')], dec),
  fieldCodec(19, [str('the X25 PSDN address')]),
  {
    // ISDN (RFC 1183 §3.2): an address and an optional subaddress.
    code: 20,
    compressible: false,
    parse: (t, o) => {
      ISDN_ADDRESS.parse(t, o);
      if (t.pos < t.tokens.length) ISDN_SUB.parse(t, o);
    },
    format: (s) => {
      let out = ISDN_ADDRESS.format(s);
      if (s.pos < s.end) out += ' ' + ISDN_SUB.format(s);
      if (s.pos !== s.end) throw new WireError('trailing bytes after the last field', s.pos);
      return out;
    },
  },
  fieldCodec(21, [u16('the RT preference'), name('the RT intermediate host')], dec),
  nsapCodec(22),
  fieldCodec(23, [name('an NSAP-PTR target name')]),
  sigLike(24),
  dnskeyLike(25),
  fieldCodec(26, [u16('the PX preference'), name('the PX MAP822 name'), name('the PX MAPX400 name')], dec),
  fieldCodec(27, [str('the GPOS longitude'), str('the GPOS latitude'), str('the GPOS altitude')]),
  fieldCodec(28, [ipv6('an IPv6 address')]),
  locCodec(29),
  fieldCodec(33, [u16('an SRV priority'), u16('an SRV weight'), u16('an SRV port'), name('an SRV target name')], dec),
  fieldCodec(35, [
    u16('the NAPTR order'), u16('the NAPTR preference'), str('the NAPTR flags'), str('the NAPTR services'),
    str('the NAPTR regexp'), name('the NAPTR replacement'),
  ], dec),
  fieldCodec(36, [u16('the KX preference'), name('the KX exchanger')], dec),
  fieldCodec(37, [u16m('the CERT type', CERT_TYPES), u16('the CERT key tag'), u8m('the CERT algorithm', ALGORITHMS), base64Rest('the certificate')]),
  fieldCodec(39, [name('a DNAME target name')], dec),
  aplCodec(42),
  dsLike(43),
  fieldCodec(44, [u8('the SSHFP algorithm'), u8('the SSHFP fingerprint type'), hexRest('the fingerprint')]),
  ipseckeyCodec(45),
  sigLike(46),
  fieldCodec(47, [name('the next owner name'), typeBitmap('the type bitmap')], dec),
  dnskeyLike(48),
  fieldCodec(49, [base64Rest('the DHCID digest')]),
  fieldCodec(50, [
    u8('the hash algorithm'), u8('the flags'), u16('the iterations'), saltHex('the salt'),
    base32Len('the next hashed owner name'), typeBitmap('the type bitmap'),
  ]),
  fieldCodec(51, [u8('the hash algorithm'), u8('the flags'), u16('the iterations'), saltHex('the salt')]),
  tlsaLike(52),
  tlsaLike(53),
  hipCodec(55),
  fieldCodec(58, [name('the previous TALINK name'), name('the next TALINK name')]),
  dsLike(59),
  dnskeyLike(60),
  fieldCodec(61, [base64Rest('the OpenPGP key')]),
  fieldCodec(62, [u32('the SOA serial'), u16('the flags'), typeBitmap('the type bitmap')]),
  fieldCodec(63, [u32('the SOA serial'), u8('the scheme'), u8('the hash algorithm'), hexRest('the digest')]),
  svcbCodec(64),
  svcbCodec(65),
  txtLike(99),
  fieldCodec(104, [u16('the NID preference'), ilnp64('the NodeID')]),
  fieldCodec(105, [u16('the L32 preference'), ipv4('the Locator32')]),
  fieldCodec(106, [u16('the L64 preference'), ilnp64('the Locator64')]),
  fieldCodec(107, [u16('the LP preference'), name('the LP FQDN')]),
  fieldCodec(108, [eui('an EUI-48 address', 6)]),
  fieldCodec(109, [eui('an EUI-64 address', 8)]),
  fieldCodec(256, [u16('the URI priority'), u16('the URI weight'), restString('the URI target')]),
  caaCodec(257),
  txtLike(258),
  amtrelayCodec(260),
  txtLike(261),
  dsLike(32768),
  dsLike(32769),
];

/** Type code → codec, for every type with a text form or with names inside. */
export const RRTYPE_CODECS: ReadonlyMap<number, RRTypeCodec> = new Map(CODECS.map((c) => [c.code, c]));

/** The types whose text form fluxdns reads and writes (README lists them). */
export function typesWithTextForm(): number[] {
  return CODECS.filter((c) => c.parse).map((c) => c.code);
}

export function hasTextForm(type: number): boolean {
  return RRTYPE_CODECS.get(type)?.parse !== undefined;
}

/** RFC 3597 §5 generic text: `\# <length> <hex>`. */
export function genericText(wire: Uint8Array): string {
  return wire.length === 0 ? '\\# 0' : `\\# ${wire.length} ${toHex(wire, true)}`;
}

/**
 * The presentation text of one uncompressed rdata: the type's own form when it has one and the
 * bytes are well-formed for it, otherwise RFC 3597 `\# len hex` (which reads back to the same bytes).
 */
export function formatRdata(type: number, wire: Uint8Array): string {
  const c = RRTYPE_CODECS.get(type);
  if (c?.format) {
    try {
      return c.format({ b: wire, pos: 0, end: wire.length });
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
    }
  }
  return genericText(wire);
}

/** Like formatRdata, but throws WireError when the bytes are not well-formed for a type that has a text form. */
export function formatRdataStrict(type: number, wire: Uint8Array): string {
  const c = RRTYPE_CODECS.get(type);
  if (c?.format) return c.format({ b: wire, pos: 0, end: wire.length });
  return genericText(wire);
}

/** RFC 3597 §5: `\# <length> <hex words>` after the `\#` token (t.pos is on the length). */
function parseGeneric(t: TextIn): Uint8Array {
  const lenTok = t.tokens[t.pos];
  const len = takeUint(t, 65535, 'the rdata length after \\# (0 to 65535)');
  const out = new Uint8Array(len);
  let o = 0;
  while (t.pos < t.tokens.length) {
    const tok = take(t, 'hexadecimal rdata');
    if (tok.quoted) throw bad(t, 'hexadecimal rdata');
    if (tok.text.length % 2 !== 0) {
      if (/^[0-9a-fA-F]*$/.test(tok.text)) throw bad(t, 'hexadecimal rdata in whole bytes (an even number of digits per word)');
      throw bad(t, 'hexadecimal rdata');
    }
    const b = fromHex(tok.text);
    if (b === null) throw bad(t, 'hexadecimal rdata');
    if (o + b.length > len) throw bad(t, `exactly ${len} bytes of rdata as the \\# length says`, `${describe(tok)} (more bytes)`);
    out.set(b, o);
    o += b.length;
  }
  if (o !== len) throw new RdataTextError(-1, `${len} bytes of rdata as the \\# length${lenTok?.col !== undefined ? ` at column ${lenTok.col}` : ''} says (got ${o})`);
  return out;
}

/** What parseRdataText returns: the rdata and whether it came in RFC 3597 form. */
export interface ParsedRdata {
  wire: Uint8Array;
  generic: boolean;
}

/**
 * Like parseRdataText, but the text form is written into `o` (from its start; o.pos is the length)
 * without copying it out: for a caller that decodes the bytes at once. Returns true when the rdata
 * came in RFC 3597 form, which is then returned as its own array in `generic`.
 */
export function parseRdataInto(type: number, t: TextIn, o: Out): Uint8Array | null {
  const first = t.tokens[t.pos];
  if (first && !first.quoted && first.text === '\\#') {
    t.pos++;
    return parseGeneric(t);
  }
  const c = RRTYPE_CODECS.get(type);
  if (!c?.parse) {
    throw new RdataTextError(first ? t.pos : -1, `the RFC 3597 form "\\# <length> <hex>" for ${typeMnemonic(type)} (its text form is not supported)`);
  }
  o.pos = 0;
  c.parse(t, o);
  if (t.pos < t.tokens.length) throw new RdataTextError(t.pos, 'end of line');
  if (o.pos > 65535) throw new RdataTextError(t.pos - 1, 'rdata of at most 65535 bytes');
  return null;
}

/**
 * Reads the rdata tokens of one record of `type` from t.pos to the end into uncompressed wire
 * bytes, by the type's codec, or the RFC 3597 `\#` form for any type. Throws RdataTextError (with
 * the index of the offending token, -1 for the end); repairs are appended to t.warnings.
 */
export function parseRdataText(type: number, t: TextIn): ParsedRdata {
  const o = new Out();
  const generic = parseRdataInto(type, t, o);
  return generic ? { wire: generic, generic: true } : { wire: o.finish(), generic: false };
}

/**
 * The rdata of `length` bytes at `pos` of message `msg` as uncompressed wire bytes: names inside the
 * types RFC 3597 §4 and RFC 4034 §6.2 list are decompressed; other types are copied as they are.
 * Throws WireError when a name in such a type is malformed.
 */
export function expandRdata(type: number, msg: Uint8Array, pos: number, length: number): Uint8Array {
  const c = RRTYPE_CODECS.get(type);
  if (!c?.expand) return msg.slice(pos, pos + length);
  const o = new Out();
  c.expand({ b: msg, pos, end: pos + length }, o);
  return o.finish();
}
