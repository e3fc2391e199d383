// `npm run bench:nft-install`: the nftables data plane's install cost alone (no DNS), per driver, in a namespace this script creates and deletes.
//
// Installs --leases subnet-scoped leases one after another through NftablesDataPlane and prints the
// latency of each install (install() called → kernel committed) and the process's CPU per install,
// for each driver in interleaved rounds. --shape exact: one target, one port (the hash-set twins);
// --shape range: a port range, so the lease goes to the interval (pipapo) sets, whose commit grows
// with the set. Percentiles are the scheduler's on a loaded machine; CPU per install much less so.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { NftablesDataPlane } from '../src/capability/nftables/backend.js';
import type { Lease } from '../src/state/store.js';

const { values: flags } = parseArgs({
  options: {
    leases: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '2' },
    shape: { type: 'string', default: 'exact' },
    driver: { type: 'string', multiple: true },
  },
});
const N = Number(flags.leases);
const drivers = (flags.driver ?? ['auto', 'libnftables']) as Array<'auto' | 'libnftables' | 'nft'>;
if (flags.shape !== 'exact' && flags.shape !== 'range') throw new Error('--shape exact|range');
const ns = `fxnftb-${randomBytes(3).toString('hex')}`;

function lease(i: number, now: number): Lease {
  const src = `100.64.${(i >> 8) & 255}.${i & 255}`;
  return {
    id: (0x10000 + i).toString(16),
    service: 'app.bench.',
    scope: 'subnet',
    scopeKey: `${src}/32`,
    resolver: '127.0.0.1',
    sourceSubnet: `${src}/32`,
    address: `198.18.${(i >> 8) & 255}.${i & 255}`,
    targets: ['198.51.100.10'],
    ports: [flags.shape === 'exact' ? { proto: 'tcp', from: 443, to: 443 } : { proto: 'tcp', from: 8000, to: 8010 }],
    ttl: 20,
    grantedAt: now,
    ttlUntil: now + 20_000,
    liveUntil: now + 25_000,
    graceUntil: now + 85_000,
    quarantineUntil: now + 100_000,
    exceptions: [],
    honeypot: false,
  };
}

async function round(driver: 'auto' | 'libnftables' | 'nft'): Promise<string> {
  const dp = new NftablesDataPlane({ table: 'fxnftb', family: 'inet', netns: ns, pools: ['198.18.0.0/15'], seenTimeout: 90, driver });
  await dp.start();
  await dp.reconcile([]);
  const now = Date.now();
  // The first lease creates the per-length maps (a libnftables transaction): not timed.
  await dp.install(lease(N, now));
  const lat: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    await dp.install(lease(i, now));
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const c = process.cpuUsage(c0);
  await dp.close();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(N - 1, Math.floor(p * N))]!.toFixed(3);
  return `${dp.driver}: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms; CPU ${((c.user + c.system) / 1000 / N).toFixed(3)} ms/install (${N} ${flags.shape} leases)`;
}

try {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  process.stdout.write(`load ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  for (let r = 0; r < Number(flags.rounds); r++) for (const d of drivers) process.stdout.write(`${await round(d)}\n`);
} finally {
  execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}
