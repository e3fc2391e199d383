// The query engine: bytes in, bytes (or nothing) out. Transports call it; it owns the pipeline.
import { QueryContext, type TransportInfo } from './context.js';
import { encodeResponse } from './encode.js';
import { Pipeline, type Verdict } from './pipeline.js';
import { ReplayControl, shapeWord } from './replay.js';
import type { Runtime } from './runtime.js';
import type { Unit } from './unit.js';
import { completeRuntime } from './units.js';

export type EngineReply = Uint8Array | null;

/** Takes the further messages of a multi-message response (zone transfers); given by stream transports. */
export type MoreMessages = (messages: Iterable<Uint8Array>) => void;

/**
 * Told every query's outcome (metrics, dnstap, the query log): the reply (null: none sent) and the
 * seconds from receiving the query to the reply being ready, or -1 for a query that was not timed
 * (see `timeEvery`). Runs on the hot path: count, copy, return.
 */
export type QueryObserver = (ctx: QueryContext, reply: EngineReply, seconds: number) => void;

export interface EngineHooks {
  /** A unit threw: the query was answered SERVFAIL. */
  onUnitError?: (unit: Unit, err: unknown) => void;
  /** The encoder threw: the query got no reply. Never expected; reported so it can be fixed. */
  onEncodeError?: (err: unknown) => void;
}

export class Engine {
  private readonly pipeline: Pipeline;
  /** Unset (the default), observing costs nothing; set, it adds two clock reads per timed query. */
  private observe: QueryObserver | undefined;

  get observer(): QueryObserver | undefined {
    return this.observe;
  }

  /** An observer sees every query the engine handles: transports stop replaying hits (see replay.setObserver for one that folds them in). */
  set observer(o: QueryObserver | undefined) {
    this.observe = o;
    this.replay.setObserver(o !== undefined, false);
  }
  /**
   * With an observer, one query in `timeEvery` (a power of two) is timed; the others are reported with
   * -1 seconds. Metrics alone sample (a clock read costs about as much as counting a query); dnstap and
   * the query log, which print each query's times, set 1.
   */
  timeEvery = 1;
  private tick = 0;

  private current: Runtime;
  /** Whether transports may replay plain answer-cache hits themselves (answer/replay.ts). */
  readonly replay = new ReplayControl();
  /**
   * After handle() returned a reply synchronously: 0, or — when it is a plain answer-cache hit a transport
   * may send again for a query with the same bytes — the answer's metrics cell + 2 (1: none).
   */
  lastReplay = 0;
  /**
   * After handle() returned a reply synchronously: 0, or — when the reply holds for any other name below
   * the same closest encloser, asked with the same bytes otherwise (answer/replay.ts, encloser replay) —
   * the answer's metrics cell + 2 (1: none), with SHAPE_AFTER_STAR when it holds only for names sorting after "*"
   * (and, in replay mode 2, SHAPE_BY_LENGTH: a reply of another length is counted at its own).
   */
  lastShape = 0;
  /** With lastReplay: the rrl bucket the reply was let through on (QueryContext.rrlA/rrlB/rrlRate). */
  lastRrlA = 0;
  lastRrlB = 0;
  lastRrlRate = 0;
  /**
   * The context the next query is handled in: reused while queries finish synchronously (all but a
   * few), so an answer-cache hit allocates nothing but its reply. Taken while a query runs (a unit
   * that calls handle() again gets a context of its own), left to a query that outlives its call.
   */
  private spare: QueryContext | undefined;

  /**
   * `units` is the chain for a runtime that carries none (tests, `fluxdns explain`); a runtime built by
   * the load phase (ModuleSet.load) brings its own chain of the configured modules' hooks.
   */
  constructor(
    runtime: Runtime,
    units: readonly Unit[] = [],
    private readonly hooks: EngineHooks = {},
  ) {
    this.current = completeRuntime(runtime);
    this.pipeline = new Pipeline(units, hooks.onUnitError);
    this.replay.setChain(this.current.chain ?? this.pipeline, this.current);
  }

