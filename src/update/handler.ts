// The UPDATE handler the xfr unit calls (RFC 2136, RFC 3007): decode, apply all or nothing, journal and
// sync to disk, swap the new version in, then answer — so an acknowledged update survives a crash.
import { decodeUpdate } from '../client/update.js';
import type { Runtime } from '../answer/runtime.js';
import { ANSWERED, fail, type Outcome } from '../answer/unit.js';
import type { QueryContext } from '../answer/context.js';
import { Rcode } from '../wire/types.js';
import type { Primary } from '../transfer/primary.js';
import type { UpdateHandler } from '../transfer/unit.js';
import type { Zone } from '../zone/tree.js';
import { applyUpdate } from './apply.js';

export interface UpdateDeps {
  primary: Primary;
  /** The runtime in service now (an earlier update may have replaced the zone since the query arrived). */
  current: () => Runtime;
  /** Puts the new version into service. */
  swap: (zone: Zone) => void;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

export function updateHandler(deps: UpdateDeps): UpdateHandler {
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  return (ctx: QueryContext, zone: Zone): Outcome => {
    const r = ctx.response;
    r.cacheable = false;
    const base = { zone: zone.origin, client: ctx.transport.remoteAddress };
    // Each worker of workers: N holds its own copy of the zone: an update to one would not reach the others.
    if (ctx.runtime.config.workers > 1) return fail(Rcode.REFUSED, 'UPDATE needs workers: 1');
    let u;
    try {
      u = decodeUpdate(ctx.raw);
    } catch (e) {
      return fail(Rcode.FORMERR, `malformed UPDATE: ${(e as Error).message}`);
    }
    if (u.zone.length !== 1) return fail(Rcode.FORMERR, 'UPDATE zone section must hold one zone');
    // The TSIG (if any) is the additional section's last record; anything else there is ignored (§3.8).
    const live = deps.current().zones.find(zone.origin);
    const cur = live && live.originKey === zone.originKey ? live : zone;
    const zc = ctx.runtime.config.zones.find((z) => z.name.toLowerCase() === zone.originKey);
    const result = applyUpdate(cur, u, zc?.serial === 'unixtime' ? 'unixtime' : 'increment', now());
    if (result.rcode !== Rcode.NOERROR) {
      const reason = 'reason' in result ? result.reason : '';
      deps.log('warn', 'update rejected', { ...base, rcode: result.rcode, reason });
      return fail(result.rcode, reason);
    }
    const next = 'next' in result ? result.next : undefined;
    if (next && 'diff' in result && result.diff) {
      try {
        deps.primary.commitUpdate(cur, next, result.diff, ctx.runtime.config);
      } catch (e) {
        deps.log('error', 'update not journaled: refused, nothing changed', { ...base, err: (e as Error).message });
        return fail(Rcode.SERVFAIL, 'journal write failed');
      }
      deps.swap(next);
      deps.log('info', 'update applied', { ...base, from: cur.serial, to: next.serial, prerequisites: u.prerequisites.length, updates: u.updates.length });
    }
    r.rcode = Rcode.NOERROR;
    return ANSWERED;
  };
}
