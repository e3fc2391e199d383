// edns finisher: the EDNS options every response carries back — NSID (RFC 5001) and the client
// subnet echo with scope 0 (RFC 7871 §7.2.1: the answer does not depend on the client's address).
import { encodeClientSubnet, nsidOption } from '../../wire/edns.js';
import { EdnsOptionCode } from '../../wire/types.js';
import type { QueryContext } from '../../answer/context.js';
import { CONTINUE, type Outcome, type Unit } from '../../answer/unit.js';

export function ednsFinisher(): Unit {
  const encoder = new TextEncoder();
  let nsidText: string | undefined;
  let nsidBytes: Uint8Array = new Uint8Array();
  return {
    name: 'edns',
    stage: 'finish',
    handle(ctx: QueryContext): Outcome {
      const edns = ctx.query.edns;
      if (!edns) return CONTINUE;
      const out = ctx.response.ednsOptions;
      const nsid = ctx.runtime.config.nsid;
      if (edns.nsidRequested && nsid !== undefined) {
        if (nsid !== nsidText) {
          nsidText = nsid;
          nsidBytes = encoder.encode(nsid);
        }
        out.push(nsidOption(nsidBytes));
      }
      const cs = edns.clientSubnet;
      if (cs && !out.some((o) => o.code === EdnsOptionCode.CLIENT_SUBNET)) {
        out.push({ code: EdnsOptionCode.CLIENT_SUBNET, data: encodeClientSubnet({ ...cs, scopePrefix: 0 }) });
      }
      return CONTINUE;
    },
  };
}
