// Per-zone access lists for transfers, NOTIFY and UPDATE: address prefixes or TSIG key names, default deny.
import { z } from 'zod';
import { cidrContains, formatCidr, parseAddress, parseCidr, parseCidrResult, type Cidr } from '../net/cidr.js';
import { NameError, parseName } from '../wire/name.js';
import { perConfig } from '../config/per-config.js';
import type { StateReader } from '../answer/state-key.js';
import type { TransportInfo } from '../transport/info.js';
import { TSIG_STATUS, type TsigStatus } from '../modules/tsig/state.js';

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
