// On-Behalf-Of verification against a real fluxdns serving the reverse zones with the obo1 TXT records;
// the exceptions option round trip; the verification address and reverse names.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../config/load.js';
import { createLogger } from '../observe/log.js';
import { startServer } from '../server/server.js';
import { Stub } from '../client/stub.js';
import { formatAddress, formatCidr, parseAddress, parseCidr } from '../net/cidr.js';
import { announces, OboVerifier, reverseName, verificationAddress } from './obo.js';
import { decodeExceptions, encodeExceptions } from './exceptions.js';

const cidr = (s: string) => parseCidr(s)!;
const addr = (s: string) => parseAddress(s)!;

const dir = mkdtempSync(join(tmpdir(), 'obo-'));
const soa = '@ 300 IN SOA ns.example.lab. host.example.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.example.lab.\n';
writeFileSync(join(dir, 'r1.zone'), `$ORIGIN 100.51.198.in-addr.arpa.\n${soa}1 300 IN TXT "v=obo1 198.51.100.0/24"\n`);
writeFileSync(join(dir, 'r2.zone'), `$ORIGIN 113.0.203.in-addr.arpa.\n${soa}1 300 IN TXT "unrelated text"\n1 300 IN TXT "v=obo1 203.0.113.0/24 r=127.0.0.53,127.0.1.0/24"\n`);
const loaded = parseConfigText(
  `listen: [{ proto: udp, address: "127.0.0.1:0" }, { proto: tcp, address: "127.0.0.1:0" }]
zones:
  - { name: 100.51.198.in-addr.arpa., file: r1.zone }
  - { name: 113.0.203.in-addr.arpa., file: r2.zone }
`,
  join(dir, 'obo.yaml'),
);
const server = await startServer({ loaded, source: () => loaded, logger: createLogger('error') });
after(() => server.close());
const port = server.listeners.find((l) => l.proto === 'udp')!.port;

function verifier(trusted: string[] = []) {
  const clock = { t: 0 };
  const v = new OboVerifier({
    stub: () => new Stub({ servers: [{ host: '127.0.0.1', port }], retries: 0, timeoutMs: 1000 }),
    trusted: () => trusted.map(cidr),
    cacheMs: () => 60_000,
    timeoutMs: () => 2000,
    now: () => clock.t,
  });
  return { v, clock };
}

test('the verification address is the first host of the block; reverse names in in-addr.arpa and ip6.arpa', () => {
  assert.equal(formatAddress(verificationAddress(cidr('198.51.100.0/24'))), '198.51.100.1');
  assert.equal(formatAddress(verificationAddress(cidr('198.51.100.7/32'))), '198.51.100.7');
  assert.equal(formatAddress(verificationAddress(cidr('2001:db8::/48'))), '2001:db8::1');
  assert.equal(reverseName(addr('198.51.100.1')), '1.100.51.198.in-addr.arpa.');
  assert.equal(reverseName(addr('2001:db8::1')), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.');
});

test('announces: the same block only, and r= limits which resolvers may claim it', () => {
  assert.equal(announces(['v=obo1 198.51.100.0/24'], cidr('198.51.100.0/24'), addr('127.0.0.1')), true);
  assert.equal(announces(['v=obo1 198.51.100.0/24'], cidr('198.51.100.0/25'), addr('127.0.0.1')), false);
  assert.equal(announces(['v=obo1 198.51.100.0/24 r=203.0.113.0/28'], cidr('198.51.100.0/24'), addr('203.0.113.5')), true);
  assert.equal(announces(['v=obo1 198.51.100.0/24 r=203.0.113.0/28'], cidr('198.51.100.0/24'), addr('203.0.113.99')), false);
  assert.equal(announces(['v=obo2 198.51.100.0/24', 'hello'], cidr('198.51.100.0/24'), addr('127.0.0.1')), false);
});

test('a block whose reverse TXT announces it is verified, over the wire, and the result is cached', async () => {
  const { v, clock } = verifier();
  assert.deepEqual(await v.verify(addr('127.0.0.1'), cidr('198.51.100.0/24')), { ok: true, how: 'verified' });
  assert.equal(v.lookups, 1);
  assert.deepEqual(await v.verify(addr('127.0.0.1'), cidr('198.51.100.0/24')), { ok: true, how: 'verified' });
  assert.equal(v.lookups, 1, 'cached');
  clock.t = 60_000;
  await v.verify(addr('127.0.0.1'), cidr('198.51.100.0/24'));
  assert.equal(v.lookups, 2, 'the cache entry expired');
});

test('claims the reverse DNS does not back are rejected: a narrower block, a block without a record, a resolver not in r=', async () => {
  const { v } = verifier();
  const narrower = await v.verify(addr('127.0.0.1'), cidr('198.51.100.0/25'));
  assert.equal(narrower.ok, false);
  const missing = await v.verify(addr('127.0.0.1'), cidr('198.51.100.128/25'));
  assert.ok(!missing.ok && /rcode 3/.test(missing.reason), JSON.stringify(missing));
  assert.equal((await v.verify(addr('127.0.0.1'), cidr('203.0.113.0/24'))).ok, false);
  assert.deepEqual(await v.verify(addr('127.0.0.53'), cidr('203.0.113.0/24')), { ok: true, how: 'verified' });
  assert.deepEqual(await v.verify(addr('127.0.1.9'), cidr('203.0.113.0/24')), { ok: true, how: 'verified' });
});

test('trusted resolvers are believed without a lookup', async () => {
  const { v } = verifier(['127.0.0.0/8']);
  assert.deepEqual(await v.verify(addr('127.0.0.1'), cidr('198.51.100.128/25')), { ok: true, how: 'trusted' });
  assert.equal(v.lookups, 0);
});

test('the exceptions option round-trips IPv4 and IPv6 prefixes', () => {
  const list = ['198.51.100.9/32', '203.0.113.0/25', '2001:db8::/33', '0.0.0.0/0'].map(cidr);
  const wire = encodeExceptions(list);
  assert.equal(wire.length, 3 + 4 + 3 + 4 + 3 + 5 + 3 + 0);
  assert.deepEqual(decodeExceptions(wire).map(formatCidr), list.map(formatCidr));
  assert.throws(() => decodeExceptions(Uint8Array.from([0, 1, 33])), /prefix length 33/);
  assert.throws(() => decodeExceptions(Uint8Array.from([0, 1, 24, 198])), /truncated/);
});
