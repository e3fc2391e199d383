// EDNS padding of responses on encrypted transports (RFC 7830, RFC 8467 §4.1 block-length policy).
import { paddingOption } from '../wire/edns.js';
import type { EdnsOption } from '../wire/types.js';
import { EdnsOptionCode } from '../wire/types.js';
import type { QueryContext } from './context.js';

/** RFC 8467 §4.1: servers pad responses to a multiple of 468 octets. */
export const RESPONSE_PAD_BLOCK = 468;

/** Whether the response gets a Padding option (see paddedOptions): asked for with one, over DoT or DoH. */
export function needsPadding(ctx: QueryContext): boolean {
  const proto = ctx.transport.proto;
  return (proto === 'tls' || proto === 'https') && ctx.query.edns?.paddingPresent === true;
}

/**
 * The response options with a Padding option added (last, so the size it pads to is final) when the
 * query came over DoT or DoH and carried a Padding option itself; RFC 8467 §4.1 and RFC 7830 §4:
 * only a client that padded gets a padded answer, and padding over cleartext would only cost bytes.
 * Queries with EDNS options are never served from the answer cache, so no cached bytes need padding.
 */
export function paddedOptions(ctx: QueryContext, options: EdnsOption[]): { options: EdnsOption[]; padBlock?: number } {
  if (!needsPadding(ctx)) return { options };
  const rest = options.filter((o) => o.code !== EdnsOptionCode.PADDING);
  return { options: [...rest, paddingOption(0)], padBlock: RESPONSE_PAD_BLOCK };
}
