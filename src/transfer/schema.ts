// The per-zone configuration keys of the primary role: access lists, NOTIFY targets, serial policy, journal.
import { z } from 'zod';
import { isIP } from 'node:net';
import { aclSchema } from './acl.js';

/** "IP:PORT" or "[IPv6]:PORT" (as config/schema.ts's parseHostPort; not imported: the config schema imports this file). */
export function parseTarget(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m || !isIP(m[1]!) || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!, port: Number(m[2]) };
}

const notifyAddress = z.string().refine((s) => parseTarget(s) !== undefined, {
  message: 'expected "IP:PORT" (IPv6 as "[::1]:PORT") of a secondary to notify',
});

const notifyTarget = z.union([
  notifyAddress,
  z
    .object({
      address: notifyAddress,
      /** A key from tsig.keys the NOTIFY is signed with (RFC 8945), for a secondary that accepts only signed ones; its answer must verify. */
      tsigKey: z.string().min(1).transform((s) => (s.endsWith('.') ? s : s + '.').toLowerCase()).optional(),
    })
    .strict(),
]);
export type NotifyTargetConfig = z.output<typeof notifyTarget>;

/** A notify item's "IP:PORT" and key name. */
export function notifyTargetParts(t: NotifyTargetConfig): { address: string; tsigKey?: string } {
  return typeof t === 'string' ? { address: t } : t;
}

/** Spread into the zone schema (src/config/schema.ts). */
export const transferZoneKeys = {
  /** Who may AXFR/IXFR the zone (RFC 5936 §6); absent: nobody. */
  allowTransfer: aclSchema,
  /** Whose NOTIFY (RFC 1996) is accepted for the zone (the secondary role); absent: nobody. */
  allowNotify: aclSchema,
  /** Who may send dynamic updates (RFC 2136, RFC 3007); absent: nobody. */
  allowUpdate: aclSchema,
  /**
   * Secondaries told of every new serial by NOTIFY, retried with backoff (capped) until they answer or
   * the next serial replaces it: "IP:PORT", or { address: "IP:PORT", tsigKey: NAME } to sign it.
   */
  notify: z.array(notifyTarget).default([]),
  /**
   * What a reload does when the data changed but the serial did not: `manual` refuses the new
   * version of the zone (the old one keeps serving); `increment` adds one (RFC 1982); `unixtime`
   * uses the time in seconds, or one more than the old serial when that is not larger; `auto` goes on
   * as the serial looks (a unix time stays one, a YYYYMMDDnn date serial takes today's date, any
   * other number is incremented).
   */
  serial: z.enum(['manual', 'increment', 'unixtime', 'auto']).default('manual'),
  /** The journal of differences IXFR answers from and UPDATEs are written to before they are acknowledged. */
  journal: z
    .object({
      /** Default: the zone file's path + ".jnl". */
      file: z.string().min(1).optional(),
      /** Bytes the journal may take; the oldest differences go first (their IXFR falls back to AXFR). */
      maxSize: z.number().int().min(4096).default(10 * 1024 * 1024),
    })
    .strict()
    .default({}),
};

/**
 * How NOTIFY is resent until a secondary answers (top-level `notify:`, for every zone): `tries` sends at
 * a doubling interval from `firstRetry` seconds, then every `maxRetry` seconds until answered or
 * replaced by a newer serial (the slow secondary is logged once, after `tries`). The TSIG fudge of
 * signed NOTIFYs is `tsig.fudge`.
 */
export const notifySettingsSchema = z
  .object({
    tries: z.number().int().min(1).max(1000).default(8),
    firstRetry: z.number().positive().max(3600).default(1),
    maxRetry: z.number().positive().max(86400).default(60),
  })
  .strict()
  .default({});
