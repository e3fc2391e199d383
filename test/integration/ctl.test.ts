// fluxdns ctl against a real fluxdns: status and zone status (text and --json), the socket's mode,
// reloading one zone while another zone's file is broken (one process and workers: 2), a whole reload
// and SIGHUP compiled once for every worker, cache flush,
// the capability commands through the admin API, and the exit codes scripts rely on.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { repoRoot, runFluxdns, startFluxdns } from '../helpers/servers.js';

after(() => stopAll());

const fluxdns = (args: string[]) => runFluxdns(args, 30000);

const zoneText = (origin: string, serial: number, extra = '') => `$ORIGIN ${origin}\n$TTL 300\n@ SOA ns hm ${serial} 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.${serial % 250}\n${extra}`;

async function start(workers: number) {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-ctl-'));
  const a = join(dir, 'a.lab.zone');
  const b = join(dir, 'b.lab.zone');
  writeFileSync(a, zoneText('a.lab.', 1));
  writeFileSync(b, zoneText('b.lab.', 7));
  const port = await freePort();
  const sock = join(dir, 'control.sock');
  const metricsPort = await freePort();
  const yaml = `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n  - { proto: tcp, address: "127.0.0.1:${port}" }\nworkers: ${workers}\ncontrol: { socket: ${JSON.stringify(sock)} }\nmetrics: { listen: "127.0.0.1:${metricsPort}" }\nzones:\n  - { name: a.lab., file: ${JSON.stringify(a)} }\n  - { name: b.lab., file: ${JSON.stringify(b)} }\n`;
  const server = await startFluxdns(yaml, port, 'a.lab.');
  const ctl = (...args: string[]) => fluxdns(['ctl', '--socket', sock, ...args]);
  return { dir, a, b, port, sock, server, ctl };
}

/** The SOA serial from `n` queries (each dig from its own source port, so workers: 2 spreads them). */
async function serials(port: number, zone: string, n: number): Promise<Set<number>> {
  const out = new Set<number>();
  for (let i = 0; i < n; i++) {
    const r = await dig(port, zone, 'SOA');
    out.add(Number(r.answer[0]!.data.split(' ')[2]));
  }
  return out;
}

