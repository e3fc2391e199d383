// Dynamic updates survive a crash (issue 13): kill -9 during a burst of UPDATEs, restart — every
// acknowledged update is there and none is half there; a torn or corrupt journal is cut back, IXFR falls
// back to a full transfer, the journal takes new entries; `zone flush` and SIGTERM write the zone file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { stopAll, waitUntil } from '../helpers/proc.js';
import { dig } from '../helpers/dig.js';
import { runFluxdns, startFluxdns, type RunningServer } from '../helpers/servers.js';
import { encodeMessage } from '../../src/wire/message.js';
import { burstUpdate } from '../helpers/update-burst.js';
import { rcodeOf, udpExchange } from '../helpers/udp.js';
import { Rcode } from '../../src/wire/types.js';

const ZONE = 'dur.lab.';
const BURST = 40;

let dir = '';
let port = 0;
let server: RunningServer | undefined;
let yaml = '';

function logText(): string {
  return server ? server.proc.stdout + server.proc.stderr : '';
}

async function start(): Promise<void> {
  server = await startFluxdns(yaml, port, ZONE);
}

/** Stops the server with a signal and waits until it is gone (SIGKILL: no shutdown work at all). */
async function kill(signal: NodeJS.Signals): Promise<void> {
  const s = server!;
  process.kill(s.proc.pid, signal);
  await s.proc.exited;
  server = undefined;
}

/** Sends one UPDATE adding an A and a TXT at u<i>; resolves with its rcode, or undefined when unanswered in 5 s. */
function update(i: number): Promise<number | undefined> {
  return udpExchange(encodeMessage(burstUpdate(i, ZONE)), port).then(rcodeOf);
}

async function has(i: number): Promise<{ a: boolean; txt: boolean }> {
  const a = await dig(port, `u${i}.${ZONE}`, 'A');
  const t = await dig(port, `u${i}.${ZONE}`, 'TXT');
  return { a: a.answer.length === 1, txt: t.answer.length === 1 };
}

async function soaSerial(): Promise<number> {
  const r = await dig(port, ZONE, 'SOA');
  return Number(r.answer[0]!.data.split(' ')[2]);
}

function kdig(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('kdig', args, { timeout: 30000 }, (_e, out, err) => resolve(out + err)));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-dur-'));
  writeFileSync(join(dir, 'zone'), `; the original file, with a comment\n$ORIGIN ${ZONE}\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n`);
  port = await freePort();
  yaml = `listen:
  - { proto: udp, address: "127.0.0.1:${port}" }
  - { proto: tcp, address: "127.0.0.1:${port}" }
rrl: off
control: { socket: ${JSON.stringify(join(dir, 'ctl.sock'))} }
zones:
  - { name: ${ZONE}, file: ${JSON.stringify(join(dir, 'zone'))}, allowUpdate: ["127.0.0.0/8"], allowTransfer: ["127.0.0.0/8"] }
`;
  await start();
});

