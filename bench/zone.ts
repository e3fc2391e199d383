// Generates the benchmark zone bench.lab. (any size) and a matching dnsperf query file, deterministically.
import { createWriteStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { mulberry32 } from '../src/sim/prng.js';

export const BENCH_ZONE = 'bench.lab.';

/** Small deterministic PRNG so every run queries the same names (the simulator's generator). */
export const prng = mulberry32;

/** Kind of host n: the record set it owns. Every fifth name of each kind, in a fixed rotation. */
export type HostKind = 'a' | 'aaaa' | 'txt' | 'mx' | 'cname';
const KINDS: readonly HostKind[] = ['a', 'aaaa', 'txt', 'mx', 'cname'];

export function hostKind(n: number): HostKind {
  return KINDS[n % KINDS.length]!;
}

/** 198.18.0.0/15 (benchmarking range, RFC 2544), wrapping past 131,072 addresses. */
function ipv4(n: number): string {
  const x = n % 131072;
  return `198.${18 + (x >> 16)}.${(x >> 8) & 255}.${x & 255}`;
}

/** 2001:db8::/32 (documentation range). */
function ipv6(n: number): string {
  return `2001:db8:0:${(n >>> 16).toString(16)}::${(n & 0xffff).toString(16)}`;
}

export interface ZoneShape {
  /** Host names h0..h{hosts-1}. */
  hosts: number;
  /** Wildcard owners *.w0..*.w{wildcards-1}. */
  wildcards: number;
  /** Resource records written (approximate to the count asked for). */
  records: number;
}

/** Records a host of that kind owns (A hosts also carry a TXT every 4th time, see writeZone). */
function recordsPerHost(n: number): number {
  const k = hostKind(n);
  if (k === 'a') return n % 4 === 0 ? 2 : 1;
  if (k === 'mx') return 2; // MX + A for the exchange name itself
  return 1;
}

/** Chooses host and wildcard counts so the zone holds about `targetRecords` records. */
export function shapeFor(targetRecords: number): ZoneShape {
  const wildcards = Math.max(10, Math.min(1000, Math.round(targetRecords / 100)));
  const perHost = 1.25; // mean of recordsPerHost over a cycle of 20: (1.25 + 1 + 1 + 2 + 1) / 5
  const hosts = Math.max(10, Math.round((targetRecords - wildcards - 4) / perHost));
  return { hosts, wildcards, records: 0 };
}

/**
 * Writes the master file: SOA, NS + glue, hosts h{n} of five kinds (A [+TXT], AAAA, TXT, MX+A,
 * CNAME to an A host) and wildcards *.w{k} with A and TXT. Streams, so 1M records fit in little memory.
 */
export async function writeZone(file: string, targetRecords: number): Promise<ZoneShape> {
  const shape = shapeFor(targetRecords);
  const out = createWriteStream(file);
  let records = 0;
  let buf = '';
  const flush = async (): Promise<void> => {
    if (!out.write(buf)) await once(out, 'drain');
    buf = '';
  };
  buf += '$ORIGIN bench.lab.\n$TTL 3600\n';
  buf += '@ IN SOA ns1.bench.lab. hostmaster.bench.lab. 2026112401 7200 3600 1209600 300\n';
  buf += '@ IN NS ns1.bench.lab.\nns1 IN A 198.51.100.1\nns1 IN AAAA 2001:db8::53\n';
  records += 4;
  for (let n = 0; n < shape.hosts; n++) {
    switch (hostKind(n)) {
      case 'a':
        buf += `h${n} IN A ${ipv4(n)}\n`;
        if (n % 4 === 0) buf += `h${n} IN TXT "host ${n}"\n`;
        break;
      case 'aaaa':
        buf += `h${n} IN AAAA ${ipv6(n)}\n`;
        break;
      case 'txt':
        buf += `h${n} IN TXT "v=bench1 id=${n}" "second string"\n`;
        break;
      case 'mx':
        buf += `h${n} IN MX 10 h${n}\nh${n} IN A ${ipv4(n)}\n`;
        break;
      case 'cname':
        buf += `h${n} IN CNAME h${n - 4}\n`; // n-4 is always an 'a' host
        break;
    }
    records += recordsPerHost(n);
    if (buf.length > 1 << 16) await flush();
  }
  for (let k = 0; k < shape.wildcards; k++) {
    buf += `*.w${k} IN A ${ipv4(k + 100000)}\n*.w${k} IN TXT "wildcard ${k}"\n`;
    records += 2;
    if (buf.length > 1 << 16) await flush();
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return { ...shape, records };
}

/** Counts of each query category written to the query file. */
export interface QueryMix {
  total: number;
  positive: number;
  nxdomain: number;
  nodata: number;
  wildcard: number;
}

/**
 * Writes a dnsperf data file ("name type" per line): positive A/AAAA/TXT/MX/CNAME answers (CNAME
 * targets followed for A queries at CNAME hosts), ~10% NXDOMAIN, ~8% NODATA, ~7% wildcard.
 */
export function writeQueries(file: string, shape: ZoneShape, count: number, seed = 1): QueryMix {
  const rnd = prng(seed);
  const host = (): number => Math.floor(rnd() * shape.hosts);
  const mix: QueryMix = { total: count, positive: 0, nxdomain: 0, nodata: 0, wildcard: 0 };
  const lines: string[] = [];
  const positiveType: Record<HostKind, readonly string[]> = {
    a: ['A', 'A', 'A', 'TXT'],
    aaaa: ['AAAA'],
    txt: ['TXT'],
    mx: ['MX', 'A'],
    cname: ['CNAME', 'A'],
  };
  const nodataType: Record<HostKind, string> = { a: 'AAAA', aaaa: 'A', txt: 'MX', mx: 'AAAA', cname: 'SOA' };
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (r < 0.1) {
      lines.push(`nx${Math.floor(rnd() * 1e9)}.bench.lab. ${rnd() < 0.5 ? 'A' : 'AAAA'}`);
      mix.nxdomain++;
    } else if (r < 0.18) {
      let n = host();
      // A CNAME host answers every type with its CNAME; pick a real NODATA from the other kinds.
      if (hostKind(n) === 'cname') n -= 1;
      // An A host with n % 4 === 0 owns TXT; AAAA is still missing.
      lines.push(`h${n}.bench.lab. ${nodataType[hostKind(n)]}`);
      mix.nodata++;
    } else if (r < 0.25) {
      lines.push(`q${Math.floor(rnd() * 1e6)}.w${Math.floor(rnd() * shape.wildcards)}.bench.lab. ${rnd() < 0.7 ? 'A' : 'TXT'}`);
      mix.wildcard++;
    } else {
      let n = host();
      const kind = hostKind(n);
      const types = positiveType[kind];
      let type = types[Math.floor(rnd() * types.length)]!;
      if (kind === 'a' && type === 'TXT' && n % 4 !== 0) n -= n % 20; // n % 20 === 0 is an A host with TXT
      if (n < 0) n = 0;
      if (hostKind(n) !== kind) type = 'A';
      lines.push(`h${n}.bench.lab. ${type}`);
      mix.positive++;
    }
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return mix;
}

/** Counts of each category in the every-name-distinct mix. */
export interface DistinctMix {
  total: number;
  wildcard: number;
  nxdomain: number;
  belowHost: number;
}

/**
 * The every-name-distinct mix (issue 11): no name repeats within the file, so an answer cache never
 * helps. A third each: a random label under a wildcard owner (`r<n>.wK` A or TXT, a synthesized
 * answer), a random name at the apex (`x<n>` A or AAAA, NXDOMAIN), and a random label below an
 * existing host (`r<n>.hK` A, NXDOMAIN with the host as closest encloser). The labels are the query's
 * index in base 36 plus a seeded random suffix, so they are distinct and not sequential.
 * dnsperf loops the file: `count` should exceed what one run sends (≈ 100k q/s × seconds).
 */
export function writeDistinctQueries(file: string, shape: ZoneShape, count: number, seed = 11): DistinctMix {
  const rnd = prng(seed);
  const mix: DistinctMix = { total: count, wildcard: 0, nxdomain: 0, belowHost: 0 };
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const label = `${i.toString(36)}${Math.floor(rnd() * 36 ** 4).toString(36)}`;
    const r = rnd();
    if (r < 1 / 3) {
      lines.push(`r${label}.w${Math.floor(rnd() * shape.wildcards)}.bench.lab. ${rnd() < 0.7 ? 'A' : 'TXT'}`);
      mix.wildcard++;
    } else if (r < 2 / 3) {
      lines.push(`x${label}.bench.lab. ${rnd() < 0.5 ? 'A' : 'AAAA'}`);
      mix.nxdomain++;
    } else {
      lines.push(`r${label}.h${Math.floor(rnd() * shape.hosts)}.bench.lab. A`);
      mix.belowHost++;
    }
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return mix;
}

/** Addresses the dynamic phase answers from: 198.18.0.1–198.18.0.254, a /24 without network and broadcast. */
export const DYNAMIC_ADDRESSES: readonly string[] = Array.from({ length: 254 }, (_, i) => `198.18.0.${i + 1}`);

/** The fluxdns side of the dynamic phase: every name under dyn.bench.lab. gets a random pool address. */
export const DYNAMIC_POLICY_YAML = `pools:
  - { name: dyn, prefixes: [198.18.0.0/24] }
policies:
  - { match: { qname: "*.dyn.bench.lab" }, action: { pool: dyn, ttl: 30 } }
`;

/** The PowerDNS side: the same answer as a LUA record, pickrandom over the same 254 addresses. */
export function luaRecord(): string {
  return `*.dyn 30 IN LUA A "pickrandom({${DYNAMIC_ADDRESSES.map((a) => `'${a}'`).join(',')}})"\n`;
}

/**
 * A queries for distinct names under dyn.bench.lab. (dnsperf format); with `parent` another parent,
 * e.g. `w0.bench.lab` for the same names answered by a static wildcard (the pool-vs-static ratio).
 */
export function writeDynamicQueries(file: string, count: number, parent = 'dyn.bench.lab'): void {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`u${i}.${parent} A`);
  writeFileSync(file, lines.join('\n') + '\n');
}
