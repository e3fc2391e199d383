// The `gateway` configuration key: prefix listeners and the ordered dispatch table, validated at load.
import { z } from 'zod';
import { cidrCovers, cidrSize, parseAddress, parseCidrResult, type Cidr } from '../net/cidr.js';
import type { Proto } from './types.js';

/** "IP:PORT" or "[IPv6]:PORT" with a port from 1 (not imported from config/schema: that imports this file). */
export function parseBackend(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m || !parseAddress(m[1]!)) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : undefined;
}

/** For values the schema already checked. */
export function parseCidrOrThrow(text: string): Cidr {
  const r = parseCidrResult(text);
  if (!r.ok) throw new Error(r.error);
  return r.cidr;
}

export interface PortRange {
  from: number;
  to: number;
}

/** "80" or "1000-2000" (inclusive). */
export function parsePortRange(text: string): PortRange | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || from > to) return undefined;
  return { from, to };
}

/** "tcp/80", "udp/53", "tcp/1000-2000". */
export function parseProtoPorts(text: string): { proto: Proto; range: PortRange } | undefined {
  const m = /^(tcp|udp)\/(.+)$/.exec(text);
  if (!m) return undefined;
  const range = parsePortRange(m[2]!);
  return range ? { proto: m[1] as Proto, range } : undefined;
}

const cidrText = z.string().superRefine((s, ctx) => {
  const r = parseCidrResult(s);
  if (!r.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: r.error });
});

const protoPorts = z.string().refine((s) => parseProtoPorts(s) !== undefined, {
  message: 'expected "tcp/PORT", "udp/PORT" or "tcp/FROM-TO" with ports from 1 to 65535',
});

const portRange = z
  .union([z.string(), z.number().int()])
  .transform((v) => String(v))
  .refine((s) => parsePortRange(s) !== undefined, { message: 'expected a port "80" or a range "1000-2000" from 1 to 65535' });

const backend = z.string().refine((s) => parseBackend(s) !== undefined, { message: 'expected a backend "IP:PORT" (IPv6 as "[::1]:PORT") with a literal address and a port from 1 to 65535' });

export const gatewayListenerSchema = z
  .object({
    prefixes: z.array(cidrText).min(1, 'expected at least one prefix'),
    ports: z.array(protoPorts).min(1, 'expected at least one "tcp/PORT" or "udp/PORT"'),
  })
  .strict();

export const dispatchSchema = z
  .object({
    prefix: cidrText,
    proto: z.enum(['tcp', 'udp']),
    ports: portRange,
    backend,
    proxyProtocol: z.boolean().default(false),
  })
  .strict();

/** Distinct (proto, port) sockets a configuration may open; a range of 65535 ports is a mistake. */
export const MAX_PORTS = 4096;

export const gatewaySchema = z
  .object({
    listeners: z.array(gatewayListenerSchema).min(1, 'expected at least one listener'),
    /** Ordered; the first entry matching (destination ∈ prefix, proto, port ∈ range) wins. */
    dispatch: z.array(dispatchSchema).default([]),
    /** Flows no entry matches: refuse = TCP reset / no UDP socket; drop = TCP closed quietly / datagram discarded. */
    unmatched: z.enum(['refuse', 'drop']).default('refuse'),
    udpIdleTimeout: z.number().positive().max(86400).default(30),
    tcpIdleTimeout: z.number().positive().max(86400).default(300),
    /**
     * TCP sockets: "::" serves IPv4 and IPv6 from one dual-stack wildcard socket per port; default one
     * wildcard per family; "each" binds every served address on its own (like UDP), so nothing else
     * accepts connections — for small prefixes that must stay private (the demo's loopback ones).
     */
    bind: z.enum(['0.0.0.0', '::', 'each']).optional(),
    /** Node cannot read a datagram's destination address, so UDP binds one socket per served address. */
    udpMaxSockets: z.number().int().min(1).max(65536).default(4096),
    udpMaxFlows: z.number().int().min(1).max(1_000_000).default(10000),
  })
  .strict()
  .superRefine((g, ctx) => {
    const listeners = g.listeners.map((l) => ({
      prefixes: l.prefixes.map((p) => parseCidrResult(p)).flatMap((r) => (r.ok ? [r.cidr] : [])),
      ports: l.ports.map(parseProtoPorts).flatMap((p) => (p ? [p] : [])),
    }));
    const keys = new Set<string>();
    for (const l of listeners) for (const p of l.ports) for (let n = p.range.from; n <= p.range.to && keys.size <= MAX_PORTS; n++) keys.add(`${p.proto}/${n}`);
    if (keys.size > MAX_PORTS) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['listeners'], message: `expected at most ${MAX_PORTS} distinct (protocol, port) pairs over all listeners` });
      return;
    }
    if (g.bind === '0.0.0.0') {
      g.listeners.forEach((l, i) =>
        l.prefixes.forEach((p, j) => {
          if (p.includes(':')) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['listeners', i, 'prefixes', j], message: 'an IPv6 prefix needs bind "::" (or no bind)' });
        }),
      );
    }
    // One socket per served address and port: always for UDP, for TCP with bind: each.
    const perAddress = (proto: 'udp' | 'tcp') => {
      let n = 0n;
      for (const key of keys) {
        if (!key.startsWith(`${proto}/`)) continue;
        const port = Number(key.slice(4));
        const served = listeners.filter((l) => l.ports.some((p) => p.proto === proto && p.range.from <= port && port <= p.range.to)).flatMap((l) => l.prefixes);
        n += addressCount(served);
      }
      return n;
    };
    const udpSockets = perAddress('udp');
    if (udpSockets > BigInt(g.udpMaxSockets)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['listeners'],
        message: `UDP listeners need ${udpSockets} sockets (one per served address and port: Node cannot read a datagram's destination address); expected at most udpMaxSockets (${g.udpMaxSockets}) — use smaller UDP prefixes or raise udpMaxSockets`,
      });
    }
    const tcpSockets = g.bind === 'each' ? perAddress('tcp') : 0n;
    if (tcpSockets > BigInt(g.udpMaxSockets)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['bind'],
        message: `bind "each" needs ${tcpSockets} TCP sockets (one per served address and port); expected at most udpMaxSockets (${g.udpMaxSockets}) — use smaller prefixes or a wildcard bind`,
      });
    }
    g.dispatch.forEach((d, i) => {
      const prefix = parseCidrResult(d.prefix);
      const range = parsePortRange(d.ports);
      if (!prefix.ok || !range) return;
      for (let port = range.from; port <= range.to; port++) {
        const covered = listeners.some((l) => l.ports.some((p) => p.proto === d.proto && p.range.from <= port && port <= p.range.to) && l.prefixes.some((c) => cidrCovers(c, prefix.cidr)));
        if (!covered) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['dispatch', i],
            message: `${d.prefix} ${d.proto}/${port} is outside every listener; expected a listener whose prefixes cover ${d.prefix} and whose ports include ${d.proto}/${port}`,
          });
          return;
        }
      }
    });
  });

/** Addresses in the union of prefixes (prefixes either nest or are disjoint). */
export function addressCount(prefixes: readonly Cidr[]): bigint {
  const outer = prefixes.filter((c, i) => !prefixes.some((o, j) => j !== i && cidrCovers(o, c) && (o.length < c.length || j < i)));
  return outer.reduce((n, c) => n + cidrSize(c), 0n);
}

export type GatewayConfig = z.output<typeof gatewaySchema>;
export type DispatchConfig = z.output<typeof dispatchSchema>;
