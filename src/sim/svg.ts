// Hand-written SVG plot of the table size over time, with the pool size as a horizontal line.
import type { SizeStats } from './stats.js';

export interface PlotInput {
  sizes: readonly number[];
  stats: SizeStats;
  title: string;
}

const W = 900;
const H = 420;
const M = { left: 70, right: 20, top: 56, bottom: 50 };
/** Longest polyline: wider series are bucketed, each point the largest size of its bucket (peaks survive). */
const MAX_POINTS = 1800;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1, 2 or 5 times a power of ten, so that about `want` ticks cover `max`. */
export function niceStep(max: number, want: number): number {
  const raw = Math.max(max, 1) / want;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** Tick spacing in seconds: a readable step of seconds, minutes or hours, about 8 ticks over the span. */
export function timeStep(span: number): number {
  for (const step of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800]) {
    if (span / step <= 9) return step;
  }
  return niceStep(span / 86400, 8) * 86400;
}

function timeLabel(sec: number, step: number): string {
  if (step >= 3600) return `${sec / 3600} h`;
  if (step >= 60) return `${sec / 60} min`;
  return `${sec} s`;
}

export function renderSvg(p: PlotInput): string {
  const n = p.sizes.length;
  const pool = p.stats.poolSize;
  const yMax = Math.max(1, p.stats.peak, pool ?? 0) * 1.08;
  const xSpan = Math.max(1, n);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (s: number): number => M.left + (s / xSpan) * pw;
  const y = (v: number): number => M.top + ph - (v / yMax) * ph;
  const f = (v: number): string => v.toFixed(1);

  const bucket = Math.max(1, Math.ceil(n / MAX_POINTS));
  const pts: string[] = [];
  for (let i = 0; i < n; i += bucket) {
    let m = 0;
    for (let j = i; j < Math.min(n, i + bucket); j++) m = Math.max(m, p.sizes[j]!);
    // A step per bucket: the size holds for the whole bucket.
    pts.push(`${f(x(i))},${f(y(m))}`, `${f(x(Math.min(n, i + bucket)))},${f(y(m))}`);
  }

  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(p.title)}</text>`);

  const yStep = niceStep(yMax, 6);
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(`<line x1="${M.left}" y1="${f(y(v))}" x2="${W - M.right}" y2="${f(y(v))}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${M.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  const xs = timeStep(xSpan);
  for (let s = 0; s <= xSpan; s += xs) {
    out.push(`<line x1="${f(x(s))}" y1="${M.top + ph}" x2="${f(x(s))}" y2="${M.top + ph + 5}" stroke="black"/>`);
    out.push(`<text x="${f(x(s))}" y="${M.top + ph + 18}" text-anchor="middle">${timeLabel(s, xs)}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${M.top + ph}" x2="${W - M.right}" y2="${M.top + ph}" stroke="black"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="black"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">time since the first connection</text>`);
  out.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">translations alive (addresses needed)</text>`);

  out.push(`<polyline fill="none" stroke="#1f5fa8" stroke-width="1.2" points="${pts.join(' ')}"/>`);
  if (pool !== null) {
    out.push(`<line x1="${M.left}" y1="${f(y(pool))}" x2="${W - M.right}" y2="${f(y(pool))}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    // The legend sits above the plot area so that it never covers the series or the line.
    out.push(`<line x1="${W - M.right - 210}" y1="${M.top - 14}" x2="${W - M.right - 180}" y2="${M.top - 14}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${W - M.right}" y="${M.top - 10}" text-anchor="end" fill="#c0392b">pool ${pool} (${p.stats.secondsAbove} s above)</text>`);
  }
  const s = p.stats;
  out.push(`<text x="${M.left}" y="${M.top - 10}" fill="#333">peak ${s.peak}, median ${s.median}, p99 ${s.p99}${bucket > 1 ? `; each point: largest of ${bucket} s` : ''}</text>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}
