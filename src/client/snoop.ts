// TTL snoop: asks a resolver for a name over time and infers from the remaining TTLs whether, and
// when, someone else had it fetched, and how many caches stand behind the resolver (seed 001).
import { namesEqual } from '../wire/name.js';
import { getRcode } from '../wire/message.js';
import { RRType, Rcode, rcodeName, type Message } from '../wire/types.js';
import { inferFromTtls, type SnoopInference } from './snoop-analysis.js';
import { Stub, StubTimeoutError, formatServer, type ServerAddress, type Transport } from './stub.js';

/**
 * norec: RD=0 queries, which a resolver answers from its cache only — they never load the name.
 * rec: RD=1 queries, which load the name when a cache lacks it (the snooper's own load then shows
 * as a line that starts at the query, not before it). auto: RD=0, and RD=1 if the resolver refuses
 * RD=0 (unbound does unless `access-control: … allow_snoop`; most public resolvers recurse anyway).
 */
export type SnoopMode = 'auto' | 'norec' | 'rec';

export interface SnoopOptions {
  resolver: ServerAddress;
  name: string;
  type?: number;
  /** The zone's authoritative server: the TTL the resolver counts down from. */
  auth?: ServerAddress;
  /** Queries to the resolver (default 3), `intervalMs` apart (default 1000). */
  samples?: number;
  intervalMs?: number;
  mode?: SnoopMode;
  /** Queries to `auth`; the largest TTL counts (default 3: a jittering server draws TTLs below it). */
  authSamples?: number;
  timeoutMs?: number;
  transport?: Transport;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SnoopSample {
  /** Milliseconds after the first query to the resolver. */
  at: number;
  rd: boolean;
  rcode: string;
  /** Remaining TTL of the name's record (the SOA's for a negative answer); absent: not in the cache. */
  ttl?: number;
  negative?: boolean;
  /** The line (cache) this sample belongs to, 1-based. */
  line?: number;
}

export interface SnoopReport {
  name: string;
  type: string;
  resolver: string;
  /** The RD bit the samples were sent with, after `auto` decided. */
  mode: 'norec' | 'rec';
  authTtl: number | null;
  /** Where authTtl came from: the authoritative server, or (without --auth) the largest TTL seen. */
  authTtlFrom: 'auth' | 'resolver' | null;
  samples: SnoopSample[];
  /** Lines with times in seconds relative to the first query (negative: before it). */
  lines: { loadedAt: number; before: boolean; samples: number }[];
  cachedBefore: boolean | null;
  sinceCached?: number;
  caches: number;
  cachesBefore: number;
}

interface Reading {
  rcode: number;
  ttl?: number;
  negative?: boolean;
}

/** The TTL a cache counts down for this question: the record owned by the name (a CNAME or the data). */
export function readTtl(m: Message, name: string): Reading {
  const rcode = getRcode(m);
  const own = m.answers.find((rr) => namesEqual(rr.name, name)) ?? m.answers[0];
  if (own) return { rcode, ttl: own.ttl };
  // A negative answer is cached for its SOA's TTL (RFC 2308 §5), which counts down the same way.
  const soa = m.authorities.find((rr) => rr.type === RRType.SOA);
  if (soa && (rcode === Rcode.NXDOMAIN || rcode === Rcode.NOERROR)) return { rcode, ttl: soa.ttl, negative: true };
  return { rcode };
}

/** Stands for "no reply" where an rcode goes. */
const TIMEOUT = -1;

/** Rcodes that mean "I will not answer RD=0 from my cache", so auto mode switches to RD=1. */
const NO_SNOOP = new Set<number>([Rcode.REFUSED, Rcode.SERVFAIL, Rcode.NOTIMP]);

export async function snoop(opts: SnoopOptions): Promise<SnoopReport> {
  const type = opts.type ?? RRType.A;
  const samples = opts.samples ?? 3;
  const intervalMs = opts.intervalMs ?? 1000;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const stubFor = (server: ServerAddress, recursion: boolean): Stub =>
    new Stub({ servers: [server], recursion, timeoutMs: opts.timeoutMs ?? 2000, retries: 1, transport: opts.transport });
  const ask = async (server: ServerAddress, recursion: boolean): Promise<Reading & { at: number }> => {
    const sent = now();
    const { message } = await stubFor(server, recursion).query(opts.name, type);
    return { ...readTtl(message, opts.name), at: (sent + now()) / 2 };
  };

  // A sample that times out is recorded as such: one lost datagram does not end the measurement.
  const askResolver = (recursion: boolean): Promise<Reading & { at: number }> =>
    ask(opts.resolver, recursion).catch((e: unknown) => {
      if (e instanceof StubTimeoutError) return { rcode: TIMEOUT, at: now() };
      throw e;
    });

  // The authoritative TTL first, so the resolver samples are not delayed by it. A sample that times out
  // is skipped: an authoritative server with response rate limiting (on by default in NSD, Knot's module,
  // fluxdns) drops some of many quick queries for one name — or, under a wildcard, for many names.
  let authTtl: number | undefined;
  if (opts.auth) {
    let answered = 0;
    let lost: StubTimeoutError | undefined;
    for (let i = 0; i < (opts.authSamples ?? 3); i++) {
      const r = await ask(opts.auth, false).catch((e: unknown) => {
        if (e instanceof StubTimeoutError) return (lost = e), undefined;
        throw e;
      });
      if (r === undefined) continue;
      answered++;
      if (r.rcode !== Rcode.NOERROR && r.rcode !== Rcode.NXDOMAIN) throw new Error(`${formatServer(opts.auth)} answered ${rcodeName(r.rcode)} for ${opts.name}`);
      if (r.ttl !== undefined) authTtl = Math.max(authTtl ?? 0, r.ttl);
    }
    if (answered === 0 && lost !== undefined) throw lost;
  }

  let mode: 'norec' | 'rec' = opts.mode === 'rec' ? 'rec' : 'norec';
  const readings: (Reading & { at: number; rd: boolean })[] = [];
  const start = now();
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(Math.max(0, start + i * intervalMs - now()));
    let r = await askResolver(mode === 'rec');
    if (mode === 'norec' && opts.mode !== 'norec' && NO_SNOOP.has(r.rcode)) {
      readings.push({ ...r, rd: false });
      mode = 'rec';
      r = await askResolver(true);
    }
    readings.push({ ...r, rd: mode === 'rec' });
  }

