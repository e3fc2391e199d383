// Configuration of the nftables data plane: the `capabilities.nftables` key.
import { z } from 'zod';

/** Table names nft accepts without quoting (and that cannot smuggle a second command in). */
const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

export const nftablesSchema = z
  .object({
    /** The table fluxdns owns: created on start, reconciled after a restart, deleted on clean shutdown. */
    table: z.string().regex(NAME_RE, 'expected a table name of letters, digits and "_" (at most 32, starting with a letter)').default('fluxdns'),
    /** `inet` (default): IPv4 and IPv6 leases; `ip`: IPv4 only (an AAAA lease then fails closed). */
    family: z.enum(['ip', 'inet']).default('inet'),
    /** Run nft inside this network namespace (`ip netns exec NAME nft`): the gateway's namespace. */
    netns: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a network namespace name (letters, digits, ".", "_", "-")').optional(),
    /**
     * Seconds a source stays in the kernel's `seen` set after its last new connection while live.
     * Default: the largest ttl + slack + grace of the services, so grace admits every seen source.
     */
    seenTimeout: z.number().int().min(1).max(86400 * 7).optional(),
    /**
     * auto: grants' set elements over raw netlink and everything else through libnftables, both
     * in-process through the native addon, else a long-lived `nft -i`; libnftables: everything
     * through libnftables (no raw netlink); nft: always `nft -i`.
     */
    driver: z.enum(['auto', 'libnftables', 'nft']).default('auto'),
  })
  .strict();

export type NftablesConfig = z.output<typeof nftablesSchema>;
