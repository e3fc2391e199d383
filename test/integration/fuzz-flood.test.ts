// Generated packets over UDP, TCP, DoT and DoH as fast as the server takes them (issue 16): no crash, no
// unhandled exception, correct answers afterwards, memory flat. CI runs a bounded count; `npm run fuzz`
// sets FLUXDNS_FLOOD_PACKETS=10000000 (the README's Robustness section has the result).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { flood } from '../helpers/flood.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';
import { makeTestCert } from '../helpers/tls.js';

const PACKETS = Math.max(1000, Number(process.env['FLUXDNS_FLOOD_PACKETS'] ?? '20000') || 20000);
const SEED = Number(process.env['FLUXDNS_FLOOD_SEED'] ?? '1');
/** RSS may grow this much past its level after the first tenth (caches filling, JIT): more is a leak. */
const RSS_GROWTH_LIMIT_KB = 64 * 1024;

after(() => stopAll());

describe(`flood of ${PACKETS} generated packets over UDP, TCP, DoT and DoH`, () => {
  let server: RunningServer;
  let ports: { dns: number; dot: number; doh: number };
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxdns-flood-'));
    const cert = makeTestCert(dir);
    const zone = join(dir, 't.lab.zone');
    writeFileSync(zone, '$ORIGIN t.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\n*.w TXT "wild"\nsub NS ns.sub\nns.sub A 198.51.100.3\n');
    ports = { dns: await freePort(), dot: await freePort(), doh: await freePort() };
    // The defaults otherwise: RRL on, every abuse limit as shipped.
    const yaml =
      `listen:\n  - { proto: udp, address: "127.0.0.1:${ports.dns}" }\n  - { proto: tcp, address: "127.0.0.1:${ports.dns}" }\n` +
      `  - { proto: tls, address: "127.0.0.1:${ports.dot}", cert: ${cert.cert}, key: ${cert.key} }\n` +
      `  - { proto: https, address: "127.0.0.1:${ports.doh}", cert: ${cert.cert}, key: ${cert.key} }\n` +
      `log: { level: warn }\nzones:\n  - { name: t.lab., file: ${zone} }\n`;
    server = await startFluxdns(yaml, ports.dns, 't.lab.');
  });
  after(() => server?.stop());

  test('no crash, no unhandled exception, correct answers afterwards, memory flat', async (t) => {
    const res = await flood(
      { host: '127.0.0.1', udpPort: ports.dns, tcpPort: ports.dns, dotPort: ports.dot, dohPort: ports.doh, pid: server.proc.pid, alive: () => server.proc.running },
      PACKETS,
      {
        seed: SEED,
        read: (p) => readFileSync(p, 'utf8'),
        onProgress: (r) => {
          if (PACKETS >= 1_000_000 && Math.floor(r.seconds) % 30 === 0) process.stdout.write(`# ${r.total} sent (${JSON.stringify(r.sent)}) in ${r.seconds.toFixed(0)} s, RSS ${r.rss.max} kB max\n`);
        },
      },
    );
    t.diagnostic(`${res.total} packets (${JSON.stringify(res.sent)}) in ${res.seconds.toFixed(1)} s; VmRSS ${res.rss.warm} kB after a tenth, ${res.rss.max} kB max, ${res.rss.end} kB at the end`);
    process.stdout.write(`# flood: ${res.total} packets ${JSON.stringify(res.sent)} in ${res.seconds.toFixed(1)} s; VmRSS warm ${res.rss.warm} kB, max ${res.rss.max} kB, end ${res.rss.end} kB\n`);
    assert.deepEqual(res.problems, []);
    assert.equal(res.total, PACKETS);
    assert.ok(server.proc.running, server.proc.describe());
    for (const tcp of [false, true]) {
      const r = await dig(ports.dns, 'www.t.lab', 'A', { tcp });
      assert.deepEqual(r.answer.map((a) => a.data), ['198.51.100.2'], r.raw);
    }
    const dot = await dig(ports.dot, 'www.t.lab', 'A', { tool: 'kdig', extra: ['+tls'] });
    assert.deepEqual(dot.answer.map((a) => a.data), ['198.51.100.2']);
    const doh = await dig(ports.doh, 'www.t.lab', 'A', { tool: 'kdig', extra: ['+https'] });
    assert.deepEqual(doh.answer.map((a) => a.data), ['198.51.100.2']);
    const err = server.proc.stderr;
    assert.doesNotMatch(err, /uncaught|unhandled|pipeline unit failed|response encoding failed/i, err.slice(-4000));
    assert.ok(res.rss.end - res.rss.warm < RSS_GROWTH_LIMIT_KB, `VmRSS grew by ${res.rss.end - res.rss.warm} kB after warm-up`);
  });
});
