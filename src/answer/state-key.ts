// A typed slot for per-query state owned by one unit (QueryContext.get/set). Its own file so that code
// the configuration schema reaches can name a key without importing the query context.

/**
 * The typed fields of QueryContext that hot-path keys are stored in instead of the per-query Map
 * (TSIG, cookie and TTL-jitter state is set on most queries; a Map costs ~200 bytes per query).
 */
export type ContextField = 'tsigStatus' | 'tsigPlan' | 'ttlJitter' | 'cookieFacts' | 'cookieStatus';

export class StateKey<T> {
  declare readonly _type: T;
  /** `field`: the key lives in that typed field of the context, not in its Map. */
  constructor(
    readonly name: string,
    readonly field?: ContextField,
  ) {}
}

/** What reads a key: a QueryContext (typed structurally where importing answer/context.ts would close a cycle). */
export interface StateReader {
  get<T>(key: StateKey<T>): T | undefined;
}