after(async () => {
  await server?.stop();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('UPDATE durability', () => {
  test('kill -9 during a burst: every acknowledged update is there after a restart, none half there', async () => {
    const acked = new Set<number>();
    const pending: Promise<void>[] = [];
    let killed = false;
    for (let i = 0; i < BURST; i++) {
      pending.push(
        update(i).then((rc) => {
          if (rc === Rcode.NOERROR && !killed) acked.add(i);
        }),
      );
      // Kill once a few are acknowledged, while the rest are still in flight.
      if (i === BURST / 2) {
        await waitUntil(() => acked.size >= 5, 30000);
        killed = true;
        await kill('SIGKILL');
      }
    }
    await Promise.all(pending);
    assert.ok(acked.size >= 5, `only ${acked.size} updates were acknowledged before the kill`);
    await start();
    assert.match(logText(), /"journal replayed over the zone file"/);
    let applied = 0;
    for (let i = 0; i < BURST; i++) {
      const h = await has(i);
      assert.equal(h.a, h.txt, `update ${i} is half applied: ${JSON.stringify(h)}`);
      if (acked.has(i)) assert.ok(h.a, `acknowledged update ${i} is missing`);
      if (h.a) applied++;
    }
    // An update journaled just before the kill may be there without its answer having reached us; each applied one raised the serial once.
    assert.equal(await soaSerial(), 1 + applied);
    // zone status tells the version served (the journal replayed over the file), not the file's serial 1.
    const st = await runFluxdns(['ctl', '--socket', join(dir, 'ctl.sock'), 'zone', 'status', ZONE, '--json'], 60000);
    assert.equal(st.code, 0, st.stderr);
    assert.equal((JSON.parse(st.stdout) as { data: { zones: { serial: number }[] } }).data.zones[0]?.serial, 1 + applied, st.stdout);
  });

  test('a torn journal is cut back to its last whole entry: served, IXFR from before the cut falls back to AXFR, new updates append', async () => {
    const serialBefore = await soaSerial();
    await kill('SIGKILL');
    const jnl = join(dir, 'zone.jnl');
    const size = statSync(jnl).size;
    truncateSync(jnl, size - 7);
    await start();
    assert.match(logText(), /"journal damaged: cut back to its last whole entry/);
    assert.equal(await soaSerial(), serialBefore - 1, 'the torn last entry is gone, the rest replayed');
    assert.ok(statSync(jnl).size < size - 7, 'the torn bytes were cut off the file');
    // A serial the journal does not cover (it starts at 1): IXFR answers the whole zone in AXFR form (RFC 1995 §4).
    const out = await kdig(['@127.0.0.1', '-p', String(port), ZONE, 'IXFR=0']);
    const records = out.split('\n').filter((l) => /\sIN\s/.test(l));
    assert.match(records[0] ?? '', /\sSOA\s/);
    assert.doesNotMatch(records[1] ?? '', /\sSOA\s/, out);
    assert.ok(records.some((l) => /^ns\.dur\.lab\.\s+300\s+IN\s+A\s+198\.51\.100\.1$/.test(l)), out);
    assert.equal(await update(900), Rcode.NOERROR);
    assert.equal(await soaSerial(), serialBefore);
    const ixfr = await kdig(['@127.0.0.1', '-p', String(port), ZONE, `IXFR=${serialBefore - 1}`]);
    assert.match(ixfr, /u900\.dur\.lab\.\s+60\s+IN\s+A\s+198\.51\.100\.151/);
    // A journal whose first entry is corrupt: nothing can be replayed; the zone file is served and a warning logged.
    await kill('SIGKILL');
    const bytes = readFileSync(jnl);
    bytes[20] = bytes[20]! ^ 0xff;
    writeFileSync(jnl, bytes);
    await start();
    assert.match(logText(), /"journal damaged.*fails its checksum/);
    assert.equal(await soaSerial(), 1);
  });

  test('zone flush writes the served zone to its file; SIGTERM writes it too; a restart without the journal serves it', async () => {
    assert.equal(await update(950), Rcode.NOERROR);
    // `fluxdns zone flush NAME` (issue 13's command) and `fluxdns ctl zone flush NAME` send the same request.
    const [flushed, unknown, noServer] = await Promise.all([
      runFluxdns(['zone', 'flush', ZONE, '--socket', join(dir, 'ctl.sock')], 60000),
      runFluxdns(['zone', 'flush', 'nowhere.lab', '--socket', join(dir, 'ctl.sock')], 60000),
      runFluxdns(['zone', 'flush', ZONE, '--socket', join(dir, 'no-such.sock')], 60000),
    ]);
    assert.equal(flushed.code, 0, flushed.stderr);
    assert.match(flushed.stdout, /^wrote dur\.lab\. serial 2 to .*zone\n$/);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /nowhere\.lab: no such zone served/);
    assert.equal(noServer.code, 3, noServer.stderr);
    const text = readFileSync(join(dir, 'zone'), 'utf8');
    assert.match(text, /u950\.dur\.lab\.\s+60\s+IN\s+A\s+198\.51\.100\.201/);
    assert.doesNotMatch(text, /the original file, with a comment/);
    assert.equal(await update(951), Rcode.NOERROR);
    await kill('SIGTERM');
    assert.match(readFileSync(join(dir, 'zone'), 'utf8'), /u951\.dur\.lab\./);
    rmSync(join(dir, 'zone.jnl'));
    await start();
    assert.equal(await soaSerial(), 3);
    assert.deepEqual(await has(951), { a: true, txt: true });
    // An edit of the file while the journal holds updates it lacks (no flush first), its serial not raised:
    // told apart from the file the server knew by its hash (the journal's base), warned about with file and
    // serial, and the journal rolled forward over it as BIND does.
    assert.equal(await update(960), Rcode.NOERROR);
    await kill('SIGKILL');
    writeFileSync(join(dir, 'zone'), readFileSync(join(dir, 'zone'), 'utf8') + `; edited by hand\nhand.${ZONE} 60 IN A 198.51.100.9\n`);
    await start();
    assert.match(logText(), new RegExp(`"zone file edited without raising its serial.*"file":"${join(dir, 'zone')}".*"serial":3`));
    assert.deepEqual(await has(960), { a: true, txt: true });
    assert.equal((await dig(port, `hand.${ZONE}`, 'A')).answer.length, 1);
  });
});