  get runtime(): Runtime {
    return this.current;
  }

  /** Atomic swap: queries already running finish on the runtime they started with. */
  swap(next: Runtime): void {
    // A runtime with new zones but the same configuration (a zone reload, a transfer) keeps the chain
    // and gets its table of authorities rebuilt for the new zones.
    this.current = completeRuntime(next, this.current);
    this.replay.setChain(this.current.chain ?? this.pipeline, this.current);
  }

  /** `more` receives the messages after the reply when the response has several (stream transports only). */
  handle(raw: Uint8Array, transport: TransportInfo, more?: MoreMessages): EngineReply | Promise<EngineReply> {
    // Too short for a header: there is no ID to answer to (RFC 1035 §4.1.1).
    if (raw.length < 12) return null;
    let started = -1;
    if (this.observe !== undefined) {
      if (this.tick === 0) started = performance.now();
      this.tick = (this.tick + 1) & (this.timeEvery - 1);
    }
    // No clock read here: ctx.receivedAt reads the turn clock when a unit first asks (answer/clock.ts).
    const ctx = (this.spare ?? QueryContext.reusable(transport, this.current)).renew(raw, transport, this.current);
    this.spare = undefined;
    const verdict = (ctx.runtime.chain ?? this.pipeline).run(ctx);
    if (verdict instanceof Promise) {
      this.lastReplay = 0;
      this.lastShape = 0;
      // The query goes on after this call: the context stays its, with the question's text made from
      // bytes the transport may reuse once this call returns.
      ctx.settle();
      return verdict.then((v) => this.finish(ctx, v, started, more));
    }
    const reply = this.finish(ctx, verdict, started, more);
    const mode = this.replay.mode;
    // Under a replay limit (rrl) only an answer rrl counted may be replayed: the transport checks its bucket.
    this.lastReplay = mode !== 0 && reply !== null && reply === ctx.cacheReply && (ctx.cacheCell >= 0 || mode === 1) && (this.replay.limit === undefined || ctx.rrlRate > 0) && !ctx.perClient ? ctx.cacheCell + 2 : 0;
    let shape = mode !== 0 && reply !== null ? shapeWord(ctx, reply, this.replay.limit !== undefined, mode === 2) : 0;
    // Under a unit that decides per query (policies) a template, which answers other names below the
    // closest encloser, is learnt only when that unit's gate says it would let them all through.
    if (shape !== 0 && this.replay.perQuery && (ctx.perClient || ctx.zoneResult === undefined || ctx.encloserGate?.passesBelow(ctx.zoneResult, ctx.query.question!.type) !== true)) shape = 0;
    this.lastShape = shape;
    this.lastRrlA = ctx.rrlA;
    this.lastRrlB = ctx.rrlB;
    this.lastRrlRate = ctx.rrlRate;
    // A multi-message response reads its query later (ctx.response.following): that context is kept.
    if (ctx.response.following === undefined) this.spare = ctx;
    else ctx.settle();
    return reply;
  }

  private finish(ctx: QueryContext, verdict: Verdict, started: number, more: MoreMessages | undefined): EngineReply {
    const reply = this.reply(ctx, verdict);
    const following = ctx.response.following;
    if (reply !== null && following !== undefined && more !== undefined) more(following(reply));
    if (this.observe !== undefined) this.observe(ctx, reply, started < 0 ? -1 : (performance.now() - started) / 1000);
    return reply;
  }

  private reply(ctx: QueryContext, verdict: Verdict): EngineReply {
    if (verdict.kind === 'drop') return null;
    try {
      return ctx.response.prebuilt ?? encodeResponse(ctx);
    } catch (err) {
      this.hooks.onEncodeError?.(err);
      return null;
    }
  }
}
