// Echo zones through real resolvers (unbound, named) behind a fake root: DA and retrieve-or-store (seed 003
// §2.7.4), DX, DU, and A/CA/CCA with short-time caching (§2.9). fluxdns and the root each get a random
// 127.x.y.z:53, so parallel test files and runs cannot collide.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { dig, type DigResult } from '../helpers/dig.js';
import { stopAll } from '../helpers/proc.js';
import { freeLoopback, startFakeRoot, startResolver, type Resolver } from '../helpers/resolvers.js';
import { startFluxdns } from '../helpers/servers.js';
import { Stub } from '../../src/client/stub.js';
import { RRType } from '../../src/wire/types.js';
import { encodeA, encodeTxt } from '../../src/echo/encoding.js';
import { dataFromXyName, programmingName, retrievalName } from '../../src/echo/methods.js';

after(() => stopAll());

/** echo.lab. is stateless; stc.lab. has short-time caching. */
const ECHO = 'echo.lab.';
const STC = 'stc.lab.';
const resolvers = new Map<string, Resolver>();

before(async () => {
  const rootAddr = await freeLoopback();
  const flux = await freeLoopback();
  const yaml = [
    'listen:',
    `  - { proto: udp, address: "${flux}:53" }`,
    `  - { proto: tcp, address: "${flux}:53" }`,
    'echo:',
    `  - { zone: ${ECHO}, nsAddress: ${flux} }`,
    `  - { zone: ${STC}, nsAddress: ${flux}, shortTimeCache: { enabled: true } }`,
    '',
  ].join('\n');
  const server = await startFluxdns(yaml, 53);
  const soa = await new Stub({ servers: [{ host: flux, port: 53 }], recursion: false, timeoutMs: 2000, retries: 2 }).query(ECHO, RRType.SOA);
  assert.ok(soa.message.flags.aa, server.proc.describe());
  await startFakeRoot(rootAddr, [
    { zone: ECHO, ns: `ns.${ECHO}`, address: flux },
    { zone: STC, ns: `ns.${STC}`, address: flux },
  ]);
  const [unbound, named] = await Promise.all([startResolver('unbound', { root: rootAddr }, ECHO), startResolver('named', { root: rootAddr }, ECHO)]);
  resolvers.set('unbound', unbound);
  resolvers.set('named', named);
});

/** A fresh alias per test, so no test sees another's cache entries. */
const alias = (tag: string) => `${tag}-${randomBytes(4).toString('hex')}`;

function ask(kind: string, name: string, type: string): Promise<DigResult> {
  return dig(resolvers.get(kind)!.port, name, type, { extra: ['+rec', '+time=4', '+tries=2'] });
}

const data = (r: DigResult, type: string) => r.answer.filter((a) => a.type === type).map((a) => a.data);

for (const kind of ['unbound', 'named']) {
  describe(`through ${kind}`, () => {
    test('DA stores: the programming query is answered with its data (§2.7.1)', async () => {
      const al = alias('da');
      const r = await ask(kind, programmingName('da', encodeA('198.51.100.7'), al, ECHO), 'A');
      assert.equal(r.rcode, 'NOERROR', r.raw);
      assert.deepEqual(data(r, 'DNAME'), [`00.198.51.100.7.00.${ECHO}`], r.raw);
      assert.deepEqual(data(r, 'A'), ['198.51.100.7'], r.raw);
    });

    test('DA with short-time caching: any name below the alias retrieves the data (§2.7.1, §2.9)', async () => {
      const al = alias('das');
      await ask(kind, programmingName('da', encodeA('198.51.100.7'), al, STC), 'A');
      const r = await ask(kind, retrievalName('da', al, STC, 'anything'), 'A');
      assert.equal(r.rcode, 'NOERROR', r.raw);
      assert.deepEqual(data(r, 'A'), ['198.51.100.7'], r.raw);
    });

    test('TXT through DA with short-time caching, the escape intact', async () => {
      const al = alias('txt');
      const text = 'Key=a b';
      await ask(kind, programmingName('da', encodeTxt(text), al, STC), 'TXT');
      const r = await ask(kind, retrievalName('da', al, STC), 'TXT');
      assert.deepEqual(data(r, 'TXT'), [JSON.stringify(text)], r.raw);
    });

    test('A, CA and CCA with short-time caching: alias.@ retrieves the data (§2.4–2.6, §2.9)', async () => {
      for (const method of ['a', 'ca', 'cca'] as const) {
        const al = alias(method);
        await ask(kind, programmingName(method, encodeA('203.0.113.9'), al, STC), 'A');
        const r = await ask(kind, retrievalName(method, al, STC), 'A');
        assert.deepEqual(data(r, 'A'), ['203.0.113.9'], `${method}\n${r.raw}`);
      }
    });
  });
}

describe('retrieve-or-store through named (§2.7.4)', () => {
  test('DA: a second store returns the first data, a retrieval too', async () => {
    const al = alias('ros');
    const first = await ask('named', programmingName('da', encodeA('198.51.100.7'), al, ECHO), 'A');
    assert.deepEqual(data(first, 'A'), ['198.51.100.7'], first.raw);
    const second = await ask('named', programmingName('da', encodeA('198.51.100.8'), al, ECHO), 'A');
    assert.deepEqual(data(second, 'A'), ['198.51.100.7'], second.raw);
    assert.deepEqual(data(second, 'DNAME'), [`00.198.51.100.7.00.${ECHO}`], second.raw);
    const got = await ask('named', retrievalName('da', al, ECHO, 'anything'), 'A');
    assert.deepEqual(data(got, 'A'), ['198.51.100.7'], got.raw);
  });

  test('DX: the resolver asks the echo domain itself; the first store wins', async () => {
    const al = alias('dx');
    const first = await ask('named', programmingName('dx', encodeA('198.51.100.20'), al, ECHO), 'A');
    assert.deepEqual(data(first, 'A'), ['198.51.100.20'], first.raw);
    const second = await ask('named', programmingName('dx', encodeA('198.51.100.21'), al, ECHO), 'A');
    assert.deepEqual(data(second, 'A'), ['198.51.100.20'], second.raw);
  });

  test('DU: the data comes back in the CNAME below .xy; the first store wins', async () => {
    const al = alias('du');
    await ask('named', programmingName('du', ['stateless-dns'], al, ECHO), 'A');
    await ask('named', programmingName('du', ['other-data'], al, ECHO), 'A');
    const got = await ask('named', retrievalName('du', al, ECHO, 'anything'), 'A');
    const targets = data(got, 'CNAME');
    assert.equal(targets.length, 1, got.raw);
    assert.deepEqual(dataFromXyName(targets[0]!), ['stateless-dns'], got.raw);
  });
});

describe('what the seed reports, observed', () => {
  test('unbound does not apply a cached DNAME (§4.2.2): without short-time caching the alias is unknown', async () => {
    const al = alias('unb');
    await ask('unbound', programmingName('da', encodeA('198.51.100.7'), al, ECHO), 'A');
    const r = await ask('unbound', retrievalName('da', al, ECHO), 'A');
    assert.equal(r.rcode, 'NXDOMAIN', r.raw);
  });
});
