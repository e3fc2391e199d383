// The live dashboard: one self-contained page (inline CSS, JS and SVG, no external assets, no build step)
// that polls /dashboard.json every second and turns counter deltas into rates and latency percentiles.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fluxdns dashboard</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --mute: #6b7280; --line: #e3e6eb; --accent: #2563eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; align-items: baseline; gap: 1.5em; padding: 14px 22px; background: #1d2330; color: #fff; }
  header h1 { font-size: 18px; margin: 0; }
  header span { color: #c7cbd3; }
  main { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 14px; padding: 14px 22px; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--mute); margin: 0 0 8px; }
  .big { font-size: 28px; font-weight: 600; }
  .row { display: flex; gap: 2em; flex-wrap: wrap; }
  .kv { display: flex; flex-direction: column; }
  .kv b { font-size: 20px; }
  .kv small { color: var(--mute); }
  table { width: 100%; border-collapse: collapse; }
  td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
  th { color: var(--mute); font-weight: 500; }
  td.n, th.n { text-align: right; }
  .bar { height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; min-width: 80px; }
  .bar i { display: block; height: 100%; background: var(--accent); }
  .empty { color: var(--mute); font-style: italic; }
  svg { width: 100%; height: 90px; display: block; }
  #status.stale { color: #fca5a5; }
</style>
</head>
<body>
<header><h1>fluxdns</h1><span id="status">connecting…</span><span>workers: <b id="workers">–</b></span><span>queries: <b id="total">0</b></span></header>
<main>
  <section class="wide"><h2>Queries per second</h2>
    <div class="row"><div class="kv"><b id="qps">0</b><small>now</small></div><div class="kv" id="qps-rcode"></div><div class="kv" id="qps-transport"></div></div>
    <svg id="spark" viewBox="0 0 600 90" preserveAspectRatio="none"><polyline id="spark-line" fill="none" stroke="#2563eb" stroke-width="2" points=""/></svg>
  </section>
  <section><h2>Latency (receive → reply)</h2><div class="row" id="latency"></div></section>
  <section><h2>By rcode (since start)</h2><table id="rcodes"></table></section>
  <section><h2>By transport (since start)</h2><table id="transports"></table></section>
  <section><h2>Top query names</h2><table id="top-names"></table></section>
  <section><h2>Top clients</h2><table id="top-clients"></table></section>
  <section><h2>Zones</h2><table id="zones"></table></section>
  <section><h2>Capabilities</h2><div class="row" id="caps"></div><table id="pools"></table></section>
  <section><h2>Stateless DNS methods</h2><table id="echo"></table></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = (n) => n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : String(Math.round(n * 10) / 10);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
let prev = null;
const history = [];

function rows(id, head, data, empty) {
  const el = $(id);
  if (data.length === 0) { el.innerHTML = '<tr><td class="empty">' + esc(empty) + "</td></tr>"; return; }
  el.innerHTML = "<tr>" + head.map((h, i) => '<th class="' + (i ? "n" : "") + '">' + esc(h) + "</th>").join("") + "</tr>" +
    data.map((r) => "<tr>" + r.map((c, i) => '<td class="' + (i ? "n" : "") + '">' + (typeof c === "object" && c && c.html ? c.html : esc(c)) + "</td>").join("") + "</tr>").join("");
}

function rates(now, before, dt) {
  const out = {};
  for (const k of Object.keys(now)) out[k] = Math.max(0, (now[k] - ((before && before[k]) || 0)) / dt);
  return out;
}

/** The q-quantile of a cumulative histogram [[le, count], …] by linear interpolation inside the bucket. */
function quantile(buckets, q) {
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
  if (total === 0) return null;
  const rank = q * total;
  let lo = 0, below = 0;
  for (const [le, c] of buckets) {
    const hi = le === "+Inf" ? lo * 2 || 1 : Number(le);
    if (c >= rank) return lo + (hi - lo) * ((rank - below) / Math.max(1, c - below));
    lo = hi; below = c;
  }
  return lo;
}

const ms = (s) => s === null ? "–" : s < 0.001 ? (s * 1e6).toFixed(0) + " µs" : (s * 1e3).toFixed(2) + " ms";

function render(d) {
  $("workers").textContent = d.workers;
  $("total").textContent = d.queries.total;
  const dt = prev ? (d.time - prev.time) / 1000 : 0;
  const qps = prev && dt > 0 ? Math.max(0, (d.queries.total - prev.queries.total) / dt) : 0;
  $("qps").textContent = fmt(qps);
  history.push(qps);
  if (history.length > 120) history.shift();
  const max = Math.max(1, ...history);
  $("spark-line").setAttribute("points", history.map((v, i) => (i * 600 / 119).toFixed(1) + "," + (88 - v / max * 84).toFixed(1)).join(" "));
  if (prev && dt > 0) {
    const r = rates(d.queries.byRcode, prev.queries.byRcode, dt), t = rates(d.queries.byTransport, prev.queries.byTransport, dt);
    $("qps-rcode").innerHTML = Object.entries(r).map(([k, v]) => "<small>" + esc(k) + " " + fmt(v) + "/s</small>").join("");
    $("qps-transport").innerHTML = Object.entries(t).map(([k, v]) => "<small>" + esc(k) + " " + fmt(v) + "/s</small>").join("");
  }
  // Percentiles over the last second when queries came in; since start otherwise.
  let window = d.latency;
  if (prev && prev.latency.length === d.latency.length) {
    const delta = d.latency.map(([le, c], i) => [le, c - prev.latency[i][1]]);
    if (delta[delta.length - 1][1] > 0) window = delta;
  }
  $("latency").innerHTML = [["p50", 0.5], ["p90", 0.9], ["p99", 0.99]].map(([n, q]) => '<div class="kv"><b>' + ms(quantile(window, q)) + "</b><small>" + n + "</small></div>").join("");
  const sorted = (o) => Object.entries(o).sort((a, b) => b[1] - a[1]);
  rows("rcodes", ["rcode", "queries"], sorted(d.queries.byRcode), "no queries yet");
  rows("transports", ["transport", "queries"], sorted(d.queries.byTransport), "no queries yet");
  rows("top-names", ["name", "queries"], d.topNames, "no queries yet");
  rows("top-clients", ["client", "queries"], d.topClients, "no queries yet");
  rows("zones", ["zone", "serial", "queries"], d.zones.map((z) => [z.zone, z.serial === null ? "–" : z.serial, z.queries]), "no zones");
  const c = d.capabilities;
  $("caps").innerHTML = [["leases", c.leases], ["grants", c.grants], ["exhausted", c.exhausted], ["scanners", c.scanners], ["denied", Object.values(c.denied).reduce((a, b) => a + b, 0)]]
    .map(([k, v]) => '<div class="kv"><b>' + v + "</b><small>" + k + "</small></div>").join("");
  rows("pools", ["pool", "used", ""], c.pools.map((p) => [p.pool, p.used + " / " + p.size, { html: '<div class="bar"><i style="width:' + Math.min(100, p.size ? (100 * p.used) / p.size : 0).toFixed(1) + '%"></i></div>' }]), "no capability pools");
  rows("echo", ["method", "answers"], sorted(d.echo), "no Stateless DNS answers yet");
  prev = d;
}

async function poll() {
  try {
    const r = await fetch("dashboard.json", { cache: "no-store" });
    if (!r.ok) throw new Error(r.status);
    render(await r.json());
    $("status").textContent = "live · " + new Date().toLocaleTimeString();
    $("status").className = "";
  } catch (e) {
    $("status").textContent = "no data (" + e.message + ")";
    $("status").className = "stale";
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
`;
