// A/B of Capabilities.installAhead in one process: Capabilities.lease() with a real RedisStore (redis-server
// on a free loopback port) and the nftables backend in a namespace this script creates, blocks of `block` new
// subnet-scoped leases alternating with the install made ahead of the claim and without it (canInstallAhead
// shadowed on the instance), after `warmup` untimed grants. No DNS, no client: only the grant's store and
// kernel work, timed around lease(). Root. Pin it as you want to compare, e.g.
//   chrt -f 10 taskset -c 0,1 node --import tsx bench/grants-ahead.ts 20 100 3000        (Redis may use the other CPU)
//   chrt -f 10 taskset -c 0 node --import tsx bench/grants-ahead.ts 20 100 3000 always   (one CPU; appendfsync always)
import { PerformanceObserver } from 'node:perf_hooks';
import { startGrantRig } from './grant-rig.js';

const [rounds, block, warmup] = [process.argv[2] ?? '20', process.argv[3] ?? '100', process.argv[4] ?? '3000'].map(Number) as [number, number, number];
const rig = await startGrantRig('fxahead', process.argv[5] === 'always');
const dp = rig.dataPlane;
const grant = async (): Promise<number> => {
  const t0 = performance.now();
  await rig.grant();
  return performance.now() - t0;
};
try {
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
} finally {
  await rig.close();
}
