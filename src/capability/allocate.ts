// Drawing a lease's address (seed 000 §2, §3.3): random from the pool, never one leased or in quarantine,
// port-disjoint services may share; on exhaustion the configured rule.
import { formatAddress, type Address, type Family } from '../net/cidr.js';
import type { AddressPool } from '../pool/pool.js';
import { randomBelow, type RandomSource } from '../pool/random.js';
import { leasePhase, portsOverlap, type Lease, type StateStore } from '../state/store.js';

/** Random draws before looking at the whole pool (with the pool 80% full, all 16 miss 3% of the time). */
const RANDOM_TRIES = 16;
/** Pools up to this size are enumerated when random draws keep hitting used addresses. */
export const ENUMERABLE = 65536;

export type Allocation = { ok: true; lease: Lease; shared: boolean } | { ok: false; reason: 'exhausted' };

export interface AllocateRequest {
  store: StateStore;
  pool: AddressPool;
  family: Family;
  rng: RandomSource;
  now: number;
  /** The lease to claim, for any address. */
  make: (address: string) => Lease;
  exhaustion: 'share' | 'refuse';
}

export async function allocate(r: AllocateRequest): Promise<Allocation> {
  for (let i = 0; i < RANDOM_TRIES; i++) {
    const address = r.pool.pickText(r.family, r.rng);
    if (!address) return { ok: false, reason: 'exhausted' };
    const lease = r.make(address);
    if (await r.store.claim(lease)) return { ok: true, lease, shared: false };
  }
  // A small or nearly full pool: choose uniformly among the addresses that are really free.
  if (r.pool.size(r.family) <= BigInt(ENUMERABLE)) {
    for (let attempt = 0; attempt < 4; attempt++) {
      const probe = r.make('0.0.0.0');
      const busy = new Map<string, Lease[]>();
      for (const l of await r.store.list()) {
        if (leasePhase(l, r.now) === 'gone') continue;
        busy.set(l.address, [...(busy.get(l.address) ?? []), l]);
      }
      const free = [...poolAddresses(r.pool, r.family)].filter((a) => !(busy.get(a) ?? []).some((l) => portsOverlap(l.ports, probe.ports)));
      if (free.length === 0) break;
      const lease = r.make(free[Number(randomBelow(BigInt(free.length), r.rng))]!);
      if (await r.store.claim(lease)) return { ok: true, lease, shared: false };
    }
  }
  if (r.exhaustion === 'refuse') return { ok: false, reason: 'exhausted' };
  // share: another resolver's live address of the same service; attribution to one resolver is lost (§3.3).
  const probe = r.make('0.0.0.0');
  const candidates = (await r.store.list()).filter(
    (l) => l.service === probe.service && !l.honeypot === !probe.honeypot && leasePhase(l, r.now) === 'live' && (l.address.includes(':') ? 6 : 4) === r.family && l.targets.join() === probe.targets.join(),
  );
  while (candidates.length > 0) {
    const i = Number(randomBelow(BigInt(candidates.length), r.rng));
    const lease = r.make(candidates[i]!.address);
    if (await r.store.claim(lease, { share: true })) return { ok: true, lease, shared: true };
    candidates.splice(i, 1);
  }
  return { ok: false, reason: 'exhausted' };
}

/** Every drawable address of the family, in order (only for enumerable pools). */
export function* poolAddresses(pool: AddressPool, family: Family): Generator<string> {
  const seen = new Set<string>();
  for (const p of pool.prefixes) {
    if (p.family !== family) continue;
    const width = family === 4 ? 32 : 128;
    const count = 1n << BigInt(width - p.length);
    if (count > BigInt(ENUMERABLE) * 4n) continue;
    let v = 0n;
    for (const b of p.bytes) v = (v << 8n) | BigInt(b);
    for (let i = 0n; i < count; i++) {
      const a = toAddress(v + i, family);
      if (!pool.contains(a)) continue;
      const text = formatAddress(a);
      if (seen.has(text)) continue;
      seen.add(text);
      yield text;
    }
  }
}

function toAddress(v: bigint, family: Family): Address {
  const n = family === 4 ? 4 : 16;
  const bytes = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return { family, bytes };
}

