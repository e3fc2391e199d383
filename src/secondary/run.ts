// Where the secondary role runs: in the only process, or in the primary of `workers: N` (workers get each new version by message).
import type { Config } from '../config/schema.js';
import type { Logger } from '../observe/log.js';
import type { RunningServer } from '../server/server.js';
import { Zone } from '../zone/tree.js';
import { SecondaryManager, type ZoneSink } from './manager.js';
import { setNotifyHandler } from './unit.js';

/** Messages between the primary process and its workers about secondary zones. */
export type SecondaryMessage =
  /** worker → primary: an accepted NOTIFY. */
  | { type: 'secondary-notify'; zone: string }
  /** primary → workers: the zone's file holds a new version (load it), or the zone expired (drop it). */
  | { type: 'secondary'; op: 'load' | 'expire'; zone: string };

export function isSecondaryMessage(m: unknown): m is SecondaryMessage {
  return typeof m === 'object' && m !== null && ((m as { type?: unknown }).type === 'secondary' || (m as { type?: unknown }).type === 'secondary-notify');
}

function hasSecondaries(config: Config): boolean {
  return config.zones.some((z) => z.primaries);
}

/** One process serves and transfers: new versions are swapped straight into the running server. */
export function startSecondaryInProcess(server: RunningServer, config: Config, logger: Logger): SecondaryManager {
  const sink: ZoneSink = {
    install(zc, records) {
      const zone = Zone.build(zc.name, records);
      server.installZone(zone, { name: zc.name, file: zc.file, records: records.length, serial: zone.serial, warnings: [] });
    },
    expire(zc) {
      server.dropZone(zc.name);
    },
  };
  const m = new SecondaryManager(sink, logger);
  setNotifyHandler((zone) => m.notify(zone));
  if (hasSecondaries(config)) m.configure(config);
  return m;
}

/**
 * The primary of `workers: N` runs the transfers (one client per zone, not one per worker); each
 * worker re-reads the zone's file when told (the same path as `ctl reload ZONE`).
 */
export function startSecondaryInPrimary(config: Config, logger: Logger, broadcast: (m: SecondaryMessage) => void): SecondaryManager {
  const sink: ZoneSink = {
    install: (zc) => broadcast({ type: 'secondary', op: 'load', zone: zc.name }),
    expire: (zc) => broadcast({ type: 'secondary', op: 'expire', zone: zc.name }),
  };
  const m = new SecondaryManager(sink, logger);
  if (hasSecondaries(config)) m.configure(config);
  return m;
}

/** In a worker: NOTIFYs go to the primary process. */
export function forwardNotifies(send: (m: SecondaryMessage) => void): void {
  setNotifyHandler((zone) => send({ type: 'secondary-notify', zone }));
}

/** In a worker: applies a message from the primary. */
export function applySecondaryMessage(server: RunningServer, m: SecondaryMessage, logger: Logger): void {
  if (m.type !== 'secondary') return;
  if (m.op === 'expire') server.dropZone(m.zone);
  else {
    void server.reloadZone(m.zone).then((r) => {
      if (!r.ok) logger.error('secondary zone load failed in a worker', { zone: m.zone, err: r.error.message });
    });
  }
}
