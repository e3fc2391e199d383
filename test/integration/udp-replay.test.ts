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
import { startFluxdns } from '../helpers/servers.js';
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

test('replayed hits: right answers across UPDATE and reload, and every query counted once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-replay-'));
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
    `  - { name: rp.lab., file: ${JSON.stringify(zoneFile)}, allowUpdate: ["127.0.0.0/8"] }`,
    '',
  ].join('\n');
  const server = await startFluxdns(yaml, port, 'rp.lab.');
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
