// The online-signed zones of a configuration (zones, echo zones, policy-owned zones, services), their keys, apex key sets and signature cache.
import { randomInt } from 'node:crypto';
import { perConfig } from '../../config/per-config.js';
import { nameKey } from '../../wire/name.js';
import { RRType, type OpaqueRdata, type ResourceRecord } from '../../wire/types.js';
import { dnskeyRecord, dsRdata, type DnssecKey } from '../keys.js';
import { canonicalRdata, signedRRs, signRRs } from '../rrsig.js';
import { canonicalNameWire } from '../canonical.js';
import { dnssecSites, keysOf, type DnssecConfigSources } from './load.js';
import type { DnssecConfig } from './schema.js';

/** CDS and CDNSKEY type codes (RFC 7344 §3.1, §3.2). */
export const CDS = 59;
export const CDNSKEY = 60;

/** Clock and randomness, injected so tests can fix them (DESIGN: clock and randomness injected into signatures). */
export interface SignClock {
  /** Seconds since the epoch. */
  now(): number;
  /** A uniform integer in [0, max]. */
  jitter(max: number): number;
}

export const systemClock: SignClock = { now: () => Math.floor(Date.now() / 1000), jitter: (max) => (max > 0 ? randomInt(0, max + 1) : 0) };

/** Cached RRSIGs of one (RRset, TTL): reused until half their validity is gone, then made again. */
interface CachedSigs {
  /** The RRs of the signed data (rrsig.ts signedRRs: canonical owner, type, class, TTL, sorted RDATA), copied. */
  readonly key: Uint8Array;
  readonly hash: number;
  readonly sigs: ResourceRecord[];
  readonly renewAt: number;
}

/** Signatures kept per zone; beyond this many the oldest half is dropped. */
const CACHE_LIMIT = 20000;

/**
 * Slots for signatures seen once (a power of two). A synthesized answer — a pool address or capability lease
 * for a name asked once, an echo record, a compact-denial NSEC for a random name — is signed for one reply:
 * holding 20,000 of those in the cache kept them alive through collections and evicted the static sets.
 * A first signature goes to a slot chosen by its key's hash (overwriting what was there); asked again while it
 * is there, it moves to the cache. Small, so a one-off is dropped young.
 */
const PROBATION_SLOTS = 512;

/** An entry for the cache: its signatures' RDATA copied out of the shared slab they were made in (see signRRs), so a kept signature does not pin a slab. */
function kept(e: CachedSigs): CachedSigs {
  return { ...e, sigs: e.sigs.map((s) => ({ ...s, data: { raw: (s.data as OpaqueRdata).raw.slice() } })) };
}

/**
 * FNV-1a of the bytes, four at a time (a cache key's hash, not a defence: an entry is used only when its key's
 * bytes are equal). Hashing the signed data's RRs, which are built for signing anyway, replaced a string key
 * made of the lower-cased owner and every RDATA's latin1 string, and its hash.
 */