  // Only answers say something about the cache: a refusal or failure is no observation.
  const observed = readings.map((r, i) => ({ r, i })).filter(({ r }) => r.rcode === Rcode.NOERROR || r.rcode === Rcode.NXDOMAIN);
  // No authoritative server: the largest TTL the resolver showed is a lower bound of the zone's, exact
  // when one of our RD=1 queries loaded the name. A resolver never shows more than the zone gave.
  const seenMax = Math.max(0, ...observed.map(({ r }) => r.ttl ?? 0));
  const hasTtl = observed.some(({ r }) => r.ttl !== undefined);
  const effectiveAuth = authTtl !== undefined ? Math.max(authTtl, seenMax) : hasTtl ? seenMax : undefined;
  let inference: SnoopInference = { lines: [], cachedBefore: null, caches: 0, cachesBefore: 0 };
  if (effectiveAuth !== undefined || observed.length > 0) {
    inference = inferFromTtls(observed.map(({ r }) => ({ at: r.at, ttl: r.ttl })), effectiveAuth ?? 0, start);
  }
  const lineOf = new Map<number, number>();
  inference.lines.forEach((l, n) => l.samples.forEach((s) => lineOf.set(observed[s]!.i, n + 1)));
  const report: SnoopReport = {
    name: opts.name,
    type: Object.entries(RRType).find(([, v]) => v === type)?.[0] ?? `TYPE${type}`,
    resolver: formatServer(opts.resolver),
    mode,
    authTtl: effectiveAuth ?? null,
    authTtlFrom: authTtl !== undefined ? 'auth' : effectiveAuth !== undefined ? 'resolver' : null,
    samples: readings.map((r, i) => ({
      at: Math.round(r.at - start),
      rd: r.rd,
      rcode: r.rcode === TIMEOUT ? 'TIMEOUT' : rcodeName(r.rcode),
      ...(r.ttl !== undefined ? { ttl: r.ttl } : {}),
      ...(r.negative ? { negative: true } : {}),
      ...(lineOf.has(i) ? { line: lineOf.get(i)! } : {}),
    })),
    lines: inference.lines.map((l) => ({ loadedAt: Math.round((l.loadedAt - start) / 100) / 10, before: l.before, samples: l.samples.length })),
    cachedBefore: inference.cachedBefore,
    caches: inference.caches,
    cachesBefore: inference.cachesBefore,
  };
  if (inference.sinceCached !== undefined) report.sinceCached = inference.sinceCached;
  return report;
}
