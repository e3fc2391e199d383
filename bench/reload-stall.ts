// Reload stall: a SIGHUP of a big zone while a steady UDP query stream runs. Prints the longest gap
// between two answers around the reload, the queries lost, the reload's duration and RSS (steady
// before, peak during). `npm run bench:reload -- [--records N] [--rate Q/s] [--no-build]`; to attribute a
// gap: --gaps MS lists them, --perf FILE records both CPUs (context switches with call graphs), --rt
// keeps other processes off the serving thread, --hog puts a busy process on its core.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/ports.js';
import { repoRoot, sleep, spawnServer, waitForSoa } from './servers.js';
import { BENCH_ZONE, writeZone } from './zone.js';

const { values: flags } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '5000' },
    'no-build': { type: 'boolean', default: false },
    /** Node options for the server, e.g. --node-flags=--trace-gc (with --server-log to keep its output). */
    'node-flags': { type: 'string', default: '' },
    /** Another build's dist/cli/main.js (A/B of two builds with the same client). */
    main: { type: 'string' },
    /** Also list every gap longer than this (ms after the SIGHUP, length). */
    gaps: { type: 'string', default: '0' },
    /** Write the server's stdout and stderr here. */
    'server-log': { type: 'string' },
    /**
     * Closer to a quiet machine: the server's main thread (SCHED_FIFO 50) is not preempted by other
     * processes; threads started later (the zone loader) are not real-time (reset-on-fork), and the
     * server's other threads stay as they are. This client runs on CPU 1. Root only.
     */
    rt: { type: 'boolean', default: false },
    /**
     * Record both CPUs with perf (CPU samples with call graphs and every context switch,
     * CLOCK_MONOTONIC timestamps) into this file, from 3 s before the SIGHUP to the end; `hupMonoMs`
     * in the output places the SIGHUP. Add --node-flags=--perf-basic-prof for JS frames.
     */
    perf: { type: 'string' },
    /**
     * A busy ordinary process on the server's CPU from the SIGHUP to the new serial: what any other
     * work on that core does to a reload (the loader's low priority must not stall the serving thread).
     */
    hog: { type: 'boolean', default: false },
  },
});
const RECORDS = Number(flags.records);
const RATE = Number(flags.rate);

function status(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** A query for `name` type `qtype` with id `id` (RD clear). */
function query(id: number, name: string, qtype: number): Buffer {
  const labels = name.split('.').filter(Boolean);
  const q = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) {
    q[o++] = l.length;
    o += q.write(l, o, 'ascii');
  }
  q[o++] = 0;
  q.writeUInt16BE(qtype, o);
  q.writeUInt16BE(1, o + 2);
  return q;
}

/** The SOA serial in an answer to a SOA query, or undefined. */
function soaSerial(msg: Buffer): number | undefined {
  if (msg.readUInt16BE(6) < 1) return undefined;
  // The serial is the fifth-from-last 32-bit field of the last record's RDATA: the message ends with
  // serial, refresh, retry, expire, minimum (no EDNS here).
  return msg.readUInt32BE(msg.length - 20);
}

