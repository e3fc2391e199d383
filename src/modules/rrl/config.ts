// Configuration of response rate limiting: the `rrl:` key, with BIND's rate-limit semantics.
import { z } from 'zod';
import { parseCidrResult } from '../../net/cidr.js';

const cidr = z.string().superRefine((s, ctx) => {
  const r = parseCidrResult(s);
  if (!r.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: r.error });
});

/** The default rate, as Debian's NSD ships `rrl-ratelimit: 200`: generous for real clients, a cap for floods. */
export const DEFAULT_RATE = 200;

const perSecond = z.number().int('expected a whole number of responses per second').min(1, 'expected at least 1 response per second').max(1_000_000);

export const rrlSchema = z
  .object({
    /** Identical responses (same name and type) per second to one client prefix (Debian's NSD ships 200). */
    responsesPerSecond: perSecond.default(DEFAULT_RATE),
    /** NXDOMAIN responses per second per zone and client prefix (BIND nxdomains-per-second); default responsesPerSecond. */
    nxdomainsPerSecond: perSecond.optional(),
    /** Error responses (FORMERR, REFUSED, …) per second per client prefix (BIND errors-per-second); default responsesPerSecond. */
    errorsPerSecond: perSecond.optional(),
    /** Every Nth limited response goes out truncated (TC=1, empty) so a real client retries over TCP; 0 drops all. */
    slip: z.number().int().min(0, 'expected 0 (drop every limited response) to 10').max(10, 'expected 0 to 10').default(2),
    ipv4Prefix: z.number().int().min(0).max(32, 'expected an IPv4 prefix length from 0 to 32').default(24),
    ipv6Prefix: z.number().int().min(0).max(128, 'expected an IPv6 prefix length from 0 to 128').default(56),
    /** Seconds of history: a client that kept exceeding the rate stays limited up to this long (BIND window). */
    window: z.number().int().min(1, 'expected 1 to 3600 seconds').max(3600, 'expected 1 to 3600 seconds').default(15),
    /** Client prefixes never limited. */
    exempt: z.array(cidr).default([]),
    /** Count what would be limited but answer everything (to tune the rates first). */
    logOnly: z.boolean().default(false),
  })
  .strict();

export type RrlConfig = z.output<typeof rrlSchema>;

/**
 * The `rrl:` key: on by default for UDP with the rates above (`rrl: {}` is the same); `rrl: off`
 * (or `false`) turns it off, e.g. for a benchmark that floods one name from one address.
 */
export const rrlKeySchema = z
  .union([z.literal('off'), z.literal(false), rrlSchema], {
    errorMap: () => ({ message: 'expected off, or an object of rrl settings (responsesPerSecond, slip, …)' }),
  })
  .default({})
  .transform((v): RrlConfig | undefined => (v === 'off' || v === false ? undefined : v));
