// Starts the nftables data plane from the configuration: table, pools, honeypot, seen timeout, scanner counters.
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observe/log.js';
import { NftablesDataPlane } from './backend.js';

/** The pool prefixes the services use, and the honeypot for unleased addresses: what a reload may change. */
export function nftablesPools(config: Config): { pools: string[]; honeypot?: string } {
  const used = new Set(config.services.map((s) => s.pool));
  return { pools: config.pools.filter((p) => used.has(p.name)).flatMap((p) => p.prefixes), honeypot: config.capabilities.honeypot };
}

export interface NftablesHooks {
  /** Unproductive attempts counted in the kernel, per source (scanner detection). */
  onProbes?: (source: string, n: number) => void;
  /** True while `capabilities.scanners` is configured (a reload may turn it on or off). */
  scannersOn?: () => boolean;
  /** A host the kernel recorded in `seen` (shared stores only). */
  onSeen?: (source: string, address: string) => void;
}

export async function startNftables(config: Config, logger: Logger, hooks: NftablesHooks = {}): Promise<NftablesDataPlane> {
  const c = config.capabilities;
  const o = c.nftables ?? { table: 'fluxdns', family: 'inet' as const, driver: 'auto' as const };
  const { pools, honeypot } = nftablesPools(config);
  const seenTimeout = o.seenTimeout ?? Math.max(60, ...config.services.map((s) => Math.ceil(s.ttl + c.slack + s.grace)));
  // The kernel keeps a source's counter while it keeps probing; the store counts the window. The
  // counters are always in the table, so that `scanners` turned on by a reload counts at once; they
  // are read only while it is on.
  const { onProbes, scannersOn, onSeen } = hooks;
  const probes = onProbes ? { onProbes, active: scannersOn, timeoutSeconds: Math.max(10, Math.ceil(c.scanners?.window ?? 60)) } : undefined;
  const nft = new NftablesDataPlane({ table: o.table, family: o.family, netns: o.netns, driver: o.driver, pools, honeypot, probes, onSeen, seenTimeout, onError: (m) => logger.warn('nftables', { err: m }) });
  await nft.start();
  logger.info('nftables data plane ready', { table: `${o.family} ${o.table}`, driver: nft.driver, netns: o.netns, pools, honeypot, seenTimeout, scanners: c.scanners !== undefined, sharedSeen: onSeen !== undefined });
  return nft;
}
