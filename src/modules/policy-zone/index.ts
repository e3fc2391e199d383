// policy-zone: answers for zones that policies own without a zone file (seed 002 §3.1, "names are
// attributes"): SOA and NS at the apex; every other name exists for the policies, so what they did
// not answer is NODATA with the SOA.
import { lookup } from '../../zone/lookup.js';
import { ZoneSet } from '../../zone/tree.js';
import { setSections, type QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, type Outcome, type Unit } from '../../answer/unit.js';

export function policyZoneResponder(): Unit {
  return {
    name: 'policy-zone',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      const a = ctx.authority;
      if (a?.kind !== 'policy') return CONTINUE;
      const zone = a.zone;
      const q = ctx.query.question!;
      const r = ctx.response;
      r.aa = true;
      if (zone.originKey === q.name.toLowerCase()) {
        // The apex SOA and NS come from a real (two-record) zone, so they are answered like any zone's.
        setSections(r, { ...lookup(new ZoneSet([zone]), q.name, q.type, { minimalAny: ctx.transport.proto === 'udp' }), aa: true });
      } else {
        r.authority = [zone.negativeSoa()];
      }
      // Policies run before the cache on every query, so what reaches here depends on name and config only.
      r.cacheable = true;
      return ANSWERED;
    },
  };
}
