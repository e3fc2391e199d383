// The contract between the pipeline and its units: stages, and the explicit outcome of each unit.
import type { QueryContext } from './context.js';

/**
 * guard: may refuse, drop or fail a query before anything looks at data (cookies, rate limits, ACLs).
 * policy: picks what kind of answer the query gets (matches attributes, may answer directly).
 * responder: produces the records; the first that answers ends the stage.
 * finish: adjusts an answer that exists (TTL jitter, padding, cookies out); runs on every response.
 */
export type Stage = 'guard' | 'policy' | 'responder' | 'finish';

export type Outcome =
  /** Not for this unit, or done with it: go on. */
  | { readonly kind: 'continue' }
  /** The response draft is complete: skip to the finishers. */
  | { readonly kind: 'answered' }
  /** Send nothing (the client gets no reply at all). */
  | { readonly kind: 'drop'; readonly reason: string }
  /** Answer with this rcode and empty sections. */
  | { readonly kind: 'fail'; readonly rcode: number; readonly reason: string };

export const CONTINUE: Outcome = { kind: 'continue' };
export const ANSWERED: Outcome = { kind: 'answered' };
export const drop = (reason: string): Outcome => ({ kind: 'drop', reason });
export const fail = (rcode: number, reason: string): Outcome => ({ kind: 'fail', rcode, reason });

export interface Unit {
  readonly name: string;
  readonly stage: Stage;
  /** Synchronous when it can be: the pipeline stays synchronous until a unit returns a promise. */
  handle(ctx: QueryContext): Outcome | Promise<Outcome>;
}
