// Live flows by dialled address: counts per address, counters, and cutting every flow of an address.
import type { Flow, FlowEvent, GatewayStats } from './types.js';

export interface TrackedFlow {
  readonly flow: Flow;
  /** Ends the flow from the gateway's side (idle timeout, cut, shutdown). */
  close(): void;
}

export class FlowRegistry {
  private readonly byDst = new Map<string, Set<TrackedFlow>>();
  readonly stats: GatewayStats = { tcpAccepted: 0, tcpRefused: 0, udpFlows: 0, udpRefused: 0, honeypot: 0, active: 0 };

  constructor(private readonly onFlow?: (e: FlowEvent) => void) {}

  emit(e: FlowEvent): void {
    this.onFlow?.(e);
  }

  add(t: TrackedFlow): void {
    let set = this.byDst.get(t.flow.dst);
    if (!set) this.byDst.set(t.flow.dst, (set = new Set()));
    set.add(t);
    this.stats.active++;
  }

  /** Forgets a flow once it has closed; safe to call twice. */
  remove(t: TrackedFlow, bytesIn: number, bytesOut: number): void {
    const set = this.byDst.get(t.flow.dst);
    if (!set || !set.delete(t)) return;
    if (set.size === 0) this.byDst.delete(t.flow.dst);
    this.stats.active--;
    this.emit({ type: 'close', flow: t.flow, bytesIn, bytesOut });
  }

  /** Flows now open to `dst` (every address when omitted). */
  count(dst?: string): number {
    return dst === undefined ? this.stats.active : this.byDst.get(dst)?.size ?? 0;
  }

  /** Closes every flow to `dst` (a revoked capability must stop working at once); returns how many. */
  cut(dst: string): number {
    const set = this.byDst.get(dst);
    if (!set) return 0;
    const all = [...set];
    for (const t of all) t.close();
    return all.length;
  }

  closeAll(): void {
    for (const set of [...this.byDst.values()]) for (const t of [...set]) t.close();
  }
}

/** Last-activity times with an injected clock, so idle expiry is exact in tests. */
export class IdleClock<K> {
  private readonly last = new Map<K, number>();

  constructor(private readonly now: () => number) {}

  touch(k: K): void {
    this.last.set(k, this.now());
  }

  delete(k: K): void {
    this.last.delete(k);
  }

  /** Keys idle for at least `idleMs`; they stay tracked until deleted. */
  expired(idleMs: number): K[] {
    const t = this.now();
    const out: K[] = [];
    for (const [k, at] of this.last) if (t - at >= idleMs) out.push(k);
    return out;
  }

  get size(): number {
    return this.last.size;
  }
}
