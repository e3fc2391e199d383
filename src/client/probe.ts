// Resolver probe, seed 003 §4.1: reachability and recursion, then per method a random alias, programming,
// retrieval, update with other data, replacement check; doubling programming queries for load-balanced
// groups (§4.1.1) and retention checked at exponentially growing intervals (§4.1.2).
import { METHODS, METHOD_INFO, type EchoMethod } from '../echo/methods.js';
import { getRcode } from '../wire/message.js';
import { RRType, Rcode, rcodeName } from '../wire/types.js';
import { extractValue, normalise, programmingQuery, retrievalQuery, type KvSpec } from './kv.js';
import type { StubAnswer } from './stub.js';

/** The part of the stub resolver the probe uses (a fake in unit tests). */
export interface Querier {
  query(name: string, type: number): Promise<StubAnswer>;
}

export interface ProbeOptions {
  /** Resolver label for the report ("127.0.0.1:5300"). */
  resolver: string;
  zone: string;
  methods?: readonly EchoMethod[];
  /** Largest number of programming queries per round (§4.1.1). Default 16. */
  maxGroup?: number;
  /** Last retention check, seconds after programming (§4.1.2). Default 64. */
  retentionMax?: number;
  /** Addresses where the probe's NR server answers (port 53); two, for the update check. */
  nrAddresses?: readonly string[];
  /** Addresses with no DNS server, used as NA data (the delegation must not answer). */
  naAddresses?: readonly string[];
  /** Injected for exact tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface MethodResult {
  /** true/false once determined; null when the method could not be tested (note says why). */
  stored: boolean | null;
  updatable: boolean | null;
  /** Seconds the record was still retrievable; `capped` when it outlived --retention-max. */
  retention: { seconds: number; capped: boolean } | null;
  /** Programming queries that made the retrieval succeed: an estimate of the load-balancing group (§4.1.1). */
  group: number | null;
  note?: string;
}

