// Secondary zones in `fluxdns ctl zone status`: the rows the serving processes report (zones loaded from
// their kept file) get the secondary's state, and a secondary zone that is not loaded (before its first
// transfer, or expired) still gets a row, so an operator sees every zone of the configuration.
import type { ControlHandler } from '../control/protocol.js';
import type { Config } from '../config/schema.js';
import type { ZoneStatus } from '../server/server.js';
import type { SecondaryStatus } from './manager.js';

const key = (n: string) => (n.endsWith('.') ? n : n + '.').toLowerCase();

/** `zones` (as the server reports them) with the secondary zones' state and primaries added. */
export function withSecondaries(zones: readonly ZoneStatus[], config: Config, status: readonly SecondaryStatus[]): ZoneStatus[] {
  const byName = new Map(status.map((s) => [key(s.zone), s]));
  const order = config.zones.map((z) => key(z.name));
  const out: ZoneStatus[] = zones.map((z) => {
    const s = byName.get(key(z.name));
    return s ? { ...z, source: 'secondary', secondary: s } : z;
  });
  for (const zc of config.zones) {
    if (!zc.primaries || out.some((z) => key(z.name) === key(zc.name))) continue;
    const s = byName.get(key(zc.name));
    out.push({ name: zc.name, file: zc.file, serial: s?.serial ?? 0, records: 0, warnings: [], loadedAt: '', source: 'secondary', ...(s ? { secondary: s } : {}) });
  }
  return out.sort((a, b) => order.indexOf(key(a.name)) - order.indexOf(key(b.name)));
}

/** Wraps a control handler so its zone-status answer carries the secondary zones. */
export function secondaryRows(handler: ControlHandler, status: () => readonly SecondaryStatus[], config: () => Config): ControlHandler {
  return async (req) => {
    if (req.cmd !== 'zone-status') return handler(req);
    // Every zone is asked for: a secondary zone not loaded is unknown to the serving processes.
    const reply = await handler({ cmd: 'zone-status' });
    if (!reply.ok) return reply;
    const zones = withSecondaries((reply.data as { zones: ZoneStatus[] }).zones, config(), status());
    if (req.zone === undefined) return { ok: true, data: { zones } };
    const one = zones.filter((z) => key(z.name) === key(req.zone!));
    if (one.length === 0) return { ok: false, error: `${key(req.zone)}: no such zone (serving ${zones.map((x) => x.name).join(', ') || 'none'})` };
    return { ok: true, data: { zones: one } };
  };
}
