// Configuration of the secondary role (zones[].primaries), ZONEMD computation (zones[].zonemd) and the catalog zone (catalog).
import { isIP } from 'node:net';
import { z } from 'zod';
import { notifyTargetParts, transferZoneKeys, type NotifyTargetConfig } from '../transfer/schema.js';
import { domainName } from '../wire/domain-name.js';

/** "IP:PORT" or "[IPv6]:PORT" (the port defaults to 53 when left out). */
export function parsePrimaryAddress(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(text) ?? (isIP(text) === 6 ? [text, text, undefined] : null);
  if (!m) return undefined;
  const host = m[1]!;
  const port = m[2] === undefined ? 53 : Number(m[2]);
  if (!isIP(host) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

const address = z.string().refine((s) => parsePrimaryAddress(s) !== undefined, {
  message: 'expected a primary\'s "IP:PORT" (IPv6 as "[::1]:PORT"; port 53 when left out) with a literal address',
});

const primarySchema = z.union([
  address,
  z
    .object({
      address,
      /** A key from tsig.keys: every request is signed with it and every response message must verify (RFC 8945). */
      tsigKey: z.string().min(1).transform((s) => (s.endsWith('.') ? s : s + '.').toLowerCase()).optional(),
      /** XoT (RFC 9103): TLS to the primary, its certificate verified. `true` uses the system CAs and the address. */
      tls: z
        .union([
          z.literal(true),
          z
            .object({
              /** PEM file of the CA (or the self-signed certificate) the primary's certificate must chain to, relative to the configuration. */
              ca: z.string().min(1).optional(),
              /** The name the certificate must carry (default: the address, as an IP SAN). */
              serverName: z.string().min(1).optional(),
            })
            .strict(),
        ])
        .optional(),
    })
    .strict(),
]);

export const primariesSchema = z.array(primarySchema).min(1, 'expected at least one primary').optional();
export type PrimaryConfig = z.output<typeof primarySchema>;

export const zonemdSchema = z.enum(['sha384', 'sha512']).optional();

export const catalogSchema = z
  .object({
    /** The catalog zone's name (RFC 9432), e.g. catalog.example.: it lists every primary zone served here. */
    zone: domainName,
    /** Who may transfer the catalog (the consumers: Knot `catalog-role: interpret`, BIND `catalog-zones`); absent: nobody. */
    allowTransfer: transferZoneKeys.allowTransfer,
    /** Consumers told by NOTIFY when the catalog changes. */
    notify: transferZoneKeys.notify,
  })
  .strict()
  .optional();
export type CatalogConfig = NonNullable<z.output<typeof catalogSchema>>;

interface RefsInput {
  zones: readonly { name: string; primaries?: readonly PrimaryConfig[]; zonemd?: string; notify?: readonly NotifyTargetConfig[] }[];
  tsig: { keys: readonly { name: string }[] };
  catalog?: { zone: string; notify?: readonly NotifyTargetConfig[] };
}

/** Cross-checks: a primary's or a notify target's tsigKey names a key in tsig.keys; zonemd is for primary zones; the catalog is not a configured zone. */
export function checkSecondaryRefs(c: RefsInput, ctx: z.RefinementCtx): void {
  const keys = new Set(c.tsig.keys.map((k) => k.name));
  const notifyKeys = (targets: readonly NotifyTargetConfig[] | undefined, path: (string | number)[]) =>
    targets?.forEach((t, j) => {
      const key = notifyTargetParts(t).tsigKey;
      if (key === undefined || keys.has(key)) return;
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [...path, j, 'tsigKey'], message: `expected the name of a key in tsig.keys (${[...keys].join(', ') || 'none defined'}), found ${JSON.stringify(key)}` });
    });
  notifyKeys(c.catalog?.notify, ['catalog', 'notify']);
  c.zones.forEach((zc, i) => {
    notifyKeys(zc.notify, ['zones', i, 'notify']);
    zc.primaries?.forEach((p, j) => {
      if (typeof p === 'string' || p.tsigKey === undefined || keys.has(p.tsigKey)) return;
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['zones', i, 'primaries', j, 'tsigKey'], message: `expected the name of a key in tsig.keys (${[...keys].join(', ') || 'none defined'}), found ${JSON.stringify(p.tsigKey)}` });
    });
    if (zc.primaries && zc.zonemd) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['zones', i, 'zonemd'], message: 'zonemd is computed for a primary zone; a secondary zone keeps the ZONEMD its primary sends (and verifies it)' });
    }
    if (c.catalog && zc.name.toLowerCase() === c.catalog.zone.toLowerCase()) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['catalog', 'zone'], message: `the catalog zone ${c.catalog.zone} is built by fluxdns; it must not also be listed under zones` });
    }
  });
}
