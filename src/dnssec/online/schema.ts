// The `dnssec` key of a zone, an echo zone, a policy-owned zone or a service: online signing with BIND key files.
import { z } from 'zod';

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

export const dnssecSchema = z
  .object({
    /** Only `online`: every answer is signed as it is sent (pre-signed zone files need no key). */
    sign: z.literal('online'),
    /** BIND key files (`K<zone>+<alg>+<tag>`, with or without .key/.private), relative to the configuration file. */
    keys: z.array(z.string().min(1)).min(1, 'expected at least one key file (fluxdns dnssec keygen ZONE makes one)'),
    /** Signature validity, seconds from now (RFC 4034 §3.1.5); default 14 days. Inception is set one hour back. */
    expiry: seconds(3600, 366 * 86400).default(14 * 86400),
    /** Up to this many seconds taken off each new signature's expiry at random, so they do not all expire at once. */
    expiryJitter: seconds(0, 30 * 86400).default(86400),
    /** TTL of DNSKEY, CDS and CDNSKEY at the apex. */
    dnskeyTtl: seconds(0, 604800).default(3600),
    /** Publish CDS and CDNSKEY of the key-signing keys (RFC 7344/8078), so a parent can pick the DS up. */
    cds: z.boolean().default(true),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.expiryJitter * 2 > d.expiry) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['expiryJitter'], message: `expected at most half of expiry (${d.expiry / 2})` });
  });

export type DnssecConfig = z.output<typeof dnssecSchema>;