function bytesHash(b: Uint8Array): number {
  let h = 0x811c9dc5;
  const n = b.length & ~3;
  let i = 0;
  for (; i < n; i += 4) h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x01000193);
  for (; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SignedZone {
  readonly apexKey: string;
  /** One signer per algorithm for ordinary RRsets (RFC 6840 §5.11: each algorithm of the DNSKEY set signs everything). */
  readonly zoneSigners: readonly DnssecKey[];
  /** The DNSKEY/CDS/CDNSKEY sets are signed by the key-signing keys (and the zone signers, so either chain works). */
  readonly keySigners: readonly DnssecKey[];
  readonly dnskeySet: readonly ResourceRecord[];
  readonly cdsSet: readonly ResourceRecord[];
  readonly cdnskeySet: readonly ResourceRecord[];
  /** By the hash of the key; a different key with the same hash is a miss and replaces the entry. */
  private readonly cache = new Map<number, CachedSigs>();
  private readonly probation: (CachedSigs | undefined)[] = new Array<CachedSigs | undefined>(PROBATION_SLOTS).fill(undefined);
  /** Counters for tests and metrics: signatures made, cache hits. */
  signed = 0;
  hits = 0;

  constructor(readonly apex: string, readonly keys: readonly DnssecKey[], readonly config: DnssecConfig, private readonly clock: SignClock) {
    this.apexKey = nameKey(apex);
    const ksks = keys.filter((k) => k.flags & 1);
    const zsks = keys.filter((k) => !(k.flags & 1));
    const algs = [...new Set(keys.map((k) => k.algorithm))];
    this.zoneSigners = algs.map((a) => zsks.find((k) => k.algorithm === a) ?? ksks.find((k) => k.algorithm === a)!);
    this.keySigners = [...new Set([...ksks, ...this.zoneSigners])];
    const ttl = config.dnskeyTtl;
    this.dnskeySet = keys.map((k) => ({ ...dnskeyRecord(k, ttl), name: apex }));
    const published = ksks.length > 0 ? ksks : keys;
    this.cdsSet = config.cds ? published.map((k) => ({ name: apex, type: CDS, class: 1, ttl, data: { raw: dsRdata(apex, k.dnskeyRdata, 2) } })) : [];
    this.cdnskeySet = config.cds ? published.map((k) => ({ name: apex, type: CDNSKEY, class: 1, ttl, data: { raw: k.dnskeyRdata } })) : [];
  }

  /** The apex's own key sets by type (DNSKEY, CDS, CDNSKEY), empty for other types. */
  apexSet(type: number): readonly ResourceRecord[] {
    if (type === RRType.DNSKEY) return this.dnskeySet;
    if (type === CDS) return this.cdsSet;
    if (type === CDNSKEY) return this.cdnskeySet;
    return [];
  }

  /**
   * RRSIGs for an RRset as sent (its TTL is the one signed, RFC 4034 §3.1.4). A set asked for again (a static
   * one) is signed once per (RRset, TTL) and the signatures reused until half their validity has passed.
   */
  sign(rrset: readonly ResourceRecord[]): ResourceRecord[] {
    const first = rrset[0]!;
    const ttl = first.ttl;
    // The canonical forms are made once, and the signed data's RRs from them once: they are the cache key and
    // what every key signs (RFC 4034 §6.2, §3.1.8.1).
    const owner = canonicalNameWire(first.name);
    const rrs = signedRRs(first, owner, rrset.map(canonicalRdata), ttl);
    const hash = bytesHash(rrs);
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    const inCache = cached !== undefined && sameBytes(cached.key, rrs);
    const slot = hash & (PROBATION_SLOTS - 1);
    const seen = this.probation[slot];
    const hit = inCache ? cached : seen?.hash === hash && sameBytes(seen.key, rrs) ? seen : undefined;
    if (hit && hit.renewAt > now) {
      this.hits++;
      if (hit !== cached) {
        // Asked again: not a one-off, so it is kept (with its RDATA copied out of the slab it was made in).
        this.probation[slot] = undefined;
        this.admit(kept(hit));
      }
      // The owner as asked (case may differ between queries); the signature covers the lower-cased form.
      return hit.sigs[0]!.name === first.name ? hit.sigs : hit.sigs.map((s) => ({ ...s, name: first.name }));
    }
    const expiry = this.config.expiry - this.clock.jitter(this.config.expiryJitter);
    // Inception an hour back: a validator whose clock is slow still accepts the signature (RFC 6781 §4.4.2.2).
    const o = { inception: now - 3600, expiration: now + expiry, ttl };
    const isKeySet = first.type === RRType.DNSKEY || first.type === CDS || first.type === CDNSKEY;
    const sigs = (isKeySet ? this.keySigners : this.zoneSigners).map((k) => signRRs(first, owner, rrs, k, o));
    this.signed += sigs.length;
    const entry: CachedSigs = { key: new Uint8Array(rrs), hash, sigs, renewAt: now + (expiry >> 1) };
    // A set renewed in the cache stays there; a new one waits in its slot until it is asked for again.
    if (inCache) this.cache.set(hash, kept(entry));
    else this.probation[slot] = entry;
    return sigs;
  }

  private admit(entry: CachedSigs): void {
    if (this.cache.size >= CACHE_LIMIT) {
      let drop = CACHE_LIMIT >> 1;
      for (const k of this.cache.keys()) {
        this.cache.delete(k);
        if (--drop === 0) break;
      }
    }
    this.cache.set(entry.hash, entry);
  }
}

export class SignerTable {
  private readonly byApex = new Map<string, SignedZone>();

  constructor(zones: readonly SignedZone[]) {
    for (const z of zones) if (!this.byApex.has(z.apexKey)) this.byApex.set(z.apexKey, z);
  }

  get size(): number {
    return this.byApex.size;
  }

  /** find's last question and answer: one response asks for the same name several times (the question, its answer's owner). */
  private lastName: string | undefined;
  private lastZone: SignedZone | undefined;

  /** The deepest signed zone holding `name`. */
  find(name: string): SignedZone | undefined {
    if (this.byApex.size === 0) return undefined;
    if (name === this.lastName) return this.lastZone;
    let key = nameKey(name);
    let z: SignedZone | undefined;
    for (;;) {
      z = this.byApex.get(key);
      if (z || key === '.') break;
      const dot = key.indexOf('.');
      key = dot === key.length - 1 ? '.' : key.slice(dot + 1);
    }
    this.lastName = name;
    this.lastZone = z;
    return z;
  }

  /** The signed zone whose apex is exactly `name`. */
  apex(name: string): SignedZone | undefined {
    return this.byApex.get(nameKey(name));
  }

  zones(): IterableIterator<SignedZone> {
    return this.byApex.values();
  }
}

export function buildSignerTable(c: DnssecConfigSources, clock: SignClock = systemClock): SignerTable {
  return new SignerTable(dnssecSites(c).map((s) => new SignedZone(s.apex, keysOf(s.config, s.apex), s.config, clock)));
}

/** One table per loaded configuration: a reload makes a new one, so every cached signature goes with the old data. */
export const signersOf: (c: DnssecConfigSources) => SignerTable = perConfig((c: DnssecConfigSources) => buildSignerTable(c));
