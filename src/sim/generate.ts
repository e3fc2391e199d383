// Synthetic connection logs with documented parameters (README "Pool sizing"), reproducible by seed.
import { closeSync, openSync, writeSync } from 'node:fs';
import { LOG_HEADER, type Connection } from './csv.js';
import { mulberry32 } from './prng.js';

export interface GenParams {
  /** Length of the log in seconds; times run from 0 to below this. */
  seconds: number;
  /** Number of servers; server k (1-based) is chosen with probability ∝ 1 / k^zipf. */
  servers: number;
  /** Number of resolvers; the clients of /24 number j use resolver j mod resolvers. */
  resolvers: number;
  /** Number of clients, each chosen uniformly per connection, perSubnet to a /24. */
  clients: number;
  perSubnet: number;
  /** Mean connections per second (Poisson arrivals). */
  rate: number;
  zipf: number;
  /** Rate × (1 − 0.8·cos(2πt / 86400)): a trough at t = 0, the peak 12 h later, mean = rate over a day. */
  diurnal: boolean;
  seed: number;
}

export const GEN_DEFAULTS: GenParams = {
  seconds: 3600,
  servers: 200,
  resolvers: 20,
  clients: 2000,
  perSubnet: 16,
  rate: 50,
  zipf: 1,
  diurnal: false,
  seed: 1,
};

export const DIURNAL_AMPLITUDE = 0.8;
export const DAY = 86400;
/** Clients live in 198.18.0.0/16 (RFC 2544 benchmarking space): 256 /24s. */
export const MAX_SUBNETS = 256;

/** Why the parameters cannot make a log, or undefined. */
export function checkParams(p: GenParams): string | undefined {
  const int = (name: string, v: number, min: number, max: number): string | undefined =>
    Number.isInteger(v) && v >= min && v <= max ? undefined : `--${name}: expected an integer from ${min} to ${max}, found ${v}`;
  return (
    int('seconds', p.seconds, 1, 31 * DAY) ??
    int('servers', p.servers, 1, 1_000_000) ??
    int('resolvers', p.resolvers, 1, 65_000) ??
    int('per-subnet', p.perSubnet, 1, 254) ??
    int('clients', p.clients, 1, MAX_SUBNETS * p.perSubnet) ??
    int('seed', p.seed, 0, 0xffffffff) ??
    (Number.isFinite(p.rate) && p.rate > 0 && p.rate <= 1_000_000 ? undefined : `--rate: expected connections per second above 0 and at most 1000000, found ${p.rate}`) ??
    (Number.isFinite(p.zipf) && p.zipf >= 0 && p.zipf <= 5 ? undefined : `--zipf: expected an exponent from 0 to 5, found ${p.zipf}`)
  );
}

export function clientAddress(i: number, perSubnet: number): string {
  return `198.18.${Math.floor(i / perSubnet)}.${1 + (i % perSubnet)}`;
}

export function resolverAddress(r: number): string {
  return `198.19.${Math.floor(r / 254)}.${1 + (r % 254)}`;
}

/** The rate at time t (connections per second). */
export function rateAt(p: GenParams, t: number): number {
  return p.diurnal ? p.rate * (1 - DIURNAL_AMPLITUDE * Math.cos((2 * Math.PI * t) / DAY)) : p.rate;
}

/** Connections in time order: a Poisson process (thinned when diurnal), Zipf servers, uniform clients. */
export function* generate(p: GenParams): Generator<Connection> {
  const rnd = mulberry32(p.seed);
  const cdf = new Float64Array(p.servers);
  let acc = 0;
  for (let k = 0; k < p.servers; k++) cdf[k] = acc += 1 / (k + 1) ** p.zipf;
  for (let k = 0; k < p.servers; k++) cdf[k] = cdf[k]! / acc;
  const max = p.diurnal ? p.rate * (1 + DIURNAL_AMPLITUDE) : p.rate;
  let t = 0;
  for (;;) {
    t += -Math.log(1 - rnd()) / max;
    if (t >= p.seconds) return;
    if (p.diurnal && rnd() * max >= rateAt(p, t)) continue;
    const u = rnd();
    let lo = 0;
    let hi = p.servers - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    const ci = Math.floor(rnd() * p.clients);
    const subnet = Math.floor(ci / p.perSubnet);
    yield { time: Math.floor(t * 1000) / 1000, client: clientAddress(ci, p.perSubnet), resolver: resolverAddress(subnet % p.resolvers), server: `srv${lo + 1}` };
  }
}

/** Writes a log (header, then one line per connection, times with millisecond precision); returns the count. */
export function writeLog(path: string, p: GenParams): number {
  const fd = openSync(path, 'w');
  let n = 0;
  try {
    let buf = LOG_HEADER + '\n';
    for (const c of generate(p)) {
      buf += `${c.time.toFixed(3)},${c.client},${c.resolver},${c.server}\n`;
      n++;
      if (buf.length > 1 << 20) {
        writeSync(fd, buf);
        buf = '';
      }
    }
    writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
  return n;
}
