// Strong authentication for a service (seed 000 §2.1): `require: cookie | tsig`.
import type { QueryContext } from '../../answer/context.js';
import { cookieFacts } from '../cookies/state.js';
import { TSIG_STATUS } from '../tsig/state.js';

/** True when the tsig guard verified the query's TSIG (RFC 8945 §5.2). */
export function tsigValid(ctx: QueryContext): boolean {
  return ctx.get(TSIG_STATUS)?.status === 'valid';
}

/** The denial reason when the query does not meet the service's requirement, else undefined. */
export function unmetRequirement(ctx: QueryContext, require: 'cookie' | 'tsig' | undefined): string | undefined {
  // A valid cookie proves the source address is not spoofed (RFC 7873 §5.2.5).
  if (require === 'cookie' && cookieFacts(ctx).status !== 'valid') return 'cookie required';
  if (require === 'tsig' && !tsigValid(ctx)) return 'tsig required';
  return undefined;
}
