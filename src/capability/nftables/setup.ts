// Starts the nftables data plane from the configuration: table, pools, seen timeout.
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observe/log.js';
import { NftablesDataPlane } from './backend.js';

export async function startNftables(config: Config, logger: Logger): Promise<NftablesDataPlane> {
  const c = config.capabilities;
  const o = c.nftables ?? { table: 'fluxdns', family: 'ip' as const };
  const used = new Set(config.services.map((s) => s.pool));
  const pools = config.pools.filter((p) => used.has(p.name)).flatMap((p) => p.prefixes);
  const seenTimeout = o.seenTimeout ?? Math.max(60, ...config.services.map((s) => Math.ceil(s.ttl + c.slack + s.grace)));
  const nft = new NftablesDataPlane({ table: o.table, family: o.family, netns: o.netns, pools, seenTimeout, onError: (m) => logger.warn('nftables', { err: m }) });
  await nft.start();
  logger.info('nftables data plane ready', { table: `${o.family} ${o.table}`, netns: o.netns, pools, seenTimeout });
  return nft;
}
