// The `services` key compiled once per loaded configuration: names → service, ports, pool, buckets, blocklists.
import type { Config } from '../config/schema.js';
import { parseCidr, type Cidr } from '../net/cidr.js';
import { parseProtoPorts } from '../gateway/schema.js';
import { TokenBuckets } from '../policy/ratelimit.js';
import { AddressPool } from '../pool/pool.js';
import type { LeasePorts } from '../state/store.js';
import { Blocklists } from './blocklist.js';
import type { ServiceConfig } from './schema.js';

export interface CompiledService {
  readonly config: ServiceConfig;
  /** The first name: the service's key in leases, the audit log and the admin API. */
  readonly key: string;
  readonly ports: readonly LeasePorts[];
  readonly pool: AddressPool;
  readonly targets: readonly string[];
  readonly exceptions: readonly Cidr[];
  readonly blocklists: Blocklists;
  readonly serviceBucket?: TokenBuckets;
  readonly resolverBucket?: TokenBuckets;
}

export interface ServiceTable {
  /** By lower-case name with the final dot. */
  readonly byName: ReadonlyMap<string, CompiledService>;
  readonly byKey: ReadonlyMap<string, CompiledService>;
  /** Every service's pool, for the data plane: addresses inside them are never relayed without a lease. */
  readonly pools: readonly AddressPool[];
}

const tables = new WeakMap<Config, ServiceTable>();

export interface CompileOptions {
  now?: () => number;
  onBlocklistError?: (message: string) => void;
}

/** One table per loaded configuration: a reload compiles afresh (rate-limit state starts over, as for policies). */
export function serviceTableOf(config: Config, opts: CompileOptions = {}): ServiceTable {
  let t = tables.get(config);
  if (!t) {
    t = compileServices(config, opts);
    tables.set(config, t);
  }
  return t;
}

export function compileServices(config: Config, opts: CompileOptions = {}): ServiceTable {
  const pools = new Map<string, AddressPool>();
  for (const p of config.pools) pools.set(p.name, new AddressPool(p.name, p.prefixes.map((c) => parseCidr(c)!), p.exclude.map((c) => parseCidr(c)!)));
  const byName = new Map<string, CompiledService>();
  const byKey = new Map<string, CompiledService>();
  const used = new Set<AddressPool>();
  for (const s of config.services) {
    const pool = pools.get(s.pool)!;
    used.add(pool);
    const svc: CompiledService = {
      config: s,
      key: s.name[0]!,
      ports: s.ports.map((p) => {
        const x = parseProtoPorts(p)!;
        return { proto: x.proto, from: x.range.from, to: x.range.to };
      }),
      pool,
      targets: s.target,
      exceptions: s.exceptions.map((c) => parseCidr(c)!),
      blocklists: new Blocklists(s.blocklists, opts.now, 1000, opts.onBlocklistError),
      serviceBucket: s.rateLimit?.service ? new TokenBuckets(s.rateLimit.service.qps, s.rateLimit.service.burst ?? Math.max(1, s.rateLimit.service.qps)) : undefined,
      resolverBucket: s.rateLimit?.resolver ? new TokenBuckets(s.rateLimit.resolver.qps, s.rateLimit.resolver.burst ?? Math.max(1, s.rateLimit.resolver.qps)) : undefined,
    };
    byKey.set(svc.key, svc);
    for (const n of s.name) byName.set(n, svc);
  }
  return { byName, byKey, pools: [...used] };
}
