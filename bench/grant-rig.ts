// The in-process grant benches' rig (grants-alloc, grants-ahead): Capabilities with a real RedisStore
// (redis-server on a free loopback port) and the nftables backend in a network namespace made for it, one
// subnet-scoped service; grant() asks for a new lease each time. Root.
import { execFileSync } from 'node:child_process';
import { Capabilities } from '../src/capability/core.js';
import { NftablesDataPlane } from '../src/capability/nftables/backend.js';
import { serviceTableOf } from '../src/capability/services.js';
import { parseConfigText } from '../src/config/load.js';
import { RedisStore } from '../src/state/redis.js';
import { stopAll } from '../test/helpers/proc.js';
import { startRedis, type RunningRedis } from '../test/helpers/redis.js';

export interface GrantRig {
  redis: RunningRedis;
  dataPlane: NftablesDataPlane;
  /** One new lease (a fresh /32 source subnet); throws unless it was granted anew. */
  grant(): Promise<void>;
  close(): Promise<void>;
}

/** `name` names the namespace, the nftables table and the Redis prefix; `aof`: appendfsync always. */
export async function startGrantRig(name: string, aof: boolean): Promise<GrantRig> {
  const ns = `${name}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const redis = await startRedis({ aof });
  const teardown = async (): Promise<void> => {
    await redis.stop();
    await stopAll();
    execFileSync('ip', ['netns', 'del', ns]);
  };
  try {
    const { config } = parseConfigText(
      `pools: [{ name: p, prefixes: [198.18.0.0/15] }]
services: [{ name: app.lab, target: 198.51.100.10, ports: [tcp/443], pool: p, ttl: 20, grace: 60, scope: subnet }]
capabilities: { backend: nftables, trustedResolvers: [127.0.0.0/8] }
`,
      `${name}.yaml`,
    );
    const store = await RedisStore.connect({ url: redis.url, prefix: `${name}:`, node: 'bench', timeoutMs: 2000 });
    const dataPlane = new NftablesDataPlane({ table: name, family: 'inet', netns: ns, pools: ['198.18.0.0/15'], seenTimeout: 100, onSeen: () => {} });
    await dataPlane.start();
    const caps = new Capabilities({ store, dataPlane });
    caps.bind(() => config);
    await caps.start();
    const svc = serviceTableOf(config).byKey.get('app.lab.')!;
    let n = 0;
    return {
      redis,
      dataPlane,
      async grant() {
        n++;
        const sourceSubnet = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}/32`;
        const r = await caps.lease({ svc, family: 4, resolver: '127.0.0.1', sourceSubnet, exceptions: [], honeypot: false, config });
        if (r.kind !== 'granted' || r.reused) throw new Error(`expected a new lease: ${JSON.stringify(r)}`);
      },
      async close() {
        await caps.close();
        await store.close().catch(() => {});
        await teardown();
      },
    };
  } catch (e) {
    await teardown();
    throw e;
  }
}
