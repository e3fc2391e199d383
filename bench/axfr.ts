// AXFR of the big bench zone (issue 13: "time and peak RSS next to knotd's, target ≤ 1.5 × knotd's time"):
// fluxdns and knotd each serve the zone pinned to one core; a small TCP client on the other core asks for
// AXFR, reads every message to the closing SOA and counts the records. Rounds alternate the servers.
// Reported per server: wall time of the transfer, server CPU seconds during it (from /proc, the figure
// that survives a loaded machine), messages, and peak RSS (VmHWM) after load and after the transfers.
// Run alone: `npm run build && npm run bench:axfr -- [--records N] [--rounds R] [--build LABEL=DIR]`; `npm run bench` runs it too
// (`npm run bench -- --only axfr --skip-load --skip-tcp --mix repeat` for this phase alone).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/ports.js';
import { knotConfig } from '../test/helpers/servers.js';
import { startProcess, type Proc } from '../test/helpers/proc.js';
import { cpuNs, peakRss } from './measure.js';
import { fluxdnsDist, repoRoot, waitForSoa } from './servers.js';
import { BENCH_ZONE, writeZone } from './zone.js';

export interface AxfrRun {
  seconds: number;
  /** Connect to the first whole message. */
  firstSeconds: number;
  /** This (client) process's CPU during the transfer: when it nears `seconds`, the client sets the pace. */
  clientCpuSeconds: number;
  cpuSeconds: number;
  messages: number;
  records: number;
}

export interface AxfrResult {
  /** 'fluxdns', 'knotd', or `fluxdns@LABEL` for another build (--build). */
  id: string;
  /** Records in the zone file (the transfer carries one more: the closing SOA). */
  zoneRecords: number;
  loadSeconds: number;
  runs: AxfrRun[];
  medianSeconds: number;
  medianCpuSeconds: number;
  /** VmHWM once the zone answered, and after the transfers. */
  rssAfterLoadBytes: number;
  peakRssBytes: number;
}

interface Started {
  proc: Proc;
  port: number;
  dir: string;
  loadSeconds: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function pinned(cpu: string | null, cmd: string, args: string[], cwd: string, name: string): Proc {
  const [c, a] = cpu === null ? [cmd, args] : ['taskset', ['-c', cpu, cmd, ...args]];
  return startProcess(c, a, { name, cwd });
}

async function startFluxdns(zoneFile: string, cpu: string | null, main = fluxdnsDist): Promise<Started> {
  if (!existsSync(main)) throw new Error(`${main} missing: run npm run build`);
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-bench-axfr-'));
  const port = await freePort();
  const conf = join(dir, 'fluxdns.yaml');
  writeFileSync(
    conf,
    [
      'listen:',
      `  - { proto: udp, address: "127.0.0.1:${port}" }`,
      `  - { proto: tcp, address: "127.0.0.1:${port}" }`,
      'workers: 1',
      'log: { level: warn }',
      'rrl: off',
      'zones:',
      `  - { name: ${BENCH_ZONE}, file: ${JSON.stringify(zoneFile)}, allowTransfer: ["127.0.0.0/8"], journal: { file: ${JSON.stringify(join(dir, 'bench.jnl'))} } }`,
      '',
    ].join('\n'),
  );
  const t0 = Date.now();
  const proc = pinned(cpu, process.execPath, [main, 'serve', '--config', conf], repoRoot, `fluxdns-axfr:${port}`);
  await waitForSoa(proc, port, BENCH_ZONE, 900_000);
  return { proc, port, dir, loadSeconds: (Date.now() - t0) / 1000 };
}

async function startKnotd(zoneFile: string, cpu: string | null): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-bench-axfr-knot-'));
  mkdirSync(join(dir, 'db'));
  const port = await freePort();
  // The helper's configuration plus an ACL that lets loopback transfer the zone.
  const conf = knotConfig(dir, { port, zones: [{ name: BENCH_ZONE, file: zoneFile }], log: 'warning' })
    .replace('zone:\n', 'acl:\n  - id: bench-xfr\n    address: 127.0.0.0/8\n    action: transfer\nzone:\n')
    .replace(`    file: "${zoneFile}"\n`, `    file: "${zoneFile}"\n    acl: bench-xfr\n`);
  writeFileSync(join(dir, 'knot.conf'), conf);
  const t0 = Date.now();
  const proc = pinned(cpu, 'knotd', ['-c', join(dir, 'knot.conf')], dir, `knotd-axfr:${port}`);
  await waitForSoa(proc, port, BENCH_ZONE, 900_000);
  return { proc, port, dir, loadSeconds: (Date.now() - t0) / 1000 };
}

