// Measurement primitives: process-tree CPU time and peak RSS from /proc, and a dnsperf runner/parser.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/PID/stat times (sysconf(_SC_CLK_TCK), 100 on Linux/x86-64). */
export const CLK_TCK = 100;

interface StatLine {
  pid: number;
  ppid: number;
  /** utime + stime in ticks (all threads of the process). */
  ticks: number;
}

function readStat(pid: number): StatLine | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields after the last ')' are fixed.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    return { pid, ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/** The PID and every live descendant (nsd and fluxdns workers fork; threads are already in the stat). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(Number(e));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(st.pid);
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Per-PID CPU ticks of the tree, so a delta survives children appearing or vanishing. */
export function cpuTicks(root: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of processTree(root)) {
    const st = readStat(pid);
    if (st) m.set(pid, st.ticks);
  }
  return m;
}

/** CPU seconds used between two snapshots (PIDs only in `after` count from zero). */
export function cpuSecondsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / CLK_TCK;
}

/**
 * CPU nanoseconds of every thread of the tree (/proc/PID/task/TID/schedstat, field 1): the tick counts of
 * /proc/PID/stat are 10 ms apart, too coarse for a transfer of 0.1 s. Threads that exit between two
 * snapshots drop out, so use it across work done by long-lived threads.
 */
export function cpuNs(root: number): number {
  let ns = 0;
  for (const base of threadDirs(root)) {
    try {
      ns += Number(readFileSync(`${base}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread exited
    }
  }
  return ns;
}

/** /proc/PID/task/TID of every thread of the process tree at `root` (threads may exit while read). */
export function threadDirs(root: number): string[] {
  const out: string[] = [];
  for (const pid of processTree(root)) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) out.push(`/proc/${pid}/task/${tid}`);
    } catch {
      // the process exited
    }
  }
  return out;
}

/** VmHWM (peak resident set) in bytes of each process in the tree. */
export function peakRss(root: number): { max: number; sum: number } {
  let max = 0;
  let sum = 0;
  for (const pid of processTree(root)) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!m) continue;
      const b = Number(m[1]) * 1024;
      max = Math.max(max, b);
      sum += b;
    } catch {
      // exited
    }
  }
  return { max, sum };
}

/** PIDs of dnsperf runs in progress, so an interrupted bench can stop them by PID. */
export const runningDnsperf = new Set<number>();

export interface DnsperfResult {
  sent: number;
  completed: number;
  lost: number;
  lostPct: number;
  qps: number;
  meanLatencyMs: number;
  runTime: number;
  rcodes: Record<string, number>;
  raw: string;
}

export interface DnsperfOptions {
  port: number;
  queryFile: string;
  seconds: number;
  clients: number;
  outstanding: number;
  tcp: boolean;
  /** CPU list for `taskset -c`. */
  cpu: string;
  /** Per-query timeout in seconds. */
  timeout: number;
  /** Queries with the DO bit (dnsperf -D). */
  dnssec?: boolean;
  /** Send the query file once (dnsperf -n 1, `seconds` then only bounds the run) instead of for `seconds`. */
  once?: boolean;
  /** Offered load in queries per second (dnsperf -Q); unset: as fast as dnsperf can. */
  rate?: number;
}

/** Parses dnsperf 2.x's summary. */
export function parseDnsperf(raw: string): DnsperfResult {
  const num = (re: RegExp): number => {
    const m = re.exec(raw);
    if (!m) throw new Error(`dnsperf output has no ${String(re)}:\n${raw}`);
    return Number(m[1]);
  };
  const rcodes: Record<string, number> = {};
  const rc = /Response codes:\s+(.*)/.exec(raw)?.[1] ?? '';
  for (const m of rc.matchAll(/([A-Z]+) (\d+) \(/g)) rcodes[m[1]!] = Number(m[2]);
  const sent = num(/Queries sent:\s+(\d+)/);
  const completed = num(/Queries completed:\s+(\d+)/);
  const lost = num(/Queries lost:\s+(\d+)/);
  return {
    sent,
    completed,
    lost,
    lostPct: sent > 0 ? (100 * lost) / sent : 0,
    qps: num(/Queries per second:\s+([\d.]+)/),
    meanLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    runTime: num(/Run time \(s\):\s+([\d.]+)/),
    rcodes,
    raw,
  };
}

/** Runs dnsperf pinned to opts.cpu and returns the parsed summary. */
export async function dnsperf(o: DnsperfOptions): Promise<DnsperfResult> {
  const args = ['-c', o.cpu, 'dnsperf', '-s', '127.0.0.1', '-p', String(o.port), '-d', o.queryFile, '-l', String(o.seconds),
    '-c', String(o.clients), '-q', String(o.outstanding), '-t', String(o.timeout)];
  if (o.tcp) args.push('-m', 'tcp');
  if (o.dnssec) args.push('-D');
  if (o.once) args.push('-n', '1');
  if (o.rate !== undefined) args.push('-Q', String(o.rate));
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile('taskset', args, { timeout: (o.seconds + o.timeout + 30) * 1000, maxBuffer: 16 << 20 }, (err, out, errOut) => {
      if (child.pid !== undefined) runningDnsperf.delete(child.pid);
      if (err) reject(new Error(`dnsperf failed: ${err.message}\n${errOut}`));
      else resolve(out);
    });
    if (child.pid !== undefined) runningDnsperf.add(child.pid);
  });
  return parseDnsperf(stdout);
}
