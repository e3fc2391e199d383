// The live dashboard in a real browser: headless Chromium loads the page fluxdns serves on the metrics
// listener and, after this test sends queries, its DOM shows them; a screenshot is kept in the temp dir.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll } from '../helpers/proc.js';
import { startFluxdns } from '../helpers/servers.js';

after(() => stopAll());

const ZONE = `$ORIGIN dash.lab.\n$TTL 300\n@ SOA ns hm 2026120207 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\n`;

/** Headless Chromium with its own profile; `args` says what to do (--dump-dom, --screenshot). Returns stdout. */
async function chromium(dir: string, url: string, args: string[]): Promise<string> {
  const proc = startProcess(
    '/usr/bin/chromium',
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`, '--virtual-time-budget=4000', ...args, url],
    { name: 'chromium' },
  );
  const timer = setTimeout(() => void proc.stop(), 60000);
  const exit = await proc.exited;
  clearTimeout(timer);
  assert.equal(exit.code, 0, `chromium failed\n${proc.describe()}`);
  return proc.stdout;
}

/** The data rows (header rows left out) of the table with this id in a dumped DOM: [[cell, cell], …]. */
function tableRows(dom: string, id: string): string[][] {
  const m = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(dom);
  if (!m) return [];
  return [...m[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!)).filter((r) => r.length > 0);
}

test('the dashboard in headless Chromium shows the queries sent, the zone and its serial', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dashboard-'));
  writeFileSync(join(dir, 'dash.lab.zone'), ZONE);
  const port = await freePort();
  const metricsPort = await freePort();
  const yaml = `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\nworkers: 2\nmetrics: { listen: "127.0.0.1:${metricsPort}" }\nzones:\n  - { name: dash.lab., file: ${JSON.stringify(join(dir, 'dash.lab.zone'))} }\n`;
  const server = await startFluxdns(yaml, port, 'dash.lab.');
  try {
    const url = `http://127.0.0.1:${metricsPort}/`;
    const empty = await chromium(dir, url, ['--dump-dom']);
    assert.match(empty, /<h1>fluxdns<\/h1>/);
    assert.deepEqual(tableRows(empty, 'zones')[0]?.slice(0, 2), ['dash.lab.', '2026120207']);

    // 25 queries for a name nobody else asks, 10 for www, from one socket; each answered.
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const got = new Set<number>();
    s.on('message', (m) => got.add(m.readUInt16BE(0)));
    const names = [...Array.from({ length: 25 }, () => 'probe-name.dash.lab'), ...Array.from({ length: 10 }, () => 'www.dash.lab')];
    for (let round = 0; round < 20 && got.size < names.length; round++) {
      names.forEach((n, i) => got.has(i + 1) || s.send(packet.encode({ id: i + 1, type: 'query', questions: [{ name: n, type: 'A' }] }), port, '127.0.0.1'));
      await new Promise((r) => setTimeout(r, 200));
    }
    s.close();
    assert.equal(got.size, names.length);

    let top: string[][] = [];
    let total = 0;
    const deadline = Date.now() + 90000;
    while (Date.now() < deadline) {
      const dom = await chromium(dir, url, ['--dump-dom']);
      top = tableRows(dom, 'top-names');
      total = Number(/<b id="total">(\d+)<\/b>/.exec(dom)?.[1] ?? 0);
      if (top.some((r) => r[0] === 'probe-name.dash.lab.' && r[1] === '25')) break;
    }
    assert.deepEqual(top.find((r) => r[0] === 'probe-name.dash.lab.'), ['probe-name.dash.lab.', '25']);
    assert.deepEqual(top.find((r) => r[0] === 'www.dash.lab.'), ['www.dash.lab.', '10']);
    assert.ok(total >= names.length, `the page counts at least the ${names.length} queries sent: ${total}`);

    const png = join(dir, 'dashboard.png');
    await chromium(dir, url, ['--hide-scrollbars', '--window-size=1280,980', `--screenshot=${png}`]);
    const bytes = readFileSync(png);
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG file');
    process.stderr.write(`dashboard screenshot: ${png}\n`);
  } finally {
    await server.stop();
  }
});
