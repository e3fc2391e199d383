// The query engine: bytes in, bytes (or nothing) out. Transports call it; it owns the pipeline.
import { parseQuery } from '../wire/fastpath.js';
import { QueryContext, type TransportInfo } from './context.js';
import { encodeResponse } from './encode.js';
import { Pipeline, type Verdict } from './pipeline.js';
import type { Runtime } from './runtime.js';
import type { Unit } from './unit.js';

export type EngineReply = Uint8Array | null;

export interface EngineHooks {
  /** A unit threw: the query was answered SERVFAIL. */
  onUnitError?: (unit: Unit, err: unknown) => void;
  /** The encoder threw: the query got no reply. Never expected; reported so it can be fixed. */
  onEncodeError?: (err: unknown) => void;
}

export class Engine {
  private readonly pipeline: Pipeline;

  constructor(
    private current: Runtime,
    units: readonly Unit[],
    private readonly hooks: EngineHooks = {},
  ) {
    this.pipeline = new Pipeline(units, hooks.onUnitError);
  }

  get runtime(): Runtime {
    return this.current;
  }

  /** Atomic swap: queries already running finish on the runtime they started with. */
  swap(next: Runtime): void {
    this.current = next;
  }

  handle(raw: Uint8Array, transport: TransportInfo): EngineReply | Promise<EngineReply> {
    // Too short for a header: there is no ID to answer to (RFC 1035 §4.1.1).
    if (raw.length < 12) return null;
    const ctx = new QueryContext(raw, parseQuery(raw), transport, this.current, Date.now());
    const verdict = this.pipeline.run(ctx);
    if (verdict instanceof Promise) return verdict.then((v) => this.finish(ctx, v));
    return this.finish(ctx, verdict);
  }

  private finish(ctx: QueryContext, verdict: Verdict): EngineReply {
    if (verdict.kind === 'drop') return null;
    try {
      return ctx.response.prebuilt ?? encodeResponse(ctx);
    } catch (err) {
      this.hooks.onEncodeError?.(err);
      return null;
    }
  }
}
