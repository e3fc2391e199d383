// An operator's day with fluxdns as the primary of knotd, nsd and named at once: a zone file edit and
// reload, UPDATEs (records, an RRset, a whole name, the SOA serial itself), the serial past 2^31 and round
// 2^32 (RFC 1982), a burst of UPDATEs that trims the journal, a reload with a lower serial. After each
// step every secondary follows by NOTIFY and IXFR, and its zone (by AXFR) is the same as fluxdns's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { runTool as run, stopAll, waitUntil } from '../helpers/proc.js';
import { soaSerial } from '../helpers/dig.js';
import { runFluxdns, startFluxdns, type RunningServer } from '../helpers/servers.js';
import { startKnotSecondary, startNamedSecondary, startNsdSecondary, type Secondary } from '../helpers/secondaries.js';

const KEY = { name: 'xfr-key', secret: Buffer.from('xfr-operator-test-secret-0123456789abcd').toString('base64') };
const Y = `hmac-sha256:${KEY.name}:${KEY.secret}`;
const ZONE = 'op.lab.';
/** Each secondary transfers from an address of its own, so the primary's log tells their requests apart. */
const FROM = { knot: '127.0.0.21', nsd: '127.0.0.22', named: '127.0.0.23' } as const;

function zoneText(serial: number, extra = ''): string {
  return `$ORIGIN ${ZONE}\n$TTL 300\n@ SOA ns hostmaster ${serial} 3600 600 86400 60\n  NS ns\n  NS ns2.other.lab.\n  MX 10 mail\n  TXT "v=spf1 -all"\n  CAA 0 issue "ca.example"\nns A 198.51.100.1\nmail A 198.51.100.2\n  AAAA 2001:db8::2\nwww CNAME mail\n* TXT "wild"\nsub NS ns.sub\nns.sub A 198.51.100.3\n_sip._tcp SRV 10 20 5060 mail\nmulti A 198.51.100.10\n  A 198.51.100.11\ntxt TXT "a b c" "d"\n${extra}`;
}

let dir = '';
let port = 0;
let server: RunningServer | undefined;
const secondaries: Secondary[] = [];
const logText = () => server!.proc.stdout + server!.proc.stderr;

/** The records `p` transfers: one line each, lower-cased, sorted, the closing SOA dropped. */
async function zoneAt(p: number, key = false): Promise<string[]> {
  const r = await run('kdig', ['@127.0.0.1', '-p', String(p), ...(key ? ['-y', Y] : []), ZONE, 'AXFR', '+nocomments', '+nostats']);
  const lines = r.out.split('\n').filter((l) => /\sIN\s/.test(l)).map((l) => l.replace(/\s+/g, ' ').trim().toLowerCase());
  return [...new Set(lines)].sort();
}

/** Every secondary serves `want` (NOTIFY, not the hour-long refresh) and transfers the same records as fluxdns. */
async function converged(want: number): Promise<void> {
  const seen = new Map<string, number | undefined>();
  const all = async () => {
    for (const s of secondaries) seen.set(s.kind, await soaSerial(s.port, ZONE, ['+time=1']));
    return [...seen.values()].every((v) => v === want);
  };
  const end = Date.now() + 60000;
  while (!(await all()) && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(Object.fromEntries(seen), { knot: want, nsd: want, named: want }, secondaries.map((s) => `${s.kind}:\n${s.log().slice(-1500)}`).join('\n'));
  const ours = await zoneAt(port, true);
  assert.ok(ours.some((l) => l.includes(` soa ns.${ZONE} hostmaster.${ZONE} ${want} `)), ours.join('\n'));
  for (const s of secondaries) assert.deepEqual(await zoneAt(s.port), ours, `${s.kind} at ${want}`);
}

/** Each secondary's request for `to` was an IXFR from `from`. */
function byIxfr(since: string, from: number, to: number): void {
  for (const [kind, a] of Object.entries(FROM)) {
    assert.match(since, new RegExp(`"transfer allowed"[^\\n]*"client":"${a.replace(/\./g, '\\.')}"[^\\n]*"type":"IXFR","serial":${to},"clientSerial":${from}`), `${kind}: IXFR ${from} → ${to}`);
  }
}

const nsupdate = (body: string) => run('nsupdate', ['-y', Y], `server 127.0.0.1 ${port}\nzone ${ZONE}\n${body}send\n`);

async function reload(text: string): Promise<string> {
  const mark = logText().length;
  writeFileSync(join(dir, 'zone'), text);
  process.kill(server!.proc.pid, 'SIGHUP');
  assert.ok(await waitUntil(() => /"msg":"reloaded"/.test(logText().slice(mark)), 30000), logText().slice(mark));
  return logText().slice(mark);
}

/** Writes what the server holds to the zone file (its updates), so the operator may edit it. */
async function flush(): Promise<void> {
  const r = await runFluxdns(['zone', 'flush', ZONE, '--socket', join(dir, 'ctl.sock')], 60000);
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-xfrop-'));
  writeFileSync(join(dir, 'zone'), zoneText(1));
  port = await freePort();
  const ports = { knot: await freePort(), nsd: await freePort(), named: await freePort() };
  const yaml = `listen:
  - { proto: udp, address: "127.0.0.1:${port}" }
  - { proto: tcp, address: "127.0.0.1:${port}" }
rrl: off
control: { socket: ${JSON.stringify(join(dir, 'ctl.sock'))} }
tsig:
  keys:
    - { name: ${KEY.name}, secret: "${KEY.secret}" }
zones:
  - name: ${ZONE}
    file: ${JSON.stringify(join(dir, 'zone'))}
    allowTransfer: [{ key: ${KEY.name} }]
    allowUpdate: [{ key: ${KEY.name} }]
    journal: { maxSize: 4096 }
    notify: ["127.0.0.1:${ports.knot}", "127.0.0.1:${ports.nsd}", "127.0.0.1:${ports.named}"]
`;
  server = await startFluxdns(yaml, port, ZONE);
  const spec = (address: string, p: number) => ({ zone: ZONE, primary: { host: '127.0.0.1', port }, key: KEY, address, port: p, transferOut: true });
  secondaries.push(startKnotSecondary(spec(FROM.knot, ports.knot)), startNsdSecondary(spec(FROM.nsd, ports.nsd)), startNamedSecondary(spec(FROM.named, ports.named)));
});

