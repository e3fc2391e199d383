// The UPDATE handler the xfr unit calls (RFC 2136, RFC 3007): decode, apply all or nothing, journal and
// sync to disk, swap the new version in, then answer — so an acknowledged update survives a crash.
// With workers: N one worker applies (src/update/cluster.ts); the others forward the message to it.
import { decodeUpdate } from '../client/update.js';
import type { Runtime } from '../answer/runtime.js';
import { ANSWERED, fail, type Outcome } from '../answer/unit.js';
import type { QueryContext } from '../answer/context.js';
import { nameKey } from '../wire/name.js';
import { Rcode } from '../wire/types.js';
import type { Primary } from '../transfer/primary.js';
import { zoneConfigOf, type UpdateHandler } from '../transfer/unit.js';
import type { Zone } from '../zone/tree.js';
import { applyUpdate } from './apply.js';
import type { UpdateVerdict } from './cluster.js';

/** How a worker of workers: N reaches the owner of updates (WorkerUpdateLink in src/update/cluster.ts). */
export interface UpdateLink {
  /** This process applies updates; the others forward them. */
  readonly owner: boolean;
  forward(zone: string, raw: Uint8Array, client: string): Promise<UpdateVerdict>;
  /** After the owner journaled a new version: resolves once every other worker serves it. */
  spread(zone: string): Promise<void>;
}

export interface UpdateDeps {
  primary: Primary;
  /** The runtime in service now (an earlier update may have replaced the zone since the query arrived). */
  current: () => Runtime;
  /** Puts the new version into service. */
  swap: (zone: Zone) => void;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  now?: () => number;
  /** With workers: N, the way to the owner; absent, this process applies every update itself. */
  cluster?: UpdateLink;
}

export interface UpdateService {
  /** The xfr unit's UPDATE handler. */
  handle: UpdateHandler;
  /** In the owner: an UPDATE another worker received (its access list and TSIG already checked there). */
  applyForwarded(zone: string, raw: Uint8Array, client: string): UpdateVerdict;
}

function answer(ctx: QueryContext, v: UpdateVerdict): Outcome {
  if (v.rcode !== Rcode.NOERROR) return fail(v.rcode, v.reason ?? '');
  ctx.response.rcode = Rcode.NOERROR;
  return ANSWERED;
}

export function updateService(deps: UpdateDeps): UpdateService {
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  /** Applies `raw` to the served version of zone `origin`: journaled and synced, then swapped in. */
  const apply = (origin: string, raw: Uint8Array, client: string): UpdateVerdict => {
    let u;
    try {
      u = decodeUpdate(raw);
    } catch (e) {
      return { rcode: Rcode.FORMERR, reason: `malformed UPDATE: ${(e as Error).message}` };
    }
    if (u.zone.length !== 1) return { rcode: Rcode.FORMERR, reason: 'UPDATE zone section must hold one zone' };
    const rt = deps.current();
    const key = nameKey(origin);
    const cur = rt.zones.find(origin);
    if (!cur || cur.originKey !== key) return { rcode: Rcode.NOTAUTH, reason: `UPDATE for ${origin}: not a zone served here` };
    const base = { zone: cur.origin, client };
    // The TSIG (if any) is the additional section's last record; anything else there is ignored (§3.8).
    const zc = zoneConfigOf(rt.config, key);
    const result = applyUpdate(cur, u, zc === undefined || zc.serial === 'manual' ? 'increment' : zc.serial, now());
    if (result.rcode !== Rcode.NOERROR) {
      const reason = 'reason' in result ? result.reason : '';
      deps.log('warn', 'update rejected', { ...base, rcode: result.rcode, reason });
      return { rcode: result.rcode, reason };
    }
    const next = 'next' in result ? result.next : undefined;
    if (!next || !('diff' in result) || !result.diff) return { rcode: Rcode.NOERROR };
    try {
      deps.primary.commitUpdate(cur, next, result.diff, rt.config);
    } catch (e) {
      deps.log('error', 'update not journaled: refused, nothing changed', { ...base, err: (e as Error).message });
      return { rcode: Rcode.SERVFAIL, reason: 'journal write failed' };
    }
    deps.swap(next);
    deps.log('info', 'update applied', { ...base, from: cur.serial, to: next.serial, prerequisites: u.prerequisites.length, updates: u.updates.length });
    return { rcode: Rcode.NOERROR, serial: next.serial };
  };

  const handle: UpdateHandler = (ctx: QueryContext, zone: Zone): Outcome | Promise<Outcome> => {
    ctx.response.cacheable = false;
    const client = ctx.transport.remoteAddress;
    const link = deps.cluster;
    if (link && !link.owner) {
      // Malformed input is answered here; the owner decodes the message again to apply it.
      try {
        if (decodeUpdate(ctx.raw).zone.length !== 1) return fail(Rcode.FORMERR, 'UPDATE zone section must hold one zone');
      } catch (e) {
        return fail(Rcode.FORMERR, `malformed UPDATE: ${(e as Error).message}`);
      }
      return link.forward(zone.origin, ctx.raw, client).then((v) => answer(ctx, v));
    }
    const v = apply(zone.origin, ctx.raw, client);
    // Read-your-writes across workers: the answer waits until every worker serves the new version.
    if (link && v.serial !== undefined) return link.spread(zone.originKey).then(() => answer(ctx, v));
    return answer(ctx, v);
  };

  return { handle, applyForwarded: apply };
}
