// The UDP addon's replays of answer-cache hits in a real fluxdns process: the answers stay right across
// an UPDATE and a SIGHUP reload (each empties the addon's mirror with the answer cache), and the
// metrics count every query as before — replays included, once each.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addRecordsUpdate } from '../../src/client/update.js';
import { encodeMessage, queryMessage } from '../../src/wire/message.js';
import { RRClass, RRType } from '../../src/wire/types.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';
import { rcodeOf, udpExchange } from '../helpers/udp.js';

after(() => stopAll());

const zoneText = (serial: number, address: string) => `$ORIGIN rp.lab.\n$TTL 300\n@ SOA ns hm ${serial} 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A ${address}\n`;

/** The A addresses of www.rp.lab in the reply to one query (no EDNS, no cookie: a cacheable query). */
async function addresses(port: number, id: number, name = 'www.rp.lab.'): Promise<string[]> {
  const reply = await udpExchange(encodeMessage(queryMessage(name, RRType.A, { id, rd: true })), port);
  assert.ok(reply, `a reply to query ${id}`);
  assert.equal(reply.readUInt16BE(0), id, 'the query ID echoed');
  const out: string[] = [];
  // The answers are A records of 16 bytes each at the end of this small reply (owner pointer, type, class, TTL, length 4).
  const ancount = reply.readUInt16BE(6);
  for (let i = 0; i < ancount; i++) {
    const at: number = reply.length - (ancount - i) * 16;
    assert.equal(reply.readUInt16BE(at + 2), RRType.A);
    out.push([...reply.subarray(at + 12, at + 16)].join('.'));
  }
  return out.sort();
}

async function metric(port: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * fluxdns on free UDP/TCP and metrics ports serving rp.lab (www A 203.0.113.1, from `zoneFile`), rrl off,
 * `zoneOptions` in the zone's entry and `more` YAML lines (pools, policies, echo zones) after the zones.
 */
async function serveRp(tag: string, more: string[], zoneOptions = ''): Promise<{ server: RunningServer; port: number; metricsPort: number; zoneFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), `fluxdns-replay-${tag}-`));
  const zoneFile = join(dir, 'rp.lab.zone');
  writeFileSync(zoneFile, zoneText(1, '203.0.113.1'));
  const port = await freePort();
  const metricsPort = await freePort();
  const yaml = [
    'listen:',
    `  - { proto: udp, address: "127.0.0.1:${port}" }`,
    `  - { proto: tcp, address: "127.0.0.1:${port}" }`,
    'rrl: off',
    `metrics: { listen: "127.0.0.1:${metricsPort}" }`,
    'zones:',
    `  - { name: rp.lab., file: ${JSON.stringify(zoneFile)}${zoneOptions} }`,
    ...more,
    '',
  ].join('\n');
  return { server: await startFluxdns(yaml, port, 'rp.lab.'), port, metricsPort, zoneFile };
}

test('replayed hits: right answers across UPDATE and reload, and every query counted once', async () => {
  const { server, port, metricsPort, zoneFile } = await serveRp('hits', [], ', allowUpdate: ["127.0.0.0/8"]');
  try {
    const label = '{transport="udp",qtype="A",rcode="NOERROR"}';
    const before = await metric(metricsPort, 'fluxdns_queries_total', label);
    let asked = 0;
    for (let i = 0; i < 10; i++, asked++) assert.deepEqual(await addresses(port, 100 + i), ['203.0.113.1']);
    assert.ok((await metric(metricsPort, 'fluxdns_answer_cache_replayed_total')) >= 5, 'hits replayed by the addon');
    assert.equal((await metric(metricsPort, 'fluxdns_queries_total', label)) - before, asked, 'each query counted once');

    // A reload with other data: the mirror is emptied with the answer cache.
    writeFileSync(zoneFile, zoneText(50, '203.0.113.9'));
    process.kill(server.proc.pid, 'SIGHUP');
    await server.proc.waitFor(/"reloaded"/, 10000, 'stderr');
    for (let i = 0; i < 6; i++, asked++) assert.deepEqual(await addresses(port, 300 + i), ['203.0.113.9'], `after reload, query ${i}`);
    // UPDATE adds an address: the zone changes: the same.
    const update = addRecordsUpdate(7, 'rp.lab.', [{ name: 'www.rp.lab.', type: RRType.A, class: RRClass.IN, ttl: 300, data: { address: '203.0.113.2' } }]);
    assert.equal(rcodeOf(await udpExchange(encodeMessage(update), port)), 0, 'UPDATE applied');
    for (let i = 0; i < 6; i++, asked++) assert.deepEqual(await addresses(port, 200 + i), ['203.0.113.2', '203.0.113.9'], `after UPDATE, query ${i}`);

    assert.equal((await metric(metricsPort, 'fluxdns_queries_total', label)) - before, asked, 'each query counted once');
    const hits = await metric(metricsPort, 'fluxdns_answer_cache_hits_total');
    const replayed = await metric(metricsPort, 'fluxdns_answer_cache_replayed_total');
    assert.ok(replayed >= 10 && hits >= replayed, `replays (${replayed}) are among the hits (${hits})`);
  } finally {
    await server.stop();
  }
});

