// capability responder: DNS answers as capabilities (seed 000). A query for a service that policy
// allows gets a lease — a fresh public address from the pool, installed in the data plane as a
// translation to the service's private target before the answer leaves; a denied query gets the
// service's onDeny answer.
import { cidrCovers, formatAddress, formatCidr, parseAddress, prefixOf, type Address, type Cidr } from '../../net/cidr.js';
import { encodeClientSubnet } from '../../wire/edns.js';
import { EdnsOptionCode, Rcode, RRClass, RRType, type ResourceRecord } from '../../wire/types.js';
import { Capabilities } from '../../capability/core.js';
import { exceptionsOption } from '../../capability/exceptions.js';
import { serviceTableOf, type CompiledService } from '../../capability/services.js';
import type { Lease } from '../../state/store.js';
import { StateKey, type QueryContext } from '../../answer/context.js';
import { ANSWERED, CONTINUE, drop, fail, type Outcome, type Unit } from '../../answer/unit.js';
import { unmetRequirement } from './require.js';

/** The lease this query was answered with, for later units and logs. */
export const CAPABILITY_LEASE = new StateKey<Lease>('capability.lease');

export interface CapabilityResponderOptions {
  /** The process's capability core (store, data plane, audit); a store-only one when omitted. */
  capabilities?: Capabilities;
}

type Check = { ok: true; sourceSubnet?: Cidr; exceptions: Cidr[] } | { ok: false; reason: string };

export function capabilityResponder(opts: CapabilityResponderOptions = {}): Unit {
  let caps = opts.capabilities;
  return {
    name: 'capability',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome | Promise<Outcome> {
      // A service name is an authority of its own (answer/authority.ts): it wins over any zone holding it.
      if (ctx.authority?.kind !== 'service') return CONTINUE;
      const config = ctx.runtime.config;
      const q = ctx.query.question!;
      caps ??= new Capabilities();
      const c = caps;
      const svc = serviceTableOf(config, { now: c.now }).byName.get(q.name.toLowerCase());
      if (!svc) return CONTINUE;
      // The answer depends on the resolver, the time and randomness: never reused by the answer cache.
      ctx.response.cacheable = false;
      const family = q.type === RRType.A ? 4 : q.type === RRType.AAAA ? 6 : undefined;
      if (family === undefined || !svc.pool.has(family)) return nodata(ctx);
      const resolver = parseAddress(ctx.transport.remoteAddress);
      if (!resolver) return fail(Rcode.REFUSED, 'no resolver address');
      const cs = ctx.query.edns?.clientSubnet;
      const ecsAddr = cs && cs.sourcePrefix > 0 ? parseAddress(cs.address) : undefined;
      const ecs = ecsAddr ? prefixOf(ecsAddr, cs!.sourcePrefix) : undefined;
      return check(ctx, c, svc, resolver, ecs).then(async (verdict): Promise<Outcome> => {
        const resolverText = formatAddress(resolver);
        const ecsText = ecs ? formatCidr(ecs) : undefined;
        if (!verdict.ok) {
          c.denied(verdict.reason);
          c.audit.write({ event: 'deny', resolver: resolverText, ecs: ecsText, service: svc.key, reason: verdict.reason, onDeny: svc.config.onDeny });
          if (svc.config.onDeny !== 'honeypot') return deny(ctx, svc.config.onDeny, verdict.reason);
        }
        const honeypot = !verdict.ok;
        const exceptions = verdict.ok ? verdict.exceptions : [];
        const r = await c.lease({
          svc,
          family,
          resolver: resolverText,
          ecs: ecsText,
          sourceSubnet: verdict.ok && verdict.sourceSubnet ? formatCidr(verdict.sourceSubnet) : undefined,
          exceptions: exceptions.map(formatCidr),
          honeypot,
          config,
        });
        if (r.kind === 'exhausted') return fail(Rcode.SERVFAIL, 'capability pool exhausted');
        if (r.kind === 'install-failed') return fail(Rcode.SERVFAIL, `translation not installed: ${r.error}`);
        if (r.kind === 'store-failed') return fail(Rcode.SERVFAIL, `lease not recorded: ${r.error}`);
        ctx.set(CAPABILITY_LEASE, r.lease);
        const res = ctx.response;
        res.rcode = Rcode.NOERROR;
        res.aa = true;
        res.answer = [{ name: q.name, type: q.type, class: RRClass.IN, ttl: r.ttl, data: { address: r.lease.address } } as ResourceRecord];
        if (ctx.query.edns) {
          if (exceptions.length > 0) res.ednsOptions.push(exceptionsOption(exceptions));
          // RFC 7871 §7.2.1: a subnet-scoped answer holds for the claimed subnet only; any other
          // answer holds for every client of the resolver (scope 0, which the edns finisher echoes).
          if (cs && verdict.ok && verdict.sourceSubnet && !res.ednsOptions.some((o) => o.code === EdnsOptionCode.CLIENT_SUBNET)) {
            res.ednsOptions.push({ code: EdnsOptionCode.CLIENT_SUBNET, data: encodeClientSubnet({ ...cs, scopePrefix: cs.sourcePrefix }) });
          }
        }
        return ANSWERED;
      });
    },
  };
}

