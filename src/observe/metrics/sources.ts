// Families read from objects made at start-up: the capability core (leases, pools, scanners) and the gateway.
import type { Capabilities } from '../../capability/core.js';
import { serviceTableOf } from '../../capability/services.js';
import type { Gateway } from '../../gateway/gateway.js';
import { leasePhase } from '../../state/store.js';
import { observed } from './family.js';

export function observeCapabilities(caps: Capabilities): void {
  const c = caps.counters;
  observed('fluxdns_capability_grants_total', 'Capability leases granted by DNS answers, by kind (new, reused, shared)', 'counter', ['kind'], () => [
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
