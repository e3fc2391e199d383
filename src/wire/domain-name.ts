// The one configuration schema of a domain name, used by every config section (zones, echo, policies,
// services, TSIG keys). A final dot is optional ("a.lab" and "a.lab." are the same absolute name).
//
// Case: a name is kept as written (RFC 4343 §3: case is preserved; zone origins, echo zones and policy
// zones are answered in the case the configuration gives them). Where a name is a key that is
// compared — a TSIG key name (RFC 8945 §4.2 canonical form) or a service name — use `domainKey`,
// the same name in lower case.
import { z } from 'zod';
import { NameError, parseName } from './name.js';

export const domainName = z.string().transform((s, ctx) => {
  try {
    return parseName(s.endsWith('.') ? s : s + '.');
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a domain name: ${e instanceof NameError ? e.message : String(e)}` });
    return z.NEVER;
  }
});

/** A domain name that identifies something and is compared: lower case. */
export const domainKey = domainName.transform((s) => s.toLowerCase());
