// Starts the nftables data plane from the configuration: table, pools, honeypot, seen timeout, scanner counters.
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observe/log.js';
import { NftablesDataPlane } from './backend.js';

/** The pool prefixes the services use, and the honeypot for unleased addresses: what a reload may change. */
export function nftablesPools(config: Config): { pools: string[]; honeypot?: string } {
  const used = new Set(config.services.map((s) => s.pool));
  return { pools: config.pools.filter((p) => used.has(p.name)).flatMap((p) => p.prefixes), honeypot: config.capabilities.honeypot };
}

export async function startNftables(config: Config, logger: Logger, onProbes?: (source: string, n: number) => void): Promise<NftablesDataPlane> {
  const c = config.capabilities;
  const o = c.nftables ?? { table: 'fluxdns', family: 'inet' as const, driver: 'auto' as const };
  const { pools, honeypot } = nftablesPools(config);
  const seenTimeout = o.seenTimeout ?? Math.max(60, ...config.services.map((s) => Math.ceil(s.ttl + c.slack + s.grace)));
  // The kernel keeps a source's counter while it keeps probing; the store counts the window.
  const probes = c.scanners && onProbes ? { onProbes, timeoutSeconds: Math.max(10, Math.ceil(c.scanners.window)) } : undefined;
  const nft = new NftablesDataPlane({ table: o.table, family: o.family, netns: o.netns, driver: o.driver, pools, honeypot, probes, seenTimeout, onError: (m) => logger.warn('nftables', { err: m }) });
  await nft.start();
  logger.info('nftables data plane ready', { table: `${o.family} ${o.table}`, driver: nft.driver, netns: o.netns, pools, honeypot, seenTimeout, scanners: probes !== undefined });
  return nft;
}