export interface ProbeResult {
  resolver: string;
  zone: string;
  date: string;
  reachable: boolean;
  recursive: boolean;
  note?: string;
  maxGroup: number;
  retentionMax: number;
  methods: Partial<Record<EchoMethod, MethodResult>>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function cryptoRandom(): number {
  const b = new Uint32Array(1);
  globalThis.crypto.getRandomValues(b);
  return b[0]! / 2 ** 32;
}

/** §4.1: "checks if the server is actually reachable and allows recursion". */
async function checkRecursion(q: Querier, zone: string): Promise<{ reachable: boolean; recursive: boolean; note?: string }> {
  let r: StubAnswer;
  try {
    r = await q.query(zone, RRType.SOA);
  } catch (e) {
    return { reachable: false, recursive: false, note: (e as Error).message };
  }
  const rc = getRcode(r.message);
  if (!r.message.flags.ra || rc === Rcode.REFUSED) return { reachable: true, recursive: false, note: `not a recursive resolver (ra=${r.message.flags.ra ? 1 : 0}, ${rcodeName(rc)})` };
  if (rc !== Rcode.NOERROR || !r.message.answers.some((a) => a.type === RRType.SOA)) {
    return { reachable: true, recursive: true, note: `the echo zone ${zone} does not resolve through it (${rcodeName(rc)})` };
  }
  return { reachable: true, recursive: true };
}

export async function probe(q: Querier, opts: ProbeOptions): Promise<ProbeResult> {
  const zone = opts.zone.endsWith('.') ? opts.zone : opts.zone + '.';
  const methods = opts.methods ?? METHODS;
  const maxGroup = opts.maxGroup ?? 16;
  const retentionMax = opts.retentionMax ?? 64;
  const result: ProbeResult = { resolver: opts.resolver, zone, date: new Date((opts.now ?? Date.now)()).toISOString(), reachable: false, recursive: false, maxGroup, retentionMax, methods: {} };
  const rec = await checkRecursion(q, zone);
  Object.assign(result, rec);
  if (!rec.recursive || rec.note) return result;
  let done = 0;
  opts.onProgress?.(0, methods.length, 'start');
  await Promise.all(
    methods.map(async (m) => {
      result.methods[m] = await probeMethod(q, zone, m, { ...opts, maxGroup, retentionMax });
      opts.onProgress?.(++done, methods.length, m);
    }),
  );
  return result;
}

/** Two different values the method can carry, random so reruns never read an old entry. */
function values(m: EchoMethod, rnd: () => number, opts: ProbeOptions): [string, string] | string {
  const n = () => 1 + Math.floor(rnd() * 250);
  switch (METHOD_INFO[m].data) {
    case 'typed':
      return [`198.51.100.${n()}`, `203.0.113.${n()}`];
    case 'labels': {
      const t = Math.floor(rnd() * 2 ** 30).toString(36);
      return [`v1-${t}`, `v2-${t}`];
    }
    case 'address': {
      const list = m === 'nr' ? opts.nrAddresses : opts.naAddresses;
      if (!list || list.length < 2) return `needs two ${m === 'nr' ? '--nr-address' : '--na-address'} addresses`;
      return [list[0]!, list[1]!];
    }
  }
}

async function probeMethod(q: Querier, zone: string, m: EchoMethod, opts: ProbeOptions & { maxGroup: number; retentionMax: number }): Promise<MethodResult> {
  const rnd = opts.random ?? cryptoRandom;
  const sleep = opts.sleep ?? defaultSleep;
  const spec: KvSpec = { method: m, type: 'A' };
  const v = values(m, rnd, opts);
  if (typeof v === 'string') return { stored: null, updatable: null, retention: null, group: null, note: v };
  const [v1, v2] = v;
  const label = (p: string) => `${p}${Math.floor(rnd() * 2 ** 40).toString(36)}`;
  const program = async (alias: string, value: string, count: number) => {
    const pq = programmingQuery(spec, zone, alias, value);
    // Sequential: a load balancer spreads consecutive queries; concurrent ones could race one cache.
    for (let i = 0; i < count; i++) await q.query(pq.name, pq.type).catch(() => undefined);
  };
  const retrieve = async (alias: string): Promise<string | undefined> => {
    const rq = retrievalQuery(spec, zone, alias, label('r'));
    try {
      const r = await q.query(rq.name, rq.type);
      return extractValue(spec, zone, alias, rq.name, r.message);
    } catch {
      return undefined;
    }
  };
  // §4.1.1: double the programming queries until the retrieval succeeds or the maximum is reached. Each
  // round uses a fresh alias: a failed retrieval may leave a negative entry for the old one.
  let n = 1;
  let alias = '';
  let stored = false;
  for (;;) {
    alias = label('p');
    await program(alias, v1, n);
    if ((await retrieve(alias)) === normalise(spec, v1)) {
      stored = true;
      break;
    }
    if (n >= opts.maxGroup) break;
    n = Math.min(n * 2, opts.maxGroup);
  }
  if (!stored) return { stored: false, updatable: null, retention: null, group: null };
  // §4.1.1: more programming queries so every cache of the group has it, then as many updates, one check.
  const retentionAlias = label('t');
  const retention = measureRetention(q, retentionAlias, n, program, retrieve, normalise(spec, v1), opts.retentionMax, sleep);
  await program(alias, v1, n);
  await program(alias, v2, n);
  const after = await retrieve(alias);
  return { stored: true, updatable: after === normalise(spec, v2), retention: await retention, group: n };
}

/** §4.1.2: checks at 1, 2, 4, … seconds after programming until the record is gone or retentionMax. */
async function measureRetention(
  _q: Querier,
  alias: string,
  n: number,
  program: (alias: string, value: string, count: number) => Promise<void>,
  retrieve: (alias: string) => Promise<string | undefined>,
  expect: string,
  retentionMax: number,
  sleep: (ms: number) => Promise<void>,
): Promise<{ seconds: number; capped: boolean }> {
  await program(alias, expect, n);
  let last = 0;
  for (let t = 1; t <= retentionMax; t *= 2) {
    await sleep((t - last) * 1000);
    if ((await retrieve(alias)) !== expect) return { seconds: last, capped: false };
    last = t;
  }
  return { seconds: last, capped: true };
}
