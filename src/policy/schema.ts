// Configuration schema of `pools` and `policies` (seed 002 §3.1–3.2: attributes pick a policy, the policy a pool).
import { z } from 'zod';
import { dnssecSchema, type DnssecConfig } from '../dnssec/online/schema.js';
import { parseAddress, parseCidrResult } from '../net/cidr.js';
import { NameError, parseName } from '../wire/name.js';
import { domainName as nameText } from '../wire/domain-name.js';
import { typeCode } from '../wire/types.js';
import { parseRecordText } from './record-text.js';

export const cidrText = z.string().superRefine((s, ctx) => {
  const r = parseCidrResult(s);
  if (!r.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: r.error });
});

const addressText = z.string().refine((s) => parseAddress(s) !== undefined, { message: 'expected an IPv4 or IPv6 address' });


const oneOrMany = <T extends z.ZodTypeAny>(t: T) => z.union([t, z.array(t).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

const ttl = z.number().int().min(0).max(0x7fffffff);

export const poolSchema = z
  .object({
    name: z.string().min(1),
    prefixes: z.array(cidrText).min(1, 'expected at least one prefix'),
    exclude: z.array(cidrText).default([]),
  })
  .strict();

/**
 * qname patterns: "www.example.lab" (exact), "*.example.lab" (any name strictly below), or
 * "/regex/" tested case-insensitively against the lower-case name without its final dot.
 */
const qnamePattern = z.string().superRefine((s, ctx) => {
  if (s.length > 1 && s.startsWith('/') && s.endsWith('/')) {
    try {
      new RegExp(s.slice(1, -1), 'i');
    } catch (e) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a valid regular expression: ${(e as Error).message}` });
    }
    return;
  }
  try {
    parseName(s.startsWith('*.') ? s.slice(2) : s, '.');
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a name, "*.suffix" or "/regex/": ${(e as Error).message}` });
  }
});

const qtypeText = z.string().refine((s) => typeCode(s) !== undefined, { message: 'expected a record type such as A, AAAA, TXT or TYPE65280' });

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as "HH:MM" (24-hour)');

export const timeWindowSchema = z
  .object({
    days: z.array(z.enum(DAYS)).min(1).optional(),
    from: hhmm.optional(),
    to: hhmm.optional(),
    /** IANA zone name for days/from/to; default UTC. */
    tz: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, { message: 'expected an IANA time zone such as "UTC" or "Europe/Berlin"' })
      .default('UTC'),
    after: z.string().datetime({ offset: true, message: 'expected an ISO 8601 date-time such as 2026-12-01T00:00:00Z' }).optional(),
    before: z.string().datetime({ offset: true, message: 'expected an ISO 8601 date-time such as 2026-12-01T00:00:00Z' }).optional(),
  })
  .strict();

export const matchSchema = z
  .object({
    qname: oneOrMany(qnamePattern).optional(),
    qtype: oneOrMany(qtypeText).optional(),
    /** Matched against the ECS address when the query has one, else against the source address. */
    clientSubnet: oneOrMany(cidrText).optional(),
    /** Matched against the source address (the resolver that asks). */
    resolver: oneOrMany(cidrText).optional(),
    transport: oneOrMany(z.enum(['udp', 'tcp', 'tls', 'https'])).optional(),
    ecs: z.enum(['present', 'absent']).optional(),
    cookie: z.enum(['valid', 'absent', 'any']).optional(),
    /** valid: signed with a key we hold, verified (RFC 8945); absent: unsigned. Bad signatures never reach policies. */
    tsig: z.enum(['valid', 'absent', 'any']).optional(),
    /** The TSIG key that signed the query (implies tsig: valid). */
    tsigKey: oneOrMany(nameText).optional(),
    time: oneOrMany(timeWindowSchema).optional(),
  })
  .strict();

const RCODES = ['NXDOMAIN', 'NODATA', 'REFUSED', 'SERVFAIL'] as const;

