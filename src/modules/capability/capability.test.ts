// The capability responder through the real pipeline: allocation (uniqueness, quarantine, exhaustion),
// repeat queries, scoping, denials, rate limits, blocklists and exceptions, with an injected clock and randomness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../answer/engine.js';
import { createUnits } from '../../answer/units.js';
import type { TransportInfo } from '../../answer/context.js';
import { parseConfigText } from '../../config/load.js';
import { ZoneSet } from '../../zone/tree.js';
import { decodeMessage, encodeMessage, queryMessage } from '../../wire/message.js';
import { clientSubnetOption } from '../../wire/edns.js';
import { EdnsOptionCode, Rcode, RRType, type ARdata, type Message } from '../../wire/types.js';
import { Capabilities } from '../../capability/core.js';
import { MemoryAudit } from '../../capability/audit.js';
import { decodeExceptions, EXCEPTIONS_OPTION_CODE } from '../../capability/exceptions.js';
import { formatCidr } from '../../net/cidr.js';
import type { RandomSource } from '../../pool/random.js';

/** Deterministic bytes (a simple xorshift): exact, repeatable draws. */
class SeededRandom implements RandomSource {
  constructor(private s = 0x9e3779b9) {}
  fill(out: Uint8Array): void {
    for (let i = 0; i < out.length; i++) {
      this.s ^= this.s << 13;
      this.s ^= this.s >>> 17;
      this.s ^= this.s << 5;
      out[i] = this.s & 0xff;
    }
  }
}

interface Harness {
  engine: Engine;
  caps: Capabilities;
  audit: MemoryAudit;
  clock: { t: number };
  ask(name: string, resolver: string, o?: { type?: number; ecs?: string }): Promise<Message | null>;
}

function harness(yaml: string, dir = tmpdir()): Harness {
  const { config } = parseConfigText(yaml, join(dir, 'caps.yaml'), dir);
  const clock = { t: 1_000_000 };
  const audit = new MemoryAudit();
  const caps = new Capabilities({ now: () => clock.t, rng: new SeededRandom(), audit });
  caps.bind(() => config);
  const engine = new Engine({ config, zones: new ZoneSet([]), generation: 1 }, createUnits(undefined, { capabilities: caps, now: () => clock.t }));
  let id = 1;
  return {
    engine,
    caps,
    audit,
    clock,
    async ask(name, resolver, o = {}) {
      const [addr, len] = (o.ecs ?? '').split('/');
      const options = o.ecs ? [clientSubnetOption({ family: addr!.includes(':') ? 2 : 1, sourcePrefix: Number(len), scopePrefix: 0, address: addr! })] : undefined;
      const q = encodeMessage(queryMessage(name, o.type ?? RRType.A, { id: id++, edns: true, options }));
      const t: TransportInfo = { proto: 'udp', remoteAddress: resolver, remotePort: 5000, localAddress: '127.0.0.1', localPort: 53 };
      const reply = await engine.handle(q, t);
      return reply ? decodeMessage(reply) : null;
    },
  };
}

const addressOf = (m: Message | null): string => {
  assert.ok(m, 'a reply');
  assert.equal(m.flags.rcode, Rcode.NOERROR, `NOERROR, got rcode ${m.flags.rcode}`);
  return (m.answers[0]!.data as ARdata).address;
};

const base = (service: string, extra = '', pool = '198.18.0.0/29') => `pools: [{ name: p, prefixes: [${pool}] }]
services:
  - { name: www.example.lab, target: 10.0.0.1, ports: [tcp/80], pool: p${service} }
capabilities: { quarantine: 100${extra} }
`;

