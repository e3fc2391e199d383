// Variants of one question that must not share an answer, asked over and over in alternating orders in a
// real fluxdns process: its first answer to each variant is fresh (the engine, right after `ctl cache
// flush`), the later ones come from the answer cache and the UDP addon's mirror and templates
// (answer/replay.ts, native/udp_batch.c) — and each must be byte for byte the fresh one, its ID aside.
// Variants: RD, CD, AD, Z, TC set in the query; no EDNS, EDNS 100/512/1232/4096 with and without DO; EDNS
// version 1 (BADVERS), an unknown EDNS flag, extended RCODE bits, unknown, NSID, cookie (short, client,
// bad server), padding and client-subnet options; the name in upper and mixed case; classes CH, ANY and
// HS; opcodes 1, 2, 4, 5; trailing bytes; two OPT records; from ::1. Questions: a file zone's answer, TC-sized
// TXT, wildcard, NXDOMAIN, referral, CNAME, DNAME, ANY, and echo zone answers whose names are made of the
// question's. Where the answer copies the question's name (a DNAME's synthesized CNAME) the bytes are also knotd's.
// Then state changes while the addon replays answers and templates: `ctl reload ZONE`, `ctl reload`, a SIGHUP
// that adds a policy — the first answer after each is the new one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import packet from 'dns-packet';
import { controlRequest } from '../../src/control/client.js';
import { metricValue } from '../helpers/encloser-replay.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns, startKnot } from '../helpers/servers.js';

after(() => stopAll());

const ZONE = [
  '$ORIGIN rv.lab.',
  '$TTL 300',
  '@ SOA ns hm 1 3600 600 86400 60',
  '  NS ns',
  'ns A 198.51.100.1',
  'www A 203.0.113.1',
  'www AAAA 2001:db8::1',
  '*.wild A 203.0.113.3',
  'cn CNAME www',
  'sub NS ns.sub',
  'ns.sub A 198.51.100.2',
  'dn DNAME www.rv.lab.',
  // 9 strings of 63 bytes: more than 512 bytes of answer, less than 1232 (TC depends on the EDNS size).
  ...Array.from({ length: 9 }, (_, i) => `big TXT "b${i} ${'x'.repeat(60)}"`),
  '',
].join('\n');

let port = 0;
let knotPort = 0;
let socket = '';

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-replay-variants-'));
  const file = join(dir, 'rv.lab.zone');
  writeFileSync(file, ZONE);
  port = await freePort();
  socket = join(dir, 'ctl.sock');
  const yaml = [
    'listen:',
    `  - { proto: udp, address: "127.0.0.1:${port}" }`,
    `  - { proto: udp, address: "[::1]:${port}" }`,
    `  - { proto: tcp, address: "127.0.0.1:${port}" }`,
    'rrl: off',
    `control: { socket: ${JSON.stringify(socket)} }`,
    'zones:',
    `  - { name: rv.lab., file: ${JSON.stringify(file)} }`,
    'echo:',
    '  - { zone: ec.lab., nsAddress: 127.0.0.1 }',
    '',
  ].join('\n');
  await startFluxdns(yaml, port, 'rv.lab.');
  knotPort = await freePort();
  await startKnot([{ name: 'rv.lab.', file }], knotPort);
});

/** One datagram to `to` (from ::1 when `host` is ::1) and the reply, or undefined after 2 s. */
function ask(to: number, msg: Buffer, host = '127.0.0.1'): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, to, host);
  });
}

interface Variant {
  tag: string;
  /** header flags (dns-packet's: opcode << 11, RD 0x100, Z 0x40, AD 0x20, CD 0x10, TC 0x200) */
  flags?: number;
  name?: (n: string) => string;
  class?: 'CH' | 'ANY' | 'HS';
  opt?: { udpPayloadSize?: number; flags?: number; ednsVersion?: number; extendedRcode?: number; options?: { code: number; data: Buffer }[] };
  /** bytes after the message (and ARCOUNT raised by `extraRecords`) */
  trailer?: Buffer;
  extraRecords?: number;
  host?: string;
}

