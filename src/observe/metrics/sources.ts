// Families read from objects made at start-up: the capability core (leases, pools, scanners) and the gateway.
import type { Capabilities } from '../../capability/core.js';
import { serviceTableOf } from '../../capability/services.js';
import type { Gateway } from '../../gateway/gateway.js';
import { leasePhase } from '../../state/store.js';
import { attackCounters } from '../attack-counters.js';
import { observed } from './family.js';

export function observeCapabilities(caps: Capabilities): void {
  const c = caps.counters;
  observed('fluxdns_capability_grants_total', 'Capability leases granted by DNS answers, by kind (new, reused)', 'counter', ['kind'], () => [
    [['new'], c.grants],
    [['reused'], c.reused],
  ]);
  observed('fluxdns_capability_denials_total', 'Capability answers denied, by reason', 'counter', ['reason'], () => Object.entries(c.denied).map(([r, n]) => [[r], n]));
  observed('fluxdns_capability_pool_exhausted_total', 'Grants refused because the pool had no free address', 'counter', [], () => [[[], c.exhausted]]);
  observed('fluxdns_capability_install_failures_total', 'Grants whose translation the data plane failed to install', 'counter', [], () => [[[], c.installFailures]]);
  observed('fluxdns_capability_revoked_total', 'Leases revoked', 'counter', [], () => [[[], c.revoked]]);
  observed('fluxdns_capability_expired_total', 'Leases expired', 'counter', [], () => [[[], c.expired]]);
  // Leases live in the shared store: every worker sees the same ones, so the merge takes one, not the sum.
  observed('fluxdns_capability_leases', 'Leases in the store, by phase (live, grace, quarantine)', 'gauge', ['phase'], async () => {
    const t = caps.now();
    const by = new Map<string, number>([['live', 0], ['grace', 0], ['quarantine', 0]]);
    for (const l of await caps.store.list()) {
      const p = leasePhase(l, t);
      if (p !== 'gone') by.set(p, (by.get(p) ?? 0) + 1);
    }
    return [...by].map(([p, n]) => [[p], n]);
  }, 'max');
  observed('fluxdns_capability_pool_addresses_used', 'Pool addresses held by a lease (any phase but gone), per pool', 'gauge', ['pool'], async () => poolUse(caps), 'max');
  observed('fluxdns_capability_pool_addresses', 'Addresses in each pool (IPv4 and IPv6)', 'gauge', ['pool'], () => {
    let config;
    try {
      config = caps.config();
    } catch {
      return [];
    }
    const table = serviceTableOf(config);
    return table.pools.map((p) => [[p.name], Number(p.size(4) + p.size(6))]);
  }, 'max');
  observed('fluxdns_capability_scanners', 'Sources blocklisted as scanners now', 'gauge', [], async () => [[[], (await caps.store.scanners()).length]], 'max');
}

async function poolUse(caps: Capabilities): Promise<[string[], number][]> {
  let config;
  try {
    config = caps.config();
  } catch {
    return [];
  }
  const table = serviceTableOf(config);
  const used = new Map<string, Set<string>>(table.pools.map((p) => [p.name, new Set<string>()]));
  const t = caps.now();
  for (const l of await caps.store.list()) {
    const svc = table.byKey.get(l.service);
    if (svc && leasePhase(l, t) !== 'gone') used.get(svc.pool.name)?.add(l.address);
  }
  return [...used].map(([p, s]) => [[p], s.size]);
}

export function observeGateway(gateway: Gateway): void {
  observed('fluxdns_gateway_flows_total', 'Flows at the gateway, by protocol and result (admitted, refused)', 'counter', ['proto', 'result'], () => {
    const s = gateway.stats();
    return [
      [['tcp', 'admitted'], s.tcpAccepted],
      [['tcp', 'refused'], s.tcpRefused],
      [['udp', 'admitted'], s.udpFlows],
      [['udp', 'refused'], s.udpRefused],
    ];
  });
  observed('fluxdns_gateway_honeypot_flows_total', 'Flows sent to the honeypot', 'counter', [], () => [[[], gateway.stats().honeypot]]);
  observed('fluxdns_gateway_active_flows', 'Flows open now', 'gauge', [], () => [[[], gateway.stats().active]]);
}

/** The abuse defences' counters (issue 16): connection slots, descriptor budget, TSIG limits, RRL buckets. */
export function observeAttackDefences(): void {
  const a = attackCounters;
  observed('fluxdns_stream_connections_refused_total', 'TCP, DoT and DoH connections refused, by reason (full, per_client, per_prefix, accept_rate)', 'counter', ['reason'], () => {
    const s = a.stream;
    if (!s) return [];
    return [
      [['full'], s.refusedTotal],
      [['per_client'], s.refusedPerClient],
      [['per_prefix'], s.refusedPerPrefix],
      [['accept_rate'], s.refusedAcceptRate],
    ];
  });
  observed('fluxdns_stream_connections_evicted_total', 'Stream connections closed to make room for a newcomer', 'counter', [], () => (a.stream ? [[[], a.stream.evicted]] : []));
  observed('fluxdns_stream_connections_timed_out_total', 'Stream connections closed by a timeout, by kind (idle_shortened: the busy idle timeout, timeout: any other)', 'counter', ['kind'], () =>
    a.stream ? [[['idle_shortened'], a.stream.idleShortened], [['timeout'], a.stream.timedOut]] : [],
  );
  observed('fluxdns_gateway_descriptors', 'Descriptors of the gateway flows and relays: limit, budget, in_use', 'gauge', ['kind'], () => [
    [['limit'], a.fd.limit],
    [['budget'], a.fd.budget],
    [['in_use'], a.fd.inUse],
  ]);
  observed('fluxdns_gateway_descriptor_evictions_total', 'Gateway flows or relays closed to stay within the descriptor budget', 'counter', [], () => [[[], a.fd.evicted]]);
  observed('fluxdns_gateway_refused_per_source_total', 'Gateway flows refused because their source held its share of descriptors', 'counter', [], () => [[[], a.fd.refusedPerSource]]);
  observed('fluxdns_tsig_errors_total', 'TSIG error answers (BADSIG, BADKEY, BADTIME), by outcome (answered, dropped by the per-prefix rate)', 'counter', ['outcome'], () => [
    [['answered'], a.tsig.errorsAnswered],
    [['dropped'], a.tsig.errorsDropped],
  ]);
  observed('fluxdns_tsig_replays_refused_total', 'Signed queries refused as replays (the same key and MAC within the fudge window)', 'counter', [], () => [[[], a.tsig.replaysRefused]]);
  observed('fluxdns_rrl_buckets_evicted_total', 'RRL buckets evicted because the table was full', 'counter', [], () => (a.rrl ? [[[], a.rrl.evicted]] : []));
}
