// The whole server's metrics: this process's alone, or, in the primary of `workers: N`, every worker's merged.
import cluster from 'node:cluster';
import { localFamilies, type FamilyJson } from './family.js';

/** Per-process data that is not a metric family (the dashboard's top lists): name → JSON value. */
export type Extras = Record<string, unknown>;

export interface MetricsSnapshot {
  /** Prometheus text exposition format (version 0.0.4). */
  text: string;
  /** The same families, merged: counters and histograms summed, gauges as each family says. */
  families: FamilyJson[];
  /** Each process's extras (one per worker; one in a single process); empty objects unless asked for. */
  extras: Extras[];
}

export interface CollectOptions {
  /** Read the extras too (the dashboard); reading them may switch on what fills them (the top lists). */
  extras?: boolean;
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const REQUEST = 'fluxdns:metrics-request';
const RESPONSE = 'fluxdns:metrics-response';
/** A worker that does not answer within this is left out of the merge (it may be restarting). */
const WORKER_TIMEOUT_MS = 3000;

type Request = { type: typeof REQUEST; id: number; extras: boolean };
type Response = { type: typeof RESPONSE; id: number; families: FamilyJson[]; extras: Extras };

const extraSources = new Map<string, () => unknown>();

/** Adds a named piece of per-process data to every snapshot (read at collection time). */
export function provideExtra(name: string, read: () => unknown): void {
  extraSources.set(name, read);
}

function localExtras(wanted: boolean): Extras {
  const e: Extras = {};
  if (!wanted) return e;
  for (const [k, read] of extraSources) e[k] = read();
  return e;
}

function workerCount(): number {
  return cluster.isPrimary ? Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected()).length : 0;
}

/** Merged metrics of every process serving DNS: call it from the primary, a worker-less server, or a test. */
export async function collectMetrics(opts: CollectOptions = {}): Promise<MetricsSnapshot> {
  const extras = opts.extras === true;
  const parts: { families: FamilyJson[]; extras: Extras }[] = [];
  if (workerCount() > 0) parts.push(...(await askWorkers(extras)));
  else parts.push({ families: await localFamilies(), extras: localExtras(extras) });
  // Loaded on the first collection only (see family.ts).
  const { AggregatorRegistry } = await import('prom-client');
  const merged = AggregatorRegistry.aggregate(parts.map((p) => p.families) as unknown as Parameters<typeof AggregatorRegistry.aggregate>[0]);
  return {
    text: await merged.metrics(),
    families: (await merged.getMetricsAsJSON()) as unknown as FamilyJson[],
    extras: parts.map((p) => p.extras),
  };
}

let nextId = 1;
const pending = new Map<number, { want: number; got: Response[]; done: (r: Response[]) => void }>();
let listening = false;

function askWorkers(extras: boolean): Promise<{ families: FamilyJson[]; extras: Extras }[]> {
  if (!listening) {
    listening = true;
    cluster.on('message', (_w, m: unknown) => {
      if (!isResponse(m)) return;
      const p = pending.get(m.id);
      if (!p) return;
      p.got.push(m);
      if (p.got.length === p.want) p.done(p.got);
    });
  }
  const id = nextId++;
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(pending.get(id)?.got ?? []), WORKER_TIMEOUT_MS);
    const finish = (got: Response[]) => {
      clearTimeout(timer);
      pending.delete(id);
      resolve(got.map((r) => ({ families: r.families, extras: r.extras })));
    };
    pending.set(id, { want: workers.length, got: [], done: finish });
    for (const w of workers) w!.send({ type: REQUEST, id, extras } satisfies Request);
  });
}

function isResponse(m: unknown): m is Response {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === RESPONSE;
}

let answering = false;

/** In a worker: answer the primary's collection requests over the cluster channel. */
export function answerPrimary(): void {
  if (!cluster.isWorker || answering) return;
  answering = true;
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== REQUEST) return;
    const { id, extras } = m as Request;
    void localFamilies().then((families) => process.send?.({ type: RESPONSE, id, families, extras: localExtras(extras === true) } satisfies Response));
  });
}
