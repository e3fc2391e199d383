// Young-generation bytes one new lease allocates: Capabilities.lease() with a real RedisStore (redis-server
// on a free loopback port, appendfsync everysec) and the nftables backend in a namespace this script creates;
// blocks of `block` grants counted between two scavenges (node --max-semi-space-size=64 so most blocks fit),
// median of the blocks, plus redis-server's CPU per grant. Root.
//   node --max-semi-space-size=64 --import tsx bench/grants-alloc.ts [blocks 40] [block 200] [warmup 3000]
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { startGrantRig } from './grant-rig.js';

const [blocks, block, warmup] = [process.argv[2] ?? '40', process.argv[3] ?? '200', process.argv[4] ?? '3000'].map(Number) as [number, number, number];
/** utime + stime of a process, ms. */
const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12])) * 10;
};
const rig = await startGrantRig('fxalloc', false);
const grant = rig.grant;
try {
  for (let i = 0; i < warmup; i++) await grant();
  // GRANTS_ALLOC_PROFILE=FILE: a sampling heap profile of the timed grants, garbage included (inclusive bytes per function).
  const profileFile = process.env['GRANTS_ALLOC_PROFILE'];
  const session = profileFile ? new (await import('node:inspector')).Session() : undefined;
  const post = (m: string, p?: object) => new Promise<unknown>((res, rej) => session!.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
  if (session) {
    session.connect();
    await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  let gcs = 0;
  const obs = new PerformanceObserver((l) => void (gcs += l.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
  const per: number[] = [];
  const redisPid = rig.redis.proc.pid;
  const r0 = cpuMs(redisPid);
  const p0 = process.cpuUsage();
  let total = 0;
  for (let b = 0; b < blocks; b++) {
    const g = gcs;
    const before = young();
    for (let i = 0; i < block; i++) await grant();
    await new Promise((r) => setImmediate(r));
    total += block;
    if (gcs === g) per.push((young() - before) / block);
  }
  const p = process.cpuUsage(p0);
  if (session) {
    const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
    (await import('node:fs')).writeFileSync(profileFile!, JSON.stringify(profile));
  }
  const r1 = cpuMs(redisPid);
  obs.disconnect();
  per.sort((a, b) => a - b);
  const med = per[Math.floor(per.length / 2)];
  process.stdout.write(`${per.length}/${blocks} blocks without a scavenge: median ${med === undefined ? '-' : (med / 1024).toFixed(2)} KB per grant (min ${((per[0] ?? NaN) / 1024).toFixed(2)}, max ${((per.at(-1) ?? NaN) / 1024).toFixed(2)}); process CPU ${((p.user + p.system) / 1000 / total).toFixed(3)} ms/grant, redis-server CPU ${((r1 - r0) / total).toFixed(3)} ms/grant\n`);
} finally {
  await rig.close();
}
