// Configuration of DNS answers as capabilities (seed 000): the `services` and `capabilities` keys.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { dnssecSchema } from '../dnssec/online/schema.js';
import { parseTrustAnchor } from '../dnssec/validate.js';
import { parseAddress, parseCidrResult } from '../net/cidr.js';
import { parseBackend, parseProtoPorts } from '../gateway/schema.js';
import { domainKey as nameText } from '../wire/domain-name.js';
import { nftablesSchema } from './nftables/schema.js';


const oneOrMany = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

/** "IP" (the dialled port is kept, as NAT does) or "IP:PORT" (every service port goes to PORT). */
export function parseTarget(text: string): { host: string; port?: number } | undefined {
  const a = parseAddress(text);
  if (a) return { host: text };
  const b = parseBackend(text);
  return b ? { host: b.host, port: b.port } : undefined;
}

const target = z.string().refine((s) => parseTarget(s) !== undefined, { message: 'expected a private address "IP" or "IP:PORT" (IPv6 with a port as "[::1]:PORT")' });

const cidrText = z.string().superRefine((s, ctx) => {
  const r = parseCidrResult(s);
  if (!r.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: r.error });
});

const protoPorts = z.string().refine((s) => parseProtoPorts(s) !== undefined, { message: 'expected "tcp/PORT", "udp/PORT" or "tcp/FROM-TO" with ports from 1 to 65535' });

const bucket = z.object({ qps: z.number().positive(), burst: z.number().min(1).optional() }).strict();

const seconds = (max: number) => z.number().min(0).max(max);

export const serviceSchema = z
  .object({
    /** One or more host names; the first is the service's key in leases and the audit log. */
    name: oneOrMany(nameText),
    /** Private addresses; several: each new flow goes to one of them (round robin). */
    target: oneOrMany(target),
    ports: z.array(protoPorts).min(1, 'expected at least one "tcp/PORT" or "udp/PORT"'),
    /** A pool of the `pools` key; A answers draw from its IPv4 prefixes, AAAA from its IPv6 ones. */
    pool: z.string().min(1),
    /** The answer's TTL, seconds (seed 000 §3.3 simulated 20 s). */
    ttl: z.number().int().min(1).max(86400).default(20),
    /** Seconds after the TTL (and the slack) in which only sources that used the lease keep access (§3.2). */
    grace: seconds(86400).default(60),
    scope: z.enum(['resolver', 'subnet', 'shared']).default('resolver'),
    maxHosts: z.number().int().min(1).optional(),
    maxConnections: z.number().int().min(1).optional(),
    onDeny: z.enum(['refuse', 'nxdomain', 'nodata', 'drop', 'honeypot']).default('refuse'),
    /** Where a denied query's lease leads (onDeny: honeypot): "IP" or "IP:PORT". */
    honeypot: target.optional(),
    /** Files of CIDRs (one per line, # comments), relative to the configuration file; re-read when they change. */
    blocklists: z.array(z.string().min(1)).default([]),
    /** Client addresses or prefixes excepted from every lease of the service (seed 000 §2.3). */
    exceptions: z.array(cidrText).default([]),
    /** Token buckets (seed 000 §2.1): for the whole service, and for each resolver. */
    rateLimit: z.object({ service: bucket.optional(), resolver: bucket.optional() }).strict().optional(),
    /** The targets read a PROXY protocol v2 header first, to learn the client's address (userspace backend). */
    proxyProtocol: z.boolean().default(false),
    /** Strong authentication (§2.1): a valid DNS Cookie (RFC 7873) or a TSIG-signed query (RFC 8945). */
    require: z.enum(['cookie', 'tsig']).optional(),
    /** Online signing of the service's answers under its own name; a name inside a signed zone uses that zone's keys without it. */
    dnssec: dnssecSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.onDeny === 'honeypot' && s.honeypot === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['honeypot'], message: 'expected a honeypot address: onDeny is honeypot' });
  });

export const servicesSchema = z.array(serviceSchema).default([]);