test('each resolver gets its own address from the pool; a repeat query gets the same one with the remaining TTL', async () => {
  const h = harness(base(''));
  const seen = new Set<string>();
  for (let i = 1; i <= 6; i++) {
    const m = await h.ask('www.example.lab.', `127.0.0.${i}`);
    const a = addressOf(m);
    assert.match(a, /^198\.18\.0\.[1-6]$/, 'inside the pool, network and broadcast excluded');
    assert.equal(m!.answers[0]!.ttl, 20);
    seen.add(a);
  }
  assert.equal(seen.size, 6, 'six resolvers, six distinct addresses');
  const first = (await h.caps.store.list())[0]!;
  h.clock.t += 7_400;
  const again = await h.ask('www.example.lab.', first.resolver);
  assert.equal(addressOf(again), first.address);
  assert.equal(again!.answers[0]!.ttl, 12, 'remaining TTL, rounded down');
  assert.equal(h.caps.counters.grants, 6);
  assert.equal(h.caps.counters.reused, 1);
});

test('exhaustion: refuse answers SERVFAIL and is counted; share hands out a live address of the same service', async () => {
  const refuse = harness(base('', ', exhaustion: refuse', '198.18.0.0/30'));
  for (const r of ['127.0.0.1', '127.0.0.2']) addressOf(await refuse.ask('www.example.lab.', r));
  const m = await refuse.ask('www.example.lab.', '127.0.0.3');
  assert.equal(m!.flags.rcode, Rcode.SERVFAIL);
  assert.equal(refuse.caps.counters.exhausted, 1);
  assert.ok(refuse.audit.events.some((e) => e.event === 'exhausted'));

  const share = harness(base('', ', exhaustion: share', '198.18.0.0/30'));
  const taken = new Set<string>();
  for (const r of ['127.0.0.1', '127.0.0.2']) taken.add(addressOf(await share.ask('www.example.lab.', r)));
  const shared = addressOf(await share.ask('www.example.lab.', '127.0.0.3'));
  assert.ok(taken.has(shared), 'one of the live addresses');
  assert.equal(share.caps.counters.shared, 1);
  assert.equal((await share.caps.store.leasesAt(shared)).length, 2);
});

test('an address rests in quarantine after grace and is drawn again only after it', async () => {
  // A /31 holds exactly two addresses; ttl 20 + slack 5 + grace 10 + quarantine 100 = 135 s.
  const h = harness(base(', grace: 10', ', exhaustion: refuse', '198.18.0.0/31'));
  const a1 = addressOf(await h.ask('www.example.lab.', '127.0.0.1'));
  const a2 = addressOf(await h.ask('www.example.lab.', '127.0.0.2'));
  assert.notEqual(a1, a2);
  h.clock.t += 134_999;
  await h.caps.sweep();
  assert.equal((await h.ask('www.example.lab.', '127.0.0.3'))!.flags.rcode, Rcode.SERVFAIL, 'both still in quarantine');
  assert.deepEqual(h.audit.events.filter((e) => e.event === 'expire').length, 2, 'grace ended for both');
  h.clock.t += 1;
  await h.caps.sweep();
  assert.match(addressOf(await h.ask('www.example.lab.', '127.0.0.3')), /^198\.18\.0\.[01]$/);
});

test('port-disjoint services share an address at once (seed 000 §3.3)', async () => {
  const h = harness(`pools: [{ name: p, prefixes: [198.18.0.1/32] }]
services:
  - { name: www.example.lab, target: 10.0.0.1, ports: [tcp/80], pool: p }
  - { name: mail.example.lab, target: 10.0.0.2, ports: [tcp/25], pool: p }
  - { name: web2.example.lab, target: 10.0.0.3, ports: [tcp/80-81], pool: p }
capabilities: { exhaustion: refuse }
`);
  assert.equal(addressOf(await h.ask('www.example.lab.', '127.0.0.1')), '198.18.0.1');
  assert.equal(addressOf(await h.ask('mail.example.lab.', '127.0.0.1')), '198.18.0.1');
  assert.equal((await h.ask('web2.example.lab.', '127.0.0.1'))!.flags.rcode, Rcode.SERVFAIL, 'tcp/80 overlaps');
});

