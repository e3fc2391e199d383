// policies: matches the query's attributes against the ordered `policies` list (first match wins) and
// carries out the winning action — a pool address, a static or load-balanced answer, a sinkhole, an
// rcode, drop or truncate (seed 002 §3.1–3.2). Queries no policy matches go on to the responders.
import { perConfig } from '../../config/per-config.js';
import { formatCidr, prefixOf } from '../../net/cidr.js';
import type { ActionResult } from '../../policy/actions.js';
import { PolicySet, type CompiledPolicy } from '../../policy/compile.js';
import { factsOf, type CookieState, type QueryFacts } from '../../policy/facts.js';
import { CryptoRandom, type RandomSource } from '../../pool/random.js';
import { encodeClientSubnet } from '../../wire/edns.js';
import { labelCount } from '../../wire/name.js';
import { EdnsOptionCode, Rcode } from '../../wire/types.js';
import { StateKey, type QueryContext } from '../../answer/context.js';
import { TTL_JITTER } from '../ttl-jitter/index.js';
import { cookieFacts } from '../cookies/state.js';
import { TSIG_STATUS } from '../tsig/state.js';
import type { Runtime } from '../../answer/runtime.js';
import type { Zone } from '../../zone/tree.js';
import { ANSWERED, CONTINUE, drop, fail, type Outcome, type Unit } from '../../answer/unit.js';
import { counterBy } from '../../observe/metrics/family.js';

/** The policy that decided this query, for logs and later units. */
export const MATCHED_POLICY = new StateKey<CompiledPolicy>('policy.matched');

/** Overrides the cookie state policies see (`fluxdns explain --cookie`); normally unset. */
export const COOKIE_STATE = new StateKey<CookieState>('policy.cookie-state');

export interface PolicyUnitOptions {
  rng?: RandomSource;
  now?: () => number;
}

/** One PolicySet per loaded configuration (a reload compiles afresh; rate-limit state starts over). */
export const policySetFor = perConfig((config: Runtime["config"]) => new PolicySet(config.pools, config.policies));

/** One PolicySet per loaded configuration (a reload compiles afresh; rate-limit state starts over). */
export function policySetOf(runtime: Runtime): PolicySet {
  return policySetFor(runtime.config);
}

/** valid only with a server cookie this server issued to this client (RFC 7873 §5.2.5, the cookies guard). */
export function cookieStateOf(ctx: QueryContext): CookieState {
  return ctx.get(COOKIE_STATE) ?? cookieFacts(ctx).status;
}

const matches = counterBy('fluxdns_policy_matches_total', 'Queries a policy matched, by policy name', ['policy']);

export function policiesUnit(opts: PolicyUnitOptions = {}): Unit {
  const rng = opts.rng ?? new CryptoRandom();
  const now = opts.now ?? Date.now;
  return {
    name: 'policies',
    stage: 'policy',
    handle(ctx: QueryContext): Outcome {
      const set = policySetOf(ctx.runtime);
      if (set.empty) return CONTINUE;
      const t = now();
      const facts = factsOf(ctx, cookieStateOf(ctx), new Date(t), ctx.get(TSIG_STATUS));
      const policy = set.match(facts);
      let outcome: Outcome = CONTINUE;
      if (policy) {
        ctx.set(MATCHED_POLICY, policy);
        matches.inc(policy.name);
        let action = policy.action;
        if (policy.rateLimit && !policy.rateLimit.buckets.take(rateKey(policy.rateLimit.key, facts), t)) action = policy.rateLimit.over;
        outcome = apply(ctx, set, facts, action.run(facts, rng));
        if (outcome.kind === 'answered') {
          if (policy.ttlJitter) ctx.set(TTL_JITTER, policy.ttlJitter);
          ctx.wildcardLabels = synthesizedLabels(ctx, policy, facts);
        }
      }
      // Replays skip this unit: only a query no policy could match from any client, at any time, may be.
      if (policy !== undefined || facts.byQuestion !== true) ctx.perClient = true;
      else ctx.encloserGate = set;
      // RFC 7871 §7.2.1: whatever answers, it depended on this many bits of the client subnet.
      if (facts.ecs && facts.ecsBitsUsed > 0) {
        const cs = ctx.query.edns!.clientSubnet!;
        ctx.response.ednsOptions.push({ code: EdnsOptionCode.CLIENT_SUBNET, data: encodeClientSubnet({ ...cs, scopePrefix: Math.min(facts.ecsBitsUsed, cs.sourcePrefix) }) });
      }
      return outcome;
    },
  };
}

/**
 * How many leading labels of the question name the policy stood for, as a zone wildcard does
 * (QueryContext.wildcardLabels): rrl counts its answer by the rest and the type, so random names under a
 * pattern share one bucket (modules/rrl/classify.ts). `*.dyn.lab` → every label left of dyn.lab; an exact
 * name → none (its own bucket). A pattern that fixes no suffix (a regular expression, or no qname test)
 * → every label left of the zone that holds the name (the authority's apex; the root without one).
 */
function synthesizedLabels(ctx: QueryContext, policy: CompiledPolicy, f: QueryFacts): number {
  const labels = ctx.questionLabels();
  const free = policy.freeLabels(f, labels);
  if (free !== undefined) return free;
  const a = ctx.authority;
  return a === undefined ? labels : Math.max(0, labels - labelCount(a.name));
}

/**
 * The zone whose SOA a policy's negative answer carries: the query's authority (resolved once, from the
 * table) when it is a file or policy-owned zone; otherwise (an echo zone or a service name holds the name)
 * the file zone, then the policy-owned zone, the name is in.
 */
function negativeZone(ctx: QueryContext, set: PolicySet, f: QueryFacts): Zone | undefined {
  const a = ctx.authority;
  if (a?.kind === 'file' || a?.kind === 'policy') return a.zone;
  return ctx.runtime.zones.findAuthority(f.qname, f.qtype) ?? set.findZone(f.qname);
}

function rateKey(key: 'client' | 'subnet' | 'qname', f: QueryFacts): string {
  if (key === 'qname') return f.qnameMatch;
  const addr = f.ecs?.address ?? f.source;
  if (!addr) return '';
  if (key === 'client') return addr.bytes.join('.');
  // The same aggregation as response rate limiting: /24 for IPv4, /56 for IPv6.
  return formatCidr(prefixOf(addr, addr.family === 4 ? 24 : 56));
}

function apply(ctx: QueryContext, set: PolicySet, f: QueryFacts, result: ActionResult): Outcome {
  const r = ctx.response;
  switch (result.kind) {
    case 'pass':
      return CONTINUE;
    case 'drop':
      return drop('policy: drop');
    case 'rcode':
      return fail(result.rcode, 'policy: rcode');
    case 'truncate':
      r.tc = true;
      r.aa = true;
      return ANSWERED;
    case 'answer':
      r.aa = true;
      r.answer = result.records;
      return ANSWERED;
    case 'nodata':
    case 'nxdomain': {
      r.rcode = result.kind === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR;
      r.aa = true;
      const zone = negativeZone(ctx, set, f);
      if (zone) r.authority = [zone.negativeSoa()];
      return ANSWERED;
    }
  }
}