const DO = 0x8000;
const RD = 0x100;
const cookie = Buffer.from('0123456789abcdef', 'hex');
const VARIANTS: Variant[] = [
  { tag: 'plain', flags: RD },
  { tag: 'no RD', flags: 0 },
  { tag: 'CD', flags: RD | 0x10 },
  { tag: 'AD', flags: RD | 0x20 },
  { tag: 'Z', flags: RD | 0x40 },
  { tag: 'TC', flags: RD | 0x200 },
  { tag: 'EDNS 100', opt: { udpPayloadSize: 100 } },
  { tag: 'EDNS 512', opt: { udpPayloadSize: 512 } },
  { tag: 'EDNS 1232', opt: { udpPayloadSize: 1232 } },
  { tag: 'EDNS 4096', opt: { udpPayloadSize: 4096 } },
  { tag: 'DO 512', opt: { udpPayloadSize: 512, flags: DO } },
  { tag: 'DO 1232', opt: { udpPayloadSize: 1232, flags: DO } },
  { tag: 'DO 4096', opt: { udpPayloadSize: 4096, flags: DO } },
  { tag: 'EDNS version 1', opt: { ednsVersion: 1 } },
  { tag: 'EDNS unknown flag', opt: { flags: 0x0100 } },
  { tag: 'EDNS extended rcode', opt: { extendedRcode: 1 } },
  { tag: 'unknown option', opt: { options: [{ code: 65001, data: Buffer.from('ab', 'hex') }] } },
  { tag: 'NSID', opt: { options: [{ code: 3, data: Buffer.alloc(0) }] } },
  { tag: 'client cookie', opt: { options: [{ code: 10, data: cookie }] } },
  { tag: 'bad server cookie', opt: { options: [{ code: 10, data: Buffer.concat([cookie, Buffer.from('0100000000000000aabbccddeeff0011', 'hex')]) }] } },
  { tag: 'short cookie', opt: { options: [{ code: 10, data: Buffer.from('0123', 'hex') }] } },
  { tag: 'padding', opt: { options: [{ code: 12, data: Buffer.alloc(8) }] } },
  { tag: 'client subnet', opt: { options: [{ code: 8, data: Buffer.from('00011800cb0071', 'hex') }] } },
  { tag: 'upper case', name: (n) => n.toUpperCase() },
  { tag: 'mixed case', name: (n) => n.replace(/[a-z]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c)) },
  { tag: 'upper case, DO', name: (n) => n.toUpperCase(), opt: { flags: DO } },
  { tag: 'class CH', class: 'CH' },
  { tag: 'class ANY', class: 'ANY' },
  { tag: 'class HS', class: 'HS' },
  ...[1, 2, 4, 5].map((op) => ({ tag: `opcode ${op}`, flags: RD | (op << 11) })),
  { tag: 'trailing bytes', trailer: Buffer.from('0000', 'hex') },
  { tag: 'two OPT', opt: {}, extraRecords: 1, trailer: Buffer.from('0000290200000000000000', 'hex') },
  { tag: 'from ::1', host: '::1' },
  { tag: 'from ::1, DO', host: '::1', opt: { flags: DO } },
];

/** The query of `v` for `name`/`type` with message ID `id`. */
function query(v: Variant, name: string, type: string, id: number): Buffer {
  const additionals = v.opt ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, ...v.opt } as packet.Answer] : [];
  const q = packet.encode({ type: 'query', id, flags: v.flags ?? RD, questions: [{ name: v.name ? v.name(name) : name, type: type as packet.RecordType, class: v.class ?? 'IN' }], additionals });
  if (!v.trailer) return q;
  const out = Buffer.concat([q, v.trailer]);
  out.writeUInt16BE(out.readUInt16BE(10) + (v.extraRecords ?? 0), 10);
  return out;
}

const body = (b: Buffer | undefined) => (b === undefined ? 'no reply' : b.subarray(2).toString('hex'));