test('with policies: a name no policy can match is replayed; a policy answer or a name a policy may match from another client is not; encloser templates only where no policy may match below', async () => {
  // far.lab: a zone no policy's qname test reaches, beside rp.lab, whose names the policies below match.
  const farDir = mkdtempSync(join(tmpdir(), 'fluxdns-replay-far-'));
  const farFile = join(farDir, 'far.lab.zone');
  writeFileSync(farFile, '$ORIGIN far.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n');
  const { server, port, metricsPort } = await serveRp('pol', [
    `  - { name: far.lab., file: ${JSON.stringify(farFile)} }`,
    'pools:',
    '  - { name: dyn, prefixes: [198.18.20.0/24] }',
    'policies:',
    '  - { match: { qname: pol.rp.lab }, action: { records: ["A 203.0.113.77"] } }',
    '  - { match: { qname: "*.near.rp.lab", resolver: [127.0.0.2/32] }, action: { records: ["A 203.0.113.88"] } }',
    '  - { match: { qname: "*.dyn.rp.lab" }, action: { pool: dyn, ttl: 30 } }',
    '  - { match: { qname: www.rp.lab, qtype: AAAA }, action: { records: ["AAAA 2001:db8::5"] } }',
  ]);
  try {
    const replayed = () => metric(metricsPort, 'fluxdns_answer_cache_replayed_total');
    const ask = async (name: string, id: number, from?: string): Promise<{ rcode: number; addresses: string[] }> => {
      const reply = await udpExchange(encodeMessage(queryMessage(name, RRType.A, { id, rd: true })), port, from === undefined ? {} : { from });
      assert.ok(reply, `a reply to ${name}`);
      const ancount = reply.readUInt16BE(6);
      const addresses = Array.from({ length: ancount }, (_, i) => [...reply.subarray(reply.length - (ancount - i) * 16 + 12, reply.length - (ancount - i) * 16 + 16)].join('.'));
      return { rcode: rcodeOf(reply) ?? -1, addresses };
    };
    // www.rp.lab A: every policy fails on its qname or qtype test — for any client — so its hits are replayed.
    const before = await replayed();
    for (let i = 0; i < 10; i++) assert.deepEqual((await ask('www.rp.lab.', 100 + i)).addresses, ['203.0.113.1']);
    const afterWww = await replayed();
    assert.ok(afterWww - before >= 5, `hits of a name no policy can match are replayed (${afterWww - before})`);
    // x.near.rp.lab from 127.0.0.1: no policy matches, but one would from 127.0.0.2 — never replayed, so the
    // client the policy is for gets its answer after others asked.
    for (let i = 0; i < 6; i++) assert.equal((await ask('x.near.rp.lab.', 200 + i)).rcode, 3, 'NXDOMAIN from the zone for 127.0.0.1');
    assert.deepEqual((await ask('x.near.rp.lab.', 210, '127.0.0.2')).addresses, ['203.0.113.88'], "the policy's answer for 127.0.0.2");
    // A policy's own answers: never replayed; pool answers stay fresh.
    for (let i = 0; i < 4; i++) assert.deepEqual((await ask('pol.rp.lab.', 300 + i)).addresses, ['203.0.113.77']);
    const pool = new Set<string>();
    for (let i = 0; i < 12; i++) pool.add((await ask('a.dyn.rp.lab.', 400 + i)).addresses.join());
    assert.ok(pool.size >= 6, `a pool answer is drawn per query (${pool.size} distinct of 12)`);
    assert.equal(await replayed(), afterWww, 'nothing but www.rp.lab was replayed');
    // Missing names below rp.lab, from 127.0.0.1: no policy matched them, but some policy may match other
    // names below rp.lab, so no template is learnt and 127.0.0.2's policy answer and the pool stay theirs.
    const shaped = () => metric(metricsPort, 'fluxdns_answer_cache_shaped_total');
    // (As long as z.near.rp.lab, which a template would answer most surely.)
    for (let i = 0; i < 6; i++) assert.equal((await ask(`n${i}xxxx.rp.lab.`, 500 + i)).rcode, 3, `n${i}xxxx.rp.lab: NXDOMAIN`);
    assert.deepEqual((await ask('z.near.rp.lab.', 510, '127.0.0.2')).addresses, ['203.0.113.88'], "after other names' NXDOMAIN, the policy's answer for 127.0.0.2");
    assert.match((await ask('b.dyn.rp.lab.', 511)).addresses.join(), /^198\.18\.20\.\d+$/, 'and a pool address');
    assert.equal(await shaped(), 0, 'no reply below rp.lab made from a template');
    // Missing names below far.lab (as long as each other: metrics are on): no policy may match any name
    // there, so the addon answers them from a template learnt from the first.
    for (let i = 0; i < 8; i++) {
      const r = await ask(`m${i}.far.lab.`, 600 + i);
      assert.deepEqual([r.rcode, r.addresses.length], [3, 0], `m${i}.far.lab: NXDOMAIN`);
    }
    assert.ok((await shaped()) >= 4, `names below far.lab answered from a template (${await shaped()} of 8)`);
  } finally {
    await server.stop();
  }
});

