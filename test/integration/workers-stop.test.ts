// workers: N stops on SIGTERM: the primary exits once its workers have, also after a SIGHUP reload.
// It used to wait for the listed workers to reach zero, but Node's cluster keeps an exited worker
// listed until its channel closes too, which can come after the 'exit' event: the primary then ran
// on with no workers and never exited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot, waitForSoa } from '../helpers/servers.js';

test('workers: 2: SIGTERM after a SIGHUP reload ends the primary with code 0 (three runs)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-wstop-'));
  try {
    const zone = join(dir, 'w.lab.zone');
    writeFileSync(zone, '$ORIGIN w.lab.\n$TTL 60\n@ SOA ns hm 3 3600 600 86400 60\n  NS ns\nns A 198.51.100.9\n');
    for (let run = 0; run < 3; run++) {
      const port = await freePort();
      const conf = join(dir, 'fluxdns.yaml');
      writeFileSync(conf, `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\nworkers: 2\nzones:\n  - { name: w.lab., file: ${zone} }\n`);
      const proc = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', conf], { cwd: repoRoot, name: `fluxdns-workers-stop-${run}` });
      await proc.waitFor(/fluxdns ready/, 60000, 'both');
      await waitForSoa(proc, port, 'w.lab.');
      process.kill(proc.pid, 'SIGHUP');
      await proc.waitFor((t) => (t.match(/"reloaded"/g) ?? []).length >= 2, 30000, 'both');
      // 20 s before stop() sends SIGKILL: a primary left running gets killed and the code is not 0.
      const exit = await proc.stop(20000);
      assert.equal(exit.code, 0, `run ${run}: ${proc.describe()}`);
      assert.match(proc.describe(), /"msg":"stopped"/);
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
});
