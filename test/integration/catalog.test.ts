// The catalog zone (RFC 9432, producer side): fluxdns lists its primary zones; a knotd consuming the catalog
// (catalog-role: interpret) serves every member, and a zone added to fluxdns's configuration later, untold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';
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
    writeFileSync(conf, yaml(['a.cat.test.', 'b.cat.test.']));
    // The catalog's serial is the configuration file's time: make sure it moved on.
    const later = new Date(Date.now() + 5000);
    utimesSync(conf, later, later);
    process.kill(flux!.proc.pid, 'SIGHUP');
    await eventually('fluxdns lists b.cat.test.', async () => (await answers(port, `${memberId('b.cat.test.')}.zones.${CATALOG}`, 'PTR'))[0] === 'b.cat.test.');
    await eventually('knotd serves b.cat.test. from the catalog', async () => (await answers(knotPort, 'www.b.cat.test.', 'A'))[0] === '198.51.100.20');
    assert.match(knot.log(), /b\.cat\.test\..*(AXFR|IXFR), incoming.*finished/);
  });
});
