// Streaming reader of connection logs (header time,client,resolver,server): one line in memory at a time.
import { createReadStream } from 'node:fs';
import { isIP } from 'node:net';

/** One connection: when (seconds), which client, through which resolver, to which server. */
export interface Connection {
  time: number;
  client: string;
  resolver: string;
  server: string;
  /** The log line it came from, for error messages. */
  line?: number;
}

export const LOG_HEADER = 'time,client,resolver,server';

/** A bad log line: names the line number and the field, and says what was expected. */
export class LogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${field}: ${detail}`);
  }
}

const SECONDS = /^[0-9]+(\.[0-9]+)?$/;
// A zone is required: a local time would change meaning with the machine's time zone.
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TOKEN = /^[^\s,"]+$/;

/** Seconds from a time field: non-negative decimal seconds, or ISO 8601 with Z or an offset. */
export function parseTime(text: string): number | undefined {
  if (SECONDS.test(text)) return Number(text);
  if (ISO.test(text)) {
    const ms = Date.parse(text);
    return Number.isFinite(ms) ? ms / 1000 : undefined;
  }
  return undefined;
}

/** Parses one data line; throws LogError naming the field. */
export function parseLine(text: string, file: string, line: number): Connection {
  const f = text.split(',');
  if (f.length !== 4) throw new LogError(file, line, 'line', `expected 4 fields (${LOG_HEADER}), found ${f.length}`);
  const [t, client, resolver, server] = f.map((s) => s.trim()) as [string, string, string, string];
  const time = parseTime(t);
  if (time === undefined) throw new LogError(file, line, 'time', `expected seconds (1309435200.25) or ISO 8601 with a zone (2011-06-30T12:00:00Z), found ${JSON.stringify(t)}`);
  if (isIP(client) === 0) throw new LogError(file, line, 'client', `expected an IPv4 or IPv6 address, found ${JSON.stringify(client)}`);
  if (!TOKEN.test(resolver)) throw new LogError(file, line, 'resolver', `expected an address or identifier without spaces, found ${JSON.stringify(resolver)}`);
  if (!TOKEN.test(server)) throw new LogError(file, line, 'server', `expected an address or identifier without spaces, found ${JSON.stringify(server)}`);
  return { time, client, resolver, server, line };
}

/**
 * Connections from an async source of text chunks, in order. Checks the header, skips blank lines,
 * and refuses a time earlier than the line before (the replay needs a sorted log).
 */
export async function* parseLog(chunks: AsyncIterable<string>, file: string): AsyncGenerator<Connection> {
  let rest = '';
  let lineNo = 0;
  let header = false;
  let last = -Infinity;
  const handle = (raw: string): Connection | undefined => {
    lineNo++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return undefined;
    if (!header) {
      if (text.trim().toLowerCase() !== LOG_HEADER) throw new LogError(file, lineNo, 'header', `expected "${LOG_HEADER}", found ${JSON.stringify(text.slice(0, 80))}`);
      header = true;
      return undefined;
    }
    const c = parseLine(text, file, lineNo);
    if (c.time < last) throw new LogError(file, lineNo, 'time', `expected a time at or after the previous line's (${last}), found ${c.time}: sort the log by time`);
    last = c.time;
    return c;
  };
  for await (const chunk of chunks) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const p of parts) {
      const c = handle(p);
      if (c) yield c;
    }
  }
  if (rest !== '') {
    const c = handle(rest);
    if (c) yield c;
  }
  if (!header) throw new LogError(file, Math.max(lineNo, 1), 'header', `expected "${LOG_HEADER}", found an empty file`);
}

/** Connections of a log file, streamed. */
export function readLog(path: string): AsyncGenerator<Connection> {
  return parseLog(createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }), path);
}
