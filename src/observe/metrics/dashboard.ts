// The dashboard's data (/dashboard.json): totals from the merged families, top lists from the extras.
import type { MetricsSnapshot } from './collect.js';
import type { FamilyJson } from './family.js';
import { mergeTop } from './topk.js';

export interface DashboardData {
  /** Milliseconds since the epoch when collected; the page turns counter deltas into rates with it. */
  time: number;
  workers: number;
  queries: { total: number; byRcode: Record<string, number>; byTransport: Record<string, number> };
  /** Cumulative latency histogram: [upper bound in seconds ('+Inf' last), queries at or below]. */
  latency: [string, number][];
  topNames: [string, number][];
  topClients: [string, number][];
  zones: { zone: string; serial: number | null; queries: number }[];
  capabilities: { leases: number; grants: number; denied: Record<string, number>; exhausted: number; pools: { pool: string; used: number; size: number }[]; scanners: number };
  echo: Record<string, number>;
}

const TOP = 15;

type TopLists = { names: [string, number][]; clients: [string, number][] };

export function dashboardData(s: MetricsSnapshot): DashboardData {
  const fam = new Map(s.families.map((f) => [f.name, f]));
  const by = (name: string, label: string) => sumBy(fam.get(name), label);
  const queries = by('fluxdns_queries_total', 'rcode');
  const serials = by('fluxdns_zone_serial', 'zone');
  const zoneQueries = by('fluxdns_zone_queries_total', 'zone');
  const zones = [...new Set([...Object.keys(serials), ...Object.keys(zoneQueries).filter((z) => z !== '')])].sort();
  const used = by('fluxdns_capability_pool_addresses_used', 'pool');
  const size = by('fluxdns_capability_pool_addresses', 'pool');
  return {
    time: Date.now(),
    workers: s.extras.length,
    queries: { total: Object.values(queries).reduce((a, b) => a + b, 0), byRcode: queries, byTransport: by('fluxdns_queries_total', 'transport') },
    latency: (fam.get('fluxdns_query_duration_seconds')?.values ?? []).filter((v) => v.metricName?.endsWith('_bucket')).map((v) => [v.labels['le'] ?? '', v.value]),
    topNames: mergeTop(s.extras.map((e) => (e['top'] as TopLists | undefined)?.names ?? []), TOP),
    topClients: mergeTop(s.extras.map((e) => (e['top'] as TopLists | undefined)?.clients ?? []), TOP),
    zones: zones.map((zone) => ({ zone, serial: serials[zone] ?? null, queries: zoneQueries[zone] ?? 0 })),
    capabilities: {
      leases: total(fam.get('fluxdns_capability_leases')),
      grants: total(fam.get('fluxdns_capability_grants_total')),
      denied: by('fluxdns_capability_denials_total', 'reason'),
      exhausted: total(fam.get('fluxdns_capability_pool_exhausted_total')),
      pools: Object.keys(size).sort().map((pool) => ({ pool, used: used[pool] ?? 0, size: size[pool]! })),
      scanners: total(fam.get('fluxdns_capability_scanners')),
    },
    echo: by('fluxdns_echo_answers_total', 'method'),
  };
}

function sumBy(f: FamilyJson | undefined, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of f?.values ?? []) {
    const k = v.labels[label] ?? '';
    out[k] = (out[k] ?? 0) + v.value;
  }
  return out;
}

function total(f: FamilyJson | undefined): number {
  return (f?.values ?? []).reduce((a, v) => a + v.value, 0);
}
