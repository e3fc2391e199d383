// What one query is answered from: a configuration and the data loaded for it, swapped whole on reload.
import type { Config } from '../config/schema.js';
import type { ZoneSet } from '../zone/tree.js';

export interface Runtime {
  readonly config: Config;
  readonly zones: ZoneSet;
  /** Increases with every successful reload, so caches can tell stale entries. */
  readonly generation: number;
}