async function main(): Promise<void> {
  if (!flags['no-build']) execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-reload-stall-'));
  const zoneFile = join(dir, 'bench.zone');
  const shape = await writeZone(zoneFile, RECORDS);
  const port = await freePort();
  const nodeFlags = flags['node-flags']!.split(/\s+/).filter(Boolean);
  const server = spawnServer('fluxdns', { zoneFile, port, cpu: '0', workers: 1, nodeFlags, main: flags.main });
  const sock = createSocket('udp4');
  try {
    const t0 = performance.now();
    await waitForSoa(server.proc, port, BENCH_ZONE, 600_000);
    const loadSeconds = (performance.now() - t0) / 1000;
    const pid = server.proc.pid;
    if (flags.rt) {
      execFileSync('chrt', ['-f', '-R', '-p', '50', String(pid)]);
      // This client stays an ordinary process (real-time, its timer loop took a whole CPU), on the
      // other CPU: a gap while the server's thread sleeps in epoll_wait is the client's (see --perf).
      execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    }
    await sleep(1000);
    const steadyRss = status(pid, 'VmRSS');
    // Reset the peak (VmHWM) so it measures the reload alone (Linux clear_refs, value 5).
    writeFileSync(`/proc/${pid}/clear_refs`, '5');

    const nextFile = `${zoneFile}.next`;
    writeFileSync(nextFile, readFileSync(zoneFile, 'utf8').replace(' 2026112401 ', ' 2026112402 '));
    const sent = new Map<number, number>();
    const answers: number[] = [];
    let serial: number | undefined;
    let soaAsked = 0;
    sock.on('message', (m) => {
      const id = m.readUInt16BE(0);
      if (id === 0xffff) {
        serial = soaSerial(m);
        return;
      }
      if (sent.delete(id)) answers.push(performance.now());
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const perf = flags.perf
      ? spawn('perf', ['record', '-q', '-k', 'mono', '-g', '-e', 'cpu-clock/freq=997/', '-e', 'sched:sched_switch', '-a', '-o', flags.perf], { stdio: 'ignore' })
      : undefined;
    let id = 0;
    let running = true;
    const perTick = Math.max(1, Math.round(RATE / 1000));
    const pump = (async () => {
      let next = performance.now();
      while (running) {
        for (let i = 0; i < perTick; i++) {
          id = (id + 1) % 0xfff0;
          const h = Math.floor(Math.random() * shape.hosts);
          sent.set(id, performance.now());
          sock.send(query(id, `h${h}.${BENCH_ZONE}`, 1), port, '127.0.0.1');
        }
        next += 1;
        const wait = next - performance.now();
        await sleep(wait > 0 ? wait : 0);
      }
    })();
    await sleep(3000);
    // A new serial, so the end of the reload shows in the answers. Written beside the zone before the
    // stream starts and renamed over it now: rewriting 30 MB here blocked this client's own event
    // loop for ~0.7 s at load 12, which showed as an answer gap just before the SIGHUP.
    renameSync(nextFile, zoneFile);
    const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    const hog = flags.hog ? spawn('taskset', ['-c', '0', process.execPath, '-e', 'for (;;);'], { stdio: 'ignore' }) : undefined;
    if (hog) process.once('exit', () => hog.kill('SIGKILL'));
    const hup = performance.now();
    const hupMonoMs = Number(process.hrtime.bigint() / 1000n) / 1000;
    process.kill(pid, 'SIGHUP');
    let reloaded = 0;
    for (;;) {
      sock.send(query(0xffff, BENCH_ZONE, 6), port, '127.0.0.1');
      soaAsked++;
      await sleep(20);
      if (serial === 2026112402) {
        reloaded = performance.now();
        break;
      }
      if (performance.now() - hup > 600_000) throw new Error('no reload within 10 minutes');
    }
    hog?.kill('SIGKILL');
    const peakRss = status(pid, 'VmHWM');
    await sleep(2000);
    running = false;
    await pump;
    if (perf) {
      const done = new Promise((r) => perf.once('exit', r));
      perf.kill('SIGINT');
      await done;
    }
    await sleep(2000);
    // The longest silence from one second before the SIGHUP to one second after the new serial.
    const window = answers.filter((t) => t >= hup - 1000 && t <= reloaded + 1000);
    let maxGap = 0;
    let maxGapAt = 0;
    for (let i = 1; i < window.length; i++) {
      const g = window[i]! - window[i - 1]!;
      if (g > maxGap) {
        maxGap = g;
        maxGapAt = window[i - 1]! - hup;
      }
    }
    // The same measure before the SIGHUP: what the machine's load alone does to the stream.
    const before = answers.filter((t) => t < hup - 1000);
    let baseGap = 0;
    for (let i = 1; i < before.length; i++) baseGap = Math.max(baseGap, before[i]! - before[i - 1]!);
    const listGaps = Number(flags.gaps);
    const gaps: [number, number][] = [];
    if (listGaps > 0) {
      for (let i = 1; i < window.length; i++) {
        const g = window[i]! - window[i - 1]!;
        if (g > listGaps) gaps.push([Math.round(window[i - 1]! - hup), +g.toFixed(1)]);
      }
    }
    const out = {
      records: shape.records, rate: RATE, loadavg1: Number(load1), loadSeconds: +loadSeconds.toFixed(2),
      reloadSeconds: +((reloaded - hup) / 1000).toFixed(2), maxGapMs: +maxGap.toFixed(1), maxGapStartsMsAfterHup: Math.round(maxGapAt), maxGapBeforeHupMs: +baseGap.toFixed(1), lost: sent.size, answered: answers.length,
      steadyRssMiB: Math.round(steadyRss / 2 ** 20), reloadPeakRssMiB: Math.round(peakRss / 2 ** 20), soaQueries: soaAsked,
      ...(listGaps > 0 ? { gaps, hupEpochMs: Math.round(performance.timeOrigin + hup), hupMonoMs } : {}),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } finally {
    sock.close();
    await server.stop();
    if (flags['server-log']) writeFileSync(flags['server-log'], `--- stdout ---\n${server.proc.stdout}\n--- stderr ---\n${server.proc.stderr}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
