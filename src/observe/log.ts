// Structured logs as JSON lines on stderr or in a file; never called on the per-query hot path.
import cluster from 'node:cluster';
import { closeSync, openSync, writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  setLevel(level: LogLevel): void;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  let min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg, ...fields };
    // With workers: N, every worker logs: say which one.
    if (cluster.isWorker) rec['pid'] = process.pid;
    write(JSON.stringify(rec, (_k, v: unknown) => (v instanceof Error ? v.stack ?? v.message : v)));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    setLevel: (l) => {
      min = RANK[l];
    },
  };
}

/** A log file kept open for appending; reopen() after logrotate moved it (SIGUSR1) starts a new one at the path. */
export interface LogFile {
  readonly path: string;
  write(line: string): void;
  reopen(): void;
  close(): void;
}

/**
 * Opens `path` for appending (created mode 0640). Writes are synchronous: log lines are rare, and a
 * line written just before exit must not be lost. With `workers: N` each process opens the file;
 * O_APPEND keeps their lines whole.
 */
export function openLogFile(path: string): LogFile {
  let fd = openSync(path, 'a', 0o640);
  return {
    path,
    write(line) {
      writeSync(fd, line + '\n');
    },
    reopen() {
      const next = openSync(path, 'a', 0o640);
      closeSync(fd);
      fd = next;
    },
    close() {
      closeSync(fd);
    },
  };
}
