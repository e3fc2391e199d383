// fluxdns ctl: asks a running server over its local control socket (control.socket) — status,
// reload (everything or one zone), zone status, stats, answer-cache flush, capabilities.
import { controlRequest, ControlUnreachable } from '../control/client.js';
import { CTL_EXIT, type ControlReply, type ControlRequest } from '../control/protocol.js';
import type { ReloadData, StatusData } from '../server/control.js';
import type { ZoneStatus } from '../server/server.js';
import { formatHelp, nearest, parseFlags, UsageError, usageLine, wantsHelp, type CommandSpec, type Flags } from './args.js';
import { runCapsList, runCapsRevoke, runCapsScanners } from './caps.js';

export const CTL_FLAGS = {
  socket: { type: 'string', short: 's', value: 'PATH', help: 'the control socket (default: control.socket of --config, else of the built-in demo)' },
  config: { type: 'string', short: 'c', value: 'FILE', help: 'the configuration whose control.socket to use' },
  json: { type: 'boolean', help: 'print the reply as JSON (the same data, for scripts)' },
} as const satisfies Flags;

type CtlValues = { socket?: string | undefined; config?: string | undefined; json?: boolean | undefined };

/**
 * Where to talk: --socket, else control.socket of --config, else the built-in demo's. The configuration
 * code (every module's schema, ≈ 0.4 s of start-up) is imported only here, so a scripted
 * `ctl --socket PATH …` does not load it.
 */
async function socketOf(v: CtlValues): Promise<string> {
  if (v.socket) return v.socket;
  const c = (v.config ? (await import('../config/load.js')).loadConfigFile(v.config) : (await import('../config/demo.js')).demoConfig()).config;
  if (!c.control) throw new UsageError(`ctl: ${v.config ?? 'the built-in demo'} has no control.socket; add control: { socket: PATH } or pass --socket PATH`);
  return c.control.socket;
}

/** Sends the request, prints the reply (text or --json), returns the exit code. */
async function exchange(v: CtlValues, req: ControlRequest, text: (data: never) => string): Promise<number> {
  let reply: ControlReply;
  try {
    reply = await controlRequest(await socketOf(v), req);
  } catch (e) {
    if (e instanceof ControlUnreachable) {
      process.stderr.write(`fluxdns ctl: ${e.message}\n`);
      return CTL_EXIT.unreachable;
    }
    throw e;
  }
  if (v.json) process.stdout.write(JSON.stringify(reply, null, 2) + '\n');
  else if (reply.ok) process.stdout.write(text(reply.data as never));
  else process.stderr.write(`fluxdns ctl: ${reply.error}\n`);
  return reply.ok ? CTL_EXIT.ok : CTL_EXIT.failed;
}

const table = (rows: string[][]): string => {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n') + '\n';
};

function statusText(d: StatusData & { workerPids?: number[] }): string {
  const up = `${Math.floor(d.uptime / 3600)}h${String(Math.floor((d.uptime % 3600) / 60)).padStart(2, '0')}m${String(d.uptime % 60).padStart(2, '0')}s`;
  return [
    `fluxdns ${d.version}, pid ${d.pid}, up ${up}`,
    `workers    ${d.workers}${d.workerPids ? ` (pids ${d.workerPids.join(', ')})` : ''}`,
    `config     ${d.config}`,
    `generation ${d.generation}`,
    `listeners  ${d.listeners.join(', ')}`,
    `zones      ${d.zones.length}${d.zones.length ? `: ${d.zones.map((z) => `${z.name} (serial ${z.serial})`).join(', ')}` : ''}`,
    '',
  ].join('\n');
}

function reloadText(d: ReloadData): string {
  const what = d.zone ? `zone ${d.zones[0]?.name ?? d.zone}` : 'configuration and zones';
  const lines = [`reloaded ${what} in ${d.processes} process${d.processes === 1 ? '' : 'es'}`];
  for (const z of d.zones) lines.push(`  ${z.name} serial ${z.serial}, ${z.records} records`);
  for (const r of d.restartNeeded) lines.push(`needs a restart: ${r}`);
  for (const r of d.refused ?? []) lines.push(`refused, still serving the previous version: ${r}`);
  return lines.join('\n') + '\n';
}

