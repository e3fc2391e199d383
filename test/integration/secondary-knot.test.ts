// fluxdns as a secondary of a real knotd primary, TSIG on every exchange: initial AXFR, NOTIFY-triggered IXFR,
// a restart that serves the saved file and then checks the primary, the primary down past expire (SERVFAIL), and back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll, type Proc } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot, runFluxdns, waitForSoa } from '../helpers/servers.js';
import { controlRequest } from '../../src/control/client.js';
import { axfr } from '../../src/secondary/xfr-client.js';
import { algorithmByName } from '../../src/tsig/algorithms.js';
import type { TsigKey } from '../../src/tsig/keys.js';

const ZONE = 'sec.test.';
const SECRET = randomBytes(32).toString('base64');
let dir = '';
let knotPort = 0;
let fluxPort = 0;
let knot: Proc | undefined;
let flux: Proc | undefined;

/** refresh 2 s keeps the copy fresh while knotd runs; retry 1 s; expire 8 s once it stops. */
function zoneText(serial: number, extra: string[] = []): string {
  return [`$ORIGIN ${ZONE}`, '$TTL 60', `@ SOA ns hostmaster ${serial} 2 1 8 60`, '  NS ns', 'ns A 198.51.100.1', 'www A 198.51.100.80', 'top 4294967295 A 198.51.100.7', ...BULK, ...extra, ''].join('\n');
}
/** Enough data (~400 kB) that an AXFR takes several messages, each under TSIG (RFC 8945 §5.3.1). */
const BULK = Array.from({ length: 5000 }, (_, i) => `bulk${i} TXT "${'filler '.repeat(8)}${i}"`);

function knotConf(): string {
  return [
    'server:',
    `  rundir: "${dir}/knot"`,
    `  listen: 127.0.0.1@${knotPort}`,
    '  udp-workers: 1',
    '  tcp-workers: 1',
    '  background-workers: 1',
    'log:',
    '  - target: stderr',
    '    any: info',
    'database:',
    `  storage: "${dir}/knot/db"`,
    'control:',
    `  listen: "${dir}/knot/knot.sock"`,
    'key:',
    '  - id: xfr-key',
    '    algorithm: hmac-sha256',
    `    secret: ${SECRET}`,
    'remote:',
    '  - id: flux',
    `    address: 127.0.0.1@${fluxPort}`,
    '    key: xfr-key',
    'acl:',
    '  - id: xfr',
    '    address: 127.0.0.1',
    '    key: xfr-key',
    '    action: transfer',
    'template:',
    '  - id: default',
    `    storage: "${dir}/knot"`,
    // The journal keeps the differences between zone-file versions, so knotd answers IXFR.
    '    journal-content: changes',
    '    zonefile-load: difference',
    '    zonefile-sync: -1',
    'zone:',
    `  - domain: ${ZONE}`,
    `    file: "${dir}/knot/sec.zone"`,
    '    notify: flux',
    '    acl: xfr',
    '',
  ].join('\n');
}

function fluxConf(): string {
  return [
    'listen:',
    `  - { proto: udp, address: "127.0.0.1:${fluxPort}" }`,
    `  - { proto: tcp, address: "127.0.0.1:${fluxPort}" }`,
    'rrl: off',
    'log: { level: debug }',
    `control: { socket: ${JSON.stringify(join(dir, 'flux', 'ctl.sock'))} }`,
    'tsig:',
    `  keys: [ { name: xfr-key, secret: "${SECRET}" } ]`,
    'zones:',
    `  - name: ${ZONE}`,
    `    file: ${join(dir, 'flux', 'sec.zone')}`,
    `    primaries: [ { address: "127.0.0.1:${knotPort}", tsigKey: xfr-key } ]`,
    '',
  ].join('\n');
}

async function startKnotd(): Promise<void> {
  knot = startProcess('knotd', ['-c', join(dir, 'knot', 'knot.conf')], { name: `knotd:${knotPort}`, cwd: dir });
  await waitForSoa(knot, knotPort, ZONE);
}

async function startFlux(): Promise<Proc> {
  const p = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', join(dir, 'flux', 'fluxdns.yaml')], { name: `fluxdns:${fluxPort}`, cwd: repoRoot });
  await p.waitFor(/fluxdns ready/, 90000, 'stdout');
  return p;
}

