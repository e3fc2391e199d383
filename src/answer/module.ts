// The module API (Knot's knotd_mod_api is the model): a module names itself and its configuration
// section, and its load step turns a validated configuration into the hooks it needs, building every
// derived structure then — so a bad value is a reload error, never a SERVFAIL on the first query after.
import type { Capabilities } from '../capability/core.js';
import type { Config } from '../config/schema.js';
import type { ZoneSet } from '../zone/tree.js';
import type { Authority, AuthorityTable } from './authority.js';
import type { Unit } from './unit.js';
import type { AnswerCache } from '../modules/cache/index.js';
import type { XfrOptions } from '../transfer/unit.js';

/**
 * begin: before anything reads data (TSIG, cookies, header checks, policies); may answer, fail or drop.
 * answer: produces the records; the first hook that answers ends the stage. Answer hooks attach to a
 *   kind of authority (ctx.authority) and leave other names alone.
 * end: sees every response that will be sent (TTL jitter, EDNS, cookies and TSIG out, cache store, RRL).
 */
export type HookStage = 'begin' | 'answer' | 'end';

/**
 * A hook is a unit (answer/unit.ts) at one stage: begin hooks run as guards, answer hooks as
 * responders, end hooks as finishers. Its name is what logs and errors call it.
 */
export type Hooks = { readonly begin?: Unit; readonly answer?: Unit; readonly end?: Unit };

/** What a module's load step sees: the configuration and the data loaded with it. */
export interface LoadContext {
  readonly config: Config;
  readonly zones: ZoneSet;
  /** Every zone this runtime answers for (file, echo, policy-owned, service names). */
  readonly authorities: AuthorityTable;
  /**
   * Refuses the configuration: the load (or reload) fails with "FILE:LINE: key.path: message", and a
   * running server keeps its old runtime. `path` is the key path in the file, e.g. ['policies', 2, 'match'].
   */
  fail(path: readonly (string | number)[], message: string): never;
}

/** Process-wide facilities a module may keep for its whole life (they outlive reloads). */
export interface ModuleEnv {
  /** The clock policies and echo read (time windows, rate limits); `fluxdns explain --time` sets it. */
  readonly now?: () => number;
  /** The process's capability core (store, data plane, audit log), shared with the gateway and the admin API. */
  readonly capabilities?: Capabilities;
  /** A warn-level log line (rrl.logOnly reports through it). */
  readonly warn?: (msg: string, fields: Record<string, unknown>) => void;
  /** The process's answer cache (`fluxdns ctl cache flush` empties it); a fresh one when omitted. */
  readonly answerCache?: AnswerCache;
  /** Zone transfers, UPDATE and NOTIFY (src/transfer): the audit log, the journal, the update and notify handlers. */
  readonly xfr?: XfrOptions;
}

export interface ModuleInstance {
  /** Made once per process; they read the runtime's configuration and the state load built for it. */
  readonly hooks: Hooks;
  /**
   * Called for every configuration before it serves (start, reload, zone reload): builds every
   * derived structure (compiled policies, keys, tables) so an error is a load error (ctx.fail), and
   * says whether the module is configured — false keeps its hooks out of the chain.
   */
  load(ctx: LoadContext): boolean;
}

export interface Module {
  /** Unique; the chain order (answer/units.ts) names modules by it. */
  readonly name: string;
  /** The top-level configuration keys the module owns (its section of the schema, see its README). */
  readonly keys: readonly string[];
  /**
   * The zones or names this module answers for under a configuration (answer/authority.ts); a pure
   * function of the configuration and the loaded zones.
   */
  authorities?(config: Config, zones: ZoneSet): Authority[];
  /** Once per process: creates what outlives reloads (rate-limit buckets, caches) and the hooks. */
  setup(env: ModuleEnv): ModuleInstance;
}

/** A load error: names the configuration file, the line and the key. */
export class ModuleLoadError extends Error {
  constructor(
    readonly module: string,
    readonly path: readonly (string | number)[],
    message: string,
  ) {
    super(message);
    this.name = 'ModuleLoadError';
  }
}
