// The exceptions EDNS option (seed 000 §2.3): a granted capability "except for IP address a.b.c.d".
//
// Option code 65430 (RFC 6891 §9: 65001–65534 are for local/experimental use). Its data is a list
// of prefixes, each encoded like an RFC 7871 client subnet without the scope byte:
//   FAMILY (2 octets: 1 IPv4, 2 IPv6) | PREFIX-LENGTH (1 octet) | ceil(PREFIX-LENGTH/8) address octets
// A resolver that understands it can keep the listed clients from using the answer; one that does
// not ignores it (RFC 6891 §6.1.2), and the data plane refuses those sources anyway.
import { prefixOf, type Cidr } from '../net/cidr.js';
import { WireError, type EdnsOption } from '../wire/types.js';

export const EXCEPTIONS_OPTION_CODE = 65430;

export function encodeExceptions(prefixes: readonly Cidr[]): Uint8Array {
  const parts: number[] = [];
  for (const c of prefixes) {
    const n = (c.length + 7) >>> 3;
    parts.push(0, c.family === 4 ? 1 : 2, c.length, ...c.bytes.subarray(0, n));
  }
  return Uint8Array.from(parts);
}

export function decodeExceptions(data: Uint8Array): Cidr[] {
  const out: Cidr[] = [];
  let i = 0;
  while (i < data.length) {
    if (i + 3 > data.length) throw new WireError('exceptions option: truncated prefix header', i);
    const family = (data[i]! << 8) | data[i + 1]!;
    const length = data[i + 2]!;
    if (family !== 1 && family !== 2) throw new WireError(`exceptions option: family ${family}`, i);
    const width = family === 1 ? 32 : 128;
    if (length > width) throw new WireError(`exceptions option: prefix length ${length}`, i + 2);
    const n = (length + 7) >>> 3;
    if (i + 3 + n > data.length) throw new WireError('exceptions option: truncated address', i + 3);
    const bytes = new Uint8Array(width / 8);
    bytes.set(data.subarray(i + 3, i + 3 + n));
    out.push(prefixOf({ family: family === 1 ? 4 : 6, bytes }, length));
    i += 3 + n;
  }
  return out;
}

export function exceptionsOption(prefixes: readonly Cidr[]): EdnsOption {
  return { code: EXCEPTIONS_OPTION_CODE, data: encodeExceptions(prefixes) };
}

/**
 * The exceptions as TXT data, for clients that cannot trust an EDNS option: DNSSEC signs RRsets, never
 * the OPT record (RFC 6891 §6.1.1), so the option above is unauthenticated. `_exceptions.<service name>`
 * answers one TXT record per prefix, `v=exc1 PREFIX`, or a single `v=exc1` when there is none — signed
 * when the name is in an online-signed zone, so a client network can verify what it was excepted from.
 */
export const EXCEPTIONS_TXT_LABEL = '_exceptions';

export function exceptionsTxtStrings(prefixes: readonly string[]): string[] {
  return prefixes.length === 0 ? ['v=exc1'] : prefixes.map((p) => `v=exc1 ${p}`);
}