test('every variant, asked again and again in alternating orders, gets its fresh answer', async () => {
  const replayedBefore = (await metricValue(socket, 'fluxdns_answer_cache_replayed_total')) ?? 0;
  const questions: [string, string][] = [
    ['www.rv.lab', 'A'],
    ['big.rv.lab', 'TXT'],
    ['a.b.wild.rv.lab', 'A'],
    ['nx.rv.lab', 'A'],
    ['a.sub.rv.lab', 'A'],
    ['cn.rv.lab', 'A'],
    ['x.dn.rv.lab', 'A'],
    ['rv.lab', 'ANY'],
    // Echo zone answers made of the question's labels: a CNAME to the alias; a DNAME and a CNAME to data.xy.; a referral.
    ['198.51.100.7.ca.box.ec.lab', 'A'],
    ['web.x.du.box.ec.lab', 'A'],
    ['198.51.100.7.nr.box.ec.lab', 'A'],
  ];
  const wrong: string[] = [];
  for (const [name, type] of questions) {
    const fresh = new Map<string, Buffer | undefined>();
    for (const v of VARIANTS) {
      assert.ok((await controlRequest(socket, { cmd: 'cache-flush' })).ok, 'ctl cache flush');
      fresh.set(v.tag, await ask(port, query(v, name, type, 7), v.host));
    }
    for (let round = 0; round < 4; round++) {
      for (const v of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        const id = 1000 + round * 97 + (v.tag.length % 90);
        const reply = await ask(port, query(v, name, type, id), v.host);
        const first = fresh.get(v.tag);
        const same = body(reply) === body(first) && (reply === undefined || reply.readUInt16BE(0) === id);
        if (!same) wrong.push(`${name}/${type} ${v.tag}, round ${round}: fresh ${body(first)}, then ${body(reply)}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
  const replayed = ((await metricValue(socket, 'fluxdns_answer_cache_replayed_total')) ?? 0) - replayedBefore;
  assert.ok(replayed >= 100, `the UDP addon replayed (${replayed})`);
});

test("a DNAME's synthesized CNAME is knotd's for every case of the question, fresh and replayed (RFC 6672 §2.2)", async () => {
  // Knot and NSD write the question's labels below the DNAME owner lower-cased, so the target's suffix
  // is a pointer into the question (and reads in its case). fluxdns wrote them as sent, uncompressed:
  // its fresh answer to X.DN.RV.LAB differed from knotd's, and from its own replay of an answer learnt
  // from x.dn.rv.lab.
  const plain: Variant = { tag: 'plain' };
  const names = ['X.DN.RV.LAB', 'x.dn.rv.lab', 'X.Dn.rV.lAb', 'deep.X.dn.RV.lab', 'x.dn.rv.lab', 'X.DN.RV.LAB', 'X.Dn.rV.lAb', 'deep.x.dn.rv.lab'];
  assert.ok((await controlRequest(socket, { cmd: 'cache-flush' })).ok, 'ctl cache flush');
  for (let round = 0; round < 3; round++) {
    for (const [i, name] of names.entries()) {
      const knot = await ask(knotPort, query(plain, name, 'A', 9));
      const flux = await ask(port, query(plain, name, 'A', 9));
      assert.ok(knot && flux, `replies to ${name}`);
      assert.equal(body(flux), body(knot), `${name} (ask ${round * names.length + i + 1}): the same bytes as knotd`);
      const p = packet.decode(flux);
      assert.equal(p.answers?.[1]?.name, name.replace(/\.$/, ''), 'the CNAME owner is the question as sent');
    }
  }
});

test('after each change the next answer is the new one: ctl reload ZONE, ctl reload, SIGHUP with a policy added', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-replay-changes-'));
  const file = join(dir, 'ch.lab.zone');
  const zone = (serial: number, www: string, more: string[]) => ['$ORIGIN ch.lab.', '$TTL 300', `@ SOA ns hm ${serial} 3600 600 86400 60`, '  NS ns', 'ns A 198.51.100.1', `www A ${www}`, ...more, ''].join('\n');
  writeFileSync(file, zone(1, '203.0.113.1', ['*.wild A 203.0.113.3']));
  const chPort = await freePort();
  const ctl = join(dir, 'ctl.sock');
  const yaml = ['listen:', `  - { proto: udp, address: "127.0.0.1:${chPort}" }`, `  - { proto: tcp, address: "127.0.0.1:${chPort}" }`, 'rrl: off', `control: { socket: ${JSON.stringify(ctl)} }`, 'zones:', `  - { name: ch.lab., file: ${JSON.stringify(file)} }`, ''].join('\n');
  const server = await startFluxdns(yaml, chPort, 'ch.lab.');
  try {
    const plain: Variant = { tag: 'plain' };
    /** The rcode and the A addresses of one answer. */
    const answer = async (name: string): Promise<string> => {
      const r = await ask(chPort, query(plain, name, 'A', 11));
      assert.ok(r, `a reply for ${name}`);
      const addresses = (packet.decode(r).answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : []));
      return [(r[3]! & 15) === 3 ? 'NXDOMAIN' : (r[3]! & 15) === 0 ? 'NOERROR' : `rcode ${r[3]! & 15}`, ...addresses].join(' ');
    };
    const names = ['www.ch.lab', 'a.wild.ch.lab', 'b.c.wild.ch.lab', 'nx1.ch.lab', 'nx2.ch.lab', 'nx3.ch.lab'];
    /** Asks every name six times (so the addon replays them, and makes NXDOMAIN and wildcard answers from templates); each answer must be `want`'s. */
    const check = async (when: string, want: Record<string, string>) => {
      for (let round = 0; round < 6; round++) for (const n of names) assert.equal(await answer(n), want[n], `${when}: ${n} (ask ${round + 1})`);
    };
    const replayed = () => metricValue(ctl, 'fluxdns_answer_cache_replayed_total');
    const shaped = () => metricValue(ctl, 'fluxdns_answer_cache_shaped_total');
    await check('as loaded', { 'www.ch.lab': 'NOERROR 203.0.113.1', 'a.wild.ch.lab': 'NOERROR 203.0.113.3', 'b.c.wild.ch.lab': 'NOERROR 203.0.113.3', 'nx1.ch.lab': 'NXDOMAIN', 'nx2.ch.lab': 'NXDOMAIN', 'nx3.ch.lab': 'NXDOMAIN' });
    assert.ok(((await replayed()) ?? 0) >= 20 && ((await shaped()) ?? 0) >= 1, `the addon replayed (${await replayed()}) and made replies from templates (${await shaped()})`);

    // One zone re-read: www moves, the wildcard goes, nx1 appears.
    writeFileSync(file, zone(2, '203.0.113.2', ['nx1 A 203.0.113.11']));
    assert.ok((await controlRequest(ctl, { cmd: 'reload', zone: 'ch.lab.' })).ok, 'ctl reload ch.lab.');
    await check('after ctl reload ch.lab.', { 'www.ch.lab': 'NOERROR 203.0.113.2', 'a.wild.ch.lab': 'NXDOMAIN', 'b.c.wild.ch.lab': 'NXDOMAIN', 'nx1.ch.lab': 'NOERROR 203.0.113.11', 'nx2.ch.lab': 'NXDOMAIN', 'nx3.ch.lab': 'NXDOMAIN' });

    // Everything re-read: the wildcard back with another address, nx2 appears.
    writeFileSync(file, zone(3, '203.0.113.3', ['*.wild A 203.0.113.99', 'nx2 A 203.0.113.12']));
    assert.ok((await controlRequest(ctl, { cmd: 'reload' })).ok, 'ctl reload');
    await check('after ctl reload', { 'www.ch.lab': 'NOERROR 203.0.113.3', 'a.wild.ch.lab': 'NOERROR 203.0.113.99', 'b.c.wild.ch.lab': 'NOERROR 203.0.113.99', 'nx1.ch.lab': 'NXDOMAIN', 'nx2.ch.lab': 'NOERROR 203.0.113.12', 'nx3.ch.lab': 'NXDOMAIN' });

    // The same zone, a new configuration (SIGHUP): a policy now answers for www and for the names below wild.
    const conf = join(server.dir, 'fluxdns.yaml');
    writeFileSync(conf, `${readFileSync(conf, 'utf8')}policies:\n  - { match: { qname: [www.ch.lab, "*.wild.ch.lab"] }, action: { records: ["A 203.0.113.77"] } }\n`);
    // The ctl reloads logged "reloaded" too: wait for one more.
    const reloads = (text: string) => text.split('"reloaded"').length - 1;
    const before = reloads(server.proc.stderr);
    process.kill(server.proc.pid, 'SIGHUP');
    await server.proc.waitFor((text) => reloads(text) > before, 20000, 'stderr');
    await check('after SIGHUP with a policy', { 'www.ch.lab': 'NOERROR 203.0.113.77', 'a.wild.ch.lab': 'NOERROR 203.0.113.77', 'b.c.wild.ch.lab': 'NOERROR 203.0.113.77', 'nx1.ch.lab': 'NXDOMAIN', 'nx2.ch.lab': 'NOERROR 203.0.113.12', 'nx3.ch.lab': 'NXDOMAIN' });
  } finally {
    await server.stop();
  }
});
