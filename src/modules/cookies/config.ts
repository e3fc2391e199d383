// Configuration of DNS Cookies (RFC 7873/9018): the `cookies:` key of the configuration file.
import { z } from 'zod';

const secretHex = z.string().regex(/^[0-9a-fA-F]{32}$/, 'expected a 16-byte secret as 32 hexadecimal digits (RFC 9018 §4.4)');

export const cookiesSchema = z
  .object({
    /** off: cookies ignored; answer: server cookies returned; enforce: UDP needs a valid server cookie. */
    mode: z.enum(['off', 'answer', 'enforce']).default('off'),
    /** Shared by every server behind one anycast address; generated at start when absent. */
    secret: secretHex.optional(),
    /** Earlier secrets still accepted when validating (RFC 9018 §4.4 rollover). */
    previousSecrets: z.array(secretHex).max(8, 'expected at most 8 previous secrets').default([]),
    /** Seconds after which a client's server cookie is made anew (RFC 9018 §4.3 recommends 30 minutes). */
    rotateEvery: z
      .number()
      .int('expected whole seconds')
      .min(1, 'expected at least 1 second')
      .max(3000, 'expected at most 3000 seconds: a server cookie is invalid after 1 hour (RFC 9018 §4.3), so clients must get a fresh one well before')
      .default(1800),
    /** enforce: what a UDP query with a client cookie but no valid server cookie gets. */
    onInvalid: z.enum(['badcookie', 'tc']).default('badcookie'),
    /** enforce: what a UDP query without any cookie gets: TC=1 (retry over TCP) or a normal answer. */
    onMissing: z.enum(['tc', 'allow']).default('tc'),
  })
  .strict();

export type CookiesConfig = z.output<typeof cookiesSchema>;
