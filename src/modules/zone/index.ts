// zone responder: answers from the master-file zones (RFC 1034 §4.3.2) and refuses names outside them.
import { Rcode, RRType } from '../../wire/types.js';
import { lookup, type LookupResult } from '../../zone/lookup.js';
import { dsAuthorityName } from '../../zone/tree.js';
import { policySetOf } from '../policies/index.js';
import { setSections, StateKey, type QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, fail, type Outcome, type Unit } from '../../answer/unit.js';
import { TTL_JITTER, zoneTtlJitter } from '../ttl-jitter/index.js';
import { serveDnssec } from '../../dnssec/serve/step.js';

/** The lookup's outcome, for later units (logs, policies that act on a miss). */
export const ZONE_RESULT = new StateKey<LookupResult>('zone.result');

/**
 * DS at the apex of a file zone whose parent no file zone holds but a policy-owned zone does: the
 * policy zone is the parent side (RFC 4035 §3.1.4.1), so the policy-zone responder answers it.
 */
function dsBelongsToPolicyZone(ctx: QueryContext, name: string): boolean {
  const parent = dsAuthorityName(name);
  return ctx.runtime.zones.find(parent) === undefined && policySetOf(ctx.runtime).findZone(parent) !== undefined;
}

export function zoneResponder(): Unit {
  return {
    name: 'zone',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      const q = ctx.query.question!;
      const zone = ctx.runtime.zones.findAuthority(q.name, q.type);
      if (!zone) return CONTINUE;
      if (q.type === RRType.DS && dsBelongsToPolicyZone(ctx, q.name)) return CONTINUE;
      // Zone transfers are not offered here; a secondary asking gets a clear no (as NSD does).
      if (q.type === RRType.AXFR || q.type === RRType.IXFR) return fail(Rcode.REFUSED, 'zone transfer not allowed');
      const result = lookup(ctx.runtime.zones, q.name, q.type, { minimalAny: ctx.transport.proto === 'udp' });
      // RRSIGs and NSEC/NSEC3 proofs of a pre-signed zone, when the query set DO (src/dnssec/serve/).
      serveDnssec(result, q.name, q.type, ctx.query.edns?.dnssecOk === true);
      ctx.set(ZONE_RESULT, result);
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
