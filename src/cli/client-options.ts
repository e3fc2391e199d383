// Flags the client commands share (--resolver, --zone, --method, --type, --cache-dir, --timeout) and their checks.
import { ECHO_DATA_TYPES, type EchoDataType } from '../echo/encoding.js';
import { METHODS, toMethod, type EchoMethod } from '../echo/methods.js';
import { parseName } from '../wire/name.js';
import { Stub, formatServer, parseServer } from '../client/stub.js';
import { bestMethod, defaultCacheDir, loadProbe } from '../client/probe-report.js';
import { UsageError } from './args.js';

export const CLIENT_FLAGS = {
  resolver: { type: 'string', short: 'r', value: 'IP[:PORT]', help: 'the resolver to go through (required)' },
  zone: { type: 'string', short: 'z', value: 'Z', help: 'the Stateless DNS (echo) zone (required)' },
  method: { type: 'string', short: 'm', value: 'M', help: 'auto (the best the probe found) or a method: a, ca, cu, cca, ccx, ccu, da, dx, du, na, nu, nr' },
  type: { type: 'string', short: 't', value: 'A|AAAA|TXT|SRV', help: 'the record type carrying the data' },
  'cache-dir': { type: 'string', value: 'DIR', help: 'where probe results are kept' },
  timeout: { type: 'string', value: 'MS', help: 'per-query timeout in milliseconds' },
} as const;

export interface ClientFlags {
  resolver?: string | undefined;
  zone?: string | undefined;
  method?: string | undefined;
  type?: string | undefined;
  'cache-dir'?: string | undefined;
  timeout?: string | undefined;
}

export function stubFrom(v: ClientFlags): Stub {
  if (!v.resolver) throw new UsageError('--resolver IP[:PORT] is required');
  let server;
  try {
    server = parseServer(v.resolver);
  } catch (e) {
    throw new UsageError(`--resolver: ${(e as Error).message}`);
  }
  const timeoutMs = v.timeout === undefined ? 2000 : Number(v.timeout) * 1000;
  if (!(timeoutMs > 0)) throw new UsageError(`--timeout: expected seconds > 0, found ${JSON.stringify(v.timeout)}`);
  return new Stub({ servers: [server], timeoutMs });
}

export function zoneFrom(v: ClientFlags): string {
  if (!v.zone) throw new UsageError('--zone ECHOZONE is required');
  try {
    return parseName(v.zone.endsWith('.') ? v.zone : v.zone + '.');
  } catch (e) {
    throw new UsageError(`--zone: ${(e as Error).message}`);
  }
}

export function typeFrom(v: ClientFlags): EchoDataType {
  const t = (v.type ?? 'A').toUpperCase();
  if (!(ECHO_DATA_TYPES as readonly string[]).includes(t)) throw new UsageError(`--type: expected one of ${ECHO_DATA_TYPES.join(', ')}, found ${JSON.stringify(v.type)}`);
  return t as EchoDataType;
}

export function cacheDirFrom(v: ClientFlags): string {
  return v['cache-dir'] ?? defaultCacheDir();
}

/** --method NAME, or auto: the best method `fluxdns probe` found for this resolver (cached on disk). */
export function methodFrom(v: ClientFlags, stub: Stub, purpose: 'put' | 'if-absent'): EchoMethod {
  const name = v.method ?? 'auto';
  if (name !== 'auto') {
    const m = toMethod(name);
    if (!m) throw new UsageError(`--method: expected auto or one of ${METHODS.join(', ')}, found ${JSON.stringify(name)}`);
    return m;
  }
  const resolver = formatServer(stub.servers[0]!);
  const dir = cacheDirFrom(v);
  const r = loadProbe(dir, resolver);
  if (!r) throw new UsageError(`--method auto: no probe results for ${resolver} in ${dir}; run: fluxdns probe --resolver ${resolver} --zone ZONE`);
  const m = bestMethod(r, purpose);
  if (!m) throw new UsageError(`--method auto: the probe of ${resolver} (${r.date}) found no method that stores data`);
  return m;
}
