// fluxdns caps list|revoke|scanners|try: the capability admin API from the command line, and a client that
// asks for a service and uses the address it was granted.
import net from 'node:net';
import { parseServer, Stub } from '../client/stub.js';
import type { CapsListing, LeaseView, ScannerListing } from '../capability/admin.js';
import { parseName } from '../wire/name.js';
import { Rcode, RRType, rcodeName, type ARdata } from '../wire/types.js';
import { parseFlags, UsageError } from './args.js';

export const ADMIN_FLAGS = {
  admin: { type: 'string', value: 'IP:PORT', help: 'the capability admin API (capabilities.admin.listen)' },
  token: { type: 'string', value: 'T', help: 'its bearer token' },
  config: { type: 'string', short: 'c', value: 'FILE', help: 'take both from this configuration (default: the built-in demo)' },
  json: { type: 'boolean', default: false, help: 'print JSON' },
} as const;
export const CAPS_TRY_FLAGS = {
  resolver: { type: 'string', default: '127.0.0.1:5353', value: 'IP:PORT', help: 'the resolver (or server) to ask' },
  port: { type: 'string', value: 'P', help: 'the service port to connect to (required)' },
  type: { type: 'string', default: 'A', value: 'A|AAAA', help: 'the address type to ask for' },
  path: { type: 'string', default: '/', value: 'PATH', help: 'the HTTP path to GET' },
} as const;

interface AdminTarget {
  url: string;
  token: string;
}

/** --admin/--token, else the `capabilities.admin` of --config, else of the built-in demo. */
async function adminFrom(v: { admin?: string; token?: string; config?: string }): Promise<AdminTarget> {
  // The configuration code is imported only when a flag is missing (`ctl caps …` passes both).
  const admin = v.admin && v.token ? undefined
    : (v.config ? (await import('../config/load.js')).loadConfigFile(v.config) : (await import('../config/demo.js')).demoConfig()).config.capabilities.admin;
  const listen = v.admin ?? admin?.listen;
  const token = v.token ?? admin?.token;
  if (!listen || !token) throw new UsageError('caps: expected --admin IP:PORT and --token T, or a --config with capabilities.admin');
  return { url: listen.startsWith('http') ? listen : `http://${listen}`, token };
}