test("metrics on: an echo zone's cached answers are replayed too, and each query counted once under the zone the metrics give it", async () => {
  const { server, port, metricsPort } = await serveRp('echo', ['echo:', '  - { zone: ec.lab., nsAddress: 127.0.0.1 }', '  - { zone: in.rp.lab., nsAddress: 127.0.0.1 }']);
  try {
    const label = '{transport="udp",qtype="A",rcode="NOERROR"}';
    const counts = async () => ({
      replayed: await metric(metricsPort, 'fluxdns_answer_cache_replayed_total'),
      queries: await metric(metricsPort, 'fluxdns_queries_total', label),
      none: await metric(metricsPort, 'fluxdns_zone_queries_total', '{zone=""}'),
      rp: await metric(metricsPort, 'fluxdns_zone_queries_total', '{zone="rp.lab."}'),
    });
    // Stateless DNS: `A.B.C.D.00.<zone>` answers A A.B.C.D. ec.lab is in no file zone; in.rp.lab is inside rp.lab.
    for (const [name, address, zone] of [
      ['198.51.100.7.00.ec.lab.', '198.51.100.7', 'none'],
      ['198.51.100.8.00.in.rp.lab.', '198.51.100.8', 'rp'],
    ] as const) {
      const before = await counts();
      for (let i = 0; i < 10; i++) assert.deepEqual(await addresses(port, 500 + i, name), [address], `${name} query ${i}`);
      const after = await counts();
      assert.ok(after.replayed - before.replayed >= 5, `${name}: hits replayed by the addon (${after.replayed - before.replayed})`);
      assert.equal(after.queries - before.queries, 10, `${name}: each query counted once`);
      assert.equal(after[zone] - before[zone], 10, `${name}: counted under its zone (${zone})`);
      assert.equal(after[zone === 'rp' ? 'none' : 'rp'] - before[zone === 'rp' ? 'none' : 'rp'], 0, `${name}: and under no other`);
    }
  } finally {
    await server.stop();
  }
});
