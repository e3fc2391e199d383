// Memory relief vs. answers (issue 16): a steady UDP prober (one query every 5 ms) runs while a DoH
// stream attack (2 × 6 s), then a flood of generated malformed UDP packets (20 s), then 40 s of quiet.
// Prints, per phase, the prober's answers, losses and longest wait for an answer, and every
// `memory relief` the server logged: in which phase, how long its longest step blocked the event loop.
// `npm run bench:relief -- [--tree DIR]` (DIR: another checkout, e.g. the tree before a change, for A/B).
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dohStreamAttack, query, sleep } from '../test/helpers/attack.js';
import { generator } from '../test/helpers/flood.js';
import { freePort } from '../test/helpers/ports.js';
import { startProcess } from '../test/helpers/proc.js';
import { makeTestCert } from '../test/helpers/tls.js';
import { repoRoot } from './servers.js';

const { values: flags } = parseArgs({ options: { tree: { type: 'string', default: repoRoot }, 'flood-seconds': { type: 'string', default: '20' }, 'quiet-seconds': { type: 'string', default: '40' } } });
const tree = flags.tree!;

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-relief-'));
const cert = makeTestCert(dir);
const zone = join(dir, 't.lab.zone');
writeFileSync(zone, '$ORIGIN t.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\n');
const dns = await freePort();
const doh = await freePort();
const conf = join(dir, 'fluxdns.yaml');
writeFileSync(
  conf,
  `listen:\n  - { proto: udp, address: "127.0.0.1:${dns}" }\n  - { proto: tcp, address: "127.0.0.1:${dns}" }\n` +
    `  - { proto: https, address: "127.0.0.1:${doh}", cert: ${cert.cert}, key: ${cert.key} }\n` +
    `log: { level: info }\nrrl: off\nzones:\n  - { name: t.lab., file: ${zone} }\n`,
);
const server = startProcess(process.execPath, ['--expose-gc', '--import', 'tsx', join(tree, 'src', 'cli', 'main.ts'), 'serve', '--config', conf], { cwd: tree, name: 'fluxdns' });
await server.waitFor(/fluxdns ready/, 120_000);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024;

let phase = 'warm-up';
interface PhaseStats {
  sent: number;
  answered: number;
  maxWaitMs: number;
  rssEndMB: number;
}
const stats = new Map<string, PhaseStats>();
const of = (p: string) => stats.get(p) ?? (stats.set(p, { sent: 0, answered: 0, maxWaitMs: 0, rssEndMB: 0 }), stats.get(p)!);

// The prober: each query's send time by ID; a wait is measured when the answer comes, and for the
// unanswered at the end as lost.
const prober = dgram.createSocket('udp4');
await new Promise<void>((r) => prober.bind(0, '127.0.0.1', () => r()));
const pending = new Map<number, { at: number; phase: string }>();
prober.on('message', (m) => {
  const id = m.readUInt16BE(0);
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  const s = of(p.phase);
  s.answered++;
  s.maxWaitMs = Math.max(s.maxWaitMs, performance.now() - p.at);
});
let id = 0;
const probe = setInterval(() => {
  id = (id + 1) & 0xffff;
  pending.set(id, { at: performance.now(), phase });
  of(phase).sent++;
  prober.send(query(id), dns, '127.0.0.1');
}, 5);

// When each phase began, to place the server's `memory relief` lines (their "time") in one.
const phaseStarts: { phase: string; at: number }[] = [{ phase, at: Date.now() }];
const enter = (p: string) => {
  phase = p;
  phaseStarts.push({ phase: p, at: Date.now() });
};

const startRss = rss();
await sleep(3000);
of(phase).rssEndMB = rss();
enter('DoH stream attack');
let streams = 0;
for (let round = 0; round < 2; round++) streams += await dohStreamAttack('127.0.0.1', doh, '127.90.0.1', 6000);
of(phase).rssEndMB = rss();

enter('malformed UDP flood');
const gen = generator(16);
const flooder = dgram.createSocket('udp4');
await new Promise<void>((r) => flooder.bind(0, '127.91.0.1', () => r()));
let floodSent = 0;
const floodEnd = Date.now() + Number(flags['flood-seconds']) * 1000;
while (Date.now() < floodEnd) {
  for (let i = 0; i < 200; i++) flooder.send(gen(), dns, '127.0.0.1');
  floodSent += 200;
  await sleep(2);
}
flooder.close();
of(phase).rssEndMB = rss();

enter('quiet after');
await sleep(Number(flags['quiet-seconds']) * 1000);
of(phase).rssEndMB = rss();
clearInterval(probe);
await sleep(500);
prober.close();
await server.stop();
// The structured log goes to stderr.
const reliefs = server.stderr
  .split('\n')
  .filter((l) => l.includes('"memory relief"'))
  .map((l) => {
    const line = JSON.parse(l) as Record<string, unknown>;
    const at = Date.parse(String(line.time));
    return { phase: [...phaseStarts].reverse().find((p) => p.at <= at)?.phase ?? '?', line };
  });

console.log(`tree ${tree}; DoH streams ${streams}; malformed datagrams ${floodSent}; VmRSS at start ${startRss.toFixed(0)} MB`);
console.log('| phase | probes | answered | longest wait (ms) | VmRSS at end (MB) |');
console.log('|---|---:|---:|---:|---:|');
for (const [p, s] of stats) console.log(`| ${p} | ${s.sent} | ${s.answered} | ${s.maxWaitMs.toFixed(0)} | ${s.rssEndMB.toFixed(0)} |`);
console.log(`memory reliefs: ${reliefs.length}`);
for (const r of reliefs) console.log(`  during "${r.phase}": ${JSON.stringify(r.line)}`);
process.exit(0);