/** Policy inputs in the order of seed 000 §2.1–2.3: authentication, blocklists, rate limits, OBO, exceptions. */
async function check(ctx: QueryContext, caps: Capabilities, svc: CompiledService, resolver: Address, ecs: Cidr | undefined): Promise<Check> {
  const s = svc.config;
  const unmet = unmetRequirement(ctx, s.require);
  if (unmet) return { ok: false, reason: unmet };
  const blockedResolver = svc.blocklists.blocks(resolver);
  if (blockedResolver) return { ok: false, reason: `blocklisted resolver: ${formatCidr(blockedResolver)}` };
  if (ecs) {
    const blockedSubnet = svc.blocklists.covers(ecs);
    if (blockedSubnet) return { ok: false, reason: `blocklisted client subnet: ${formatCidr(blockedSubnet)}` };
  }
  // Seed 000 §4: a source caught scanning the pool is denied capabilities while its block lasts,
  // whether it asks itself or names itself as the client (ECS of a single address).
  if (ctx.runtime.config.capabilities.scanners) {
    const who = [formatAddress(resolver), ...(ecs && ecs.length === (ecs.family === 4 ? 32 : 128) ? [formatAddress(ecs)] : [])];
    for (const w of who) if (await caps.store.scanner(w)) return { ok: false, reason: `scanner: ${w}` };
  }
  const t = caps.now();
  // The resolver's own bucket first: one resolver over its limit must not drain the service's bucket.
  if (caps.store.shared) {
    // Every server shares the buckets (a resolver cannot multiply its rate by asking each server).
    const rl = s.rateLimit;
    if (rl?.resolver && !(await takeShared(caps, `${svc.key}|r|${formatAddress(resolver)}`, rl.resolver))) return { ok: false, reason: 'rate limit: resolver' };
    if (rl?.service && !(await takeShared(caps, `${svc.key}|s`, rl.service))) return { ok: false, reason: 'rate limit: service' };
  } else {
    if (svc.resolverBucket && !svc.resolverBucket.take(formatAddress(resolver), t)) return { ok: false, reason: 'rate limit: resolver' };
    if (svc.serviceBucket && !svc.serviceBucket.take('', t)) return { ok: false, reason: 'rate limit: service' };
  }
  let sourceSubnet: Cidr | undefined;
  if (ecs && s.scope === 'subnet') {
    // §2.2: an unverified claim could widen a capability to any address space; it is a denial.
    const v = await caps.obo.verify(resolver, ecs);
    if (!v.ok) return { ok: false, reason: `obo unverified: ${v.reason}` };
    sourceSubnet = ecs;
  }
  // §2.3: blocked hosts inside the claimed subnet do not deny the subnet; they are excepted.
  const exceptions = [...svc.exceptions.filter((e) => !ecs || cidrCovers(ecs, e) || cidrCovers(e, ecs)), ...(ecs ? svc.blocklists.inside(ecs) : [])];
  return { ok: true, sourceSubnet, exceptions };
}

/** A token from a bucket in the shared store; a store that does not answer leaves the decision to the grant (which fails closed). */
async function takeShared(caps: Capabilities, key: string, b: { qps: number; burst?: number }): Promise<boolean> {
  try {
    return await caps.store.takeToken(key, b.qps, b.burst ?? Math.max(1, b.qps));
  } catch {
    return true;
  }
}

function deny(ctx: QueryContext, how: 'refuse' | 'nxdomain' | 'nodata' | 'drop', reason: string): Outcome {
  switch (how) {
    case 'refuse':
      return fail(Rcode.REFUSED, reason);
    case 'drop':
      return drop(reason);
    case 'nxdomain':
      return negative(ctx, Rcode.NXDOMAIN);
    case 'nodata':
      return negative(ctx, Rcode.NOERROR);
  }
}

function nodata(ctx: QueryContext): Outcome {
  return negative(ctx, Rcode.NOERROR);
}

/** A negative answer with the SOA of the zone holding the name, when one does (RFC 2308 §2). */
function negative(ctx: QueryContext, rcode: number): Outcome {
  const r = ctx.response;
  r.rcode = rcode;
  r.aa = true;
  r.answer = [];
  const q = ctx.query.question!;
  const zone = ctx.runtime.zones.findAuthority(q.name, q.type);
  r.authority = zone ? [zone.negativeSoa()] : [];
  return ANSWERED;
}