test('scopes: shared hands one address to every resolver; subnet keys on the (trusted) OBO subnet and echoes its scope', async () => {
  const shared = harness(base(', scope: shared'));
  assert.equal(addressOf(await shared.ask('www.example.lab.', '127.0.0.1')), addressOf(await shared.ask('www.example.lab.', '127.0.0.2')));

  const subnet = harness(base(', scope: subnet', ', trustedResolvers: [127.0.0.0/8]'));
  const m1 = await subnet.ask('www.example.lab.', '127.0.0.1', { ecs: '198.51.100.0/24' });
  const m2 = await subnet.ask('www.example.lab.', '127.0.0.2', { ecs: '198.51.100.0/24' });
  const m3 = await subnet.ask('www.example.lab.', '127.0.0.1', { ecs: '203.0.113.0/24' });
  assert.equal(addressOf(m1), addressOf(m2), 'same subnet, same lease, whichever resolver asks');
  assert.notEqual(addressOf(m1), addressOf(m3));
  const ecs = m1!.edns!.options.find((o) => o.code === EdnsOptionCode.CLIENT_SUBNET)!;
  assert.equal(ecs.data[3], 24, 'SCOPE PREFIX-LENGTH 24: the answer holds for that subnet only (RFC 7871 §7.2.1)');
  const lease = (await subnet.caps.store.list())[0]!;
  assert.equal(lease.sourceSubnet, '198.51.100.0/24');
});

test('an untrusted ECS claim that does not verify is a denial (seed 000 §2.2)', async () => {
  // The OBO lookup goes to a port where nothing answers: unverified.
  const h = harness(base(', scope: subnet', ', obo: { resolvers: ["127.0.0.1:9"], timeoutMs: 50 }'));
  const m = await h.ask('www.example.lab.', '127.0.0.1', { ecs: '198.51.100.0/24' });
  assert.equal(m!.flags.rcode, Rcode.REFUSED);
  const deny = h.audit.events.find((e) => e.event === 'deny');
  assert.ok(deny && deny.event === 'deny' && deny.reason.startsWith('obo unverified'), JSON.stringify(deny));
});

test('onDeny: refuse, nxdomain, nodata, drop and a honeypot lease; cookies required', async () => {
  const ask = async (onDeny: string) => harness(base(`, require: cookie, onDeny: ${onDeny}, honeypot: 10.9.9.9`)).ask('www.example.lab.', '127.0.0.1');
  assert.equal((await ask('refuse'))!.flags.rcode, Rcode.REFUSED);
  assert.equal((await ask('nxdomain'))!.flags.rcode, Rcode.NXDOMAIN);
  const nodata = await ask('nodata');
  assert.deepEqual([nodata!.flags.rcode, nodata!.answers.length], [Rcode.NOERROR, 0]);
  assert.equal(await ask('drop'), null);
  const h = harness(base(', require: cookie, onDeny: honeypot, honeypot: 10.9.9.9'));
  const a = addressOf(await h.ask('www.example.lab.', '127.0.0.1'));
  const lease = (await h.caps.store.leasesAt(a))[0]!;
  assert.deepEqual([lease.honeypot, lease.targets], [true, ['10.9.9.9']]);
});

test('other types get NODATA; a pool without IPv6 gives AAAA NODATA', async () => {
  const h = harness(base(''));
  for (const type of [RRType.AAAA, RRType.TXT]) {
    const m = await h.ask('www.example.lab.', '127.0.0.1', { type });
    assert.deepEqual([m!.flags.rcode, m!.answers.length], [Rcode.NOERROR, 0]);
  }
  assert.deepEqual(await h.caps.store.list(), []);
});