/** Skips one (possibly compressed) name at `p`; returns the position after it. */
function skipName(m: Buffer, p: number): number {
  for (;;) {
    const len = m[p]!;
    if (len === 0) return p + 1;
    if ((len & 0xc0) === 0xc0) return p + 2;
    p += len + 1;
  }
}

/** The AXFR query for the bench zone, in TCP framing. */
function axfrQuery(id: number): Buffer {
  const name = Buffer.concat([...BENCH_ZONE.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const msg = Buffer.concat([Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 252, 0, 1])]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

/**
 * One AXFR over TCP: reads messages until the second SOA (RFC 5936 §2.2), counting records; rejects on
 * an RCODE other than NOERROR, a closed connection or `timeoutMs`.
 */
export function axfr(port: number, timeoutMs = 600_000): Promise<Omit<AxfrRun, 'cpuSeconds'>> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf: Buffer = Buffer.alloc(0);
    let messages = 0;
    let records = 0;
    let soas = 0;
    let firstSeconds = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else {
        const cpu = process.cpuUsage(cpu0);
        resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, firstSeconds, clientCpuSeconds: (cpu.user + cpu.system) / 1e6, messages, records });
      }
    };
    const timer = setTimeout(() => finish(new Error(`AXFR from port ${port}: no end within ${timeoutMs} ms (${messages} messages)`)), timeoutMs);
    sock.on('connect', () => sock.write(axfrQuery(0x5a5a)));
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new Error(`AXFR from port ${port}: connection closed after ${messages} messages, ${records} records`)));
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + m.length);
        if (messages++ === 0) firstSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const rcode = m[3]! & 0x0f;
        if (rcode !== 0) return finish(new Error(`AXFR from port ${port}: RCODE ${rcode}`));
        let p = 12;
        for (let i = m.readUInt16BE(4); i > 0; i--) p = skipName(m, p) + 4;
        for (let i = m.readUInt16BE(6); i > 0; i--) {
          p = skipName(m, p);
          if (m.readUInt16BE(p) === 6) soas++;
          p += 8;
          p += 2 + m.readUInt16BE(p);
          records++;
        }
        if (soas >= 2) return finish();
      }
    });
  });
}

export interface AxfrBenchOptions {
  zoneFile: string;
  zoneRecords: number;
  rounds: number;
  /** Core for the servers (taskset -c), null unpinned. */
  cpu: string | null;
  log: (line: string) => void;
  /** Other fluxdns builds (their dist/cli/main.js) run beside the repository's, for A/B: id `fluxdns@LABEL`. */
  builds?: readonly { label: string; main: string }[];
}

/**
 * Starts fluxdns and knotd on the zone one after the other (each loads alone, VmHWM read once it answers),
 * then runs `rounds` rounds of one transfer from each, the order rotating every round, so each server's
 * transfers see the same machine (load, the client's warm-up) as the others'.
 */
