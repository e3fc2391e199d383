// `npm run bench:ipi`: inter-processor interrupts per answered query while dnsperf (core 1) runs the
// repeating mix against each server pinned to core 0, rounds alternating (issue 11). The kernel frees
// a received skb on the CPU that allocated it (skb_attempt_defer_free): the server's frees of query skbs
// become IPIs to dnsperf's core, dnsperf's frees of replies IPIs to the server's. /proc/interrupts is
// system-wide: other processes on the machine add to both counts, so compare rounds run side by side.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/ports.js';
import { startServer, type BenchServer, type ServerKind } from './servers.js';
import { writeQueries, writeZone } from './zone.js';

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string', default: 'fluxdns,knotd' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
  },
});

/** Function-call (CAL) and rescheduling (RES) interrupts received so far by CPUs 0 and 1. */
function interrupts(): { cal: number[]; res: number[] } {
  const lines = readFileSync('/proc/interrupts', 'utf8').split('\n');
  const row = (k: string) => (lines.find((l) => l.trim().startsWith(k)) ?? '').trim().split(/\s+/).slice(1, 3).map(Number);
  return { cal: row('CAL:'), res: row('RES:') };
}

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-ipi-'));
const zoneFile = join(dir, 'bench.lab.zone');
const queryFile = join(dir, 'queries.txt');
const shape = await writeZone(zoneFile, 12800);
writeQueries(queryFile, shape, 100000);
const servers = new Map<string, BenchServer & { port: number }>();
try {
  for (const kind of flags.only!.split(',') as ServerKind[]) {
    const port = await freePort();
    servers.set(kind, { ...(await startServer(kind, { zoneFile, port, cpu: '0' })), port });
  }
  console.log('IPIs received per 1,000 answered queries (CAL: function calls, e.g. deferred skb frees; RES: rescheduling)');
  for (let round = 0; round < Number(flags.rounds); round++) {
    for (const [kind, s] of servers) {
      const before = interrupts();
      const out = execFileSync('taskset', ['-c', '1', 'dnsperf', '-s', '127.0.0.1', '-p', String(s.port), '-d', queryFile, '-l', flags.seconds!, '-c', '8', '-q', '200', '-t', '2'], { encoding: 'utf8' });
      const after = interrupts();
      const answered = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const per = (a: number[], b: number[]) => b.map((v, i) => (((v - a[i]!) / Math.max(1, answered)) * 1000).toFixed(1)).join(' / ');
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      console.log(`round ${round + 1} ${kind.padEnd(8)} ${answered} answered  CAL cpu0 / cpu1 ${per(before.cal, after.cal)}  RES ${per(before.res, after.res)}  load ${load}`);
    }
  }
} finally {
  for (const s of servers.values()) await s.stop();
  rmSync(dir, { recursive: true, force: true });
}
