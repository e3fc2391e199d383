// The listen entries' certificate rule: tls and https listeners need `cert` and `key`; udp and tcp
// listeners take neither (a certificate there would silently do nothing).
import { z } from 'zod';

export const ENCRYPTED_PROTOS: readonly string[] = ['tls', 'https'];

export function checkListenCertificate(l: { proto: string; cert?: string | undefined; key?: string | undefined }, ctx: z.RefinementCtx): void {
  const encrypted = ENCRYPTED_PROTOS.includes(l.proto);
  for (const field of ['cert', 'key'] as const) {
    const what = field === 'cert' ? 'a PEM certificate (chain) file' : 'a PEM private key file';
    if (encrypted && l[field] === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: `missing; proto ${l.proto} needs ${what} (path relative to the configuration file)` });
    } else if (!encrypted && l[field] !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: `only tls and https listeners take a ${field}; proto ${l.proto} is unencrypted` });
    }
  }
}
