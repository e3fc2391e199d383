// The journal after an edit made while fluxdns was stopped (issue 13, README "The journal"): knotd and
// nsd follow fluxdns; an UPDATE is journaled, fluxdns is killed (-9, the update only in the journal), the
// zone file is edited with a raised serial (a record deleted, one added, the update's record absent), and
// fluxdns restarts: it serves the edited file, journals its difference from the journal's last version and
// notifies; both secondaries fetch it by IXFR and then answer exactly as the edited file says.
import { after, before, describe, test } from 'node:test';
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, soaSerial } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';
import { startKnotSecondary, startNsdSecondary, type Secondary } from '../helpers/secondaries.js';
import { burstUpdate } from '../helpers/update-burst.js';
import { rcodeOf, udpExchange } from '../helpers/udp.js';
import { encodeMessage } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/types.js';

const ZONE = 'jedit.lab.';
const KEY = { name: 'jedit-key', secret: Buffer.from('journal-edit-test-secret-0123456789ab').toString('base64') };
const SECONDARIES = { knot: '127.0.0.21', nsd: '127.0.0.22' } as const;

let dir = '';
let port = 0;
let yaml = '';
let server: RunningServer | undefined;
const secondaries: Secondary[] = [];

const zoneText = (serial: number, body: string) => `$ORIGIN ${ZONE}\n$TTL 300\n@ SOA ns hostmaster ${serial} 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${body}`;

function kdig(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile('kdig', args, { timeout: 30000 }, (_e, out, err) => resolve(out + err)));
}

function logText(): string {
  return server ? server.proc.stdout + server.proc.stderr : '';
}

async function allAt(serial: number, timeoutMs = 30000): Promise<Record<string, number | undefined>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const seen: Record<string, number | undefined> = {};
    for (const s of secondaries) seen[s.kind] = await soaSerial(s.port, ZONE, ['+time=1', '+tries=1']);
    if (Object.values(seen).every((v) => v === serial) || Date.now() > end) return seen;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The A records of `name` at `p`, or the rcode. */
async function a(p: number, name: string): Promise<string[]> {
  const r = await dig(p, `${name}.${ZONE}`, 'A');
  return r.rcode === 'NOERROR' ? r.answer.filter((x) => x.type === 'A').map((x) => x.data) : [r.rcode];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-jedit-'));
  writeFileSync(join(dir, 'zone'), zoneText(1, 'w A 198.51.100.5\n'));
  port = await freePort();
  const ports = [await freePort(), await freePort()] as const;
  yaml = `listen:
  - { proto: udp, address: "127.0.0.1:${port}" }
  - { proto: tcp, address: "127.0.0.1:${port}" }
rrl: off
tsig:
  keys:
    - { name: ${KEY.name}, secret: "${KEY.secret}" }
zones:
  - name: ${ZONE}
    file: ${JSON.stringify(join(dir, 'zone'))}
    allowTransfer: [{ key: ${KEY.name} }]
    allowUpdate: ["127.0.0.1"]
    notify: ["127.0.0.1:${ports[0]}", "127.0.0.1:${ports[1]}"]
`;
  server = await startFluxdns(yaml, port, ZONE);
  const spec = (address: string, p: number) => ({ zone: ZONE, primary: { host: '127.0.0.1', port }, key: KEY, address, port: p });
  secondaries.push(startKnotSecondary(spec(SECONDARIES.knot, ports[0])), startNsdSecondary(spec(SECONDARIES.nsd, ports[1])));
});

after(async () => {
  for (const s of secondaries) await s.stop();
  await server?.stop();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('journal after an offline edit', { timeout: 180000 }, () => {
  test('kill -9 with an update in the journal, the file edited with a raised serial: knotd and nsd get the edit by IXFR', async () => {
    const diag = () => `${secondaries.map((s) => s.log().slice(-1500)).join('\n----\n')}\n----\n${logText().slice(-3000)}`;
    assert.deepEqual(await allAt(1), { knot: 1, nsd: 1 }, diag());
    const rc = rcodeOf(await udpExchange(encodeMessage(burstUpdate(7, ZONE)), port));
    assert.equal(rc, Rcode.NOERROR);
    assert.deepEqual(await allAt(2), { knot: 2, nsd: 2 }, diag());
    for (const s of secondaries) assert.deepEqual(await a(s.port, 'u7'), ['198.51.100.8'], s.kind);
    // The update is in the journal only; the operator edits the file the server last read (serial 1).
    process.kill(server!.proc.pid, 'SIGKILL');
    await server!.proc.exited;
    writeFileSync(join(dir, 'zone'), zoneText(5, 'z A 198.51.100.9\n'));
    server = await startFluxdns(yaml, port, ZONE);
    assert.match(logText(), /"zone file edited while the server was stopped: its difference from the journal's last serial is journaled \(IXFR\)".*"from":2,"to":5/);
    assert.deepEqual(await allAt(5), { knot: 5, nsd: 5 }, diag());
    // Each asked for the difference from its serial 2 and got it (IXFR, not a full transfer).
    for (const [kind, address] of Object.entries(SECONDARIES)) {
      assert.match(logText(), new RegExp(`"transfer allowed".*"client":"${address.replace(/\./g, '\\.')}".*"type":"IXFR","serial":5,"clientSerial":2`), `${kind}\n${diag()}`);
    }
    // Their answers are the edited file's: z added, w deleted by the edit, u7 (the update the file lacks) gone.
    for (const s of secondaries) {
      assert.deepEqual(await a(s.port, 'z'), ['198.51.100.9'], s.kind);
      assert.deepEqual(await a(s.port, 'w'), ['NXDOMAIN'], s.kind);
      assert.deepEqual(await a(s.port, 'u7'), ['NXDOMAIN'], s.kind);
      assert.deepEqual(await a(s.port, 'ns'), ['198.51.100.1'], s.kind);
    }
    assert.match(secondaries.find((s) => s.kind === 'knot')!.log(), /IXFR, incoming.*finished/);
    // The answer they got is a difference (RFC 1995 §4: new SOA, old SOA 2, what went, SOA 5, what came), not the whole zone.
    const out = await kdig(['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:${KEY.name}:${KEY.secret}`, ZONE, 'IXFR=2']);
    const records = out.split('\n').filter((l) => /\sIN\s/.test(l)).map((l) => l.replace(/\s+/g, ' '));
    assert.match(records[1] ?? '', / SOA .* 2 3600 /, out);
    assert.ok(records.includes(`w.${ZONE} 300 IN A 198.51.100.5`) && records.includes(`z.${ZONE} 300 IN A 198.51.100.9`), out);
    assert.equal(records.filter((l) => / SOA /.test(l)).length, 4, out);
  });
});