export const capabilitiesSchema = z
  .object({
    /** userspace: the gateway relays only leased flows (no privileges); nftables: kernel verdict maps. */
    backend: z.enum(['userspace', 'nftables']).default('userspace'),
    /** The nftables backend's table and namespace (src/capability/nftables/README.md). */
    nftables: nftablesSchema.optional(),
    /** When installing a translation fails: false answers SERVFAIL (fail closed), true answers anyway. */
    failOpen: z.boolean().default(false),
    /** Seconds a lease stays live past its TTL, for resolvers that stretch TTLs (kresd: cache.min_ttl 5). */
    slack: seconds(3600).default(5),
    /** Seconds an address rests after its grace before it is leased again (stale users reach nothing). */
    quarantine: seconds(86400).default(300),
    /** Pool exhausted: share a live address of the same service among resolvers, or refuse (SERVFAIL). */
    exhaustion: z.enum(['share', 'refuse']).default('share'),
    /** Where flows to pool addresses that no lease admits go ("IP" or "IP:PORT"); refused (TCP reset) when unset. */
    honeypot: target.optional(),
    /** Resolvers whose ECS is taken as On-Behalf-Of without verification (§2.2: large public resolvers). */
    trustedResolvers: z.array(cidrText).default([]),
    /** OBO verification by reverse TXT lookup (§2.2). */
    obo: z
      .object({
        /** Recursive resolvers the stub asks, "IP:PORT"; default the first nameserver of /etc/resolv.conf, port 53. */
        resolvers: z.array(z.string().refine((s) => parseBackend(s) !== undefined, { message: 'expected "IP:PORT"' })).min(1).optional(),
        /** Seconds a verification result (either way) is cached. */
        cacheSeconds: seconds(86400).default(300),
        /** Milliseconds the lookup may take before the claim counts as unverified. */
        timeoutMs: z.number().int().min(10).max(10000).default(500),
        /** Count a verification TXT only when the resolver validated it (AD bit): use a validating resolver over a trusted path. */
        requireDnssec: z.boolean().default(false),
        /**
         * With requireDnssec: validate the TXT here instead of trusting the resolver's AD bit. Each entry is a
         * DNSKEY line of a zone holding verification records ("100.51.198.in-addr.arpa. DNSKEY 257 3 13 …").
         */
        trustAnchors: z.array(z.string().refine((s) => { try { parseTrustAnchor(s); return true; } catch { return false; } }, { message: 'expected "ZONE. DNSKEY FLAGS 3 ALGORITHM BASE64"' })).default([]),
      })
      .strict()
      .default({}),
    audit: z.object({ file: z.string().min(1) }).strict().optional(),
    /**
     * Scanner detection (seed 000 §4): a source that makes `threshold` unproductive attempts (new
     * flows to pool addresses no lease admits, honeypot flows included) within `window` seconds is
     * blocklisted for `blockFor` seconds: denied capabilities (reason scanner), its new flows to the
     * pool dropped. Absent: nothing is counted.
     */
    scanners: z
      .object({
        threshold: z.number().int().min(1).default(20),
        window: z.number().positive().max(86400).default(60),
        blockFor: z.number().positive().max(86400 * 30).default(3600),
      })
      .strict()
      .optional(),
    admin: z
      .object({
        /** Loopback only: the token travels in clear. */
        listen: z.string().refine((s) => {
          const b = parseBackend(s.replace(/:0$/, ':1'));
          return b !== undefined && (b.host.startsWith('127.') || b.host === '::1');
        }, { message: 'expected a loopback "127.0.0.1:PORT" or "[::1]:PORT"' }),
        token: z.string().min(16, 'expected a token of at least 16 characters'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .default({});

export type ServiceConfig = z.output<typeof serviceSchema>;
export type CapabilitiesConfig = z.output<typeof capabilitiesSchema>;

/** Cross-key checks: every service's pool exists, no name belongs to two services, one process holds the leases. */
export function checkServiceRefs(c: { pools: readonly { name: string }[]; services: readonly ServiceConfig[]; workers: number; state: { backend: string } }, ctx: z.RefinementCtx): void {
  const poolNames = new Set(c.pools.map((p) => p.name));
  const names = new Map<string, number>();
  if (c.services.length > 0 && c.workers > 1 && c.state.backend !== 'redis') {
    // Leases in one process's memory: a second worker would neither see nor enforce them.
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['workers'], message: 'expected workers: 1 with services and the memory state store (state: { backend: redis } shares leases between workers)' });
  }
  c.services.forEach((s, i) => {
    if (!poolNames.has(s.pool)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['services', i, 'pool'], message: `expected the name of a pool in "pools" (${[...poolNames].map((n) => JSON.stringify(n)).join(', ') || 'none defined'}), found ${JSON.stringify(s.pool)}` });
    }
    s.name.forEach((n, j) => {
      const other = names.get(n);
      if (other !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['services', i, 'name', j], message: `expected each name in one service only; ${n} is also a name of service ${other}` });
      else names.set(n, i);
    });
  });
}

/** Blocklist and audit paths relative to the configuration file's folder. */
export function resolveCapabilityPaths(config: { services: ServiceConfig[]; capabilities: CapabilitiesConfig; state: { file?: string } }, baseDir: string): void {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  for (const s of config.services) s.blocklists = s.blocklists.map(abs);
  if (config.capabilities.audit) config.capabilities.audit.file = abs(config.capabilities.audit.file);
  if (config.state.file) config.state.file = abs(config.state.file);
}