for (const workers of [1, 2]) {
  describe(`fluxdns ctl, workers: ${workers}`, () => {
    test('status, zone status, the socket mode, one zone reloaded while another is broken, cache flush', async () => {
      const s = await start(workers);
      // The socket: only its owner may connect.
      assert.equal(statSync(s.sock).mode & 0o777, 0o600);
      assert.ok(statSync(s.sock).isSocket());

      const st = await s.ctl('status');
      assert.equal(st.code, 0, st.stderr);
      assert.match(st.stdout, /^fluxdns \d+\.\d+\.\d+\S*, pid \d+, up 0h00m\d\ds\n/);
      assert.match(st.stdout, new RegExp(`^workers {4}${workers}`, 'm'));
      assert.match(st.stdout, new RegExp(`^listeners {2}udp 127\\.0\\.0\\.1:${s.port}, tcp 127\\.0\\.0\\.1:${s.port}$`, 'm'));
      assert.match(st.stdout, /^zones {6}2: a\.lab\. \(serial 1\), b\.lab\. \(serial 7\)$/m);
      const sj = JSON.parse((await s.ctl('status', '--json')).stdout) as { ok: boolean; data: { pid: number; workers: number; zones: { name: string; serial: number }[]; workerPids?: number[] } };
      assert.equal(sj.ok, true);
      assert.equal(sj.data.pid, s.server.proc.pid);
      assert.equal(sj.data.workers, workers);
      assert.deepEqual(sj.data.zones, [{ name: 'a.lab.', serial: 1 }, { name: 'b.lab.', serial: 7 }]);
      if (workers > 1) assert.equal(sj.data.workerPids?.length, workers);

      const zs = await s.ctl('zone', 'status');
      assert.equal(zs.code, 0, zs.stderr);
      const lines = zs.stdout.trim().split('\n');
      assert.match(lines[0]!, /^zone\s+serial\s+records\s+loaded at\s+source\s+file$/);
      assert.match(lines[1]!, new RegExp(`^a\\.lab\\.\\s+1\\s+4\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+file\\s+${s.a.replace(/[.]/g, '\\.')}$`));
      assert.match(lines[2]!, /^b\.lab\.\s+7\s+4\s/);
      const zj = JSON.parse((await s.ctl('zone', 'status', 'B.LAB', '--json')).stdout) as { data: { zones: { name: string; serial: number; records: number; file: string; source: string; loadedAt: string; warnings: string[] }[] } };
      assert.equal(zj.data.zones.length, 1);
      assert.deepEqual({ ...zj.data.zones[0]!, loadedAt: '' }, { name: 'b.lab.', serial: 7, records: 4, file: s.b, source: 'file', loadedAt: '', warnings: [] });
      const before = zj.data.zones[0]!.loadedAt;

      // b.lab's file breaks; a.lab gets a new serial and a new record. Only a.lab is reloaded.
      writeFileSync(s.b, zoneText('b.lab.', 8, 'bad A 300.1.2.3\n'));
      writeFileSync(s.a, zoneText('a.lab.', 2, 'new A 203.0.113.5\n'));
      const ra = await s.ctl('reload', 'a.lab');
      assert.equal(ra.code, 0, ra.stderr);
      assert.equal(ra.stdout, `reloaded zone a.lab. in ${workers} process${workers > 1 ? 'es' : ''}\n  a.lab. serial 2, 5 records\n`);
      assert.deepEqual(await serials(s.port, 'a.lab', 8), new Set([2]));
      assert.equal((await dig(s.port, 'new.a.lab', 'A')).answer[0]?.data, '203.0.113.5');
      assert.deepEqual(await serials(s.port, 'b.lab', 4), new Set([7]));
      // With workers the file was compiled once, by the primary: each worker installed those arrays.
      const reloadedBy = (by: string) => new RegExp(`"msg":"zone reloaded","zone":"a\\.lab\\.","generation":\\d+,"compiledBy":"${by}"`, 'g');
      await s.server.proc.waitFor((t) => (t.match(reloadedBy(workers > 1 ? 'primary' : 'here')) ?? []).length === workers, 30000, 'stderr');
      assert.equal((s.server.proc.stderr.match(/"msg":"zone compiled for the workers","zone":"a\.lab\."/g) ?? []).length, workers > 1 ? 1 : 0);
      assert.equal((s.server.proc.stderr.match(reloadedBy(workers > 1 ? 'here' : 'primary')) ?? []).length, 0);

      // The broken zone: the error goes to the caller with file and line, exit 1, the old zone serves.
      const rb = await s.ctl('reload', 'b.lab.');
      assert.equal(rb.code, 1);
      assert.match(rb.stderr, new RegExp(`^fluxdns ctl: ${s.b.replace(/[.]/g, '\\.')}:7:7: expected an IPv4 address`));
      assert.equal(rb.stdout, '');
      assert.deepEqual(await serials(s.port, 'b.lab', 4), new Set([7]));
      const rbj = JSON.parse((await s.ctl('reload', 'b.lab', '--json')).stdout) as { ok: boolean; error: string };
      assert.equal(rbj.ok, false);
      assert.match(rbj.error, /expected an IPv4 address/);
      // zone status still shows b.lab as it was loaded at start.
      const zb = JSON.parse((await s.ctl('zone', 'status', 'b.lab', '--json')).stdout) as { data: { zones: { serial: number; loadedAt: string }[] } };
      assert.deepEqual(zb.data.zones.map((z) => [z.serial, z.loadedAt]), [[7, before]]);

      // A full reload fails on b.lab and changes nothing; an unknown zone is an error too.
      const all = await s.ctl('reload');
      assert.equal(all.code, 1);
      assert.match(all.stderr, /b\.lab\.zone:7:\d+: expected an IPv4 address/);
      const unknown = await s.ctl('reload', 'c.lab');
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^fluxdns ctl: c\.lab\.: no such zone in the configuration \(zones: a\.lab\., b\.lab\.\)/);
      const zu = await s.ctl('zone', 'status', 'c.lab');
      assert.equal(zu.code, 1);

      // Fixed: the full reload goes through.
      writeFileSync(s.b, zoneText('b.lab.', 9));
      const fixed = await s.ctl('reload');
      assert.equal(fixed.code, 0, fixed.stderr);
      assert.match(fixed.stdout, new RegExp(`^reloaded configuration and zones in ${workers} process`));
      assert.deepEqual(await serials(s.port, 'b.lab', 4), new Set([9]));
      // With workers, a whole reload compiles each zone file once, in the primary: every worker takes both zones from it.
      const reloaded = (byPrimary: number) => new RegExp(`"msg":"reloaded","generation":\\d+,"compiledByPrimary":${byPrimary}[,}]`, 'g');
      const count = (re: RegExp) => (s.server.proc.stderr.match(re) ?? []).length;
      const compiledOnce = /"msg":"zones compiled for the workers","zones":2[,}]/g;
      await s.server.proc.waitFor(() => count(reloaded(workers > 1 ? 2 : 0)) === workers, 30000, 'stderr');
      assert.equal(count(compiledOnce), workers > 1 ? 1 : 0);

      // SIGHUP goes the same way: a.lab's new serial is compiled once and served by every worker.
      writeFileSync(s.a, zoneText('a.lab.', 3, 'new A 203.0.113.5\nhup A 203.0.113.6\n'));
      process.kill(s.server.proc.pid!, 'SIGHUP');
      await s.server.proc.waitFor(() => count(reloaded(workers > 1 ? 2 : 0)) === 2 * workers, 30000, 'stderr');
      assert.equal(count(compiledOnce), workers > 1 ? 2 : 0);
      assert.equal(count(reloaded(1)) + count(reloaded(workers > 1 ? 0 : 2)), 0, 'no worker compiled a zone itself');
      assert.deepEqual(await serials(s.port, 'a.lab', 8), new Set([3]));
      assert.equal((await dig(s.port, 'hup.a.lab', 'A')).answer[0]?.data, '203.0.113.6');

      // Answers are cached; a flush of www.a.lab removes the cached www.a.lab answers in every worker.
      for (let i = 0; i < 6; i++) await dig(s.port, 'www.a.lab', 'A');
      const flushed = JSON.parse((await s.ctl('cache', 'flush', 'www.a.lab', '--json')).stdout) as { ok: boolean; data: { removed: number } };
      assert.equal(flushed.ok, true);
      assert.ok(flushed.data.removed >= 1 && flushed.data.removed <= workers, `removed ${flushed.data.removed}`);
      const again = await s.ctl('cache', 'flush', 'www.a.lab');
      assert.equal(again.stdout, 'flushed 0 answers at or below www.a.lab\n');
      const all2 = await s.ctl('cache', 'flush');
      assert.match(all2.stdout, /^flushed \d+ answers?\n$/);

      // stats: the metrics as a table, merged over the workers: exactly the TXT queries sent.
      const none = await s.ctl('stats');
      assert.equal(none.code, 0, none.stderr);
      assert.doesNotMatch(none.stdout, /qtype=TXT/);
      for (let i = 0; i < 5; i++) await dig(s.port, 'www.a.lab', 'TXT');
      const stats = await s.ctl('stats');
      assert.match(stats.stdout, /^fluxdns_queries_total transport=udp qtype=TXT rcode=NOERROR +5$/m);
      assert.match(stats.stdout, /^fluxdns_reloads_total result=failure +\d+$/m);
      const sj2 = JSON.parse((await s.ctl('stats', '--json')).stdout) as { ok: boolean; data: { families: { name: string }[] } };
      assert.ok(sj2.data.families.some((f) => f.name === 'fluxdns_queries_total'));

      // No capability admin API in this configuration: caps list says so, exit 1.
      const caps = await s.ctl('caps', 'list');
      assert.equal(caps.code, 1);
      assert.match(caps.stderr, /no capability admin API/);

      await s.server.stop();
      // Nothing listens any more: exit 3, and a message naming the socket.
      const gone = await s.ctl('status');
      assert.equal(gone.code, 3);
      assert.match(gone.stderr, /cannot reach fluxdns on the control socket .*control\.sock/);
    });

    test('a whole reload that refuses a zone (data changed, serial not raised) says so; zone status shows the version served', async () => {
      const s = await start(workers);
      const was = JSON.parse((await s.ctl('zone', 'status', 'a.lab', '--json')).stdout) as { data: { zones: { serial: number; records: number; loadedAt: string }[] } };
      writeFileSync(s.a, zoneText('a.lab.', 1, 'sneaky A 203.0.113.9\n'));
      writeFileSync(s.b, zoneText('b.lab.', 8));
      const r = await s.ctl('reload');
      assert.equal(r.code, 0, r.stderr);
      // Before, the reply and zone status gave the refused file's serial and records (1, 5) as if loaded.
      assert.match(r.stdout, /^ {2}a\.lab\. serial 1, 4 records$/m);
      assert.match(r.stdout, /^ {2}b\.lab\. serial 8, 4 records$/m);
      assert.match(r.stdout, /^refused, still serving the previous version: zone a\.lab\.: the data changed but serial 1 was not raised above 1/m);
      assert.equal((await dig(s.port, 'sneaky.a.lab', 'A')).rcode, 'NXDOMAIN');
      const now = JSON.parse((await s.ctl('zone', 'status', '--json')).stdout) as { data: { zones: { name: string; serial: number; records: number; loadedAt: string }[] } };
      assert.deepEqual(now.data.zones.map((z) => [z.name, z.serial, z.records]), [['a.lab.', 1, 4], ['b.lab.', 8, 4]]);
      assert.equal(now.data.zones[0]!.loadedAt, was.data.zones[0]!.loadedAt, 'a.lab. was not loaded again');
      await s.server.stop();
    });
  });
}

test('ctl: usage errors exit 2, with the nearest command', async () => {
  const bad = await fluxdns(['ctl', '--socket', '/nonexistent.sock', 'relaod']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "relaod"; did you mean "fluxdns ctl reload"\?/);
  const extra = await fluxdns(['ctl', '--socket', '/nonexistent.sock', 'status', 'extra']);
  assert.equal(extra.code, 2);
  const none = await fluxdns(['ctl', '--config', join(repoRoot, 'package.json')]);
  assert.equal(none.code, 2);
});
