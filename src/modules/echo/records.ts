// Record builders for synthesized echo answers: data labels → A/AAAA/TXT/SRV by query type, names, targets.
import { decodeA, decodeAAAA, decodeSrv, decodeTxtBytes } from '../../echo/encoding.js';
import { parseName } from '../../wire/name.js';
import { Rcode, RRClass, RRType, type ResourceRecord } from '../../wire/types.js';

/** What a synthesized answer consists of; the responder copies it into the response draft. */
export interface EchoAnswer {
  rcode: number;
  aa: boolean;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

export const positive = (answer: ResourceRecord[], additional: ResourceRecord[] = []): EchoAnswer => ({ rcode: Rcode.NOERROR, aa: true, answer, authority: [], additional });

/** A delegation: NS in authority, AA clear (RFC 1034 §4.3.2 step 3b), glue in additional. */
export const referral = (ns: ResourceRecord[], glue: ResourceRecord[]): EchoAnswer => ({ rcode: Rcode.NOERROR, aa: false, answer: [], authority: ns, additional: glue });

export function rr(name: string, type: number, ttl: number, data: ResourceRecord['data']): ResourceRecord {
  return { name, type, class: RRClass.IN, ttl, data };
}

/** labels + zone as one canonical name, or undefined when it would exceed 255 octets. */
export function joinName(labels: readonly string[], zone: string): string | undefined {
  if (labels.length === 0) return zone;
  try {
    return parseName(labels.join('.') + '.' + (zone === '.' ? '' : zone));
  } catch {
    return undefined;
  }
}

/** TXT strings are at most 255 octets each (RFC 1035 §3.3.14). */
function txtStrings(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255));
  return out;
}

/**
 * The record `data` stands for when asked with `qtype` (seed §2.4: "the record returned depends on
 * the query type"); undefined when the type has no data form or the data does not parse as it.
 */
export function typedRecord(owner: string, qtype: number, data: readonly string[], ttl: number): ResourceRecord | undefined {
  switch (qtype) {
    case RRType.A: {
      const a = decodeA(data);
      return a === undefined ? undefined : rr(owner, RRType.A, ttl, { address: a });
    }
    case RRType.AAAA: {
      const a = decodeAAAA(data);
      return a === undefined ? undefined : rr(owner, RRType.AAAA, ttl, { address: a });
    }
    case RRType.TXT: {
      const b = decodeTxtBytes(data);
      return b === undefined ? undefined : rr(owner, RRType.TXT, ttl, { strings: txtStrings(b) });
    }
    case RRType.SRV: {
      const s = decodeSrv(data);
      // Seed §2.4 prints priority 0, weight 1.
      return s === undefined ? undefined : rr(owner, RRType.SRV, ttl, { priority: 0, weight: 1, port: s.port, target: s.target });
    }
    default:
      return undefined;
  }
}

/** A name server's address for NA/NR glue: the data as IPv4, else as IPv6 (seed §2.8.1, §2.8.3). */
export function addressRecord(owner: string, data: readonly string[], ttl: number): ResourceRecord | undefined {
  const a = decodeA(data);
  if (a !== undefined) return rr(owner, RRType.A, ttl, { address: a });
  const a6 = decodeAAAA(data);
  return a6 === undefined ? undefined : rr(owner, RRType.AAAA, ttl, { address: a6 });
}
