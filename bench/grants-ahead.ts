// A/B of Capabilities.installAhead in one process: Capabilities.lease() with a real RedisStore (redis-server
// on a free loopback port) and the nftables backend in a namespace this script creates, blocks of `block` new
// subnet-scoped leases alternating with the install made ahead of the claim and without it (canInstallAhead
// shadowed on the instance), after `warmup` untimed grants. No DNS, no client: only the grant's store and
// kernel work, timed around lease(). Root. Pin it as you want to compare, e.g.
//   chrt -f 10 taskset -c 0,1 node --import tsx bench/grants-ahead.ts 20 100 3000        (Redis may use the other CPU)
//   chrt -f 10 taskset -c 0 node --import tsx bench/grants-ahead.ts 20 100 3000 always   (one CPU; appendfsync always)
import { execFileSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { Capabilities } from '../src/capability/core.js';
import { NftablesDataPlane } from '../src/capability/nftables/backend.js';
import { serviceTableOf } from '../src/capability/services.js';
import { parseConfigText } from '../src/config/load.js';
import { RedisStore } from '../src/state/redis.js';
import { stopAll } from '../test/helpers/proc.js';
import { startRedis } from '../test/helpers/redis.js';

const [rounds, block, warmup] = [process.argv[2] ?? '20', process.argv[3] ?? '100', process.argv[4] ?? '3000'].map(Number) as [number, number, number];
const ns = `fxahead-${process.pid}`;
execFileSync('ip', ['netns', 'add', ns]);
const redis = await startRedis({ aof: process.argv[5] === 'always' });
try {
  const { config } = parseConfigText(
    `pools: [{ name: p, prefixes: [198.18.0.0/15] }]
services: [{ name: app.lab, target: 198.51.100.10, ports: [tcp/443], pool: p, ttl: 20, grace: 60, scope: subnet }]
capabilities: { backend: nftables, trustedResolvers: [127.0.0.0/8] }
`,
    'grants-ahead.yaml',
  );
  const store = await RedisStore.connect({ url: redis.url, prefix: 'ahead:', node: 'bench', timeoutMs: 2000 });
  const dp = new NftablesDataPlane({ table: 'fxahead', family: 'inet', netns: ns, pools: ['198.18.0.0/15'], seenTimeout: 100, onSeen: () => {} });
  await dp.start();
  const caps = new Capabilities({ store, dataPlane: dp });
  caps.bind(() => config);
  await caps.start();
  const svc = serviceTableOf(config).byKey.get('app.lab.')!;
  let n = 0;
  const grant = async (): Promise<number> => {
    n++;
    const sourceSubnet = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}/32`;
    const t0 = performance.now();
    const r = await caps.lease({ svc, family: 4, resolver: '127.0.0.1', sourceSubnet, exceptions: [], honeypot: false, config });
    const ms = performance.now() - t0;
    if (r.kind !== 'granted' || r.reused) throw new Error(`expected a new lease: ${JSON.stringify(r)}`);
    return ms;
  };
  const ahead = dp.canInstallAhead;
  const mode = (on: boolean) => Object.defineProperty(dp, 'canInstallAhead', { value: on ? ahead : undefined, configurable: true, writable: true });
  for (let i = 0; i < warmup; i++) {
    mode(i % 2 === 0);
    await grant();
  }
  const lat: Record<'on' | 'off', number[]> = { on: [], off: [] };
  let gcs = 0;
  const obs = new PerformanceObserver((l) => void (gcs += l.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  for (let r = 0; r < rounds; r++) {
    for (const m of r % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      mode(m === 'on');
      for (let i = 0; i < block; i++) lat[m].push(await grant());
    }
  }
  obs.disconnect();
  const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(3);
  for (const m of ['off', 'on'] as const) {
    const xs = lat[m].sort((a, b) => a - b);
    process.stdout.write(`install ahead ${m}: ${xs.length} grants, p50 ${pct(xs, 0.5)} p90 ${pct(xs, 0.9)} p99 ${pct(xs, 0.99)} p99.9 ${pct(xs, 0.999)} ms\n`);
  }
  process.stdout.write(`GCs during the timed grants: ${gcs}\n`);
  await caps.close();
} finally {
  await redis.stop();
  await stopAll();
  execFileSync('ip', ['netns', 'del', ns]);
}