function zoneText(d: { zones: ZoneStatus[] }): string {
  const source = (z: ZoneStatus) => (z.secondary ? `secondary (${z.secondary.state}${z.secondary.lastRefresh ? `, confirmed ${z.secondary.lastRefresh}` : ''})` : z.source);
  return table([['zone', 'serial', 'records', 'loaded at', 'source', 'file'], ...d.zones.map((z) => [z.name, String(z.serial), String(z.records), z.loadedAt || '-', source(z), z.file])]);
}

const flushText = (d: { zone: string; file: string; serial: number }): string => `wrote ${d.zone} serial ${d.serial} to ${d.file}\n`;

/**
 * `fluxdns zone flush ZONE` (issue 13's name for it): the same request as `fluxdns ctl zone flush`, to the
 * running server's control socket; exit 0 written, 1 refused (no such zone, write failed), 2 usage, 3 no server.
 */
export async function runZoneFlush(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, CTL_FLAGS, true);
  if (positionals.length !== 1) throw new UsageError('usage: fluxdns zone flush ZONE [--socket PATH | --config FILE] [--json]');
  return exchange(values, { cmd: 'zone-flush', zone: positionals[0]! }, flushText);
}

/** The capability commands: the same code as `fluxdns caps …`, pointed at the admin API the server reports. */
function viaAdmin(run: (args: string[]) => Promise<number>) {
  return async (v: CtlValues, rest: string[]): Promise<number> => {
    let reply: ControlReply;
    try {
      reply = await controlRequest(await socketOf(v), { cmd: 'admin' });
    } catch (e) {
      if (!(e instanceof ControlUnreachable)) throw e;
      process.stderr.write(`fluxdns ctl: ${e.message}\n`);
      return CTL_EXIT.unreachable;
    }
    if (!reply.ok) {
      process.stderr.write(`fluxdns ctl: ${reply.error}\n`);
      return CTL_EXIT.failed;
    }
    const a = reply.data as { url: string; token: string };
    return run(['--admin', a.url, '--token', a.token, ...(v.json ? ['--json'] : []), ...rest]);
  };
}

interface CtlCommand extends Omit<CommandSpec, 'run'> {
  /** Positional arguments allowed after the words: [min, max]. */
  arity: [number, number];
  go(v: CtlValues, rest: string[]): Promise<number>;
}

const SOCK = '--socket /tmp/fluxdns-demo-5353.ctl';

/** The ctl subcommands; `fluxdns ctl SUB --help` prints each, and the CLI test loops over them. */
export const CTL_COMMANDS: readonly CtlCommand[] = [
  {
    words: ['ctl', 'status'],
    summary: 'version, pid, uptime, workers, listeners and zones of the running server',
    flags: CTL_FLAGS,
    example: `fluxdns ctl ${SOCK} status`,
    arity: [0, 0],
    go: (v) => exchange(v, { cmd: 'status' }, statusText),
  },
  {
    words: ['ctl', 'reload'],
    args: '[ZONE]',
    summary: "reload the configuration and every zone (as SIGHUP); with ZONE, only that zone's file, atomically — on an error the old data keeps serving and the error is printed (exit 1)",
    flags: CTL_FLAGS,
    example: `fluxdns ctl ${SOCK} reload example.lab`,
    arity: [0, 1],
    go: (v, [zone]) => exchange(v, { cmd: 'reload', zone }, reloadText),
  },
  {
    words: ['ctl', 'zone', 'status'],
    args: '[ZONE]',
    summary: 'serial, records, when loaded, source and file of each zone (or of ZONE)',
    flags: CTL_FLAGS,
    example: `fluxdns ctl ${SOCK} zone status`,
    arity: [0, 1],
    go: (v, [zone]) => exchange(v, { cmd: 'zone-status', zone }, zoneText),
  },
  {
    words: ['ctl', 'zone', 'flush'],
    args: 'ZONE',
    summary: "write ZONE as served (with its dynamic updates) to its file: canonical order, absolute names — comments and $INCLUDE are not kept",
    flags: CTL_FLAGS,
    example: `fluxdns ctl ${SOCK} zone flush example.lab`,
    arity: [1, 1],
    go: (v, [zone]) => exchange(v, { cmd: 'zone-flush', zone: zone! }, flushText),
  },
  {
    words: ['ctl', 'stats'],
    summary: "the server's counters as a table (summed over workers)",
    flags: CTL_FLAGS,
    example: `fluxdns ctl ${SOCK} stats`,
    arity: [0, 0],
    go: (v) => exchange(v, { cmd: 'stats' }, (d: { table: string }) => d.table),
  },
  {
    words: ['ctl', 'cache', 'flush'],
    args: '[NAME]',
    summary: 'empty the answer cache, or drop NAME and the names below it',
    flags: CTL_FLAGS,
    example: `fluxdns ctl ${SOCK} cache flush example.lab`,
    arity: [0, 1],
    go: (v, [name]) => exchange(v, { cmd: 'cache-flush', name }, (d: { name?: string; removed: number }) => `flushed ${d.removed} answer${d.removed === 1 ? '' : 's'}${d.name ? ` at or below ${d.name}` : ''}\n`),
  },
  {
    words: ['ctl', 'caps', 'list'],
    summary: 'the capability leases (the same as fluxdns caps list, through the admin API the server names)',
    flags: CTL_FLAGS,
    example: `fluxdns ctl ${SOCK} caps list`,
    arity: [0, 0],
    go: viaAdmin(runCapsList),
  },
  {
    words: ['ctl', 'caps', 'revoke'],
    args: 'ADDRESS|RESOLVER',
    summary: 'end leases now and cut their flows (as fluxdns caps revoke); exit 1 when nothing was revoked',
    flags: CTL_FLAGS,
    example: `fluxdns ctl ${SOCK} caps revoke 127.0.0.1`,
    arity: [1, 1],
    go: viaAdmin(runCapsRevoke),
  },
  {
    words: ['ctl', 'caps', 'scanners'],
    summary: 'sources blocklisted as scanners (as fluxdns caps scanners, through the admin API the server names)',
    flags: CTL_FLAGS,
    example: `fluxdns ctl ${SOCK} caps scanners`,
    arity: [0, 0],
    go: viaAdmin(runCapsScanners),
  },
];

