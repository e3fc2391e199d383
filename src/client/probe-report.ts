// Probe output: the matrix in the seed's §4.2 layout (rows resolvers, columns methods), the on-disk cache
// that `--method auto` reads, and the choice of the best method from it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { METHODS, METHOD_INFO, type EchoMethod } from '../echo/methods.js';
import type { MethodResult, ProbeResult } from './probe.js';

/** One cell: stored/updatable/retention, e.g. "yes/no/≥8s", "no", "n/t" (not tested). */
export function cell(r: MethodResult | undefined): string {
  if (!r || r.stored === null) return 'n/t';
  if (!r.stored) return 'no';
  const ret = r.retention ? `${r.retention.capped ? '≥' : ''}${r.retention.seconds}s` : '?';
  const grp = r.group && r.group > 1 ? ` g${r.group}` : '';
  return `yes/${r.updatable ? 'yes' : 'no'}/${ret}${grp}`;
}

/** The seed §4.2 table: a row per resolver, a column per method (stored/updatable/retention). */
export function formatTable(results: readonly ProbeResult[], methods: readonly EchoMethod[] = METHODS): string {
  const header = ['resolver', ...methods];
  const rows = results.map((r) => {
    if (!r.recursive || r.note) return [r.resolver, `(${r.note ?? 'unreachable'})`];
    return [r.resolver, ...methods.map((m) => cell(r.methods[m]))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((r) => r.length === header.length).map((r) => r[i]!.length)));
  const line = (cols: string[]) => (cols.length === header.length ? cols.map((c, i) => c.padEnd(widths[i]!)).join('  ') : cols.join('  ')).trimEnd();
  const legend = 'cells: stored/updatable/retention (≥ = still cached at --retention-max; gN = N programming queries needed); no = not stored; n/t = not tested';
  return [line(header), ...rows.map(line), legend].join('\n') + '\n';
}

export function defaultCacheDir(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache'), 'fluxdns');
}

function cacheFile(dir: string, resolver: string): string {
  return join(dir, `probe-${resolver.replace(/[^A-Za-z0-9.-]/g, '_')}.json`);
}

export function saveProbe(dir: string, r: ProbeResult): string {
  mkdirSync(dir, { recursive: true });
  const file = cacheFile(dir, r.resolver);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}

export function loadProbe(dir: string, resolver: string): ProbeResult | undefined {
  try {
    return JSON.parse(readFileSync(cacheFile(dir, resolver), 'utf8')) as ProbeResult;
  } catch {
    return undefined;
  }
}

/** Preference among working methods: updatable first, then the seed's order of robustness (§2.6–2.7). */
const PREFERENCE: readonly EchoMethod[] = ['cca', 'ccx', 'ca', 'a', 'da', 'dx', 'ccu', 'du', 'nu', 'cu'];

/**
 * The best method the probe found for `purpose`: 'put' wants typed data stored and preferably
 * updatable; 'if-absent' prefers the D* methods (retrieve-or-store, §2.7.4).
 */
export function bestMethod(r: ProbeResult, purpose: 'put' | 'if-absent', dataKind: 'typed' | 'labels' = 'typed'): EchoMethod | undefined {
  const ok = PREFERENCE.filter((m) => METHOD_INFO[m].data === dataKind).filter((m) => r.methods[m]?.stored === true);
  if (purpose === 'if-absent') {
    const d = ok.find((m) => METHOD_INFO[m].retrieve === 'sub');
    if (d) return d;
  }
  return ok.find((m) => r.methods[m]?.updatable === true) ?? ok[0];
}
