// The attributes of one query that policies match on (seed 000 §2.1, seed 002 §3.2 step 3).
import { parseAddress, type Address } from '../net/cidr.js';
import type { TransportInfo, TransportProto } from '../transport/info.js';
import type { QueryView } from '../wire/fastpath.js';
import { TSIG_ABSENT, type TsigStatus } from '../tsig/status.js';

export type CookieState = 'valid' | 'absent' | 'invalid';

export interface QueryFacts {
  /** The name as asked (case kept) and its comparison form: lower case, no final dot. */
  readonly qname: string;
  readonly qnameMatch: string;
  readonly qtype: number;
  readonly source: Address | undefined;
  readonly ecs: { readonly address: Address; readonly sourcePrefix: number } | undefined;
  readonly transport: TransportProto;
  readonly cookie: CookieState;
  /** The tsig guard's verdict (TSIG_STATUS). */
  readonly tsig: TsigStatus;
  readonly now: Date;
  /**
   * The most ECS bits any clientSubnet test looked at (RFC 7871 §7.2.1: the answer's SCOPE PREFIX-LENGTH).
   * Written by the matchers as they run.
   */
  ecsBitsUsed: number;
  /**
   * After PolicySet.match found no policy: whether every policy failed on a test of the question alone
   * (qname, qtype), so that no client, time or connection could make one match these query bytes.
   */
  byQuestion?: boolean;
}

/** `ctx` is a QueryContext (typed by what it reads: answer/context.ts would make an import cycle through config). */
export function factsOf(ctx: { readonly query: QueryView; readonly transport: TransportInfo }, cookie: CookieState, now: Date, tsig: TsigStatus = TSIG_ABSENT): QueryFacts {
  const q = ctx.query.question!;
  const cs = ctx.query.edns?.clientSubnet;
  const ecsAddr = cs ? parseAddress(cs.address) : undefined;
  const lower = q.name.toLowerCase();
  return {
    qname: q.name,
    qnameMatch: lower === '.' ? '' : lower.slice(0, -1),
    qtype: q.type,
    source: parseAddress(ctx.transport.remoteAddress),
    ecs: cs && ecsAddr ? { address: ecsAddr, sourcePrefix: cs.sourcePrefix } : undefined,
    transport: ctx.transport.proto,
    cookie,
    tsig,
    now,
    ecsBitsUsed: 0,
  };
}
