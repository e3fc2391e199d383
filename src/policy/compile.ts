// Turns `pools` and `policies` into a PolicySet: compiled tests, actions, rate limits and owned zones.
import { parseCidr } from '../net/cidr.js';
import { AddressPool } from '../pool/pool.js';
import { nameKey, parentName } from '../wire/name.js';
import { RRType, type ResourceRecord, type SOARdata, type TargetRdata } from '../wire/types.js';
import { Zone } from '../zone/tree.js';
import type { CompiledStore } from '../zone/compiled.js';
import type { LookupResult } from '../zone/lookup.js';
import { compileAction, type CompiledAction } from './actions.js';
import type { QueryFacts } from './facts.js';
import { compileMatch, stripDot, type Test } from './match.js';
import { TokenBuckets } from './ratelimit.js';
import type { PolicyConfig, PoolConfig } from './schema.js';

export interface CompiledPolicy {
  /** 1-based position in the list, and the name when one is given. */
  readonly index: number;
  readonly name: string;
  readonly tests: readonly Test[];
  readonly action: CompiledAction;
  readonly rateLimit?: { readonly key: 'client' | 'subnet' | 'qname'; readonly buckets: TokenBuckets; readonly over: CompiledAction; readonly describe: string };
  readonly ttlJitter?: { readonly min: number };
  /**
   * For a name this policy matched, with `labels` labels: how many leading ones its qname pattern left
   * free (match.ts Test.freeLabels; rrl's bucket for its answers). Undefined when no pattern fixes a
   * suffix: a regular expression, or no qname test at all.
   */
  readonly freeLabels: (f: QueryFacts, labels: number) => number | undefined;
}

export interface TraceLine {
  policy: CompiledPolicy;
  matched: boolean;
  /** The first test that failed, and why. */
  failed?: { label: string; why: string };
}

export class PolicySet {
  readonly pools = new Map<string, AddressPool>();
  readonly policies: CompiledPolicy[] = [];
  /** Zones owned by policies, by key: SOA and NS at the apex, every other name is the policies'. */
  readonly zones = new Map<string, Zone>();
  /** passesBelow's verdicts. */
  private readonly below = new WeakMap<CompiledStore, Map<number, boolean>>();

  constructor(pools: readonly PoolConfig[], policies: readonly PolicyConfig[]) {
    for (const p of pools) this.pools.set(p.name, new AddressPool(p.name, p.prefixes.map((c) => parseCidr(c)!), p.exclude.map((c) => parseCidr(c)!)));
    policies.forEach((p, i) => {
      const rl = p.rateLimit;
      const tests = compileMatch(p.match);
      const qname = tests.find((t) => t.freeLabels !== undefined);
      this.policies.push({
        index: i + 1,
        name: p.name ?? `#${i + 1}`,
        tests,
        action: compileAction(p.action, this.pools),
        rateLimit: rl && {
          key: rl.key,
          buckets: new TokenBuckets(rl.qps, rl.burst ?? rl.qps),
          over: compileAction(rl.over, this.pools),
          describe: `${rl.qps} qps (burst ${rl.burst ?? rl.qps}) per ${rl.key}`,
        },
        ttlJitter: p.ttlJitter,
        freeLabels: (f, labels) => qname?.freeLabels?.(f, labels),
      });
      if (p.zone && !this.zones.has(nameKey(p.zone.name))) this.zones.set(nameKey(p.zone.name), policyZone(p.zone.name, p.zone.nameservers));
    });
  }

  get empty(): boolean {
    return this.policies.length === 0;
  }

  /**
   * First match wins. Every test of a policy runs in order and stops at the first that fails. With no
   * match, f.byQuestion says whether each policy failed on a test of the question alone.
   */
  match(f: QueryFacts, trace?: TraceLine[]): CompiledPolicy | undefined {
    let byQuestion = true;
    for (const p of this.policies) {
      let failed: Test | undefined;
      for (const t of p.tests) {
        if (!t.holds(f)) {
          failed = t;
          break;
        }
      }
      trace?.push({ policy: p, matched: !failed, failed: failed && { label: failed.label, why: failed.why(f) } });
      if (!failed) return p;
      // qname and qtype tests (those with mayHoldBelow) come first (compileMatch): a policy that failed on another one would have
      // matched these bytes from another client, at another time or over another transport.
      if (failed.mayHoldBelow === undefined) byQuestion = false;
    }
    f.byQuestion = byQuestion;
    return undefined;
  }

  /**
   * answer/context.ts EncloserGate: whether no policy may match a name strictly below the closest
   * encloser of `result` asked with `qtype` (every policy has a qname or qtype test that rules all such
   * names out; any other test may hold for some client). Kept per zone store, node and type: a store is
   * never changed (a reload or update makes a new one), and the map is emptied when it grows past 65,536.
   */
  passesBelow(result: LookupResult, qtype: number): boolean {
    const node = result.encloserNode ?? -1;
    const store = result.zone?.store;
    if (node < 0 || store === undefined) return false;
    let seen = this.below.get(store);
    if (seen === undefined) this.below.set(store, (seen = new Map()));
    const key = node * 65536 + qtype;
    let passes = seen.get(key);
    if (passes === undefined) {
      if (seen.size >= 65536) seen.clear();
      const e = stripDot(store.nodeText(node));
      passes = !this.policies.some((p) => p.tests.every((t) => t.mayHoldBelow?.(e, qtype) ?? true));
      seen.set(key, passes);
    }
    return passes;
  }

  /** The policy-owned zone holding `name`, by longest suffix. */
  findZone(name: string): Zone | undefined {
    if (this.zones.size === 0) return undefined;
    let key = nameKey(name);
    for (;;) {
      const z = this.zones.get(key);
      if (z) return z;
      if (key === '.') return undefined;
      key = parentName(key);
    }
  }
}

/** A zone with only its apex: SOA (serial 1, short negative TTL) and NS, so resolvers can cache and delegate. */
function policyZone(origin: string, nameservers: string[] | undefined): Zone {
  const ns = nameservers ?? [`ns1.${origin}`];
  const soa: ResourceRecord<SOARdata> = {
    name: origin,
    type: RRType.SOA,
    class: 1,
    ttl: 3600,
    data: { mname: ns[0]!, rname: `hostmaster.${origin}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 60 },
  };
  const nsRecords: ResourceRecord<TargetRdata>[] = ns.map((target) => ({ name: origin, type: RRType.NS, class: 1, ttl: 3600, data: { target } }));
  return Zone.build(origin, [soa, ...nsRecords]);
}