/** The `ctl` entry's help: every subcommand. */
export function ctlOverview(): string {
  const rows = CTL_COMMANDS.map((c) => [usageLine(c).replace(' [options]', ''), c.summary.split(';')[0]!.split(' — ')[0]!]);
  const w = Math.max(...rows.map((r) => r[0]!.length));
  return [
    'usage: fluxdns ctl [--socket PATH | --config FILE] COMMAND [ARGS] [--json]',
    '',
    'Talks to a running fluxdns over its local control socket (control: { socket: PATH }, mode 0600).',
    '',
    'commands:',
    ...rows.map(([u, s]) => `  ${u!.padEnd(w)}  ${s}`),
    '',
    'exit codes: 0 done; 1 the server refused or failed the command (the message says why); 2 usage error; 3 no server on the socket',
    '',
    'example:',
    `  fluxdns ctl ${SOCK} reload example.lab`,
    '',
  ].join('\n');
}

export async function runCtl(args: string[]): Promise<number> {
  const help = wantsHelp(args);
  const { values, positionals } = parseFlags(
    args.filter((a) => a !== '--help' && a !== '-h'),
    CTL_FLAGS,
    true,
  );
  const match = CTL_COMMANDS.filter((c) => c.words.slice(1).every((w, i) => positionals[i] === w)).sort((a, b) => b.words.length - a.words.length)[0];
  if (!match) {
    if (help || positionals.length === 0) {
      process.stdout.write(ctlOverview());
      return help ? 0 : CTL_EXIT.usage;
    }
    const given = positionals.slice(0, 2).join(' ');
    const near = nearest(given, CTL_COMMANDS.map((c) => c.words.slice(1).join(' '))) ?? nearest(positionals[0]!, CTL_COMMANDS.map((c) => c.words.slice(1).join(' ')));
    throw new UsageError(`ctl: unknown command ${JSON.stringify(given)}${near ? `; did you mean "fluxdns ctl ${near}"?` : ''} (fluxdns ctl --help lists them)`);
  }
  if (help) {
    process.stdout.write(formatHelp(match));
    return 0;
  }
  const rest = positionals.slice(match.words.length - 1);
  if (rest.length < match.arity[0] || rest.length > match.arity[1]) throw new UsageError(`usage: ${usageLine(match).replace(' [options]', '')} [--socket PATH | --config FILE] [--json]`);
  return match.go(values, rest);
}
