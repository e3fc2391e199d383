// A typed slot for per-query state owned by one unit (QueryContext.get/set). Its own file so that code
// the configuration schema reaches can name a key without importing the query context.

export class StateKey<T> {
  declare readonly _type: T;
  constructor(readonly name: string) {}
}

/** What reads a key: a QueryContext (typed structurally where importing answer/context.ts would close a cycle). */
export interface StateReader {
  get<T>(key: StateKey<T>): T | undefined;
}
