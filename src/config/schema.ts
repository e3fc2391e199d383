// The configuration file's schema: one place that says every key, its type and its default.
import { isIP } from 'node:net';
import { z } from 'zod';
import { domainName } from '../wire/domain-name.js';
import { checkListenCertificate } from '../transport/listen-config.js';
import { streamLimitKeys } from '../transport/limits.js';
import { udpSchema } from '../transport/udp-config.js';
import { checkPolicyRefs, policySchema, poolSchema } from '../policy/schema.js';
import { dnssecSchema } from '../dnssec/online/schema.js';
import { ttlJitterSchema } from '../modules/ttl-jitter/schema.js';
import { cookiesSchema } from '../modules/cookies/config.js';
import { rrlKeySchema } from '../modules/rrl/config.js';
import { gatewaySchema } from '../gateway/schema.js';
import { tsigSchema } from '../tsig/schema.js';
import { capabilitiesSchema, checkServiceRefs, servicesSchema } from '../capability/schema.js';
import { stateSchema } from '../state/schema.js';
import { echoSchema } from '../modules/echo/schema.js';
import { metricsSchema } from '../observe/metrics/config.js';
import { dnstapSchema } from '../observe/dnstap/config.js';
import { notifySettingsSchema, transferZoneKeys } from '../transfer/schema.js';
import { catalogSchema, checkSecondaryRefs, primariesSchema, zonemdSchema } from '../secondary/schema.js';

/** "IP:PORT" or "[IPv6]:PORT". */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const host = m[1]!;
  const port = Number(m[2]);
  if (!isIP(host) || port > 65535) return undefined;
  return { host, port };
}

const hostPort = z.string().refine((s) => parseHostPort(s) !== undefined, {
  message: 'expected "IP:PORT" (IPv6 as "[::1]:PORT") with a literal address and a port from 0 to 65535',
});


export const listenSchema = z
  .object({
    proto: z.enum(['udp', 'tcp', 'tls', 'https']),
    address: hostPort,
    /** PEM certificate chain and private key of a tls/https listener, relative to the configuration file. */
    cert: z.string().min(1, 'expected the path of a PEM certificate file').optional(),
    key: z.string().min(1, 'expected the path of a PEM private key file').optional(),
  })
  .strict()
  .superRefine(checkListenCertificate);

export const zoneSchema = z
  .object({
    name: domainName,
    file: z.string().min(1, 'expected the path of a master file'),
    /** Each answer's TTL drawn in [min, ttl] against cache snooping (src/modules/ttl-jitter). */
    ttlJitter: ttlJitterSchema.optional(),
    /** ACLs, NOTIFY targets, serial policy and journal of the primary role (src/transfer/schema.ts). */
    ...transferZoneKeys,
    /** Online signing (src/dnssec/online): `{ sign: online, keys: [FILE…] }`. */
    dnssec: dnssecSchema.optional(),
    /** A secondary zone: transferred from these primaries, `file` is where the copy is kept (src/secondary). */
    primaries: primariesSchema,
    /** Compute a ZONEMD (RFC 8976) for this primary zone at load: sha384 or sha512 (src/zone/zonemd.ts). */
    zonemd: zonemdSchema,
  })
  .strict();

export const limitsSchema = z
  .object({
    /** Largest UDP response we send when the client offers more (RFC 6891 §6.2.5; DNS flag day 2020). */
    udpPayload: z.number().int().min(512).max(4096).default(1232),
    /** Seconds a TCP connection may stay idle between queries (RFC 7766 §6.2.3). */
    tcpIdleTimeout: z.number().positive().max(3600).default(10),
    /** Concurrent TCP connections per process; more are closed at once. */
    tcpMaxConnections: z.number().int().min(1).max(1_000_000).default(1000),
    /** Queries of one TCP connection being answered at once; reading pauses beyond it. */
    tcpMaxInFlight: z.number().int().min(1).max(65535).default(64),
    /** Per-client connections, handshake and per-query timeouts, query size (transport/limits.ts). */
    ...streamLimitKeys,
  })
  .strict();

export const configSchema = z
  .object({
    listen: z.array(listenSchema).min(1, 'expected at least one listener').default([
      { proto: 'udp', address: '127.0.0.1:5353' },
      { proto: 'tcp', address: '127.0.0.1:5353' },
    ]),
    workers: z.number().int().min(1).max(64).default(1),
    udp: udpSchema, // UDP system-call batching (src/transport/udp-config.ts)
    zones: z.array(zoneSchema).default([]),
    limits: limitsSchema.default({}),
    /** RFC 5001 name server identifier, sent when a query asks for it. */
    nsid: z.string().max(512).optional(),
    cookies: cookiesSchema.default({}),
    tsig: tsigSchema.default({}), // TSIG keys (RFC 8945, src/tsig)
    notify: notifySettingsSchema, // how NOTIFY to zones[].notify is resent (src/transfer/notify.ts)
    rrl: rrlKeySchema, // on by default (src/modules/rrl); `rrl: off` disables it
    gateway: gatewaySchema.optional(),
    echo: echoSchema, // Stateless DNS zones (src/modules/echo)
    metrics: metricsSchema.optional(), // Prometheus endpoint and dashboard (src/observe/metrics)
    dnstap: dnstapSchema.optional(), // dnstap over Frame Streams (src/observe/dnstap)
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
        /** A JSON line per sampled query (src/observe/querylog.ts): sample is the fraction logged, 0 < sample ≤ 1. */
        queries: z.object({ sample: z.number().gt(0).max(1) }).strict().optional(),
        /** Append log lines to this file instead of stderr; SIGUSR1 reopens it (after logrotate moved it). */
        file: z.string().min(1, 'expected the path of a log file').optional(),
      })
      .strict()
      .default({}),
    /** The local control socket `fluxdns ctl` talks to (src/control): a unix socket, mode 0600, never on the network. */
    control: z.object({ socket: z.string().min(1, 'expected the path of a unix socket') }).strict().optional(),
    /** Run as this user (name or uid) once every listener is bound: start as root for port 53, then drop it. */
    user: z.union([z.string().min(1), z.number().int().min(0)]).optional(),
    /** Write the serving process's PID here at start; removed on shutdown. */
    pidFile: z.string().min(1, 'expected the path of a PID file').optional(),
    pools: z.array(poolSchema).default([]),
    policies: z.array(policySchema).default([]),
    services: servicesSchema, // DNS answers as capabilities (src/capability)
    capabilities: capabilitiesSchema,
    state: stateSchema, // where leases live: memory or Redis (src/state)
    catalog: catalogSchema, // an RFC 9432 catalog zone listing the primary zones (src/catalog)
  })
  .strict()
  .superRefine((c, ctx) => checkPolicyRefs(c.pools, c.policies, ctx))
  .superRefine((c, ctx) => checkServiceRefs(c, ctx))
  .superRefine((c, ctx) => checkSecondaryRefs(c, ctx));

export type Config = z.output<typeof configSchema>;
export type ListenConfig = z.output<typeof listenSchema>;
export type ZoneConfig = z.output<typeof zoneSchema>;
export type LimitsConfig = z.output<typeof limitsSchema>;