/** Polls until `check` passes (the machine is loaded: generous bound, short steps). */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} within ${timeoutMs} ms\n${flux?.describe() ?? ''}`);
}

async function serial(): Promise<number | string> {
  const r = await dig(fluxPort, ZONE, 'SOA', { extra: ['+time=2', '+tries=1'] });
  if (r.rcode !== 'NOERROR') return r.rcode;
  return Number(r.answer.find((a) => a.type === 'SOA')?.data.split(' ')[2]);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-secondary-knot-'));
  mkdirSync(join(dir, 'knot', 'db'), { recursive: true });
  mkdirSync(join(dir, 'flux'));
  knotPort = await freePort();
  fluxPort = await freePort();
  writeFileSync(join(dir, 'knot', 'sec.zone'), zoneText(1));
  writeFileSync(join(dir, 'knot', 'knot.conf'), knotConf());
  writeFileSync(join(dir, 'flux', 'fluxdns.yaml'), fluxConf());
  await startKnotd();
});

after(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('fluxdns as a secondary of knotd (TSIG)', { timeout: 240000 }, () => {
  test('initial AXFR: the zone is served and written to its file', async () => {
    flux = await startFlux();
    await waitForSoa(flux, fluxPort, ZONE, 60000);
    assert.equal(await serial(), 1);
    const www = await dig(fluxPort, `www.${ZONE}`, 'A');
    assert.equal(www.rcode, 'NOERROR');
    assert.ok(www.flags.has('aa'));
    assert.deepEqual(www.answer.map((a) => a.data), ['198.51.100.80']);
    const file = readFileSync(join(dir, 'flux', 'sec.zone'), 'utf8');
    assert.match(file, /www\.sec\.test\.\s+60\s+IN\s+A\s+198\.51\.100\.80/);
    // Several messages, every one verified (knotd's ACL demands the key, so the request was signed too).
    const m = /secondary zone transferred[^\n]*"via":"AXFR"[^\n]*"messages":(\d+)/.exec(flux.stderr);
    assert.ok(m, flux.stderr);
    assert.ok(Number(m[1]) > 1, `AXFR in ${m[1]} messages`);
    const k = /AXFR, outgoing, remote 127\.0\.0\.1@\d+, finished, [\d.]+ seconds, (\d+) messages/.exec(knot!.stderr);
    assert.ok(k, knot!.stderr);
    assert.equal(Number(m[1]), Number(k[1]), 'every message knotd sent was read and verified');
    const bulk = await dig(fluxPort, `bulk4999.${ZONE}`, 'TXT');
    assert.equal(bulk.answer.length, 1);
    // knotd sends the TTL its file gives (4294967295); the copy holds 0, as its own file reads back (RFC 2181 §8).
    const top = await dig(fluxPort, `top.${ZONE}`, 'A');
    assert.deepEqual(top.answer.map((a) => [a.ttl, a.data]), [[0, '198.51.100.7']]);
    assert.match(file, /^top\.sec\.test\.\s+0\s+IN\s+A\s+198\.51\.100\.7$/m);
  });

  test('transfers without the key, or with a wrong secret, fail', async () => {
    const noKey = axfr({ host: '127.0.0.1', port: knotPort }, ZONE);
    await assert.rejects(noKey, /NOTAUTH|REFUSED/);
    const wrong: TsigKey = { name: 'xfr-key.', algorithm: algorithmByName('hmac-sha256')!, secret: randomBytes(32) };
    await assert.rejects(axfr({ host: '127.0.0.1', port: knotPort, key: wrong }, ZONE), /NOTAUTH|TSIG/);
    // The right key: every message verifies.
    const right: TsigKey = { ...wrong, secret: Buffer.from(SECRET, 'base64') };
    const r = await axfr({ host: '127.0.0.1', port: knotPort, key: right }, ZONE);
    assert.equal(r.kind, 'full');
    assert.ok(r.messages > 1);
  });

  test('a change on knotd reaches fluxdns by NOTIFY and IXFR', async () => {
    writeFileSync(join(dir, 'knot', 'sec.zone'), zoneText(2, ['new A 198.51.100.2']));
    execFileSync('knotc', ['-s', join(dir, 'knot', 'knot.sock'), 'zone-reload', ZONE]);
    await eventually('fluxdns serves serial 2', async () => (await serial()) === 2);
    const r = await dig(fluxPort, `new.${ZONE}`, 'A');
    assert.deepEqual(r.answer.map((a) => a.data), ['198.51.100.2']);
    assert.match(flux!.stderr, /NOTIFY received/);
    assert.match(flux!.stderr, /secondary zone transferred.*"serial":2.*"via":"IXFR"/);
    assert.match(knot!.stderr, /IXFR, outgoing/);
    // ctl zone status lists it as a secondary, fresh.
    const st = await runFluxdns(['ctl', '--socket', join(dir, 'flux', 'ctl.sock'), 'zone', 'status'], 60000);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /sec\.test\.\s+2\s+\d+\s+\S+\s+secondary \(fresh, confirmed /);
    // The refresh check asked knotd for the SOA over UDP (RFC 1996 practice), signed, and the answer verified.
    assert.match(flux!.stderr, /"msg":"primary SOA checked"[^\n]*"via":"udp"[^\n]*"serial":2/);
    // A SIGHUP re-reads the kept file: the same version, served on, no error.
    process.kill(flux!.pid, 'SIGHUP');
    await flux!.waitFor(/"msg":"reloaded"/, 30000, 'stderr');
    assert.equal(await serial(), 2);
    assert.doesNotMatch(flux!.stderr, /"level":"error"/);
  });

  test('after a restart it serves the saved file at once, then checks the primary (IXFR that does not apply: AXFR)', async () => {
    await flux!.stop();
    // A change made while fluxdns is down (knotd's NOTIFY goes nowhere): www moves.
    writeFileSync(join(dir, 'knot', 'sec.zone'), zoneText(3, ['new A 198.51.100.2', 'later A 198.51.100.3']).replace('198.51.100.80', '198.51.100.81'));
    execFileSync('knotc', ['-s', join(dir, 'knot', 'knot.sock'), 'zone-reload', ZONE]);
    // Our saved copy no longer matches serial 2 as knotd knows it: the IXFR's deletion of www's old
    // address cannot apply, so fluxdns must fall back to AXFR rather than serve a wrong zone.
    const saved = join(dir, 'flux', 'sec.zone');
    writeFileSync(saved, readFileSync(saved, 'utf8').replace('198.51.100.80', '198.51.100.99'));
    flux = await startFlux();
    // Loaded from the file (serial 2) before any transfer…
    assert.match(flux.stderr, /"msg":"zone loaded".*"serial":2/);
    // …then brought up to date from knotd.
    await eventually('fluxdns serves serial 3', async () => (await serial()) === 3);
    assert.match(flux.stderr, /IXFR failed; falling back to AXFR[^\n]*deletes www\.sec\.test\. A/);
    assert.match(flux.stderr, /secondary zone transferred[^\n]*"serial":3[^\n]*"via":"AXFR"/);
    const www = await dig(fluxPort, `www.${ZONE}`, 'A');
    assert.deepEqual(www.answer.map((a) => a.data), ['198.51.100.81']);
  });

  test('primary down past expire: SERVFAIL for the zone; primary back: fresh again', async () => {
    await knot!.stop();
    // expire is 8 s from the last successful refresh.
    await eventually('SERVFAIL after expire', async () => (await serial()) === 'SERVFAIL', 60000);
    const r = await dig(fluxPort, `www.${ZONE}`, 'A');
    assert.equal(r.rcode, 'SERVFAIL');
    assert.match(flux!.stderr, /secondary zone expired/);
    // Dropped from service, still listed, as expired.
    const st = await controlRequest(join(dir, 'flux', 'ctl.sock'), { cmd: 'zone-status', zone: ZONE });
    assert.equal(st.ok, true, JSON.stringify(st));
    const row = (st.data as { zones: { name: string; source: string; records: number; secondary?: { state: string } }[] }).zones[0]!;
    assert.equal(row.source, 'secondary');
    assert.equal(row.secondary?.state, 'expired');
    writeFileSync(join(dir, 'knot', 'sec.zone'), zoneText(4, ['new A 198.51.100.2', 'later A 198.51.100.3', 'back A 198.51.100.4']).replace('198.51.100.80', '198.51.100.81'));
    await startKnotd();
    await eventually('fluxdns serves serial 4', async () => (await serial()) === 4, 60000);
    const b = await dig(fluxPort, `back.${ZONE}`, 'A');
    assert.deepEqual(b.answer.map((a) => a.data), ['198.51.100.4']);
    assert.ok(existsSync(join(dir, 'flux', 'sec.zone')));
  });
});
