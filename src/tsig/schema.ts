// Configuration schema of `tsig`: the shared keys (RFC 8945 §1.2: a key is a name, an algorithm and a secret).
import { z } from 'zod';
import { domainKey as keyName } from '../wire/domain-name.js';
import { ALGORITHM_NAMES } from './algorithms.js';


/** Strict base64 (as `tsig-keygen` and `keymgr` print it): the secret must decode to at least one byte. */
export function isBase64Secret(s: string): boolean {
  const t = s.replace(/\s+/g, '');
  return t.length > 0 && t.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t);
}

export const tsigKeySchema = z
  .object({
    name: keyName,
    algorithm: z.enum(ALGORITHM_NAMES).default('hmac-sha256'),
    /** The shared secret, base64. Never logged. */
    secret: z.string().refine(isBase64Secret, { message: 'expected the secret in base64 (as tsig-keygen prints it)' }).optional(),
    /** A file holding the base64 secret, relative to the configuration file (read at load and on SIGHUP). */
    secretFile: z.string().min(1, 'expected the path of a file holding the base64 secret').optional(),
  })
  .strict()
  .superRefine((k, ctx) => {
    if ((k.secret === undefined) === (k.secretFile === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['secret'], message: 'expected exactly one of "secret" (base64) or "secretFile" (a path)' });
    }
  });

export const tsigSchema = z
  .object({
    keys: z.array(tsigKeySchema).default([]),
    /** Seconds of clock difference accepted (RFC 8945 §5.2.3; 300 recommended, §10). */
    fudge: z.number().int().min(0).max(65535).default(300),
    /**
     * A signed query whose (key, MAC) was already seen from another address within the fudge is a
     * replay: refuse (NOTAUTH, BADTIME), allow, or auto (refuse when a service has `require: tsig`
     * or a policy matches `tsig`/`tsigKey`; src/modules/tsig/abuse.ts).
     */
    replay: z.enum(['auto', 'refuse', 'allow']).default('auto'),
    /** BADSIG, BADKEY and BADTIME answers per second to one IPv4 /24 or IPv6 /56; beyond it they are dropped. */
    errorsPerSecond: z.number().int().min(1).max(1_000_000).default(10),
  })
  .strict()
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.keys.forEach((k, i) => {
      if (seen.has(k.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['keys', i, 'name'], message: `key "${k.name}" is defined twice; expected unique key names` });
      seen.add(k.name);
    });
  });

export type TsigConfig = z.output<typeof tsigSchema>;
export type TsigKeyConfig = z.output<typeof tsigKeySchema>;
