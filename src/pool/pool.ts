// An address pool: prefixes minus exclusions, sampled uniformly (seed 002 §3.2: prefix + random bits).
import { formatAddress, type Address, type Cidr, type Family } from '../net/cidr.js';
import { randomBelow, randomBelowNumber, type RandomSource } from './random.js';

/** A closed interval of addresses as integers. */
interface Span {
  start: bigint;
  end: bigint;
}

interface FamilySpans {
  spans: Span[];
  /** cumulative[i] = number of addresses in spans[0..i]. */
  cumulative: bigint[];
  total: bigint;
  /** IPv4: the same spans as numbers, so a draw needs no BigInt (the grant path). */
  v4?: { starts: number[]; cumulative: number[]; total: number };
}

export class AddressPool {
  private readonly byFamily = new Map<Family, FamilySpans>();

  constructor(
    readonly name: string,
    readonly prefixes: readonly Cidr[],
    readonly exclude: readonly Cidr[] = [],
  ) {
    for (const family of [4, 6] as const) {
      let spans: Span[] = [];
      for (const p of prefixes) {
        if (p.family !== family) continue;
        const s = spanOf(p);
        // RFC 919/922: the all-zeros and all-ones host addresses of a subnet are not hosts (/31, /32
        // aside). Trimmed from this prefix alone, before merging: another listed prefix may cover them.
        if (family === 4 && p.length < 31) spans.push({ start: s.start + 1n, end: s.end - 1n });
        else spans.push(s);
      }
      spans = merge(spans);
      for (const e of exclude) if (e.family === family) spans = subtract(spans, spanOf(e));
      if (spans.length === 0) continue;
      const cumulative: bigint[] = [];
      let total = 0n;
      for (const s of spans) {
        total += s.end - s.start + 1n;
        cumulative.push(total);
      }
      const v4 = family === 4 ? { starts: spans.map((s) => Number(s.start)), cumulative: cumulative.map(Number), total: Number(total) } : undefined;
      this.byFamily.set(family, { spans, cumulative, total, v4 });
    }
  }

  /** How many addresses of the family can be drawn. */
  size(family: Family): bigint {
    return this.byFamily.get(family)?.total ?? 0n;
  }

  has(family: Family): boolean {
    return this.byFamily.has(family);
  }

  contains(addr: Address): boolean {
    const f = this.byFamily.get(addr.family);
    if (!f) return false;
    const v = toInt(addr.bytes);
    return f.spans.some((s) => v >= s.start && v <= s.end);
  }

  /** One address drawn uniformly from the pool's addresses of that family, or undefined if it has none. */
  pick(family: Family, rng: RandomSource): Address | undefined {
    const f = this.byFamily.get(family);
    if (!f) return undefined;
    if (f.v4) {
      const v = this.drawV4(f.v4, rng);
      return { family, bytes: Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255) };
    }
    const r = randomBelow(f.total, rng);
    // Binary search for the span holding the r-th address.
    let lo = 0;
    let hi = f.spans.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r < f.cumulative[mid]!) hi = mid;
      else lo = mid + 1;
    }
    const before = lo === 0 ? 0n : f.cumulative[lo - 1]!;
    return { family, bytes: toBytes(f.spans[lo]!.start + (r - before), family === 4 ? 4 : 16) };
  }

  /**
   * pick() as the address's text (what a lease holds): the same draw, and for IPv4 no Address object,
   * byte array or BigInt on the way (the grant path); undefined if the pool has no address of the family.
   */
  pickText(family: Family, rng: RandomSource): string | undefined {
    const f = this.byFamily.get(family);
    if (!f) return undefined;
    if (f.v4) {
      const v = this.drawV4(f.v4, rng);
      return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    }
    return formatAddress(this.pick(family, rng)!);
  }

  /** The IPv4 address (as a 32-bit number) of a uniform draw; the same draw as the BigInt path. */
  private drawV4(f: { starts: number[]; cumulative: number[]; total: number }, rng: RandomSource): number {
    const r = randomBelowNumber(f.total, rng);
    let lo = 0;
    let hi = f.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r < f.cumulative[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return f.starts[lo]! + (r - (lo === 0 ? 0 : f.cumulative[lo - 1]!));
  }

  /** Up to `count` distinct addresses (fewer only when the pool is smaller). */
  pickDistinct(family: Family, count: number, rng: RandomSource): Address[] {
    const size = this.size(family);
    const want = BigInt(count) > size ? Number(size) : count;
    const out: Address[] = [];
    const seen = new Set<string>();
    while (out.length < want) {
      const a = this.pick(family, rng)!;
      const k = a.bytes.join('.');
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(a);
    }
    return out;
  }
}

function spanOf(c: Cidr): Span {
  const start = toInt(c.bytes);
  const hostBits = BigInt((c.family === 4 ? 32 : 128) - c.length);
  return { start, end: start + (1n << hostBits) - 1n };
}

function merge(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end + 1n) {
      if (s.end > last.end) last.end = s.end;
    } else {
      out.push({ ...s });
    }
  }
  return out;
}

function subtract(spans: Span[], cut: Span): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    if (cut.end < s.start || cut.start > s.end) {
      out.push(s);
      continue;
    }
    if (cut.start > s.start) out.push({ start: s.start, end: cut.start - 1n });
    if (cut.end < s.end) out.push({ start: cut.end + 1n, end: s.end });
  }
  return out;
}

function toInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function toBytes(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