export async function axfrBench(o: AxfrBenchOptions): Promise<AxfrResult[]> {
  interface Server extends Started {
    id: string;
    rssAfterLoadBytes: number;
    runs: AxfrRun[];
  }
  const servers: Server[] = [];
  try {
    const starts: [string, () => Promise<Started>][] = [
      ['fluxdns', () => startFluxdns(o.zoneFile, o.cpu)],
      ...(o.builds ?? []).map((b): [string, () => Promise<Started>] => [`fluxdns@${b.label}`, () => startFluxdns(o.zoneFile, o.cpu, b.main)]),
      ['knotd', () => startKnotd(o.zoneFile, o.cpu)],
    ];
    for (const [id, start] of starts) {
      const s = await start();
      const rssAfterLoadBytes = peakRss(s.proc.pid).max;
      servers.push({ ...s, id, rssAfterLoadBytes, runs: [] });
      o.log(`  ${id}: zone answered after ${s.loadSeconds.toFixed(1)} s, VmHWM ${(rssAfterLoadBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    for (let r = 0; r < o.rounds; r++) {
      for (let i = 0; i < servers.length; i++) {
        const s = servers[(i + r) % servers.length]!;
        const before = cpuNs(s.proc.pid);
        const x = await axfr(s.port);
        const cpuSeconds = (cpuNs(s.proc.pid) - before) / 1e9;
        // The transfer carries every record once and the SOA twice.
        if (x.records !== o.zoneRecords + 1) throw new Error(`${s.id}: AXFR carried ${x.records} records, the zone has ${o.zoneRecords} (+1 closing SOA expected)`);
        s.runs.push({ ...x, cpuSeconds });
        o.log(`  ${s.id} AXFR ${r + 1}/${o.rounds}: ${x.seconds.toFixed(3)} s (first message ${(x.firstSeconds * 1000).toFixed(1)} ms), server CPU ${cpuSeconds.toFixed(3)} s, client CPU ${x.clientCpuSeconds.toFixed(3)} s, ${x.messages} messages, ${x.records} records`);
      }
    }
    return servers.map((s) => ({
      id: s.id,
      zoneRecords: o.zoneRecords,
      loadSeconds: s.loadSeconds,
      runs: s.runs,
      medianSeconds: median(s.runs.map((r) => r.seconds)),
      medianCpuSeconds: median(s.runs.map((r) => r.cpuSeconds)),
      rssAfterLoadBytes: s.rssAfterLoadBytes,
      peakRssBytes: peakRss(s.proc.pid).max,
    }));
  } finally {
    for (const s of servers) {
      await s.proc.stop(5000);
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
}

/** The Markdown table of the AXFR phase, with the ratio to knotd's time (issue 13's target: ≤ 1.5). */
export function axfrTable(results: readonly AxfrResult[]): string {
  const knot = results.find((r) => r.id === 'knotd');
  const rows = results.map((r) => {
    const ratio = knot ? ` (${(r.medianSeconds / knot.medianSeconds).toFixed(2)} × knotd)` : '';
    const cpuRatio = knot ? ` (${(r.medianCpuSeconds / knot.medianCpuSeconds).toFixed(2)} × knotd)` : '';
    return `| ${r.id} | ${r.zoneRecords.toLocaleString('en-US')} | ${r.medianSeconds.toFixed(2)} s${ratio} | ${r.medianCpuSeconds.toFixed(2)} s${cpuRatio} | ${r.runs[0]?.messages ?? 0} | ${(r.rssAfterLoadBytes / 2 ** 20).toFixed(0)} MiB | ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB |`;
  });
  return ['| server | records | AXFR time (median) | server CPU (median) | messages | VmHWM after load | peak RSS after AXFR |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}

/** `--build LABEL=DIR` (DIR holds cli/main.js, e.g. a copy of an older dist/): another fluxdns build for A/B. */
function builds(specs: readonly string[]): { label: string; main: string }[] {
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error(`--build ${spec}: expected LABEL=DIR`);
    return { label: spec.slice(0, eq), main: join(spec.slice(eq + 1), 'cli', 'main.js') };
  });
}

// Standalone: writes the zone, runs the phase, prints the table.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' }, unpinned: { type: 'boolean', default: false }, build: { type: 'string', multiple: true, default: [] } } });
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-bench-axfr-zone-'));
  try {
    const zoneFile = join(dir, 'big.zone');
    const shape = await writeZone(zoneFile, Number(values.records));
    const log = (l: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`);
    log(`AXFR: zone of ${shape.records} records`);
    const results = await axfrBench({ zoneFile, zoneRecords: shape.records, rounds: Number(values.rounds), cpu: values.unpinned ? null : '0', log, builds: builds(values.build) });
    process.stdout.write(axfrTable(results) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
