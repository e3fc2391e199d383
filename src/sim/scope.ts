// The scope key of a connection: who a translation is granted to (seed 000 §2.2 and §3.3, footnote 8).
import { formatCidr, parseAddress, prefixOf } from '../net/cidr.js';
import type { Connection } from './csv.js';

/**
 * resolver: one address per (resolver, server), the seed's mapping of each resolver R to its own A.
 * subnet24: one per (client's /24, server), the seed's "clients within the same /24" variant; an IPv6
 * client is grouped by its /56 (a typical end-site allocation; the same default as RRL's ipv6Prefix).
 */
export type Scope = 'resolver' | 'subnet24';
export const SCOPES: readonly Scope[] = ['resolver', 'subnet24'];

export function scopeKey(scope: Scope, c: Connection): string {
  if (scope === 'resolver') return c.resolver;
  const dot = c.client.lastIndexOf('.');
  // Dotted quad fast path: millions of lines, and "a.b.c.d" -> "a.b.c" is the /24 already.
  if (dot > 0 && c.client.indexOf(':') < 0) return c.client.slice(0, dot);
  const a = parseAddress(c.client);
  if (!a) return c.client;
  return formatCidr(prefixOf(a, a.family === 4 ? 24 : 56));
}
