// Policy actions: what a matching query gets (seed 002 §3.2 steps 4–5; load balancing, seed 004 slides 28–32).
import { cidrContains, formatAddress, parseAddress, parseCidr, type Address, type Cidr, type Family } from '../net/cidr.js';
import type { AddressPool } from '../pool/pool.js';
import type { RandomSource } from '../pool/random.js';
import { Rcode, RRType, type ResourceRecord } from '../wire/types.js';
import { withWire } from '../wire/pre-encoded.js';
import { parseRecordText } from './record-text.js';
import type { QueryFacts } from './facts.js';
import type { ActionConfig } from './schema.js';

export type ActionResult =
  | { kind: 'answer'; records: ResourceRecord[] }
  | { kind: 'nodata' }
  | { kind: 'nxdomain' }
  | { kind: 'rcode'; rcode: number }
  | { kind: 'drop' }
  | { kind: 'truncate' }
  /** The action does not apply here (truncate over TCP): the query goes on to the responders. */
  | { kind: 'pass' };

export interface CompiledAction {
  readonly describe: string;
  run(f: QueryFacts, rng: RandomSource): ActionResult;
}

/** The address family a query type asks for; ANY is answered with IPv4 when it can be. */
function familyOf(qtype: number): Family | undefined {
  if (qtype === RRType.A || qtype === RRType.ANY) return 4;
  if (qtype === RRType.AAAA) return 6;
  return undefined;
}

/** The address's bytes are its RDATA: carried along, the encoder and the online signer copy them instead of parsing the text again. */
function addressRecord(owner: string, a: Address, ttl: number): ResourceRecord {
  return { name: owner, type: a.family === 4 ? RRType.A : RRType.AAAA, class: 1, ttl, data: withWire({ address: formatAddress(a) }, a.bytes) };
}

function poolAnswer(pool: AddressPool, f: QueryFacts, rng: RandomSource, ttl: number, count: number): ActionResult {
  let family = familyOf(f.qtype);
  if (f.qtype === RRType.ANY && !pool.has(4)) family = 6;
  if (family === undefined || !pool.has(family)) return { kind: 'nodata' };
  const picks = count === 1 ? [pool.pick(family, rng)!] : pool.pickDistinct(family, count, rng);
  return { kind: 'answer', records: picks.map((a) => addressRecord(f.qname, a, ttl)) };
}

/** A uniform float in [0, 1) from 32 random bits. */
function unit(rng: RandomSource): number {
  const b = new Uint8Array(4);
  rng.fill(b);
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32;
}

export function compileAction(a: ActionConfig, pools: ReadonlyMap<string, AddressPool>): CompiledAction {
  if ('pool' in a) {
    const pool = pools.get(a.pool)!;
    return { describe: `pool ${a.pool} (ttl ${a.ttl}, count ${a.count})`, run: (f, rng) => poolAnswer(pool, f, rng, a.ttl, a.count) };
  }
  if ('records' in a) {
    const records = a.records.map((text) => parseRecordText(text, a.ttl));
    return {
      describe: `records ${a.records.join('; ')}`,
      run(f) {
        const cname = records.find((r) => r.type === RRType.CNAME);
        const fit = f.qtype === RRType.ANY ? records : cname ? [cname] : records.filter((r) => r.type === f.qtype);
        if (fit.length === 0) return { kind: 'nodata' };
        return { kind: 'answer', records: fit.map((r) => ({ ...r, name: f.qname })) };
      },
    };
  }
  if ('weighted' in a) {
    const entries = a.weighted.map((w) => ({ address: parseAddress(w.address)!, weight: w.weight }));
    return {
      describe: `weighted ${a.weighted.map((w) => `${w.address}×${w.weight}`).join(', ')}`,
      run(f, rng) {
        const family = familyOf(f.qtype);
        const fit = entries.filter((e) => e.address.family === family);
        if (fit.length === 0) return { kind: 'nodata' };
        const total = fit.reduce((s, e) => s + e.weight, 0);
        let x = unit(rng) * total;
        for (const e of fit) {
          x -= e.weight;
          if (x < 0) return { kind: 'answer', records: [addressRecord(f.qname, e.address, a.ttl)] };
        }
        return { kind: 'answer', records: [addressRecord(f.qname, fit[fit.length - 1]!.address, a.ttl)] };
      },
    };
  }
  if ('rotate' in a) {
    const addrs = a.rotate.map((t) => parseAddress(t)!);
    let turn = 0;
    return {
      describe: `rotate ${a.rotate.join(', ')}`,
      run(f) {
        const family = familyOf(f.qtype);
        const fit = addrs.filter((x) => x.family === family);
        if (fit.length === 0) return { kind: 'nodata' };
        // Round-robin: each answer starts one address further (seed 004 slide 30).
        const start = turn++ % fit.length;
        const order = [...fit.slice(start), ...fit.slice(0, start)];
        return { kind: 'answer', records: order.map((x) => addressRecord(f.qname, x, a.ttl)) };
      },
    };
  }
  if ('geo' in a) {
    const table: { cidr: Cidr; pool: AddressPool; name: string }[] = Object.entries(a.geo.subnets)
      .map(([c, p]) => ({ cidr: parseCidr(c)!, pool: pools.get(p)!, name: p }))
      .sort((x, y) => y.cidr.length - x.cidr.length);
    const fallback = a.geo.default !== undefined ? pools.get(a.geo.default) : undefined;
    return {
      describe: `geo ${Object.entries(a.geo.subnets).map(([c, p]) => `${c}→${p}`).join(', ')}${a.geo.default ? `, default ${a.geo.default}` : ''}`,
      run(f, rng) {
        const where = f.ecs?.address ?? f.source;
        let pool = fallback;
        if (where) {
          for (const row of table) {
            if (f.ecs && row.cidr.family === f.ecs.address.family) f.ecsBitsUsed = Math.max(f.ecsBitsUsed, Math.min(row.cidr.length, f.ecs.sourcePrefix));
            if ((!f.ecs || f.ecs.sourcePrefix >= row.cidr.length) && cidrContains(row.cidr, where)) {
              pool = row.pool;
              break;
            }
          }
        }
        if (!pool) return { kind: 'rcode', rcode: Rcode.REFUSED };
        return poolAnswer(pool, f, rng, a.ttl, a.count);
      },
    };
  }
  if ('rcode' in a) {
    const r = a.rcode;
    return {
      describe: `rcode ${r}`,
      run: () => (r === 'NXDOMAIN' ? { kind: 'nxdomain' } : r === 'NODATA' ? { kind: 'nodata' } : { kind: 'rcode', rcode: r === 'REFUSED' ? Rcode.REFUSED : Rcode.SERVFAIL }),
    };
  }
  if ('drop' in a) return { describe: 'drop', run: () => ({ kind: 'drop' }) };
  if ('truncate' in a) return { describe: 'truncate (forces TCP)', run: (f) => (f.transport === 'udp' ? { kind: 'truncate' } : { kind: 'pass' }) };
  const sink = parseAddress(a.sinkhole)!;
  return {
    describe: `sinkhole ${a.sinkhole} (ttl ${a.ttl})`,
    run: (f) => (familyOf(f.qtype) === sink.family ? { kind: 'answer', records: [addressRecord(f.qname, sink, a.ttl)] } : { kind: 'nodata' }),
  };
}

