// The catalog zone (RFC 9432, producer side): fluxdns lists its primary zones; a knotd consuming the catalog
// (catalog-role: interpret) serves every member, a zone added to fluxdns's configuration later, untold, and
// drops a zone removed from it; the catalog's serial follows its content (a touched configuration keeps it),
// each change journaled (knotd asks by IXFR) and `ctl reload CATALOG` rebuilds it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { runFluxdns, startFluxdns, type RunningServer } from '../helpers/servers.js';
import { startKnotSecondary, type Secondary } from '../helpers/secondaries.js';
import { memberId } from '../../src/catalog/catalog.js';

const KEY = { name: 'cat-key', secret: Buffer.from('catalog-test-secret-0123456789abcdefgh').toString('base64') };
const CATALOG = 'catalog.example.';
let dir = '';
let port = 0;
let knotPort = 0;
let flux: RunningServer | undefined;
let knot: Secondary | undefined;

const zoneText = (name: string, addr: string) => `$ORIGIN ${name}\n$TTL 60\n@ SOA ns hostmaster 1 60 10 600 60\n  NS ns\nns A 198.51.100.1\nwww A ${addr}\n`;

function yaml(zones: string[]): string {
  return [
    'listen:',
    `  - { proto: udp, address: "127.0.0.1:${port}" }`,
    `  - { proto: tcp, address: "127.0.0.1:${port}" }`,
    'rrl: off',
    `control: { socket: ${JSON.stringify(join(dir, 'ctl.sock'))} }`,
    'tsig:',
    `  keys: [ { name: ${KEY.name}, secret: "${KEY.secret}" } ]`,
    `catalog: { zone: ${CATALOG}, allowTransfer: [ { key: ${KEY.name} } ] }`,
    'zones:',
    ...zones.map((z) => `  - { name: ${z}, file: ${JSON.stringify(join(dir, z + 'zone'))}, allowTransfer: [ { key: ${KEY.name} } ] }`),
    '',
  ].join('\n');
}

async function answers(p: number, name: string, type: string): Promise<string[]> {
  try {
    const r = await dig(p, name, type, { extra: ['+time=1', '+tries=1'] });
    return r.rcode === 'NOERROR' ? r.answer.filter((a) => a.type === type).map((a) => a.data) : [r.rcode];
  } catch (e) {
    return [(e as Error).message];
  }
}

function logText(): string {
  return flux ? flux.proc.stdout + flux.proc.stderr : '';
}

async function catalogSerial(): Promise<number> {
  const r = await dig(port, CATALOG, 'SOA');
  return Number(r.answer[0]!.data.split(' ')[2]);
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (knot && !knot.proc.running) break;
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what} within ${timeoutMs} ms\n${knot?.log().slice(-3000) ?? ''}\n${flux?.proc.stderr.slice(-3000) ?? ''}`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-catalog-'));
  port = await freePort();
  knotPort = await freePort();
  writeFileSync(join(dir, 'a.cat.test.zone'), zoneText('a.cat.test.', '198.51.100.10'));
  writeFileSync(join(dir, 'fluxdns.yaml'), yaml(['a.cat.test.']));
  flux = await startFluxdns(yaml(['a.cat.test.']), port, 'a.cat.test.');
});

after(async () => {
  await knot?.stop();
  await flux?.stop();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('catalog zone', { timeout: 180000 }, () => {
  test('fluxdns serves the catalog: version 2 and one PTR per primary zone', async () => {
    assert.deepEqual(await answers(port, `version.${CATALOG}`, 'TXT'), ['"2"']);
    assert.deepEqual(await answers(port, `${memberId('a.cat.test.')}.zones.${CATALOG}`, 'PTR'), ['a.cat.test.']);
    assert.deepEqual(await answers(port, CATALOG, 'NS'), ['invalid.']);
  });

  test('a knotd consuming the catalog serves its members, and a zone added later', async () => {
    knot = startKnotSecondary({ zone: CATALOG, primary: { host: '127.0.0.1', port }, key: KEY, address: '127.0.0.1', port: knotPort, catalog: { refreshSeconds: 3 } });
    await eventually('knotd serves a.cat.test. from the catalog', async () => (await answers(knotPort, 'www.a.cat.test.', 'A'))[0] === '198.51.100.10');
    // A new zone in fluxdns's configuration only: knotd is not told about it.
    writeFileSync(join(dir, 'b.cat.test.zone'), zoneText('b.cat.test.', '198.51.100.20'));
    const conf = join(flux!.dir, 'fluxdns.yaml');
    const before = await catalogSerial();
    writeFileSync(conf, yaml(['a.cat.test.', 'b.cat.test.']));
    process.kill(flux!.proc.pid, 'SIGHUP');
    await eventually('fluxdns lists b.cat.test.', async () => (await answers(port, `${memberId('b.cat.test.')}.zones.${CATALOG}`, 'PTR'))[0] === 'b.cat.test.');
    await eventually('knotd serves b.cat.test. from the catalog', async () => (await answers(knotPort, 'www.b.cat.test.', 'A'))[0] === '198.51.100.20');
    assert.match(knot.log(), /b\.cat\.test\..*(AXFR|IXFR), incoming.*finished/);
    // One more, not a time: the serial follows the content. knotd fetched the catalog's difference by IXFR.
    assert.equal(await catalogSerial(), before + 1);
    await eventually('knotd asks for the catalog by IXFR', async () => /"transfer allowed".*"zone":"catalog\.example\.".*"type":"IXFR","serial":\d+,"clientSerial":\d+/.test(flux!.proc.stderr + flux!.proc.stdout));
    assert.match(knot.log(), /\[catalog\.example\.\] IXFR, incoming.*finished/);
  });

  test('a touched configuration without a change keeps the serial; ctl reload of the catalog works and keeps it too', async () => {
    const conf = join(flux!.dir, 'fluxdns.yaml');
    const serial = await catalogSerial();
    const later = new Date(Date.now() + 60_000);
    utimesSync(conf, later, later);
    const mark = logText().length;
    process.kill(flux!.proc.pid, 'SIGHUP');
    await eventually('fluxdns reloads', async () => /"msg":"reloaded"/.test(logText().slice(mark)));
    assert.equal(await catalogSerial(), serial);
    const r = await runFluxdns(['ctl', 'reload', CATALOG, '--socket', join(dir, 'ctl.sock')], 30000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`catalog\\.example\\. serial ${serial}, 5 records`));
    assert.equal(await catalogSerial(), serial);
    assert.equal(JSON.parse(readFileSync(join(flux!.dir, `${CATALOG}catalog.serial`), 'utf8')).serial, serial);
  });

  test('a zone removed from the configuration leaves the catalog; knotd drops it', async () => {
    const conf = join(flux!.dir, 'fluxdns.yaml');
    const serial = await catalogSerial();
    writeFileSync(conf, yaml(['b.cat.test.']));
    process.kill(flux!.proc.pid, 'SIGHUP');
    await eventually('fluxdns no longer lists a.cat.test.', async () => (await answers(port, `${memberId('a.cat.test.')}.zones.${CATALOG}`, 'PTR'))[0] === 'NXDOMAIN');
    assert.equal(await catalogSerial(), serial + 1);
    await eventually('knotd drops a.cat.test.', async () => (await answers(knotPort, 'www.a.cat.test.', 'A'))[0] === 'REFUSED');
    assert.deepEqual(await answers(knotPort, 'www.b.cat.test.', 'A'), ['198.51.100.20']);
  });
});
