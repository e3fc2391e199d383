// Prometheus metrics through a real Prometheus: it scrapes fluxdns (workers: 2, merged in the primary)
// and its HTTP API must report exactly the queries this test sent, per rcode, qtype and transport.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import { LATENCY_SAMPLE } from '../../src/observe/metrics/queries.js';
import { rcodeName } from '../../src/wire/types.js';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll } from '../helpers/proc.js';
import { startFluxdns } from '../helpers/servers.js';
import { udpExchange } from '../helpers/udp.js';

after(() => stopAll());

const ZONE = `$ORIGIN mt.lab.\n$TTL 300\n@ SOA ns hm 2026120201 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\n`;

/** Sends each query from its own socket (a distinct source port, so both workers' sockets get some) and waits for every reply. */
async function sendUdp(port: number, queries: { name: string; type: string }[]): Promise<string[]> {
  return Promise.all(
    queries.map(async (q, i) => {
      const reply = await udpExchange(packet.encode({ id: i + 1, type: 'query', questions: [{ name: q.name, type: q.type as 'A' }] }), port, { timeoutMs: 10000 });
      if (!reply) throw new Error(`no reply to ${q.name} ${q.type}`);
      return rcodeName(reply[3]! & 15);
    }),
  );
}

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(port: number, expr: string): Promise<PromResult[]> {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await r.json()) as { status: string; data: { result: PromResult[] } };
  assert.equal(body.status, 'success');
  return body.data.result;
}

function table(rs: PromResult[], labels: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) out[labels.map((l) => r.metric[l]).join(' ')] = Number(r.value[1]);
  return out;
}

test('a real Prometheus scrapes fluxdns with workers: 2 and counts exactly the queries sent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-metrics-'));
  writeFileSync(join(dir, 'mt.lab.zone'), ZONE);
  const port = await freePort();
  const metricsPort = await freePort();
  const yaml = [
    'listen:',
    `  - { proto: udp, address: "127.0.0.1:${port}" }`,
    `  - { proto: tcp, address: "127.0.0.1:${port}" }`,
    'workers: 2',
    `metrics: { listen: "127.0.0.1:${metricsPort}", path: /metrics }`,
    'zones:',
    `  - { name: mt.lab., file: ${JSON.stringify(join(dir, 'mt.lab.zone'))} }`,
  ].join('\n');
  const server = await startFluxdns(yaml, port, 'mt.lab.');

  const promPort = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: fluxdns\n    metrics_path: /metrics\n    static_configs:\n      - targets: ["127.0.0.1:${metricsPort}"]\n`,
  );
  const prom = startProcess('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { name: 'prometheus' });
  try {
    await prom.waitFor(/Server is ready to receive web requests/, 30000, 'stderr');
    // The top lists fill while the dashboard looks: read its data once before sending.
    const before = (await (await fetch(`http://127.0.0.1:${metricsPort}/dashboard.json`)).json()) as { topNames: unknown[] };
    assert.deepEqual(before.topNames, []);

    const sent = [
      ...Array.from({ length: 30 }, () => ({ name: 'www.mt.lab', type: 'A' })),
      ...Array.from({ length: 12 }, (_, i) => ({ name: `missing${i}.mt.lab`, type: 'AAAA' })),
      ...Array.from({ length: 7 }, () => ({ name: 'www.mt.lab', type: 'MX' })),
      ...Array.from({ length: 5 }, () => ({ name: 'elsewhere.example', type: 'TXT' })),
    ];
    const rcodes = await sendUdp(port, sent);
    assert.deepEqual(
      rcodes.reduce<Record<string, number>>((a, r) => ((a[r] = (a[r] ?? 0) + 1), a), {}),
      { NOERROR: 37, NXDOMAIN: 12, REFUSED: 5 },
    );
    for (let i = 0; i < 3; i++) assert.equal((await dig(port, 'www.mt.lab', 'A', { extra: ['+tcp'] })).rcode, 'NOERROR');

    // The readiness probe asked SOA; everything else was sent above.
    const want = { 'NOERROR A udp': 30, 'NOERROR A tcp': 3, 'NXDOMAIN AAAA udp': 12, 'NOERROR MX udp': 7, 'REFUSED TXT udp': 5 };
    let got: Record<string, number> = {};
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      got = table(await promQuery(promPort, 'sum by (rcode, qtype, transport) (fluxdns_queries_total{qtype!="SOA"})'), ['rcode', 'qtype', 'transport']);
      if (JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(want).sort())) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(got, want);
    assert.deepEqual(table(await promQuery(promPort, 'sum by (rcode) (fluxdns_queries_total{qtype!="SOA"})'), ['rcode']), { NOERROR: 40, NXDOMAIN: 12, REFUSED: 5 });
    assert.deepEqual(table(await promQuery(promPort, 'fluxdns_zone_serial'), ['zone']), { 'mt.lab.': 2026120201 });
    // One query in LATENCY_SAMPLE is timed, the first of each worker among them: a worker that answered
    // n queries timed ceil(n / 16), so over two workers the count lies between ceil(total / 16) and one more.
    const count = table(await promQuery(promPort, 'fluxdns_query_duration_seconds_count'), [])['']!;
    const total = table(await promQuery(promPort, 'sum(fluxdns_queries_total)'), [])['']!;
    assert.ok(total >= 57, `at least the 57 queries sent, found ${total}`);
    assert.ok(count >= Math.ceil(total / LATENCY_SAMPLE) && count <= Math.ceil(total / LATENCY_SAMPLE) + 1, `${count} timed of ${total}`);
    // Every reply was measured (the SOA probes too).
    const sizes = table(await promQuery(promPort, 'sum(fluxdns_response_size_bytes_count)'), [])['']!;
    assert.equal(sizes, table(await promQuery(promPort, 'sum(fluxdns_queries_total{rcode!="none"})'), [])['']);
    // Per zone, from the questions' wire bytes: the 5 TXT queries are in no zone, every other one in mt.lab.
    assert.deepEqual(table(await promQuery(promPort, 'sum by (zone) (fluxdns_zone_queries_total)'), ['zone']), { '': 5, 'mt.lab.': total - 5 });

    // Both workers answer the primary's collection (the dashboard's data says how many took part).
    const dash = (await (await fetch(`http://127.0.0.1:${metricsPort}/dashboard.json`)).json()) as { workers: number; topNames: [string, number][] };
    assert.equal(dash.workers, 2);
    assert.deepEqual(dash.topNames[0], ['www.mt.lab.', 40]);
  } finally {
    await prom.stop();
    await server.stop();
  }
});