test('rate limits per service and per resolver (token buckets on the injected clock)', async () => {
  const h = harness(base(', rateLimit: { service: { qps: 1, burst: 3 }, resolver: { qps: 1, burst: 2 } }'));
  const rc = async (r: string) => (await h.ask('www.example.lab.', r))!.flags.rcode;
  assert.deepEqual([await rc('127.0.0.1'), await rc('127.0.0.1'), await rc('127.0.0.1')], [Rcode.NOERROR, Rcode.NOERROR, Rcode.REFUSED]);
  assert.equal(await rc('127.0.0.2'), Rcode.NOERROR, 'another resolver has its own bucket; the service bucket had one left');
  assert.equal(await rc('127.0.0.3'), Rcode.REFUSED, 'the service bucket is empty');
  h.clock.t += 1000;
  assert.equal(await rc('127.0.0.3'), Rcode.NOERROR);
  assert.deepEqual(h.caps.counters.denied, { 'rate limit': 2 });
});

test('blocklists deny a listed resolver or client subnet, are re-read when the file changes, and host entries inside a subnet become exceptions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'caps-'));
  const file = join(dir, 'block.txt');
  writeFileSync(file, '# bad actors\n127.0.0.66\n203.0.113.0/24\n');
  const h = harness(base(', scope: subnet, blocklists: [block.txt], exceptions: [198.51.100.9/32]', ', trustedResolvers: [127.0.0.0/8]'), dir);
  assert.equal((await h.ask('www.example.lab.', '127.0.0.66'))!.flags.rcode, Rcode.REFUSED);
  assert.equal((await h.ask('www.example.lab.', '127.0.0.1', { ecs: '203.0.113.0/25' }))!.flags.rcode, Rcode.REFUSED);
  writeFileSync(file, '127.0.0.66\n198.51.100.77\n# 203.0.113.0/24 forgiven\n');
  h.clock.t += 1000;
  const ok = await h.ask('www.example.lab.', '127.0.0.1', { ecs: '203.0.113.0/25' });
  addressOf(ok);
  const m = await h.ask('www.example.lab.', '127.0.0.1', { ecs: '198.51.100.0/24' });
  addressOf(m);
  const opt = m!.edns!.options.find((o) => o.code === EXCEPTIONS_OPTION_CODE);
  assert.ok(opt, 'the exceptions option');
  assert.deepEqual(decodeExceptions(opt.data).map(formatCidr), ['198.51.100.9/32', '198.51.100.77/32']);
  const lease = (await h.caps.store.list()).find((l) => l.scopeKey === '198.51.100.0/24')!;
  assert.deepEqual(lease.exceptions, ['198.51.100.9/32', '198.51.100.77/32']);
  const reasons = h.audit.events.flatMap((e) => (e.event === 'deny' ? [e.reason] : []));
  assert.deepEqual(reasons, ['blocklisted resolver: 127.0.0.66/32', 'blocklisted client subnet: 203.0.113.0/24']);
});

test('a failed installation answers SERVFAIL and frees the address (fail closed), or answers with failOpen', async () => {
  for (const failOpen of [false, true]) {
    const h = harness(base('', `, failOpen: ${failOpen}`));
    h.caps.dataPlane = { ...h.caps.dataPlane, install: async () => Promise.reject(new Error('nft said no')) };
    const m = await h.ask('www.example.lab.', '127.0.0.1');
    assert.equal(m!.flags.rcode, failOpen ? Rcode.NOERROR : Rcode.SERVFAIL);
    assert.equal((await h.caps.store.list()).length, failOpen ? 1 : 0);
    assert.equal(h.caps.counters.installFailures, 1);
  }
});

test('revoke by address or by resolver ends the leases and quarantines their addresses', async () => {
  const h = harness(base(''));
  const a1 = addressOf(await h.ask('www.example.lab.', '127.0.0.1'));
  addressOf(await h.ask('www.example.lab.', '127.0.0.2'));
  assert.equal((await h.caps.revoke(a1)).leases.length, 1);
  assert.equal((await h.caps.revoke('127.0.0.2')).leases.length, 1);
  assert.equal((await h.caps.revoke('127.0.0.2')).leases.length, 0, 'already revoked');
  const again = addressOf(await h.ask('www.example.lab.', '127.0.0.1'));
  assert.notEqual(again, a1, 'a new lease; the revoked address rests');
  assert.deepEqual(h.audit.events.filter((e) => e.event === 'revoke').length, 2);
});
