// The userspace data plane: the gateway admits a flow to a pool address only under a lease that
// allows its source now, and relays it to the lease's target (seed 000 §2 without a kernel NAT).
//
// The store is the translation table: a lease claimed there is in force for the next flow, so
// install() has nothing to wait for, and gateways sharing a store (Redis) see every server's grants.
import { cidrContains, parseAddress, parseCidr, type Address } from '../net/cidr.js';
import type { Gateway } from '../gateway/gateway.js';
import type { Backend, Flow, FlowEvent, GatewayHooks, Verdict } from '../gateway/types.js';
import type { AddressPool } from '../pool/pool.js';
import { leaseCovers, leasePhase, type Lease, type StateStore } from '../state/store.js';
import type { AuditLog } from './audit.js';
import type { DataPlane } from './dataplane.js';
import { parseTarget } from './schema.js';

export interface UserspaceOptions {
  store: StateStore;
  audit: AuditLog;
  now: () => number;
  /** The capability pools now (addresses inside them are never relayed without a lease). */
  pools: () => readonly AddressPool[];
  /** Where flows no lease admits go; refused (TCP reset) when undefined. */
  honeypot: () => string | undefined;
  /** Services whose targets read a PROXY v2 header first (service key → true). */
  proxyProtocol: (service: string) => boolean;
  /**
   * Scanner detection (seed 000 §4): called for each unproductive flow (no lease admits it, or it
   * goes through a honeypot lease); `blocked` says whether a source is blocklisted as a scanner now.
   */
  scanners?: { unproductive: (source: string) => void; blocked: (source: string) => Promise<boolean> };
}

const flowKey = (f: Flow) => `${f.proto} ${f.src} ${f.srcPort} ${f.dst} ${f.dstPort}`;

export class UserspaceDataPlane implements DataPlane {
  readonly name = 'userspace';
  readonly tracksSeen = false;
  private gateway?: Gateway;
  /** Admitted flows → their lease, so a closing flow gives its connection slot back. */
  private readonly flowLease = new Map<string, string>();
  private rr = 0;
  admitted = 0;
  refused = 0;

  constructor(private readonly o: UserspaceOptions) {}

  /** The gateway whose flows revoke() cuts; started after the DNS server, so attached late. */
  attach(gateway: Gateway): void {
    this.gateway = gateway;
  }

  async install(_lease: Lease): Promise<void> {
    // Claimed in the store = in force: admit() reads the store for every new flow.
  }

  async expire(_lease: Lease): Promise<void> {
    // admit() reads the lease's times; established flows are left alone (seed 000 §3.1).
  }

  async revoke(leases: readonly Lease[]): Promise<number> {
    if (!this.gateway) return 0;
    let cut = 0;
    for (const address of new Set(leases.map((l) => l.address))) cut += this.gateway.cut(address);
    return cut;
  }

  async reconcile(_leases: readonly Lease[]): Promise<void> {}

  async close(): Promise<void> {}

  /** The hooks to start the gateway with. */
  hooks(): GatewayHooks {
    return { admit: (flow) => this.admit(flow), onFlow: (e) => this.onFlow(e) };
  }

  /**
   * undefined (the static dispatch table decides) for addresses outside every capability pool;
   * inside them: the first lease at the address that admits the source, else refuse or honeypot.
   */
  async admit(flow: Flow): Promise<Verdict | undefined> {
    const dst = parseAddress(flow.dst);
    if (!dst || !this.o.pools().some((p) => p.contains(dst))) return undefined;
    const src = parseAddress(flow.src);
    const t = this.o.now();
    if (this.o.scanners && (await this.o.scanners.blocked(flow.src))) {
      this.refused++;
      this.o.audit.write({ event: 'flow-denied', source: flow.src, address: flow.dst, port: flow.dstPort, proto: flow.proto, reason: 'scanner' });
      return { refuse: 'scanner' };
    }
    const leases = (await this.o.store.leasesAt(flow.dst)).filter((l) => leaseCovers(l, flow.proto, flow.dstPort));
    // Newest first: a fresh lease's rules apply before those of one in grace at the same address.
    leases.sort((a, b) => b.grantedAt - a.grantedAt);
    let reason = leases.length === 0 ? 'no lease' : 'lease not usable';
    let denyingLease: string | undefined;
    for (const l of leases) {
      const why = await this.tryLease(l, flow, src, t);
      if (why === undefined) {
        this.flowLease.set(flowKey(flow), l.id);
        this.admitted++;
        const backend = this.backendOf(l, flow);
        this.o.audit.write({ event: 'flow', source: flow.src, address: flow.dst, port: flow.dstPort, proto: flow.proto, lease: l.id, service: l.service, phase: leasePhase(l, t), honeypot: l.honeypot });
        if (l.honeypot) this.o.scanners?.unproductive(flow.src);
        return l.honeypot ? { honeypot: backend } : { backend };
      }
      reason = why;
      denyingLease = l.id;
    }
    this.refused++;
    this.o.audit.write({ event: 'flow-denied', source: flow.src, address: flow.dst, port: flow.dstPort, proto: flow.proto, reason, lease: denyingLease });
    // Unproductive: nothing is leased there for this port (or the lease is over). A source refused by a
    // live lease's own rules (exceptions, limits, grace) reached a real capability and is not counted.
    if (reason === 'no lease' || reason === 'expired' || reason === 'revoked') this.o.scanners?.unproductive(flow.src);
    const hp = this.o.honeypot();
    if (hp) return { honeypot: backendFor(hp, flow.dstPort, false) };
    return { refuse: reason };
  }

  /** undefined when `l` admits the flow (and then it is counted), else why not. */
  private async tryLease(l: Lease, flow: Flow, src: Address | undefined, t: number): Promise<string | undefined> {
    const phase = leasePhase(l, t);
    if (phase === 'quarantine' || phase === 'gone') return l.revoked ? 'revoked' : 'expired';
    if (!src) return 'bad source address';
    // §2.3: excepted hosts are refused even when their resolver ignores the annotation.
    if (l.exceptions.some((e) => cidrContains(parseCidr(e, false)!, src))) return 'exception';
    // §2.2: a subnet-scoped translation works only for the networks the OBO named.
    if (l.sourceSubnet && !cidrContains(parseCidr(l.sourceSubnet, false)!, src)) return 'outside OBO subnet';
    if (phase === 'live') {
      // §2.4 "only the first N hosts"; adding the source also marks it seen for grace (§3.2).
      if ((await this.o.store.addSource(l.id, flow.src, l.maxHosts)) === 'full') return 'maxHosts';
    } else if (!(await this.o.store.hasSource(l.id, flow.src))) {
      return 'grace: source not seen while live';
    }
    if (!(await this.o.store.openFlow(l.id, l.maxConnections))) return 'maxConnections';
    return undefined;
  }

  private backendOf(l: Lease, flow: Flow): Backend {
    // Several targets: new flows take turns (§ load balancing); a flow stays where it started.
    const target = l.targets[this.rr++ % l.targets.length]!;
    return backendFor(target, flow.dstPort, !l.honeypot && this.o.proxyProtocol(l.service));
  }

  private onFlow(e: FlowEvent): void {
    if (e.type !== 'close') return;
    const k = flowKey(e.flow);
    const id = this.flowLease.get(k);
    if (id === undefined) return;
    this.flowLease.delete(k);
    void this.o.store.closeFlow(id).catch(() => {});
  }
}

function backendFor(target: string, port: number, proxyProtocol: boolean): Backend {
  const t = parseTarget(target)!;
  return { host: t.host, port: t.port ?? port, proxyProtocol };
}
