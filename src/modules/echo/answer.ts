// The echo zone's answer to one question: apex, name server, echo domain, programming query or alias.
import { parseEchoName } from '../../echo/parse.js';
import { isIP } from 'node:net';
import { isSubdomain, namesEqual } from '../../wire/name.js';
import { Rcode, RRType, type ResourceRecord, type SOARdata } from '../../wire/types.js';
import { programAnswer } from './program.js';
import { joinName, positive, rr, typedRecord, type EchoAnswer } from './records.js';
import { retrievalAnswer } from './retrieve.js';
import type { EchoZoneConfig } from './schema.js';
import type { ShortTimeCache } from './short-cache.js';
import { counterBy } from '../../observe/metrics/family.js';

/** Stateless DNS answers by kind: echo (data.00), a method's program, retrieval by alias, apex/ns, or unknown. */
const answers = counterBy('fluxdns_echo_answers_total', 'Stateless DNS (echo zone) answers synthesized, by method: echo, a program method (a, ca, …), retrieve, apex, ns, unknown (a repeated question served from the answer cache counts as a cache hit instead)', ['method']);

/** The zone's SOA: nothing is ever transferred, so the timers only matter for the minimum (RFC 2308 §4). */
export function soaRecord(z: EchoZoneConfig): ResourceRecord<SOARdata> {
  const rname = joinName(['hostmaster'], z.zone) ?? z.zone;
  return rr(z.zone, RRType.SOA, z.nsTtl, { mname: z.ns, rname, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: z.negativeTtl }) as ResourceRecord<SOARdata>;
}

function negative(z: EchoZoneConfig, rcode: number): EchoAnswer {
  const soa = soaRecord(z);
  // RFC 2308 §3: the SOA of a negative answer carries min(SOA TTL, minimum).
  return { rcode, aa: true, answer: [], authority: [{ ...soa, ttl: Math.min(soa.ttl, soa.data.minimum) }], additional: [] };
}

export const nodata = (z: EchoZoneConfig) => negative(z, Rcode.NOERROR);
export const nxdomain = (z: EchoZoneConfig) => negative(z, Rcode.NXDOMAIN);

function nsAddresses(z: EchoZoneConfig, qtype: number): ResourceRecord[] {
  if (!isSubdomain(z.ns, z.zone)) return [];
  const out: ResourceRecord[] = [];
  for (const a of z.nsAddress) {
    const v = isIP(a);
    if ((v === 4 && (qtype === RRType.A || qtype === RRType.ANY)) || (v === 6 && (qtype === RRType.AAAA || qtype === RRType.ANY))) {
      out.push(rr(z.ns, v === 4 ? RRType.A : RRType.AAAA, z.nsTtl, { address: a }));
    }
  }
  return out;
}

function apex(z: EchoZoneConfig, qtype: number): EchoAnswer {
  const nsRec = rr(z.zone, RRType.NS, z.nsTtl, { target: z.ns });
  switch (qtype) {
    case RRType.SOA:
      return positive([soaRecord(z)]);
    case RRType.NS:
      return positive([nsRec], nsAddresses(z, RRType.ANY));
    case RRType.ANY:
      return positive([soaRecord(z), nsRec]);
    default:
      return nodata(z);
  }
}

/**
 * Answers `qname`/`qtype` inside echo zone `z`. With a short-time cache, a programming query is
 * remembered for its alias and the first answer under that alias it can give consumes it.
 */
export function answerEcho(z: EchoZoneConfig, qname: string, qtype: number, cache: ShortTimeCache | undefined, now: number): EchoAnswer {
  if (namesEqual(qname, z.ns) && isSubdomain(z.ns, z.zone)) {
    answers.inc('ns');
    const addrs = nsAddresses(z, qtype);
    return addrs.length > 0 ? positive(addrs) : nodata(z);
  }
  const name = parseEchoName(qname, z.zone);
  if (!name) {
    answers.inc('unknown');
    return nxdomain(z);
  }
  answers.inc(name.kind === 'program' ? name.method : name.kind === 'alias' ? 'retrieve' : name.kind);
  switch (name.kind) {
    case 'apex':
      return apex(z, qtype);
    case 'echo': {
      // Seed §2.3: data.00.@ answers data; 00.@ itself only has names below it.
      const rec = name.data.length > 0 ? typedRecord(qname, qtype, name.data, z.ttl) : undefined;
      return rec ? positive([rec]) : nodata(z);
    }
    case 'program': {
      const ans = programAnswer(z, { qname, qtype }, name);
      if (ans && cache) cache.store({ method: name.method, data: name.data, alias: name.alias }, now);
      return ans ?? nodata(z);
    }
    case 'alias': {
      const stored = cache?.peek(name.alias, now);
      if (stored) {
        const ans = retrievalAnswer(z, qname, qtype, name.below, stored);
        if (ans) {
          cache!.consume(name.alias);
          return ans;
        }
      }
      // alias.@ and method.alias.@ have names below them (RFC 8020: not NXDOMAIN); nr.alias.@ is
      // one of them, answered empty as seed §2.8.3 footnote 9 asks.
      return name.ent ? nodata(z) : nxdomain(z);
    }
  }
}
