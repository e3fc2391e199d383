// Zone load: fluxdns, knotd and nsd each start on the same big zone (default 1,000,000 records),
// pinned to one core, in rotating order over several rounds. Prints, per server, the seconds to the
// first SOA answer, the CPU seconds of its process tree until then (usable on a loaded machine, where
// wall time is not) and the peak RSS (VmHWM, largest process of the tree), with medians and the ratio
// to knotd. `npm run bench:load -- [--records N] [--rounds R] [--only fluxdns,knotd] [--no-build]
// [--main A/dist/cli/main.js,B/…]`: --main adds other fluxdns builds (rows fluxdns@1, fluxdns@2 …, in the
// same rotation) for an interleaved A/B of builds.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/ports.js';
import { cpuSecondsBetween, cpuTicks, peakRss } from './measure.js';
import { checkSoa, firstSoaAnswer, repoRoot, spawnServer, type BenchServer } from './servers.js';
import { BENCH_ZONE, writeZone } from './zone.js';

const { values: flags } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    cpu: { type: 'string', default: '0' },
    'no-build': { type: 'boolean', default: false },
    main: { type: 'string' },
  },
});

const SERVERS = (['fluxdns', 'knotd', 'nsd'] as const).filter((k) => !flags.only || flags.only.split(',').includes(k));
type Server = (typeof SERVERS)[number];
/** A row: a server, and for another fluxdns build its main.js. */
type Kind = string;
const MAINS = new Map<Kind, string>((flags.main ?? '').split(',').filter((m) => m !== '').map((m, i) => [`fluxdns@${i + 1}`, m]));
const KINDS: Kind[] = [...SERVERS, ...MAINS.keys()];

interface Sample {
  seconds: number;
  cpuSeconds: number;
  peakMiB: number;
  loadavg1: number;
}

const running = new Set<BenchServer>();

async function once(kind: Kind, zoneFile: string): Promise<Sample> {
  const port = await freePort();
  const t0 = performance.now();
  const main = MAINS.get(kind);
  const s = spawnServer(main ? 'fluxdns' : (kind as Server), { zoneFile, port, cpu: flags.cpu!, workers: 1, main });
  running.add(s);
  try {
    const pid = s.proc.pid;
    let peak = 0;
    // Sample while loading too: nsd hands the zone to a child, which may exit or change.
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRss(pid).max);
    }, 100);
    let cpu = 0;
    let answeredAt = 0;
    try {
      // The time and CPU at the first answer; kdig's check of its content comes after (its own start
      // is not the server's load time).
      answeredAt = await firstSoaAnswer(s.proc, port, BENCH_ZONE, 900_000);
      cpu = cpuSecondsBetween(new Map(), cpuTicks(pid));
      await checkSoa(s.proc, port, BENCH_ZONE);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (answeredAt - t0) / 1000;
    peak = Math.max(peak, peakRss(pid).max);
    return { seconds, cpuSeconds: cpu, peakMiB: peak / 2 ** 20, loadavg1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) };
  } finally {
    await s.stop();
    running.delete(s);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  if (!flags['no-build'] && SERVERS.includes('fluxdns')) execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-bench-load-'));
  const stopAll = async (): Promise<void> => {
    for (const s of running) await s.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const zoneFile = join(dir, 'big.zone');
    const shape = await writeZone(zoneFile, Number(flags.records));
    const rounds = Number(flags.rounds);
    process.stdout.write(`zone ${BENCH_ZONE}: ${shape.records} records; ${rounds} rounds, server pinned to core ${flags.cpu}\n`);
    for (const [k, m] of MAINS) process.stdout.write(`  ${k}: ${m}\n`);
    const samples = new Map<Kind, Sample[]>(KINDS.map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      // Rotate the order so no server always runs first (page cache, machine load).
      const order = KINDS.map((_, i) => KINDS[(i + r) % KINDS.length]!);
      for (const kind of order) {
        const x = await once(kind, zoneFile);
        samples.get(kind)!.push(x);
        process.stdout.write(`  round ${r + 1}/${rounds} ${kind.padEnd(10)} ${x.seconds.toFixed(2)} s to first SOA  cpu ${x.cpuSeconds.toFixed(2)} s  peak RSS ${x.peakMiB.toFixed(0)} MiB  load ${x.loadavg1}\n`);
      }
    }
    const knot = samples.get('knotd');
    const kCpu = knot && knot.length ? median(knot.map((x) => x.cpuSeconds)) : undefined;
    const kRss = knot && knot.length ? median(knot.map((x) => x.peakMiB)) : undefined;
    const summary: Record<string, unknown> = { records: shape.records };
    process.stdout.write('median: seconds, CPU seconds (÷ knotd), peak RSS MiB (÷ knotd)\n');
    for (const kind of KINDS) {
      const xs = samples.get(kind)!;
      const sec = median(xs.map((x) => x.seconds));
      const cpu = median(xs.map((x) => x.cpuSeconds));
      const rss = median(xs.map((x) => x.peakMiB));
      summary[kind] = { seconds: +sec.toFixed(2), cpuSeconds: +cpu.toFixed(2), peakRssMiB: Math.round(rss) };
      const rc = kCpu ? ` (${(cpu / kCpu).toFixed(2)}×)` : '';
      const rr = kRss ? ` (${(rss / kRss).toFixed(2)}×)` : '';
      process.stdout.write(`  ${kind.padEnd(10)} ${sec.toFixed(2)} s  cpu ${cpu.toFixed(2)} s${rc}  peak RSS ${rss.toFixed(0)} MiB${rr}\n`);
    }
    process.stdout.write(JSON.stringify(summary) + '\n');
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
