// EDNS(0) option helpers (RFC 6891 §6.1.2): client subnet (RFC 7871), cookies (RFC 7873),
// padding (RFC 7830) and NSID (RFC 5001).

import { EdnsOptionCode, WireError, type ClientSubnet, type Cookie, type Edns, type EdnsOption } from './types.js';
import { formatIPv4, formatIPv6, parseIPv4Into, parseIPv6Into } from './rdata/ip.js';

/**
 * RFC 7871 §6: FAMILY 1 or 2, SOURCE PREFIX-LENGTH within the family, exactly ceil(source/8)
 * address bytes, and the bits beyond the source prefix zero; §7.1.1 says such violations are
 * FORMERR, which is what the WireError stands for. SCOPE must not exceed the family's width
 * either; that it is 0 in queries is left to the caller, as the same decoder reads responses.
 * The address is the prefix padded with zeros to a full address, as text.
 */
export function decodeClientSubnet(data: Uint8Array): ClientSubnet {
  if (data.length < 4) throw new WireError(`ECS option of ${data.length} bytes (min 4)`, 0);
  const family = (data[0]! << 8) | data[1]!;
  const sourcePrefix = data[2]!;
  const scopePrefix = data[3]!;
  if (family !== 1 && family !== 2) throw new WireError(`ECS family ${family} unsupported`, 0);
  const width = family === 1 ? 32 : 128;
  if (sourcePrefix > width) throw new WireError(`ECS source prefix ${sourcePrefix} exceeds ${width}`, 2);
  if (scopePrefix > width) throw new WireError(`ECS scope prefix ${scopePrefix} exceeds ${width}`, 3);
  const n = (sourcePrefix + 7) >>> 3;
  if (data.length - 4 !== n) throw new WireError(`ECS address of ${data.length - 4} bytes, prefix ${sourcePrefix} needs ${n}`, 4);
  const full = new Uint8Array(family === 1 ? 4 : 16);
  for (let i = 0; i < n; i++) full[i] = data[4 + i]!;
  const rest = sourcePrefix & 7;
  if (rest !== 0 && (full[n - 1]! & (0xff >>> rest)) !== 0) throw new WireError('ECS address has bits set beyond the source prefix', 4 + n - 1);
  return { family, sourcePrefix, scopePrefix, address: family === 1 ? formatIPv4(full) : formatIPv6(full) };
}

/** Option data for `cs`; address bits beyond the source prefix are cleared, as §6 requires. */
export function encodeClientSubnet(cs: ClientSubnet): Uint8Array {
  const width = cs.family === 1 ? 32 : 128;
  if (cs.family !== 1 && cs.family !== 2) throw new WireError(`ECS family ${String(cs.family)} unsupported`, 0);
  if (!(cs.sourcePrefix >= 0 && cs.sourcePrefix <= width && Number.isInteger(cs.sourcePrefix))) throw new WireError(`ECS source prefix ${cs.sourcePrefix}`, 2);
  if (!(cs.scopePrefix >= 0 && cs.scopePrefix <= width && Number.isInteger(cs.scopePrefix))) throw new WireError(`ECS scope prefix ${cs.scopePrefix}`, 3);
  const full = new Uint8Array(width >>> 3);
  const ok = cs.family === 1 ? parseIPv4Into(cs.address, full, 0) : parseIPv6Into(cs.address, full, 0);
  if (!ok) throw new WireError(`bad ECS address ${JSON.stringify(cs.address)}`, 4);
  const n = (cs.sourcePrefix + 7) >>> 3;
  const out = new Uint8Array(4 + n);
  out[0] = 0;
  out[1] = cs.family;
  out[2] = cs.sourcePrefix;
  out[3] = cs.scopePrefix;
  for (let i = 0; i < n; i++) out[4 + i] = full[i]!;
  const rest = cs.sourcePrefix & 7;
  if (rest !== 0) out[4 + n - 1]! &= 0xff << (8 - rest);
  return out;
}

/**
 * RFC 7873 §4: an 8-byte client cookie, optionally followed by an 8..32 byte server cookie; any
 * other total length is FORMERR (§5.2.2). The parts alias `data` (no copies).
 */
export function decodeCookie(data: Uint8Array): Cookie {
  const n = data.length;
  if (n === 8) return { client: data.subarray(0, 8) };
  if (n < 16 || n > 40) throw new WireError(`COOKIE option of ${n} bytes (must be 8 or 16..40)`, 0);
  return { client: data.subarray(0, 8), server: data.subarray(8) };
}

export function encodeCookie(c: Cookie): Uint8Array {
  if (c.client.length !== 8) throw new WireError(`client cookie of ${c.client.length} bytes (must be 8)`, 0);
  const s = c.server;
  if (s === undefined) return c.client.slice();
  if (s.length < 8 || s.length > 32) throw new WireError(`server cookie of ${s.length} bytes (must be 8..32)`, 8);
  const out = new Uint8Array(8 + s.length);
  out.set(c.client, 0);
  out.set(s, 8);
  return out;
}

export function clientSubnetOption(cs: ClientSubnet): EdnsOption {
  return { code: EdnsOptionCode.CLIENT_SUBNET, data: encodeClientSubnet(cs) };
}

export function cookieOption(c: Cookie): EdnsOption {
  return { code: EdnsOptionCode.COOKIE, data: encodeCookie(c) };
}

/** RFC 7830 §4: `length` zero bytes of padding (the option header adds 4 more on the wire). */
export function paddingOption(length: number): EdnsOption {
  return { code: EdnsOptionCode.PADDING, data: new Uint8Array(length) };
}

/** RFC 5001 §2.3: the server's identifier as opaque bytes (an empty NSID is how clients ask). */
export function nsidOption(bytes: Uint8Array): EdnsOption {
  return { code: EdnsOptionCode.NSID, data: bytes };
}

/** The first option with `code`, in wire order. */
export function findOption(edns: Edns | undefined, code: number): EdnsOption | undefined {
  if (!edns) return undefined;
  for (const o of edns.options) if (o.code === code) return o;
  return undefined;
}

/**
 * Validates the options whose malformation RFC 7871 §7.1.1 and RFC 7873 §5.2.2 make FORMERR;
 * throws WireError for the first bad one.
 */
export function validateKnownOptions(options: readonly EdnsOption[]): void {
  for (const o of options) {
    if (o.code === EdnsOptionCode.CLIENT_SUBNET) decodeClientSubnet(o.data);
    else if (o.code === EdnsOptionCode.COOKIE) decodeCookie(o.data);
  }
}