const baseActions = [
  z.object({ pool: z.string().min(1), ttl: ttl.default(30), count: z.number().int().min(1).max(16).default(1) }).strict(),
  z.object({ records: z.array(z.string().min(1)).min(1), ttl: ttl.default(300) }).strict(),
  z
    .object({
      weighted: z.array(z.object({ address: addressText, weight: z.number().positive() }).strict()).min(1),
      ttl: ttl.default(30),
    })
    .strict(),
  z.object({ rotate: z.array(addressText).min(1), ttl: ttl.default(30) }).strict(),
  z
    .object({
      geo: z
        .object({
          /** CIDR → pool: the longest prefix holding the client (ECS or source) picks the point of presence. */
          subnets: z.record(cidrText, z.string().min(1)),
          default: z.string().min(1).optional(),
        })
        .strict(),
      ttl: ttl.default(30),
      count: z.number().int().min(1).max(16).default(1),
    })
    .strict(),
  z.object({ rcode: z.enum(RCODES) }).strict(),
  z.object({ drop: z.literal(true) }).strict(),
  z.object({ truncate: z.literal(true) }).strict(),
  z.object({ sinkhole: addressText, ttl: ttl.default(60) }).strict(),
] as const;

export const actionSchema = z.union(baseActions, {
  errorMap: () => ({ message: 'expected one action: { pool }, { records }, { weighted }, { rotate }, { geo }, { rcode }, { drop: true }, { truncate: true } or { sinkhole }' }),
});

export const rateLimitSchema = z
  .object({
    qps: z.number().positive(),
    burst: z.number().positive().optional(),
    key: z.enum(['client', 'subnet', 'qname']).default('client'),
    /** What a query over the limit gets; default: dropped (seed 000 §2.1: denial of capability, not of service). */
    over: actionSchema.default({ drop: true }),
  })
  .strict();

/** A zone the policy owns without a zone file: SOA and NS at its apex are synthesized. */
export const policyZoneSchema = z.union([
  nameText.transform((name) => ({ name, nameservers: undefined as string[] | undefined, dnssec: undefined as DnssecConfig | undefined })),
  z.object({ name: nameText, nameservers: z.array(nameText).min(1).optional(), dnssec: dnssecSchema.optional() }).strict(),
]);

export const policySchema = z
  .object({
    name: z.string().min(1).optional(),
    match: matchSchema.default({}),
    action: actionSchema,
    rateLimit: rateLimitSchema.optional(),
    zone: policyZoneSchema.optional(),
    /** Per-policy TTL randomization against cache snooping (see the ttl-jitter finisher). */
    ttlJitter: z.object({ min: ttl }).strict().optional(),
  })
  .strict();

export type PoolConfig = z.output<typeof poolSchema>;
export type PolicyConfig = z.output<typeof policySchema>;
export type ActionConfig = z.output<typeof actionSchema>;
export type MatchConfig = z.output<typeof matchSchema>;
export type TimeWindow = z.output<typeof timeWindowSchema>;

/** Cross-references checked once the whole file is read: pool names exist and are unique. */
export function checkPolicyRefs(pools: PoolConfig[], policies: PolicyConfig[], ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  pools.forEach((p, i) => {
    if (names.has(p.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['pools', i, 'name'], message: `pool "${p.name}" is defined twice` });
    names.add(p.name);
  });
  const need = (pool: string, path: (string | number)[]) => {
    if (!names.has(pool)) ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `expected the name of a pool under "pools", found "${pool}"` });
  };
  policies.forEach((p, i) => {
    const check = (a: ActionConfig, at: (string | number)[]) => {
      if ('pool' in a) need(a.pool, [...at, 'pool']);
      if ('geo' in a) {
        for (const [cidr, pool] of Object.entries(a.geo.subnets)) need(pool, [...at, 'geo', 'subnets', cidr]);
        if (a.geo.default !== undefined) need(a.geo.default, [...at, 'geo', 'default']);
      }
    };
    check(p.action, ['policies', i, 'action']);
    if ('records' in p.action) {
      const a = p.action;
      a.records.forEach((text, j) => {
        try {
          parseRecordText(text, a.ttl);
        } catch (e) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['policies', i, 'action', 'records', j], message: `expected a record such as "A 198.51.100.1" or "TXT \\"text\\"": ${(e as Error).message}` });
        }
      });
    }
    if (p.rateLimit) check(p.rateLimit.over, ['policies', i, 'rateLimit', 'over']);
  });
}