after(async () => {
  for (const s of secondaries) await s.stop();
  await server?.stop();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an operator\'s day: fluxdns primary, knotd, nsd and named secondaries', { timeout: 300000 }, () => {
  test('edits, UPDATEs and the serial round 2^32: every step reaches all three by IXFR, their zones equal to ours', async () => {
    await converged(1);
    let mark = logText().length;
    await reload(zoneText(2, 'new A 198.51.100.20\n').replace('multi A 198.51.100.10\n  A 198.51.100.11\n', 'multi A 198.51.100.12\n'));
    await converged(2);
    byIxfr(logText().slice(mark), 1, 2);
    // A record and an RRset added, an RRset and a whole name deleted; then the serial set by UPDATE (RFC 2136 §3.4.2.2).
    mark = logText().length;
    const upd = await nsupdate(`update add dyn.${ZONE} 60 A 198.51.100.30\nupdate add dyn.${ZONE} 60 TXT "hello"\nupdate delete txt.${ZONE} TXT\nupdate delete mail.${ZONE}\n`);
    assert.equal(upd.code, 0, upd.out);
    await converged(3);
    byIxfr(logText().slice(mark), 2, 3);
    mark = logText().length;
    assert.equal((await nsupdate(`update add ${ZONE} 300 SOA ns.${ZONE} hostmaster.${ZONE} 2147483000 3600 600 86400 60\n`)).code, 0);
    await converged(2147483000);
    assert.equal((await nsupdate(`update add big.${ZONE} 60 A 198.51.100.40\n`)).code, 0);
    await converged(2147483001);
    byIxfr(logText().slice(mark), 2147483000, 2147483001);
    // Past 2^31 (serial 4294000000 is above 2147483001 by less than 2^31), then round 2^32 to 500.
    await flush();
    mark = logText().length;
    await reload(zoneText(4294000000, 'new A 198.51.100.20\nbig A 198.51.100.40\n'));
    await converged(4294000000);
    byIxfr(logText().slice(mark), 2147483001, 4294000000);
    mark = logText().length;
    await reload(zoneText(500, 'new A 198.51.100.20\nwrapped A 198.51.100.41\n'));
    await converged(500);
    byIxfr(logText().slice(mark), 4294000000, 500);
  });

  test('a burst of UPDATEs trims the journal: the secondaries follow; IXFR from a trimmed serial is the whole zone, from ours the SOA alone', async () => {
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => nsupdate(`update add b${i}.${ZONE} 60 TXT "burst ${i} ${'x'.repeat(120)}"\n`)));
    for (const r of results) assert.equal(r.code, 0, r.out);
    assert.equal(await soaSerial(port, ZONE), 524);
    await converged(524);
    // Entries not yet in the zone file are never trimmed (a restart replays them): flushed, the next update trims.
    await flush();
    assert.equal((await nsupdate(`update delete b0.${ZONE}\n`)).code, 0);
    await converged(525);
    const trimmed = await run('kdig', ['@127.0.0.1', '-p', String(port), '-y', Y, ZONE, 'IXFR=501', '+stat']);
    const whole = (await zoneAt(port, true)).length;
    assert.match(trimmed.out, new RegExp(`\\(\\d+ messages, ${whole + 1} records\\)`), trimmed.out);
    const current = await run('kdig', ['@127.0.0.1', '-p', String(port), '-y', Y, ZONE, 'IXFR=525', '+stat']);
    assert.match(current.out, /\(1 messages, 1 records\)/, current.out);
  });

  test('a reload with a lower serial is refused: fluxdns and the secondaries keep serial 525', async () => {
    await flush();
    const log = await reload(zoneText(400, 'lower A 198.51.100.42\n'));
    assert.match(log, /"zone reload refused".*serial 400 was not raised above 525/);
    assert.equal(await soaSerial(port, ZONE), 525);
    await converged(525);
  });
});
