// The merged metrics as a plain-text table (`fluxdns ctl stats`): one line per series, zero series left out.
import type { FamilyJson } from './family.js';

export function metricsTable(families: readonly FamilyJson[]): string {
  const rows: [string, string][] = [];
  for (const f of families) {
    for (const v of f.values) {
      if (v.value === 0) continue;
      const labels = Object.entries(v.labels)
        .map(([k, x]) => `${k}=${x}`)
        .join(' ');
      rows.push([`${v.metricName ?? f.name}${labels ? ` ${labels}` : ''}`, formatValue(v.value)]);
    }
  }
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + (rows.length ? '\n' : '');
}

function formatValue(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toPrecision(6);
}