async function call(t: AdminTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, t.url), {
      method,
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    throw new Error(`cannot reach the admin API at ${t.url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
  }
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`admin API: ${res.status} ${String(json['error'] ?? '')}`);
  return json;
}

export async function runCapsList(args: string[]): Promise<number> {
  const { values: v } = parseFlags(args, ADMIN_FLAGS);
  const listing = (await call(await adminFrom(v), 'GET', '/caps')) as CapsListing;
  if (v.json) {
    process.stdout.write(JSON.stringify(listing, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(`backend ${listing.backend}${listing.store?.shared ? `, shared store (node ${listing.store.node})` : ''}, ${listing.leases.length} lease(s); grants ${listing.counters.grants}, reused ${listing.counters.reused}, exhausted ${listing.counters.exhausted}, revoked ${listing.counters.revoked}, expired ${listing.counters.expired}\n`);
  for (const l of listing.leases) process.stdout.write(formatLease(l) + '\n');
  return 0;
}

export function formatLease(l: LeaseView): string {
  const ports = l.ports.map((p) => `${p.proto}/${p.from === p.to ? p.from : `${p.from}-${p.to}`}`).join(',');
  const extra = [
    l.ecs ? `ecs ${l.ecs}` : '',
    l.sourceSubnet ? `sources ${l.sourceSubnet}` : '',
    l.exceptions.length ? `except ${l.exceptions.join(',')}` : '',
    l.honeypot ? 'honeypot' : '',
    `hosts ${l.hosts.length}${l.maxHosts ? `/${l.maxHosts}` : ''}`,
    `flows ${l.flows}${l.maxConnections ? `/${l.maxConnections}` : ''}`,
    // Shared store: the gateways (and servers) that admitted flows through the lease, with open flows.
    Object.keys(l.nodes ?? {}).length > 0 ? `at ${Object.entries(l.nodes).sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, f]) => `${n}:${f}`).join(',')}` : '',
  ].filter(Boolean);
  // A lease scoped to its resolver (the default) names it once.
  const scope = l.scope === 'resolver' && l.scopeKey === l.resolver ? `resolver ${l.resolver}` : `${l.scope} ${l.scopeKey}  resolver ${l.resolver}`;
  return `${l.id}  ${l.service}  ${l.address}  ${ports} -> ${l.targets.join(',')}  ${l.phase} ttl ${l.remaining}s  ${scope}  ${extra.join('  ')}`;
}

/** `caps scanners`: the sources blocklisted as scanners, with their attempts and how long the block lasts. */
export async function runCapsScanners(args: string[]): Promise<number> {
  const { values: v } = parseFlags(args, ADMIN_FLAGS);
  const l = (await call(await adminFrom(v), 'GET', '/caps/scanners')) as ScannerListing;
  if (v.json) {
    process.stdout.write(JSON.stringify(l, null, 2) + '\n');
    return 0;
  }
  if (!l.config) process.stdout.write('scanner detection is off (capabilities.scanners is not set)\n');
  else process.stdout.write(`${l.scanners.length} scanner(s) blocked; threshold ${l.config.threshold} in ${l.config.window}s, blocked for ${l.config.blockFor}s\n`);
  for (const s of l.scanners) {
    process.stdout.write(`${s.source}  attempts ${s.attempts}  since ${new Date(s.since).toISOString()}  for ${Math.max(0, Math.ceil((s.until - l.now) / 1000))}s more\n`);
  }
  return 0;
}

export async function runCapsRevoke(args: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(args, ADMIN_FLAGS, true);
  if (positionals.length !== 1) throw new UsageError('caps revoke: expected one ADDRESS (a leased public address) or RESOLVER');
  const r = (await call(await adminFrom(v), 'POST', '/caps/revoke', { target: positionals[0] })) as { revoked: { id: string; service: string; address: string; resolver: string }[]; cut: number; where?: Record<string, number> };
  if (v.json) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    const nodes = Object.entries(r.where ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    const where = nodes.length > 1 ? ` (${nodes.map(([n, c]) => `${n}: ${c}`).join(', ')})` : '';
    process.stdout.write(`revoked ${r.revoked.length} lease(s), cut ${r.cut} flow(s)${where}\n`);
    for (const l of r.revoked) process.stdout.write(`${l.id}  ${l.service}  ${l.address}  resolver ${l.resolver}\n`);
  }
  return r.revoked.length > 0 ? 0 : 1;
}

/** Asks the resolver for NAME, connects to the answered address on --port, sends an HTTP GET and prints the reply. */
export async function runCapsTry(args: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(args, CAPS_TRY_FLAGS, true);
  if (positionals.length !== 1) throw new UsageError('caps try: expected one NAME');
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('caps try: expected --port PORT (the service port to connect to)');
  const qtype = v.type === 'AAAA' ? RRType.AAAA : RRType.A;
  const name = parseName(positionals[0]!.endsWith('.') ? positionals[0]! : positionals[0]! + '.');
  const stub = new Stub({ servers: [parseServer(v.resolver!, 53)], retries: 1, timeoutMs: 1000 });
  const a = await stub.query(name, qtype);
  const rr = a.message.answers.find((r) => r.type === qtype);
  if (a.message.flags.rcode !== Rcode.NOERROR || !rr) {
    process.stdout.write(`no capability: ${rcodeName(a.message.flags.rcode)}, ${a.message.answers.length} answer(s)\n`);
    return 1;
  }
  const address = (rr.data as ARdata).address;
  process.stdout.write(`granted: ${rr.name} ${rr.ttl} IN ${qtype === RRType.A ? 'A' : 'AAAA'} ${address}\n`);
  const reply = await httpGet(address, port, v.path!);
  process.stdout.write(reply.endsWith('\n') ? reply : reply + '\n');
  return 0;
}

function httpGet(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let buf = '';
    s.setTimeout(5000, () => s.destroy(new Error(`no reply from ${host}:${port} within 5 s`)));
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (buf += d));
    s.on('error', (e) => reject(new Error(`connection to ${host}:${port} failed: ${e.message}`)));
    s.on('close', () => {
      const body = buf.split('\r\n\r\n').slice(1).join('\r\n\r\n');
      if (!buf) reject(new Error(`connection to ${host}:${port} closed without a reply (refused by the gateway?)`));
      else resolve(body || buf);
    });
  });
}
