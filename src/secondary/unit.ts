// Pipeline units of the secondary role: NOTIFY in (RFC 1996 §3.7) and SERVFAIL for a secondary zone not served (never transferred, or expired).
import { perConfig } from '../config/per-config.js';
import type { Config } from '../config/schema.js';
import type { QueryContext } from '../answer/context.js';
import { TSIG_STATUS } from '../modules/tsig/index.js';
import { ANSWERED, CONTINUE, fail, type Outcome, type Unit } from '../answer/unit.js';
import { parseAddress } from '../net/cidr.js';
import { isSubdomain, nameKey } from '../wire/name.js';
import { Opcode, Rcode, RRClass, RRType } from '../wire/types.js';
import { parsePrimaryAddress } from './schema.js';
import { checkAcl, compileAcl, requesterOf, type CompiledAcl } from '../transfer/acl.js';

type NotifyHandler = (zone: string, from: string) => void;
let handler: NotifyHandler | undefined;

/**
 * Where an accepted NOTIFY goes: the process's SecondaryManager, or (in a worker of `workers: N`) a
 * message to the primary process, which runs the transfers. Set once at start.
 */
export function setNotifyHandler(h: NotifyHandler | undefined): void {
  handler = h;
}

interface SecondaryIndex {
  /** Zone key → the primaries' addresses (normalized) and the keys they use. */
  zones: Map<string, { name: string; addresses: Set<string>; keys: Set<string>; allowNotify: CompiledAcl }>;
  /** Zone keys, deepest first. */
  names: string[];
}

/** One spelling per address (an IPv4-mapped IPv6 peer is its IPv4 address; parseAddress unmaps it). */
const normalize = (a: string): string => {
  const p = parseAddress(a);
  return p ? `${p.family}/${p.bytes.join('.')}` : a;
};

const indexOf = perConfig((config: Config): SecondaryIndex => {
  const zones: SecondaryIndex['zones'] = new Map();
  for (const z of config.zones) {
    if (!z.primaries) continue;
    const addresses = new Set<string>();
    const keys = new Set<string>();
    for (const p of z.primaries) {
      const spec = typeof p === 'string' ? { address: p, tsigKey: undefined } : p;
      const hp = parsePrimaryAddress(spec.address);
      if (hp) addresses.add(normalize(hp.host));
      if (spec.tsigKey) keys.add(spec.tsigKey);
    }
    zones.set(nameKey(z.name), { name: z.name, addresses, keys, allowNotify: compileAcl(z.allowNotify) });
  }
  const names = [...zones.keys()].sort((a, b) => b.length - a.length);
  return { zones, names };
});

/**
 * NOTIFY for a secondary zone: accepted from one of its primaries' addresses, signed with a key one
 * of its primaries uses, or allowed by the zone's `allowNotify` (src/transfer/acl.ts) — RFC 1996
 * §3.10 leaves the check to the secondary; BIND accepts its primaries and `allow-notify`. Answered NOERROR with AA (§3.7), then the zone's primary is checked. A NOTIFY for a
 * zone we are not a secondary of is NOTAUTH (as BIND answers); one from elsewhere is REFUSED.
 */
export function notifyGuard(): Unit {
  return {
    name: 'notify',
    stage: 'guard',
    handle(ctx: QueryContext): Outcome {
      const q = ctx.query;
      if (q.opcode !== Opcode.NOTIFY || q.qr || q.error || !q.question) return CONTINUE;
      const question = q.question;
      if (question.type !== RRType.SOA || question.class !== RRClass.IN) return fail(Rcode.FORMERR, 'NOTIFY for a type other than SOA');
      const z = indexOf(ctx.runtime.config).zones.get(nameKey(question.name));
      if (!z) return fail(Rcode.NOTAUTH, `NOTIFY for ${question.name}: not a secondary zone here`);
      const tsig = ctx.get(TSIG_STATUS);
      const byKey = tsig?.status === 'valid' && tsig.keyName !== undefined && z.keys.has(tsig.keyName);
      const byAddress = z.addresses.has(normalize(ctx.transport.remoteAddress));
      if (!byKey && !byAddress && !checkAcl(z.allowNotify, requesterOf(ctx)).ok) return fail(Rcode.REFUSED, `NOTIFY for ${z.name} from ${ctx.transport.remoteAddress}: not one of its primaries`);
      handler?.(z.name, ctx.transport.remoteAddress);
      ctx.response.aa = true;
      ctx.response.cacheable = false;
      return ANSWERED;
    },
  };
}

/**
 * A query inside a secondary zone that is not served (before its first transfer, or expired: RFC
 * 1035 §3.3.13 says the zone is no longer authoritative) gets SERVFAIL, as BIND and Knot answer —
 * unless a deeper zone that is served holds the name.
 */
export function secondaryServfail(): Unit {
  return {
    name: 'secondary-servfail',
    stage: 'responder',
    handle(ctx: QueryContext): Outcome {
      const idx = indexOf(ctx.runtime.config);
      if (idx.names.length === 0) return CONTINUE;
      const q = ctx.query.question!;
      const name = q.name;
      const secondary = idx.names.find((k) => isSubdomain(name, k));
      if (secondary === undefined) return CONTINUE;
      const served = ctx.runtime.zones.find(name);
      if (served && served.originKey.length >= secondary.length) return CONTINUE;
      return fail(Rcode.SERVFAIL, `secondary zone ${idx.zones.get(secondary)!.name} is not loaded (not transferred yet, or expired)`);
    },
  };
}
