// The data-plane contract the grant logic drives: install a lease's translation, end it, cut flows.
//
// Two backends implement it: userspace (src/capability/userspace.ts, the gateway relays only flows a
// lease admits) and nftables (verdict maps with element timeouts in the kernel). The grant logic
// never asks which one runs. Leases come from the state store (src/state/store.ts): times are ms
// since the epoch, addresses canonical text.
import type { Lease } from '../state/store.js';

export interface DataPlane {
  /** "userspace" or "nftables", for logs and the admin API. */
  readonly name: string;

  /**
   * True when the backend records the sources that used a lease itself (nftables: a kernel `seen`
   * set updated on the packet path), so grace admission does not depend on the store's sources.
   * False (userspace): the backend records sources in the store as it admits flows.
   */
  readonly tracksSeen: boolean;

  /**
   * Puts the lease's translation in force: address → targets for its ports, live until
   * `liveUntil`, then for `graceUntil` only for sources seen while live, scoped to `sourceSubnet`
   * when set, refusing `exceptions`, within `maxHosts`/`maxConnections`. Resolves only once a new
   * flow to the address would be translated (seed 000 §2: the answer leaves after the NAT entry
   * exists); rejects when it could not, and then nothing of the lease is installed. Installing a
   * lease whose address already holds another lease (port-disjoint, or shared on exhaustion) must
   * leave that one working. Idempotent for the same lease id.
   */
  install(lease: Lease): Promise<void>;

  /**
   * Optional: true when `lease` may be installed while the store is still deciding whether to grant
   * it (a shared store's claim is a network round trip, so is this backend's install: waiting on
   * both at once instead of one after the other). Only when every piece of its translation would be
   * new, so that expire() of a lease the store refused takes back exactly what the install added and
   * no other lease's admission changes. Backends whose install costs no round trip leave it out.
   */
  canInstallAhead?(lease: Lease): boolean;

  /**
   * The lease's grace ended (called by the sweeper, at most once per lease, possibly late): remove
   * what is left of its translation. Established flows survive, as Linux NAT keeps conntrack
   * entries when the mapping goes (seed 000 §3.1). Never rejects for a lease it does not know.
   */
  expire(lease: Lease): Promise<void>;

  /**
   * Revocation (`fluxdns caps revoke`): the leases are already marked revoked in the store; stop
   * admitting new flows to them AND cut their established flows now. Flows to the same address
   * through other leases may be cut too when the backend cannot tell them apart (userspace cuts by
   * address). Resolves with the number of flows cut, when the backend knows it (else 0).
   */
  revoke(leases: readonly Lease[]): Promise<number>;

  /**
   * After a restart (or when a gateway joins a shared store): make the installed state equal to
   * `leases` (the store's list): install the missing ones, remove translations of leases not listed.
   */
  reconcile(leases: readonly Lease[]): Promise<void>;

  /**
   * Optional: a source blocklisted as a scanner (seed 000 §4) until `until` (ms since the epoch); a
   * backend that can drops its new flows to the pool itself (nftables: the `scanners` set).
   */
  blockScanner?(source: string, until: number): Promise<void>;

  /**
   * Optional, for backends that track `seen` themselves (nftables): another node recorded `source` as
   * a host of the lease at `address`, so this backend admits it in grace too.
   */
  addSeen?(address: string, source: string): Promise<void>;

  /** Stops background work and releases resources; installed kernel state may stay (reconcile fixes it). */
  close(): Promise<void>;
}
