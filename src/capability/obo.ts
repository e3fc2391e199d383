// On-Behalf-Of verification (seed 000 §2.2): a resolver's ECS claim counts only when the claimed block
// announces itself in the reverse DNS of a verification address inside it.
//
// Verification address V: the first host address of the block (network address + 1; for a /31,
// /32, /127 or /128 the block's first address). The reverse name of V (in-addr.arpa / ip6.arpa)
// must hold a TXT record
//     v=obo1 198.51.100.0/24
//     v=obo1 198.51.100.0/24 r=203.0.113.53,203.0.113.0/28
// whose prefix equals the claimed block; with `r=`, the asking resolver must also be inside one of
// the listed addresses/prefixes (so nobody else can launder queries through a block that announced
// itself). Resolvers on `capabilities.trustedResolvers` are believed without a lookup (§2.2: large
// public resolvers that set ECS per client). Results are cached, positive and negative alike.
import { cidrContains, formatAddress, formatCidr, parseCidr, type Address, type Cidr } from '../net/cidr.js';
import type { Stub } from '../client/stub.js';
import { Rcode, RRType, type TXTRdata } from '../wire/types.js';
import { validatedQuery, type TrustAnchor } from '../dnssec/validate.js';

export function verificationAddress(block: Cidr): Address {
  const bytes = Uint8Array.from(block.bytes);
  const width = block.family === 4 ? 32 : 128;
  if (block.length < width - 1) bytes[bytes.length - 1] = bytes[bytes.length - 1]! | 1;
  return { family: block.family, bytes };
}

export function reverseName(a: Address): string {
  if (a.family === 4) return `${[...a.bytes].reverse().join('.')}.in-addr.arpa.`;
  const nibbles: string[] = [];
  for (const b of a.bytes) nibbles.push((b >> 4).toString(16), (b & 15).toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa.`;
}

/** True when one of the TXT strings announces `block` (and, with r=, admits `resolver`). */
export function announces(txts: readonly string[], block: Cidr, resolver: Address): boolean {
  const want = formatCidr(block);
  for (const t of txts) {
    const m = /^v=obo1\s+(\S+)(?:\s+r=(\S+))?\s*$/.exec(t.trim());
    if (!m) continue;
    const claimed = parseCidr(m[1]!, false);
    if (!claimed || formatCidr(claimed) !== want) continue;
    if (m[2] === undefined) return true;
    const allowed = m[2].split(',').map((s) => parseCidr(s, false));
    if (allowed.some((c) => c !== undefined && cidrContains(c, resolver))) return true;
  }
  return false;
}

export type OboResult = { ok: true; how: 'trusted' | 'verified' } | { ok: false; reason: string };

export interface OboVerifierOptions {
  stub: () => Stub;
  trusted: () => readonly Cidr[];
  cacheMs: () => number;
  timeoutMs: () => number;
  /** `obo.requireDnssec`: the TXT counts only when the resolver says it validated it (AD, RFC 4035 §3.2.3). */
  requireDnssec?: () => boolean;
  /** Trust anchors for fluxdns's own validation (`obo.trustAnchors`); empty: the resolver's AD bit decides. */
  trustAnchors?: () => readonly TrustAnchor[];
  now?: () => number;
}

export class OboVerifier {
  private readonly cache = new Map<string, { result: OboResult; until: number }>();
  private readonly inFlight = new Map<string, Promise<OboResult>>();
  private readonly now: () => number;
  lookups = 0;

  constructor(private readonly o: OboVerifierOptions) {
    this.now = o.now ?? Date.now;
  }

  async verify(resolver: Address, block: Cidr): Promise<OboResult> {
    if (this.o.trusted().some((c) => cidrContains(c, resolver))) return { ok: true, how: 'trusted' };
    const key = `${formatAddress(resolver)} ${formatCidr(block)}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.result;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.lookup(resolver, block).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    const result = await p;
    if (this.cache.size >= 100_000) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { result, until: this.now() + this.o.cacheMs() });
    return result;
  }

  private async lookup(resolver: Address, block: Cidr): Promise<OboResult> {
    this.lookups++;
    const name = reverseName(verificationAddress(block));
    const dnssec = this.o.requireDnssec?.() ?? false;
    const anchors = dnssec ? (this.o.trustAnchors?.() ?? []) : [];
    if (anchors.length > 0) {
      // fluxdns validates the TXT itself: the resolver (and the path to it) need not be trusted.
      let v;
      try {
        v = await withTimeout(validatedQuery(this.o.stub(), name, RRType.TXT, anchors, Math.floor(this.now() / 1000)), this.o.timeoutMs());
      } catch (e) {
        return { ok: false, reason: `OBO lookup of ${name} failed: ${(e as Error).message}` };
      }
      if (!v.secure) return { ok: false, reason: `OBO lookup of ${name}: not validated (${v.reason})` };
      const txts = v.records.map((r) => (r.data as TXTRdata).strings.map((s) => Buffer.from(s).toString('latin1')).join(''));
      if (announces(txts, block, resolver)) return { ok: true, how: 'verified' };
      return { ok: false, reason: `${name} does not announce ${formatCidr(block)} for ${formatAddress(resolver)}` };
    }
    let answer;
    try {
      const stub = this.o.stub();
      // RFC 6840 §5.7: AD in the query asks a validating resolver to say whether it validated the answer.
      const q = stub.buildQuery(name, RRType.TXT);
      q.flags.ad = dnssec;
      answer = await withTimeout(dnssec ? stub.exchange(q) : stub.query(name, RRType.TXT), this.o.timeoutMs());
    } catch (e) {
      return { ok: false, reason: `OBO lookup of ${name} failed: ${(e as Error).message}` };
    }
    const m = answer.message;
    if (m.flags.rcode !== Rcode.NOERROR) return { ok: false, reason: `OBO lookup of ${name}: rcode ${m.flags.rcode}` };
    // Seed 000 §2.2: the verification record "may be signed using DNSSEC"; with requireDnssec an unsigned
    // (insecure) or unvalidated answer does not count, so a forged reverse zone cannot widen a capability.
    if (dnssec && !m.flags.ad) return { ok: false, reason: `OBO lookup of ${name}: the answer was not validated (no AD from the resolver; obo.requireDnssec)` };
    const txts = m.answers.filter((r) => r.type === RRType.TXT).map((r) => (r.data as TXTRdata).strings.map((s) => Buffer.from(s).toString('latin1')).join(''));
    if (announces(txts, block, resolver)) return { ok: true, how: 'verified' };
    return { ok: false, reason: `${name} does not announce ${formatCidr(block)} for ${formatAddress(resolver)}` };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

