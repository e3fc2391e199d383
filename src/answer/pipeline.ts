// Runs a query through the units in their declared order and reports what to send.
//
//   guard ──► policy ──► responder ──► finish ──► encode
//     │ drop    │ drop      │ none        │ drop
//     │ fail ───┴── fail ───┴─ answered ──┤
//     ▼                                   ▼
//   (no reply)                     (response draft)
//
// A unit that throws fails the query with SERVFAIL; nothing a unit does can crash the server.
import { Rcode } from '../wire/types.js';
import type { Chain, QueryContext, Verdict } from './context.js';
import type { Outcome, Stage, Unit } from './unit.js';

export const STAGE_ORDER: readonly Stage[] = ['guard', 'policy', 'responder', 'finish'];

export type { Verdict } from './context.js';

const SEND: Verdict = { kind: 'send' };

export class Pipeline implements Chain {
  private readonly main: readonly Unit[];
  private readonly finishers: readonly Unit[];

  constructor(
    readonly units: readonly Unit[],
    private readonly onError: (unit: Unit, err: unknown) => void = () => {},
  ) {
    const names = new Set<string>();
    for (const u of units) {
      if (names.has(u.name)) throw new Error(`pipeline unit "${u.name}" is registered twice`);
      names.add(u.name);
    }
    const rank = (u: Unit) => STAGE_ORDER.indexOf(u.stage);
    for (let i = 1; i < units.length; i++) {
      if (rank(units[i]!) < rank(units[i - 1]!)) throw new Error(`pipeline unit "${units[i]!.name}" (${units[i]!.stage}) is declared after a later stage`);
    }
    this.main = units.filter((u) => u.stage !== 'finish');
    this.finishers = units.filter((u) => u.stage === 'finish');
  }

  run(ctx: QueryContext): Verdict | Promise<Verdict> {
    return this.runMain(ctx, 0);
  }

  private runMain(ctx: QueryContext, from: number): Verdict | Promise<Verdict> {
    for (let i = from; i < this.main.length; i++) {
      const unit = this.main[i]!;
      const out = this.call(unit, ctx);
      if (out instanceof Promise) return out.then((o) => this.afterMainAsync(ctx, i, o));
      const next = this.afterMain(ctx, i, out);
      if (next !== undefined) return next;
    }
    // No responder claimed the query: nothing here is authoritative for it.
    failResponse(ctx, Rcode.REFUSED);
    return this.runFinish(ctx, 0);
  }

  /** undefined means: go on with the next main unit. */
  private afterMain(ctx: QueryContext, i: number, out: Outcome): Verdict | Promise<Verdict> | undefined {
    switch (out.kind) {
      case 'continue':
        return undefined;
      case 'answered':
        return this.runFinish(ctx, 0);
      case 'fail':
        failResponse(ctx, out.rcode);
        return this.runFinish(ctx, 0);
      case 'drop':
        return out;
    }
  }

  /** Resumes after an asynchronous unit, which cannot resume a synchronous loop by itself. */
  private afterMainAsync(ctx: QueryContext, i: number, out: Outcome): Verdict | Promise<Verdict> {
    return this.afterMain(ctx, i, out) ?? this.runMain(ctx, i + 1);
  }

  private runFinish(ctx: QueryContext, from: number): Verdict | Promise<Verdict> {
    for (let i = from; i < this.finishers.length; i++) {
      const out = this.call(this.finishers[i]!, ctx);
      if (out instanceof Promise) return out.then((o) => this.afterFinish(ctx, i, o) ?? this.runFinish(ctx, i + 1));
      const v = this.afterFinish(ctx, i, out);
      if (v !== undefined) return v;
    }
    return SEND;
  }

  private afterFinish(ctx: QueryContext, _i: number, out: Outcome): Verdict | undefined {
    if (out.kind === 'drop') return out;
    if (out.kind === 'fail') failResponse(ctx, out.rcode);
    return undefined;
  }

  private call(unit: Unit, ctx: QueryContext): Outcome | Promise<Outcome> {
    try {
      const out = unit.handle(ctx);
      if (out instanceof Promise) return out.catch((err: unknown) => this.crashed(unit, err));
      return out;
    } catch (err) {
      return this.crashed(unit, err);
    }
  }

  private crashed(unit: Unit, err: unknown): Outcome {
    this.onError(unit, err);
    return { kind: 'fail', rcode: Rcode.SERVFAIL, reason: `unit ${unit.name} failed` };
  }
}

export function failResponse(ctx: QueryContext, rcode: number): void {
  const r = ctx.response;
  r.rcode = rcode;
  r.failed = true;
  r.aa = false;
  r.answer = [];
  r.authority = [];
  r.additional = [];
}
