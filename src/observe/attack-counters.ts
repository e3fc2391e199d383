// The counters of the abuse defences (issue 16), in one per-process object that metrics read at
// scrape time: each member is an object of plain integer fields, filled in by the module that owns it.
import type { RrlCounters } from '../modules/rrl/limiter.js';
import type { GateCounters } from '../transport/conn.js';

/** Descriptor budget of the gateway's UDP flows and TCP relays (src/gateway/fd-budget.ts). */
export interface FdBudgetCounters {
  /** The soft RLIMIT_NOFILE after start-up (raised to the hard limit when possible). */
  limit: number;
  /** Descriptors the gateway's flows and relays may hold at once (limit minus the reserve). */
  budget: number;
  /** Descriptors they hold now. */
  inUse: number;
  /** Flows or relays closed (oldest first) to make room when the budget ran out. */
  evicted: number;
  /** New flows refused because their source held its share. */
  refusedPerSource: number;
}

/** TSIG abuse limits (src/modules/tsig). */
export interface TsigAbuseCounters {
  /** BADSIG/BADKEY/BADTIME answers sent. */
  errorsAnswered: number;
  /** BADSIG/BADKEY/BADTIME answers not sent because the source prefix exceeded its rate. */
  errorsDropped: number;
  /** Signed queries refused because their (key, MAC) was seen within the fudge window. */
  replaysRefused: number;
}

export interface AttackCounters {
  /** TCP, DoT and DoH connection slots (src/transport/conn.ts). */
  stream: GateCounters | undefined;
  fd: FdBudgetCounters;
  tsig: TsigAbuseCounters;
  /** DoH's HTTP/2 streams (src/transport/https.ts): open now, refused over the process-wide cap. */
  doh: { liveStreams: number; refusedStreams: number };
  /** Response rate limiting of the process's answer engine (src/modules/rrl). */
  rrl: RrlCounters | undefined;
}

export const attackCounters: AttackCounters = {
  stream: undefined,
  fd: { limit: 0, budget: 0, inUse: 0, evicted: 0, refusedPerSource: 0 },
  tsig: { errorsAnswered: 0, errorsDropped: 0, replaysRefused: 0 },
  doh: { liveStreams: 0, refusedStreams: 0 },
  rrl: undefined,
};
