// Per-zone access lists for transfers, NOTIFY and UPDATE: address prefixes or TSIG key names, default deny.
import { z } from 'zod';
import { cidrContains, formatCidr, parseAddress, parseCidr, parseCidrResult, type Cidr } from '../net/cidr.js';
import { NameError, parseName } from '../wire/name.js';
import { perConfig } from '../config/per-config.js';
import type { StateReader } from '../answer/state-key.js';
import type { TransportInfo } from '../transport/info.js';
import { TSIG_STATUS, type TsigStatus } from '../modules/tsig/state.js';
import { TokenBuckets } from '../policy/ratelimit.js';
import { prefixKey } from '../transport/conn.js';

const prefixItem = z.string().superRefine((s, ctx) => {
  const r = parseCidrResult(s);
  if (!r.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: r.error });
});

const keyItem = z
  .object({
    key: z.string().transform((s, ctx) => {
      try {
        // Key names compare case-insensitively (RFC 8945 §4.2), as tsig.keys holds them.
        return parseName(s.endsWith('.') ? s : s + '.').toLowerCase();
      } catch (e) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a TSIG key name: ${e instanceof NameError ? e.message : String(e)}` });
        return z.NEVER;
      }
    }),
  })
  .strict();

/** `["127.0.0.0/8", "2001:db8::/32", { key: "xfr-key" }]`: any item that matches allows. */
export const aclSchema = z.array(z.union([prefixItem, keyItem])).optional();

export type AclConfig = z.output<typeof aclSchema>;

export interface CompiledAcl {
  readonly prefixes: readonly Cidr[];
  /** Absolute, lower case. */
  readonly keys: ReadonlySet<string>;
}

const EMPTY: CompiledAcl = { prefixes: [], keys: new Set() };

const compileList = perConfig((items: NonNullable<AclConfig>): CompiledAcl => {
  const prefixes: Cidr[] = [];
  const keys = new Set<string>();
  for (const item of items) {
    if (typeof item === 'string') prefixes.push(parseCidr(item)!);
    else keys.add(item.key);
  }
  return { prefixes, keys };
});

/** An absent or empty list allows nobody. */
export function compileAcl(items: AclConfig): CompiledAcl {
  return items === undefined || items.length === 0 ? EMPTY : compileList(items);
}

export interface Requester {
  readonly address: string;
  /** What the tsig guard found; a bad TSIG never reaches an ACL (the guard answered NOTAUTH). */
  readonly tsig: TsigStatus | undefined;
}

export type AclDecision = { readonly ok: true; readonly by: string } | { readonly ok: false; readonly reason: string };

/** The source address and TSIG of the query being answered. */
/** `ctx` is the QueryContext (typed by what it reads: answer/context.ts would close an import cycle through config/schema.ts). */
export function requesterOf(ctx: StateReader & { readonly transport: TransportInfo }): Requester {
  return { address: ctx.transport.remoteAddress, tsig: ctx.get(TSIG_STATUS) };
}

export function checkAcl(acl: CompiledAcl, who: Requester): AclDecision {
  if (who.tsig?.status === 'valid' && who.tsig.keyName !== undefined && acl.keys.has(who.tsig.keyName)) return { ok: true, by: `key ${who.tsig.keyName}` };
  const addr = parseAddress(who.address);
  if (addr) for (const p of acl.prefixes) if (cidrContains(p, addr)) return { ok: true, by: formatCidr(p) };
  if (acl.prefixes.length === 0 && acl.keys.size === 0) return { ok: false, reason: 'no access list (default deny)' };
  const signed = who.tsig?.status === 'valid' ? `key ${who.tsig.keyName}` : 'no TSIG';
  return { ok: false, reason: `${who.address} with ${signed} matches no item` };
}

export type AclKind = 'transfer' | 'notify' | 'update';

/** The audit log line of one access decision: info when allowed, warn when refused. */
export function auditLine(kind: AclKind, zone: string, who: Requester, d: AclDecision, extra: Record<string, unknown> = {}): { level: 'info' | 'warn'; msg: string; fields: Record<string, unknown> } {
  const fields: Record<string, unknown> = { zone, client: who.address, key: who.tsig?.status === 'valid' ? who.tsig.keyName : undefined, ...extra };
  if (d.ok) return { level: 'info', msg: `${kind} allowed`, fields: { ...fields, by: d.by } };
  return { level: 'warn', msg: `${kind} refused`, fields: { ...fields, reason: d.reason } };
}

/** Refusal lines per second per client prefix (IPv4 /24, IPv6 /56), and the burst after a quiet spell. */
const REFUSALS_PER_PREFIX = 1;
const REFUSAL_BURST_PER_PREFIX = 5;
/** Refusal lines per second from every client together: spoofed UDP sources spread over many prefixes. */
const REFUSALS_IN_ALL = 10;
const REFUSAL_BURST_IN_ALL = 20;
/** Prefixes tracked at most (bounded memory under spoofing); a forgotten one starts with a full burst. */
const REFUSAL_PREFIXES = 10_000;

/**
 * Rate limit of the audit's refusal lines (`transfer refused`, `update refused`, `notify refused`): a
 * client refused again and again — by TCP, or by UDP from forged addresses — must not be able to fill the
 * log. Past the limit a line is dropped and counted; the next line written says how many went
 * (`suppressed`). Allowed lines are never dropped: they are the record of what left the server.
 */
export class RefusalLogLimit {
  private readonly perPrefix = new TokenBuckets(REFUSALS_PER_PREFIX, REFUSAL_BURST_PER_PREFIX, REFUSAL_PREFIXES);
  private readonly inAll = new TokenBuckets(REFUSALS_IN_ALL, REFUSAL_BURST_IN_ALL, 1);
  private suppressed = 0;

  /** Whether the refusal of `address` at `nowMs` is logged: the count of lines dropped before it, or undefined to drop it. */
  admit(address: string, nowMs: number): number | undefined {
    if (!this.perPrefix.take(prefixKey(address), nowMs) || !this.inAll.take('', nowMs)) {
      this.suppressed++;
      return undefined;
    }
    const dropped = this.suppressed;
    this.suppressed = 0;
    return dropped;
  }
}
