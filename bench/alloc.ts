// `npm run bench:alloc` (node --max-semi-space-size=64, so most batches run between two scavenges): heap bytes the engine allocates per query (cold: every name distinct; warm: the repeating
// mix), in one process with the bench zone and the server's units; also GCs per million queries.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { parseArgs } from 'node:util';
import type { TransportInfo } from '../src/answer/context.js';
import { Engine } from '../src/answer/engine.js';
import { createUnits } from '../src/answer/units.js';
import * as answerCacheModule from '../src/modules/cache/index.js';
import { parseConfigText } from '../src/config/load.js';
import { buildRuntime } from '../src/server/runtime-load.js';
import { encodeMessage, queryMessage } from '../src/wire/message.js';
import { typeCode } from '../src/wire/types.js';
import { writeDistinctQueries, writeQueries, writeZone } from './zone.js';

const { values: flags } = parseArgs({ options: { queries: { type: 'string', default: '1000000' }, batch: { type: 'string', default: '1000' }, 'store-first-ask': { type: 'boolean', default: false } } });
const N = Number(flags.queries);
const BATCH = Number(flags.batch);

/** The server's answer cache (stores on the second ask), or one that stores on the first (the old behaviour). */
function cacheFor(storeFirstAsk: boolean): answerCacheModule.AnswerCache {
  const m = answerCacheModule as typeof answerCacheModule & { serverAnswerCache?: () => answerCacheModule.AnswerCache };
  return storeFirstAsk || m.serverAnswerCache === undefined ? new m.AnswerCache() : m.serverAnswerCache();
}

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-alloc-'));
try {
  const zoneFile = join(dir, 'bench.lab.zone');
  const shape = await writeZone(zoneFile, 12800);
  const repeatFile = join(dir, 'repeat.txt');
  const distinctFile = join(dir, 'distinct.txt');
  writeQueries(repeatFile, shape, 100000);
  writeDistinctQueries(distinctFile, shape, N);
  const loaded = parseConfigText(`rrl: off\nzones:\n  - { name: bench.lab., file: ${JSON.stringify(zoneFile)} }\n`, join(dir, 'fluxdns.yaml'));
  const { runtime } = buildRuntime(loaded, 1);
  const cache = cacheFor(flags['store-first-ask']);
  const engine = new Engine(runtime, createUnits(cache));
  const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 };

  const lines = (file: string): [string, number][] =>
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const [name, type] = l.split(' ');
        return [name!.endsWith('.') ? name! : name + '.', typeCode(type!)!];
      });

  let minor = 0;
  let major = 0;
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
      else major++;
      gcMs += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  /** Bytes in the young generation: every allocation lands there first (large objects in their own space). */
  const youngBytes = (): number => {
    let n = 0;
    for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') n += s.space_used_size;
    return n;
  };
  const tick = () => new Promise((r) => setImmediate(r));

  /** Runs `count` queries from `qs` (cycled); heap bytes per query over the batches in which no GC ran. */
  async function run(label: string, qs: [string, number][], count: number): Promise<void> {
    await tick();
    const g0 = { minor, major, gcMs, hits: cache.hits };
    let heap = 0;
    let external = 0;
    let measured = 0;
    let ns = 0;
    for (let done = 0; done < count; done += BATCH) {
      const batch: Uint8Array[] = [];
      for (let i = 0; i < BATCH; i++) {
        const [name, type] = qs[(done + i) % qs.length]!;
        batch.push(encodeMessage(queryMessage(name, type, { id: (done + i) & 0xffff })));
      }
      const h0 = youngBytes();
      const a0 = process.memoryUsage().arrayBuffers;
      const t0 = process.hrtime.bigint();
      for (const q of batch) engine.handle(q, udp);
      ns += Number(process.hrtime.bigint() - t0);
      const h1 = youngBytes();
      const a1 = process.memoryUsage().arrayBuffers;
      // A scavenge in the batch frees more than the batch allocated: such batches are left out.
      if (h1 >= h0 && a1 >= a0) {
        heap += h1 - h0;
        external += a1 - a0;
        measured += BATCH;
      }
      if ((done / BATCH) % 50 === 0) await tick();
    }
    await tick();
    const per = (x: number) => ((x * 1e6) / count).toFixed(0);
    process.stdout.write(
      `${label.padEnd(28)} ${count} queries: ${(heap / measured).toFixed(0)} heap bytes/query, ${(external / measured).toFixed(0)} ArrayBuffer bytes/query ` +
        `(${measured} queries in GC-free batches); per 1M queries ${per(minor - g0.minor)} scavenges, ${per(major - g0.major)} mark-compacts, ` +
        `${((gcMs - g0.gcMs) * 1e3 / count).toFixed(2)} µs GC/query; ${((100 * (cache.hits - g0.hits)) / count).toFixed(1)} % cache hits; engine ${(ns / count / 1000).toFixed(2)} µs/query wall\n`,
    );
  }

  const repeat = lines(repeatFile);
  const distinct = lines(distinctFile);
  // Warm up the JIT on names that do not occur in the distinct file, then fill the cache with the repeating mix.
  await run('warm-up (repeating mix)', repeat, 200000);
  await run('repeating mix (warm cache)', repeat, Math.min(N, 500000));
  await run('every name distinct (cold)', distinct, N);
  process.stdout.write(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; node ${process.version}\n`);
  obs.disconnect();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
