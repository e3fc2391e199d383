// Results model, medians, the text/Markdown tables and a hand-written SVG bar chart for bench/run.ts.

export interface RunSample {
  round: number;
  qps: number;
  meanLatencyMs: number;
  lostPct: number;
  /** Server CPU (utime+stime of the process tree) per answered query, in µs. */
  cpuUsPerQuery: number;
  completed: number;
  rcodes: Record<string, number>;
  /** 1-minute load average when the run ended: others' work on this 2-core machine shows up here. */
  loadavg1: number;
}

export interface Summary {
  qps: number;
  meanLatencyMs: number;
  lostPct: number;
  cpuUsPerQuery: number;
}

export interface ServerResult {
  id: string;
  label: string;
  pinned: boolean;
  samples: RunSample[];
  median: Summary;
}

export interface LoadResult {
  id: string;
  records: number;
  /** Spawn to first authoritative SOA answer. */
  loadSeconds: number;
  /** Largest VmHWM of any process of the server's tree. */
  peakRssBytes: number;
  /** Sum of VmHWM over the tree (overcounts pages shared after fork). */
  peakRssSumBytes: number;
}

export interface TargetCheck {
  target: string;
  measured: string;
  holds: boolean;
}

export interface BenchResults {
  date: string;
  machine: { cpus: number; model: string; kernel: string; node: string };
  versions: Record<string, string>;
  params: { rounds: number; seconds: number; clients: number; outstanding: number; timeout: number; serverCpu: string; dnsperfCpu: string };
  zone: { names: number; records: number; wildcards: number };
  queries: { total: number; positive: number; nxdomain: number; nodata: number; wildcard: number };
  udp: ServerResult[];
  /** The every-name-distinct mix (writeDistinctQueries), UDP. */
  distinctMix?: { total: number; wildcard: number; nxdomain: number; belowHost: number };
  distinct: ServerResult[];
  tcp: ServerResult[];
  /** Dynamic answers: fluxdns's pool policy against PowerDNS LUA pickrandom (policy-first addressing). */
  dynamic: ServerResult[];
  /** fluxdns (workers: 1) qps divided by each peer's, per transport / phase. */
  ratios: { udp: Record<string, number>; distinct: Record<string, number>; tcp: Record<string, number>; dynamic: Record<string, number> };
  load: LoadResult[];
  targets: TargetCheck[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(samples: readonly RunSample[]): Summary {
  return {
    qps: median(samples.map((s) => s.qps)),
    meanLatencyMs: median(samples.map((s) => s.meanLatencyMs)),
    lostPct: median(samples.map((s) => s.lostPct)),
    cpuUsPerQuery: median(samples.map((s) => s.cpuUsPerQuery)),
  };
}

export function ratios(results: readonly ServerResult[], baseId = 'fluxdns'): Record<string, number> {
  const base = results.find((r) => r.id === baseId);
  const out: Record<string, number> = {};
  if (!base) return out;
  for (const r of results) if (r.id !== baseId) out[r.id] = base.median.qps / r.median.qps;
  return out;
}

/** Markdown table: server, qps, mean latency, lost, CPU µs/query, fluxdns ratio. */
export function markdownTable(results: readonly ServerResult[], ratio: Record<string, number>): string {
  const rows = [
    '| server | queries/s | mean latency | lost | server CPU µs/query | fluxdns qps ÷ this |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const m = r.median;
    const q = ratio[r.id];
    rows.push(
      `| ${r.label} | ${Math.round(m.qps).toLocaleString('en-US')} | ${m.meanLatencyMs.toFixed(3)} ms | ${m.lostPct.toFixed(2)} % | ${m.cpuUsPerQuery.toFixed(2)} | ${q === undefined ? '—' : q.toFixed(2)} |`,
    );
  }
  return rows.join('\n');
}

/** CPU µs/query per server for both mixes, each with its ratio to knotd's, and the load averages seen. */
export function cpuTable(repeat: readonly ServerResult[], distinct: readonly ServerResult[]): string {
  const ids = [...new Set([...repeat, ...distinct].map((r) => r.id))];
  const cell = (rs: readonly ServerResult[], id: string): string => {
    const r = rs.find((x) => x.id === id);
    const k = rs.find((x) => x.id === 'knotd');
    if (!r) return '— | —';
    const us = r.median.cpuUsPerQuery;
    return `${us.toFixed(2)} | ${k ? (us / k.median.cpuUsPerQuery).toFixed(2) : '—'}`;
  };
  const loads = (id: string): string => {
    const xs = [...repeat, ...distinct].filter((r) => r.id === id).flatMap((r) => r.samples.map((s) => s.loadavg1));
    return xs.length > 0 ? `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}` : '—';
  };
  const rows = [
    '| server | repeating mix µs/query | ÷ knotd | every name distinct µs/query | ÷ knotd | load average |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const id of ids) {
    const label = [...repeat, ...distinct].find((r) => r.id === id)!.label;
    rows.push(`| ${label} | ${cell(repeat, id)} | ${cell(distinct, id)} | ${loads(id)} |`);
  }
  return rows.join('\n');
}

export function loadTable(load: readonly LoadResult[]): string {
  const rows = ['| server | records | load time (spawn → first SOA) | peak RSS (VmHWM, largest process) |', '|---|---:|---:|---:|'];
  for (const l of load) {
    rows.push(`| ${l.id} | ${l.records.toLocaleString('en-US')} | ${l.loadSeconds.toFixed(2)} s | ${(l.peakRssBytes / 2 ** 20).toFixed(0)} MiB |`);
  }
  return rows.join('\n');
}

export function targetsTable(t: readonly TargetCheck[]): string {
  const rows = ['| target | measured | holds |', '|---|---|---|'];
  for (const x of t) rows.push(`| ${x.target} | ${x.measured} | ${x.holds ? 'yes' : '**no**'} |`);
  return rows.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Panel {
  title: string;
  unit: string;
  bars: { label: string; value: number; highlight: boolean }[];
}

/** Horizontal bar chart, one panel per metric, no dependencies. */
export function svgChart(res: BenchResults): string {
  const panels: Panel[] = [
    {
      title: `UDP queries/s (median of ${res.params.rounds} × ${res.params.seconds} s)`,
      unit: 'q/s',
      bars: res.udp.map((r) => ({ label: r.label, value: r.median.qps, highlight: r.id.startsWith('fluxdns') })),
    },
    {
      title: 'TCP queries/s',
      unit: 'q/s',
      bars: res.tcp.map((r) => ({ label: r.label, value: r.median.qps, highlight: r.id.startsWith('fluxdns') })),
    },
    {
      title: 'UDP server CPU per query (lower is better)',
      unit: 'µs',
      bars: res.udp.map((r) => ({ label: r.label, value: r.median.cpuUsPerQuery, highlight: r.id.startsWith('fluxdns') })),
    },
  ];
  const width = 760;
  const labelW = 230;
  const barH = 20;
  const gap = 6;
  const plotW = width - labelW - 90;
  let y = 40;
  const parts: string[] = [];
  parts.push(`<text x="10" y="24" font-size="15" font-weight="bold">fluxdns benchmark — ${esc(res.date.slice(0, 10))}, ${res.machine.cpus} cores, server on core ${esc(res.params.serverCpu)}, dnsperf on core ${esc(res.params.dnsperfCpu)}</text>`);
  for (const p of panels) {
    if (p.bars.length === 0) continue;
    y += 14;
    parts.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
    y += 8;
    const max = Math.max(...p.bars.map((b) => b.value), 1e-9);
    for (const b of p.bars) {
      const w = Math.max(1, Math.round((b.value / max) * plotW));
      const fill = b.highlight ? '#d9480f' : '#4c6ef5';
      const text = p.unit === 'q/s' ? Math.round(b.value).toLocaleString('en-US') : b.value.toFixed(2) + ' ' + p.unit;
      parts.push(
        `<text x="${labelW - 6}" y="${y + barH - 6}" font-size="12" text-anchor="end">${esc(b.label)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w}" height="${barH}" fill="${fill}"/>`,
        `<text x="${labelW + w + 4}" y="${y + barH - 6}" font-size="12">${esc(text)}</text>`,
      );
      y += barH + gap;
    }
    y += 10;
  }
  if (res.load.length > 0) {
    y += 14;
    parts.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${esc(`Load of a ${res.load[0]!.records.toLocaleString('en-US')}-record zone`)}</text>`);
    for (const l of res.load) {
      y += 18;
      parts.push(`<text x="20" y="${y}" font-size="12">${esc(`${l.id}: ${l.loadSeconds.toFixed(2)} s, peak RSS ${(l.peakRssBytes / 2 ** 20).toFixed(0)} MiB`)}</text>`);
    }
    y += 10;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
