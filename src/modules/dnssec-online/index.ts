// dnssec-online: the apex key sets (DNSKEY, CDS, CDNSKEY) of online-signed zones, and the finisher that signs every answer of a DO query as it is sent (src/dnssec/online).
import { nameKey } from '../../wire/name.js';
import { Rcode, RRType } from '../../wire/types.js';
import { EXCEPTIONS_TXT_LABEL, exceptionsTxtStrings } from '../../capability/exceptions.js';
import { signResponse } from '../../dnssec/online/sign-response.js';
import { CDNSKEY, CDS, signersOf } from '../../dnssec/online/signers.js';
import type { QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, type Outcome, type Unit } from '../../answer/unit.js';

/** Answers DNSKEY, CDS and CDNSKEY at the apex of an online-signed zone, with or without DO. */
export function dnssecKeysResponder(): Unit {
  return {
    name: 'dnssec-keys',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      const q = ctx.query.question!;
      if (q.type !== RRType.DNSKEY && q.type !== CDS && q.type !== CDNSKEY) return CONTINUE;
      const z = signersOf(ctx.runtime.config).apex(q.name);
      if (!z) return CONTINUE;
      const set = z.apexSet(q.type);
      if (set.length === 0) return CONTINUE; // CDS/CDNSKEY turned off: the zone's own NODATA
      const r = ctx.response;
      r.rcode = 0;
      r.aa = true;
      r.answer = set.map((rr) => ({ ...rr, name: q.name }));
      r.authority = [];
      r.additional = [];
      r.cacheable = true; // the signing finisher clears it for a DO query
      return ANSWERED;
    },
  };
}

/**
 * Signs each answer and authority RRset of an online-signed zone with the TTL actually sent (so it runs
 * after ttl-jitter), and turns negative answers into compact denial (RFC 9824). Only for DO queries
 * (RFC 4035 §3.1: without DO no DNSSEC record is added). A signing failure throws: the pipeline answers
 * SERVFAIL and logs it.
 */
export function dnssecSignFinisher(): Unit {
  return {
    name: 'dnssec-sign',
    stage: 'finish',
    handle(ctx: QueryContext): Outcome {
      const r = ctx.response;
      if (!ctx.query.edns?.dnssecOk || r.prebuilt || r.failed) return CONTINUE;
      const table = signersOf(ctx.runtime.config);
      if (table.size === 0) return CONTINUE;
      const q = ctx.query.question!;
      // Signatures expire and carry the time they were made: a signed answer is never reused as bytes.
      if (signResponse(r, q.name, q.type, table, ctx.runtime.zones)) r.cacheable = false;
      return CONTINUE;
    },
  };
}


/**
 * `_exceptions.<service name>` TXT: a service's exceptions (seed 000 §2.3) as records DNSSEC can sign, since
 * the EDNS option that carries them in the capability answer cannot be signed. Other types: NODATA.
 */
export function exceptionsTxtResponder(): Unit {
  return {
    name: 'exceptions-txt',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      const config = ctx.runtime.config;
      if (config.services.length === 0) return CONTINUE;
      const q = ctx.query.question!;
      const key = nameKey(q.name);
      if (!key.startsWith(EXCEPTIONS_TXT_LABEL + '.')) return CONTINUE;
      const base = key.slice(EXCEPTIONS_TXT_LABEL.length + 1);
      const svc = config.services.find((s) => s.name.some((n) => nameKey(n) === base));
      if (!svc) return CONTINUE;
      const r = ctx.response;
      r.rcode = Rcode.NOERROR;
      r.aa = true;
      r.additional = [];
      if (q.type === RRType.TXT || q.type === RRType.ANY) {
        r.answer = exceptionsTxtStrings(svc.exceptions).map((t) => ({ name: q.name, type: RRType.TXT, class: 1, ttl: svc.ttl, data: { strings: [Buffer.from(t, 'latin1')] } }));
        r.authority = [];
      } else {
        r.answer = [];
        // NODATA carries the SOA of the zone holding the service name, when a file zone does (RFC 2308 §2.2).
        const zone = ctx.runtime.zones.find(q.name);
        r.authority = zone ? [zone.negativeSoa()] : [];
      }
      r.cacheable = true;
      return ANSWERED;
    },
  };
}
