// fluxdns simulate: pool sizing from a connection log (seed 000 §3.3), and simulate generate: synthetic logs.
import { writeFileSync } from 'node:fs';
import { LogError, readLog } from '../sim/csv.js';
import { checkParams, GEN_DEFAULTS, writeLog, type GenParams } from '../sim/generate.js';
import { SCOPES, type Scope } from '../sim/scope.js';
import { sizeStats, type SizeStats } from '../sim/stats.js';
import { renderSvg } from '../sim/svg.js';
import { TableSim, type SimResult } from '../sim/table.js';
import { parseFlags, UsageError } from './args.js';

function num(flag: string, text: string | undefined, dflt: number, min: number, max: number, integer: boolean): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, found ${JSON.stringify(text)}`);
  }
  return n;
}

/** Where the plot goes by default: beside the log, named after it and the TTL. */
export function defaultPlotPath(log: string, ttl: number): string {
  return `${log.replace(/\.csv$/i, '')}.ttl${ttl}.svg`;
}

export interface SimulateReport extends SizeStats {
  log: string;
  scope: Scope;
  ttl: number;
  grace: number;
  connections: number;
  lookups: number;
  graceHits: number;
  servers: number;
  start: number;
  plot: string;
}

const g = (n: number): string => n.toLocaleString('en-US');

export function formatSummary(r: SimulateReport): string {
  const pct = (a: number, b: number): string => (b === 0 ? '0' : ((100 * a) / b).toFixed(1));
  const lines = [
    `${r.log}: ${g(r.connections)} connections to ${g(r.servers)} servers over ${g(r.seconds)} s (scope ${r.scope}, TTL ${r.ttl} s, grace ${r.grace} s)`,
    `DNS lookups implied: ${g(r.lookups)} (${pct(r.lookups, r.connections)} % of connections); admitted by grace: ${g(r.graceHits)}`,
    `translations alive (public addresses needed), per second:`,
    `  peak    ${g(r.peak)} (at ${g(r.peakAt)} s)`,
    `  median  ${g(r.median)}`,
    `  p99     ${g(r.p99)}`,
    `  mean    ${r.mean.toFixed(1)}`,
  ];
  if (r.poolSize !== null && r.secondsAbove !== null) lines.push(`  above pool ${g(r.poolSize)}: ${g(r.secondsAbove)} s (${pct(r.secondsAbove, r.seconds)} % of the time)`);
  lines.push(`plot: ${r.plot}`);
  return lines.join('\n') + '\n';
}

export const SIMULATE_FLAGS = {
  log: { type: 'string', value: 'FILE.csv', help: 'connection log with the header time,client,resolver,server (required)' },
  ttl: { type: 'string', value: 'S', help: 'DNS TTL of a translation, seconds (default 20)' },
  grace: { type: 'string', value: 'S', help: 'seconds a translation stays for sources that used it (default 0)' },
  scope: { type: 'string', value: 'resolver|subnet24', help: 'who shares a translation (default resolver)' },
  'pool-size': { type: 'string', value: 'N', help: 'report how long a pool of N addresses falls short' },
  plot: { type: 'string', value: 'FILE.svg', help: 'draw the table size over time' },
  json: { type: 'boolean', help: 'print the result as JSON' },
} as const;

export async function runSimulate(args: string[]): Promise<number> {
  const { values } = parseFlags(args, SIMULATE_FLAGS);
  if (values.log === undefined) throw new UsageError('--log: missing; expected a CSV file with the header time,client,resolver,server');
  const ttl = num('ttl', values.ttl, 20, 1, 86400, false);
  const grace = num('grace', values.grace, 0, 0, 86400, false);
  const scope = (values.scope ?? 'resolver') as Scope;
  if (!SCOPES.includes(scope)) throw new UsageError(`--scope: expected one of ${SCOPES.map((s) => `"${s}"`).join(', ')}, found ${JSON.stringify(values.scope)}`);
  const pool = values['pool-size'] === undefined ? null : num('pool-size', values['pool-size'], 0, 0, 1e9, true);
  const plot = values.plot ?? defaultPlotPath(values.log, ttl);

  const sim = new TableSim({ ttl, grace, scope });
  let result: SimResult;
  try {
    for await (const c of readLog(values.log)) {
      try {
        sim.add(c);
      } catch (e) {
        throw new LogError(values.log, c.line ?? 0, 'time', (e as Error).message);
      }
    }
    result = sim.finish();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (e instanceof LogError || err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') {
      process.stderr.write(`fluxdns simulate: ${err.message}\n`);
      return 1;
    }
    throw e;
  }
  const stats = sizeStats(result.sizes, pool);
  const { sizes: _sizes, ...counts } = result;
  const report: SimulateReport = { log: values.log, scope, ttl, grace, ...counts, ...stats, plot };
  writeFileSync(plot, renderSvg({ sizes: result.sizes, stats, title: `Translation table, ${values.log.split('/').pop()}: scope ${scope}, TTL ${ttl} s, grace ${grace} s` }));
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatSummary(report));
  return 0;
}

export const SIMULATE_GENERATE_FLAGS = {
  out: { type: 'string', value: 'FILE.csv', help: 'the CSV file to write (required)' },
  seconds: { type: 'string', value: 'N', help: 'length of the log in seconds' },
  servers: { type: 'string', value: 'S', help: 'number of servers' },
  resolvers: { type: 'string', value: 'R', help: 'number of resolvers' },
  clients: { type: 'string', value: 'C', help: 'number of clients' },
  'per-subnet': { type: 'string', value: 'K', help: 'clients per /24' },
  rate: { type: 'string', value: 'R', help: 'connections per second' },
  zipf: { type: 'string', value: 'X', help: 'Zipf exponent of server popularity' },
  seed: { type: 'string', value: 'N', help: 'random seed (the same seed writes the same log)' },
  diurnal: { type: 'boolean', help: 'vary the rate over a day' },
} as const;

export function runSimulateGenerate(args: string[]): number {
  const { values } = parseFlags(args, SIMULATE_GENERATE_FLAGS);
  if (values.out === undefined) throw new UsageError('--out: missing; expected the CSV file to write');
  const d = GEN_DEFAULTS;
  const n = (flag: string, text: string | undefined, dflt: number): number => {
    if (text === undefined) return dflt;
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${flag}: expected a number, found ${JSON.stringify(text)}`);
    return v;
  };
  const p: GenParams = {
    seconds: n('seconds', values.seconds, d.seconds),
    servers: n('servers', values.servers, d.servers),
    resolvers: n('resolvers', values.resolvers, d.resolvers),
    clients: n('clients', values.clients, d.clients),
    perSubnet: n('per-subnet', values['per-subnet'], d.perSubnet),
    rate: n('rate', values.rate, d.rate),
    zipf: n('zipf', values.zipf, d.zipf),
    seed: n('seed', values.seed, d.seed),
    diurnal: values.diurnal ?? false,
  };
  const bad = checkParams(p);
  if (bad) throw new UsageError(bad);
  const count = writeLog(values.out, p);
  process.stdout.write(
    `wrote ${g(count)} connections to ${values.out}: ${p.seconds} s at ${p.rate}/s${p.diurnal ? ' (diurnal)' : ''}, ${p.servers} servers (Zipf ${p.zipf}), ${p.clients} clients (${p.perSubnet} per /24) over ${p.resolvers} resolvers, seed ${p.seed}\n`,
  );
  return 0;
}
