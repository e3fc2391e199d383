// fluxdns snoop: the TTL cache-snooping measurement of seed 001 against one resolver, as a table or JSON.
import { parseServer } from '../client/stub.js';
import { snoop, type SnoopMode, type SnoopReport } from '../client/snoop.js';
import { parseName } from '../wire/name.js';
import { typeCode } from '../wire/types.js';
import { parseFlags, UsageError } from './args.js';

function server(flag: string, text: string | undefined): ReturnType<typeof parseServer> {
  if (text === undefined) throw new UsageError(`--${flag}: missing; expected IP:PORT`);
  try {
    return parseServer(text);
  } catch (e) {
    throw new UsageError(`--${flag}: ${(e as Error).message}`);
  }
}

function count(flag: string, text: string | undefined, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${flag}: expected a number from ${min} to ${max}, found ${JSON.stringify(text)}`);
  return n;
}

export function formatReport(r: SnoopReport): string {
  const out: string[] = [];
  const how = r.mode === 'rec' ? 'recursive queries (RD=1)' : 'cache-only queries (RD=0)';
  out.push(`${r.name} ${r.type} via ${r.resolver}, ${how}`);
  out.push(r.authTtl === null ? 'authoritative TTL: unknown' : `authoritative TTL: ${r.authTtl} s (${r.authTtlFrom === 'auth' ? 'from --auth' : 'largest TTL the resolver showed: a lower bound'})`);
  out.push('');
  out.push('   t(s)  rd  rcode      ttl   age  line');
  for (const s of r.samples) {
    const age = s.ttl !== undefined && r.authTtl !== null ? String(r.authTtl - s.ttl) : '-';
    out.push(
      `${(s.at / 1000).toFixed(1).padStart(7)}  ${s.rd ? '1 ' : '0 '}  ${s.rcode.padEnd(9)}  ${(s.ttl === undefined ? '-' : String(s.ttl) + (s.negative ? 'n' : '')).padStart(5)}  ${age.padStart(4)}  ${s.line ?? '-'}`,
    );
  }
  out.push('');
  r.lines.forEach((l, i) =>
    out.push(`line ${i + 1}: loaded ${l.loadedAt <= 0 ? `${-l.loadedAt} s before the first query` : `${l.loadedAt} s after the first query`}${l.before ? ' (earlier use)' : ''}, ${l.samples} sample${l.samples === 1 ? '' : 's'}`),
  );
  const verdict = r.cachedBefore === null ? 'unknown (no answer to judge by)' : r.cachedBefore ? `yes, about ${r.sinceCached} s before the first query` : 'no';
  out.push(`cached before we asked: ${verdict}`);
  out.push(`caches seen behind the resolver: ${r.caches} (${r.cachesBefore} with an earlier use)`);
  return out.join('\n') + '\n';
}

export const SNOOP_FLAGS = {
  resolver: { type: 'string', value: 'IP:PORT', help: 'the resolver to snoop on (required)' },
  name: { type: 'string', value: 'N', help: 'the name to look for (required)' },
  type: { type: 'string', value: 'T', help: 'the record type (default A)' },
  auth: { type: 'string', value: 'IP:PORT', help: "the name's authoritative server, to learn the original TTL" },
  'auth-samples': { type: 'string', value: 'N', help: 'queries to the authoritative server' },
  samples: { type: 'string', value: 'N', help: 'queries to the resolver' },
  interval: { type: 'string', value: 'S', help: 'seconds between samples' },
  mode: { type: 'string', value: 'auto|norec|rec', help: 'RD bit of the probes (default auto)' },
  timeout: { type: 'string', value: 'MS', help: 'per-query timeout in milliseconds' },
  json: { type: 'boolean', help: 'print the verdict as JSON' },
} as const;

export async function runSnoop(args: string[]): Promise<number> {
  const { values } = parseFlags(args, SNOOP_FLAGS);
  const resolver = server('resolver', values.resolver);
  const auth = values.auth === undefined ? undefined : server('auth', values.auth);
  if (values.name === undefined) throw new UsageError('--name: missing; expected a domain name');
  let name: string;
  try {
    name = parseName(values.name.endsWith('.') ? values.name : values.name + '.');
  } catch (e) {
    throw new UsageError(`--name: expected a domain name: ${(e as Error).message}`);
  }
  const type = typeCode(values.type ?? 'A');
  if (type === undefined) throw new UsageError(`--type: expected a record type such as A, AAAA or TXT, found ${JSON.stringify(values.type)}`);
  const mode = (values.mode ?? 'auto') as SnoopMode;
  if (!['auto', 'norec', 'rec'].includes(mode)) throw new UsageError(`--mode: expected one of "auto", "norec", "rec", found ${JSON.stringify(values.mode)}`);
  const report = await snoop({
    resolver,
    auth,
    name,
    type,
    mode,
    samples: count('samples', values.samples, 3, 1, 1000),
    authSamples: count('auth-samples', values['auth-samples'], 3, 1, 1000),
    intervalMs: count('interval', values.interval, 1, 0, 3600) * 1000,
    timeoutMs: count('timeout', values.timeout, 2, 0.1, 60) * 1000,
  });
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  // Nothing answered: there was nothing to measure.
  return report.cachedBefore === null ? 1 : 0;
}
