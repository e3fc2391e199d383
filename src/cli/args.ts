// Shared argument parsing and help: every command declares its flags once (type, value, help) and
// reports a bad flag the same way, with the nearest flag it knows.
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/error.js';
import type { LoadedConfig } from '../config/load.js';

export class UsageError extends Error {}

/** One flag: parseArgs's option config, plus what `--help` prints. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean | readonly string[];
  /** The value's placeholder in the help (FILE, IP:PORT); string flags only. */
  value?: string;
  help: string;
}

export type Flags = Readonly<Record<string, FlagSpec>>;

/** A command as the table in main.ts lists it; `--help` prints it. */
export interface CommandSpec {
  /** The words that select it: ["zone", "check"]. */
  words: readonly string[];
  /** Positional arguments in the usage line ("ZONE", "[NAME]"); empty when none. */
  args?: string;
  /** One line: what it does. */
  summary: string;
  flags: Flags;
  /** A command line that works (on the built-in demo where it can). */
  example: string;
  /** Runs it; a return of -1 means "keep running" (a server). */
  run: (args: string[]) => number | Promise<number>;
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The candidate nearest to `word` when it is near enough to be a typo (or `word` is its prefix). */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function parseFlags<T extends Flags>(args: string[], options: T, allowPositionals = false) {
  try {
    // parseArgs ignores the help fields; the cast drops `readonly` from defaults.
    return parseArgs({ args, options: options as T & NonNullable<Parameters<typeof parseArgs>[0]>['options'], allowPositionals, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(err.message)?.[1];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
      const near = nearest(unknown.replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(`unknown option ${unknown}${near ? `; did you mean --${near}?` : ''} (--help lists the options)`);
    }
    throw new UsageError(err.message.split('. To specify')[0]!);
  }
}

/** "  -c, --config FILE" for the help. */
function flagLabel(name: string, f: FlagSpec): string {
  const value = f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : '';
  return `${f.short ? `-${f.short}, ` : '    '}--${name}${value}${f.multiple ? ' ...' : ''}`;
}

export function usageLine(c: Omit<CommandSpec, 'run'>): string {
  return `fluxdns ${c.words.join(' ')}${c.args ? ` ${c.args}` : ''}${Object.keys(c.flags).length ? ' [options]' : ''}`;
}

/** The text `fluxdns CMD --help` prints: usage, what it does, each flag, an example. */
export function formatHelp(c: Omit<CommandSpec, 'run'>): string {
  const rows = Object.entries(c.flags).map(([n, f]) => [flagLabel(n, f), f.help + (f.default !== undefined && f.type === 'string' ? ` (default ${String(f.default)})` : '')] as const);
  rows.push(['-h, --help', 'show this help']);
  const w = Math.max(...rows.map((r) => r[0].length));
  return [
    `usage: ${usageLine(c)}`,
    '',
    c.summary,
    '',
    'options:',
    ...rows.map(([l, h]) => `  ${l.padEnd(w)}  ${h}`),
    '',
    'example:',
    `  ${c.example}`,
    '',
  ].join('\n');
}

/** Whether the arguments ask for help (before `--`, which ends the options). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/**
 * Loads a configuration for a command; a ConfigError (file, line, key path) goes to stderr and
 * the result is undefined, so the command can exit 1. Anything else is a bug and propagates.
 */
export function loadOrReport(load: () => LoadedConfig): LoadedConfig | undefined {
  try {
    return load();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(e.message + '\n');
    return undefined;
  }
}
