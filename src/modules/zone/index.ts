// zone responder: answers from the master-file zones (RFC 1034 §4.3.2) and refuses names outside them.
import { Rcode, RRType } from '../../wire/types.js';
import { lookupInZone, type LookupOptions } from '../../zone/lookup.js';
import { setSections, type QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, fail, type Outcome, type Unit } from '../../answer/unit.js';
import { TTL_JITTER, zoneTtlJitter } from '../ttl-jitter/index.js';
import { serveDnssec } from '../../dnssec/serve/step.js';
import { COVER_AFTER_STAR, COVER_BELOW_ANY, COVER_BY_NAME, COVER_NSEC3_HOLE, dnssecIndexOf } from '../../dnssec/serve/index.js';
import { SHAPE_AFTER_STAR, SHAPE_ENCLOSER, SHAPE_NAMED_BUCKET, SHAPE_NSEC3_HOLE } from '../../answer/replay.js';
import type { LookupResult } from '../../zone/lookup.js';

/** The lookup's options: ANY is answered minimally over UDP only (RFC 8482 §4.1). Made once, not per query. */
const MINIMAL_ANY: LookupOptions = { minimalAny: true };
const FULL_ANY: LookupOptions = { minimalAny: false };

export function zoneResponder(): Unit {
  return {
    name: 'zone',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      // Only names whose authority is a file zone (answer/authority.ts; DS goes to the parent side,
      // which may be an echo or policy-owned zone).
      const a = ctx.authority;
      if (a?.kind !== 'file') return CONTINUE;
      const zone = a.zone;
      const q = ctx.query.question!;
      // Zone transfers are not offered here; a secondary asking gets a clear no (as NSD does).
      if (q.type === RRType.AXFR || q.type === RRType.IXFR) return fail(Rcode.REFUSED, 'zone transfer not allowed');
      // The name from the query's bytes (no text parsed again); its text (q.name) is made only for an
      // answer that spells it — a NXDOMAIN or NODATA never reads it.
      const result = lookupInZone(zone, q, q.type, ctx.transport.proto === 'udp' ? MINIMAL_ANY : FULL_ANY, ctx.questionWire());
      // RRSIGs and NSEC/NSEC3 proofs of a pre-signed zone, when the query set DO (src/dnssec/serve/).
      // The question's lower-cased wire form (asked again: valid only until another scan) spares the proofs text-to-wire work.
      const below = dnssecIndexOf(zone) !== undefined ? serveDnssec(result, q.name, q.type, ctx.query.edns?.dnssecOk === true, ctx.questionWire()) : COVER_BELOW_ANY;
      ctx.zoneResult = result;
      ctx.wildcardLabels = result.wildcardLabels ?? 0;
      ctx.encloserShape = encloserShape(result, below);
      // The per-zone counter's slot (observe/metrics/zone-counts.ts). A DS query is answered by the
      // parent side but counted, as every query, under the deepest zone holding the name: left to the name match.
      if (q.type !== RRType.DS) ctx.zoneSlot = ctx.runtime.zones.slotOf(zone);
      const r = ctx.response;
      setSections(r, result);
      r.requiredAdditional = result.requiredAdditional;
      // A zone answer is a function of the name, type and the loaded data alone (see answer-cache),
      // unless its TTLs are drawn at random (ttl-jitter; a policy's jitter wins over the zone's).
      const jitter = ctx.get(TTL_JITTER) ?? zoneTtlJitter(ctx.runtime, zone.originKey);
      if (jitter) ctx.set(TTL_JITTER, jitter);
      r.cacheable = jitter === undefined;
      return ANSWERED;
    },
  };
}

/**
 * QueryContext.encloserShape of a lookup's result (`below`: how its DNSSEC records depend on the name below
 * the closest encloser, serveDnssec): 0 unless the name does not exist and nothing in the answer depends on
 * it but the question and the owners spelt as it (answer/replay.ts).
 */
function encloserShape(result: LookupResult, below: number): number {
  if ((result.encloserNode ?? -1) < 0 || below === COVER_BY_NAME) return 0;
  let s = SHAPE_ENCLOSER;
  // rrl buckets a positive answer by the question's name (modules/rrl/classify.ts), unless a wildcard
  // stood for the name: then by the wildcard's parent, the closest encloser — the same for every name below it.
  if (result.rcode === Rcode.NOERROR && result.answer.length > 0 && (result.wildcardLabels ?? 0) === 0) s |= SHAPE_NAMED_BUCKET;
  if (below === COVER_AFTER_STAR) s |= SHAPE_AFTER_STAR;
  if (below === COVER_NSEC3_HOLE) s |= SHAPE_NSEC3_HOLE;
  return s;
}
