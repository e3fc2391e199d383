// The modules' load phase as a user meets it: a configuration whose derived state cannot be built
// (a pool that excludes every address it has) is refused at SIGHUP with file, line and key, the old
// configuration keeps answering, and `fluxdns check` reports the same line.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { runFluxdns, startFluxdns } from '../helpers/servers.js';

after(() => stopAll());

const config = (port: number, exclude: string) => `listen:
  - { proto: udp, address: "127.0.0.1:${port}" }
  - { proto: tcp, address: "127.0.0.1:${port}" }
rrl: off
pools:
  - { name: p4, prefixes: [198.18.10.0/30]${exclude} }
policies:
  - { name: owned, match: { qname: "*.own.lab", qtype: A }, action: { pool: p4, ttl: 15 }, zone: own.lab }
`;

test('a module whose load fails: the reload is refused with file, line and key, and the old data answers', async () => {
  const port = await freePort();
  const server = await startFluxdns(config(port, ''), port, 'own.lab.');
  try {
    const before = await dig(port, 'a.own.lab', 'A');
    assert.equal(before.rcode, 'NOERROR');
    assert.match(before.answer[0]!.data, /^198\.18\.10\.[12]$/);

    // Line 6 of the file holds pools[0]; its exclude leaves no address (the /30's hosts are .1 and .2).
    const file = join(server.dir, 'fluxdns.yaml');
    writeFileSync(file, config(port, ', exclude: [198.18.10.0/31, 198.18.10.2/31]'));
    assert.equal(readFileSync(file, 'utf8').split('\n')[5], '  - { name: p4, prefixes: [198.18.10.0/30], exclude: [198.18.10.0/31, 198.18.10.2/31] }');
    process.kill(server.proc.pid, 'SIGHUP');
    await server.proc.waitFor(/reload failed/, 20000, 'stderr');
    assert.match(server.proc.stderr, /fluxdns\.yaml:6: pools\[0\]\.exclude: pool \\"p4\\" has no address to hand out/);

    const after = await dig(port, 'b.own.lab', 'A');
    assert.equal(after.rcode, 'NOERROR', 'the old configuration answers');
    assert.match(after.answer[0]!.data, /^198\.18\.10\.[12]$/);

    const check = await runFluxdns(['check', '--config', file], 60000);
    assert.equal(check.code, 1);
    assert.match(check.stderr, /fluxdns\.yaml:6: pools\[0\]\.exclude: pool "p4" has no address to hand out/);
  } finally {
    await server.stop();
  }
});
