// `npm run bench:hot-dnssec`: the #12 pre-signed target in one process, without sockets: engine CPU µs per query
// for the every-name-distinct mix, the unsigned zone without DO against the same zone signed by dnssec-signzone
// (NSEC, NSEC3) with DO, rounds interleaved. The dnsperf figure is `npm run bench:dnssec`; this one is for
// profiling (`node --cpu-prof --import tsx bench/hot-dnssec.ts`) and quick A/B runs on a loaded machine.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import type { TransportInfo } from '../src/answer/context.js';
import { Engine } from '../src/answer/engine.js';
import { ModuleSet } from '../src/answer/units.js';
import { serverAnswerCache } from '../src/modules/cache/index.js';
import { parseConfigText } from '../src/config/load.js';
import { buildRuntime } from '../src/server/runtime-load.js';
import { encodeMessage, queryMessage } from '../src/wire/message.js';
import { typeCode } from '../src/wire/types.js';
import { signZone } from '../test/helpers/dnssec-chain.js';
import { writeDistinctQueries, writeZone } from './zone.js';

const { values: flags } = parseArgs({
  options: {
    queries: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    records: { type: 'string', default: '20000' },
    modes: { type: 'string', default: 'nsec,nsec3' },
    /** Write a CPU profile of the signed rounds only (not the zone signing and loading) to this file. */
    profile: { type: 'string' },
    /** The profile's sampling interval in µs (V8's default is 1000: too few samples for one round). */
    'profile-interval': { type: 'string', default: '100' },
    /** Only one kind of the distinct mix's names: wildcard (answers), nxdomain (at the apex), below (NXDOMAIN below a host). */
    kind: { type: 'string' },
  },
});
const N = Number(flags.queries);
const ROUNDS = Number(flags.rounds);
const MODES = flags.modes.split(',') as ('nsec' | 'nsec3')[];

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-hot-dnssec-'));
try {
  const zoneFile = join(dir, 'bench.lab.zone');
  const shape = await writeZone(zoneFile, Number(flags.records));
  const text = readFileSync(zoneFile, 'utf8');
  const distinctFile = join(dir, 'distinct.txt');
  // A third of the mix is of each kind: with --kind, enough names that the chosen third fills every round.
  writeDistinctQueries(distinctFile, shape, Math.ceil(N * (ROUNDS + 1) * (flags.kind === undefined ? 1 : 3.3)));
  const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5300, localAddress: '127.0.0.1', localPort: 53 };
  const engineFor = (file: string): Engine => {
    const loaded = parseConfigText(`rrl: off\nzones:\n  - { name: bench.lab., file: ${JSON.stringify(file)} }\n`, join(dir, 'fluxdns.yaml'));
    return new Engine(buildRuntime(loaded, 1, new ModuleSet({ answerCache: serverAnswerCache() })).runtime, []);
  };
  const KIND_OF: Record<string, RegExp> = { wildcard: /^r[^.]*\.w/, nxdomain: /^x/, below: /^r[^.]*\.h/ };
  const kindRe = flags.kind === undefined ? undefined : KIND_OF[flags.kind];
  if (flags.kind !== undefined && kindRe === undefined) throw new Error(`--kind: one of ${Object.keys(KIND_OF).join(', ')}`);
  const all = readFileSync(distinctFile, 'utf8').trim().split('\n');
  const lines = kindRe === undefined ? all : all.filter((l) => kindRe.test(l));
  if (lines.length < N * (ROUNDS + 1)) throw new Error(`only ${lines.length} names of kind ${flags.kind}`);
  const encode = (dnssecOk: boolean): Uint8Array[] =>
    lines.map((l, i) => {
      const [name, type] = l.split(' ');
      return encodeMessage(queryMessage(name!, typeCode(type!)!, { id: i & 0xffff, edns: 1232, dnssecOk }));
    });
  const plainQs = encode(false);
  const doQs = encode(true);
  let sink = 0;
  const run = (engine: Engine, qs: Uint8Array[], from: number): number => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      const r = engine.handle(qs[from + i]!, udp);
      if (r instanceof Uint8Array) sink += r.length;
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / N;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const plain = engineFor(zoneFile);
  for (const mode of MODES) {
    const signDir = join(dir, mode);
    mkdirSync(signDir);
    const signed = engineFor(signZone(signDir, 'bench.lab.', text, mode).file);
    // Each engine gets fresh names every round (the answer cache never hits); round 0 warms up.
    run(plain, plainQs, N * ROUNDS);
    run(signed, doQs, N * ROUNDS);
    const a: number[] = [];
    const b: number[] = [];
    const session = flags.profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: Number(flags['profile-interval']) });
    }
    for (let r = 0; r < ROUNDS; r++) {
      a.push(run(plain, plainQs, r * N));
      if (session) await session.post('Profiler.start');
      b.push(run(signed, doQs, r * N));
      if (session) await session.post('Profiler.stop').then((p) => writeFileSync(`${flags.profile}.${mode}.${r}.cpuprofile`, JSON.stringify(p.profile)));
    }
    const fmt = (xs: number[]) => `${median(xs).toFixed(2)} (${xs.map((x) => x.toFixed(2)).join(' ')})`;
    process.stdout.write(`${mode} distinct: unsigned ${fmt(a)} µs/query, signed+DO ${fmt(b)} µs/query; ratio ${(median(b) / median(a)).toFixed(2)} ×\n`);
  }
  process.stdout.write(`${N} queries per round; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${sink > 0 ? 'replies sent' : 'NO REPLIES'}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
