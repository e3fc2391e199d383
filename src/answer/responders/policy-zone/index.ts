// policy-zone: answers for zones that policies own without a zone file (seed 002 §3.1, "names are
// attributes"): SOA and NS at the apex; every other name exists for the policies, so what they did
// not answer is NODATA with the SOA.
import { lookup } from '../../../zone/lookup.js';
import { ZoneSet } from '../../../zone/tree.js';
import type { QueryContext } from '../../context.js';
import { policySetOf } from '../../policy/policies/index.js';
import { ANSWERED, CONTINUE, type Outcome, type Unit } from '../../unit.js';

export function policyZoneResponder(): Unit {
  return {
    name: 'policy-zone',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      const q = ctx.query.question!;
      const zone = policySetOf(ctx.runtime).findZone(q.name);
      if (!zone) return CONTINUE;
      const r = ctx.response;
      r.aa = true;
      if (zone.originKey === q.name.toLowerCase()) {
        const found = lookup(new ZoneSet([zone]), q.name, q.type, { minimalAny: ctx.transport.proto === 'udp' });
        r.rcode = found.rcode;
        r.answer = found.answer;
        r.authority = found.authority;
        r.additional = found.additional;
      } else {
        r.authority = [zone.negativeSoa()];
      }
      // Policies run before the cache on every query, so what reaches here depends on name and config only.
      r.cacheable = true;
      return ANSWERED;
    },
  };
}
