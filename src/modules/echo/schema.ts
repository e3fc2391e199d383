// Configuration of the echo responder: the `echo` key, a list of Stateless DNS zones (seed 003).
import { isIP } from 'node:net';
import { z } from 'zod';
import { isSubdomain, parseName } from '../../wire/name.js';
import { domainName as name } from '../../wire/domain-name.js';
import { dnssecSchema } from '../../dnssec/online/schema.js';
import { MAX_TTL } from '../../wire/types.js';


const ttl = (dflt: number) => z.number().int().min(0).max(MAX_TTL).default(dflt);

const address = z.string().refine((s) => isIP(s) !== 0, { message: 'expected a literal IPv4 or IPv6 address' });

export const shortTimeCacheSchema = z
  .object({
    /** Seed §2.9: remember each alias's data until its first retrieval. Off: the zone is stateless. */
    enabled: z.boolean().default(false),
    maxEntries: z.number().int().min(1).max(1_000_000).default(10000),
    maxAgeSeconds: z.number().int().min(1).max(86400).default(60),
  })
  .strict();

export const echoZoneSchema = z
  .object({
    zone: name,
    /** TTL of synthesized data, CNAME and DNAME records (the seed's examples print 10000). */
    ttl: ttl(10000),
    /** TTL of the apex NS and of the N* methods' NS and glue records (the seed prints 86400). */
    nsTtl: ttl(86400),
    /**
     * TTL of negative answers (RFC 2308: the SOA minimum). 0 by default: an alias asked before it is
     * stored (a probe, or a resolver's QNAME minimisation, RFC 9156) must not stay cached as empty,
     * or the resolver never asks for the data the next programming query makes exist.
     */
    negativeTtl: ttl(0),
    /** The name server named in the apex NS and SOA; default ns.<zone> (then "ns" is not an alias). */
    ns: name.optional(),
    /** Addresses answered for `ns` when it is inside the zone. */
    nsAddress: z.union([address, z.array(address)]).default([]).transform((a) => (Array.isArray(a) ? a : [a])),
    shortTimeCache: shortTimeCacheSchema.default({}),
    /** Online signing of every synthesized answer (src/dnssec/online). */
    dnssec: dnssecSchema.optional(),
  })
  .strict()
  .transform((c) => ({ ...c, ns: c.ns ?? parseName('ns.' + (c.zone === '.' ? '' : c.zone)) }));

export const echoSchema = z
  .array(echoZoneSchema)
  .default([])
  .superRefine((zones, ctx) => {
    for (let i = 0; i < zones.length; i++) {
      for (let j = 0; j < i; j++) {
        if (isSubdomain(zones[i]!.zone, zones[j]!.zone) || isSubdomain(zones[j]!.zone, zones[i]!.zone)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'zone'], message: `expected echo zones that do not overlap; ${zones[i]!.zone} overlaps echo[${j}] ${zones[j]!.zone}` });
        }
      }
    }
  });

export type EchoZoneConfig = z.output<typeof echoZoneSchema>;
