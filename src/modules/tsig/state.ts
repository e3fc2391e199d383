// The query's TSIG verdict (src/tsig/status.ts) in the context, set once per query by the tsig guard
// and read by later units (capabilities with `require: tsig`, policies with `match.tsig`).
import { StateKey } from '../../answer/state-key.js';
import type { TsigStatus } from '../../tsig/status.js';

export { TSIG_ABSENT, TsigError, type TsigErrorName, type TsigStatus, type TsigVerdict } from '../../tsig/status.js';

/** Read this from later units: `ctx.get(TSIG_STATUS)?.status === 'valid'` (set on every query the guard sees). */
export const TSIG_STATUS = new StateKey<TsigStatus>('tsig.status', 'tsigStatus');
