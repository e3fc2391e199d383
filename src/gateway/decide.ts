// The per-flow decision: served prefix check, then the admit hook, then the static dispatch table.
import { parseAddress } from '../net/cidr.js';
import type { DispatchTable } from './table.js';
import type { Admit, Backend, Flow, Verdict } from './types.js';

export type Decision = { backend: Backend; honeypot: boolean } | { refuse: string; quiet: boolean };

export interface DecideOptions {
  table: () => DispatchTable;
  unmatched: () => 'refuse' | 'drop';
  admit?: Admit;
}

export type Decide = (flow: Flow) => Decision | Promise<Decision>;

/**
 * A wildcard socket also receives traffic to addresses outside the served prefixes (seed 002 §3.3:
 * INADDR_ANY "is inflexible and a security hazard"), so every flow is checked against them first.
 */
export function makeDecide(o: DecideOptions): Decide {
  const fromTable = (flow: Flow): Decision => {
    const dst = parseAddress(flow.dst);
    const r = dst ? o.table().lookup(flow.proto, dst, flow.dstPort) : ({ kind: 'unserved' } as const);
    if (r.kind === 'backend') return { backend: r.backend, honeypot: false };
    return { refuse: r.kind === 'unserved' ? 'address not served' : 'no dispatch entry', quiet: o.unmatched() === 'drop' };
  };
  const fromVerdict = (flow: Flow, v: Verdict | undefined): Decision => {
    if (v === undefined) return fromTable(flow);
    if ('refuse' in v) return { refuse: v.refuse, quiet: false };
    if ('honeypot' in v) return { backend: v.honeypot, honeypot: true };
    return { backend: v.backend, honeypot: false };
  };
  return (flow) => {
    if (!o.admit) return fromTable(flow);
    // Flows to unserved addresses never reach the hook: it decides only inside the served prefixes.
    const dst = parseAddress(flow.dst);
    if (!dst || o.table().lookup(flow.proto, dst, flow.dstPort).kind === 'unserved') return fromTable(flow);
    const v = o.admit(flow);
    return v instanceof Promise ? v.then((x) => fromVerdict(flow, x)) : fromVerdict(flow, v);
  };
}
