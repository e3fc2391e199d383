// The NSEC3 arena the encloser replay copies blocks from (src/dnssec/serve/nsec3-replay.ts) holds, for
// every place of the chain, exactly the bytes the engine writes for that NSEC3 and its RRSIGs: checked on
// the engine's own DO replies (NXDOMAIN, wildcard answers, wildcard NODATA, mixed case, deep names) for
// zones signed by dnssec-signzone and ldns-signzone, with salt and iterations, with and without opt-out.
// With the addon built, the place C's hash and cover search pick for the next closer name is the block
// the reply carries for it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signZone, type SignMode } from '../helpers/dnssec-chain.js';
import { parseConfigText } from '../../src/config/load.js';
import { parseZone } from '../../src/zone/parser.js';
import { Zone, ZoneSet } from '../../src/zone/tree.js';
import { Engine } from '../../src/answer/engine.js';
import { createUnits } from '../../src/answer/units.js';
import type { TransportInfo } from '../../src/answer/context.js';
import { encodeMessage, queryMessage } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { canonicalNameWire } from '../../src/dnssec/canonical.js';
import { dnssecIndexOf } from '../../src/dnssec/serve/index.js';
import { nsec3ReplayArena, type Nsec3ReplayArena } from '../../src/dnssec/serve/nsec3-replay.js';
import { fromBase32hex } from '../../src/dnssec/nsec3-hash.js';
import { loadNativeUdp } from '../../src/transport/udp-native.js';

const Z = 'arena.lab.';
const TEXT = [
  '$TTL 3600',
  '@ SOA ns1 hostmaster 1 7200 3600 1209600 300',
  '@ NS ns1',
  'ns1 A 198.51.100.1',
  'www A 198.51.100.10',
  '*.wild TXT "from the wildcard"',
  '*.wc CNAME www',
  '*.mx MX 10 www',
  'deep.ent A 198.51.100.30',
  'unsigned NS ns.unsigned',
  'ns.unsigned A 198.51.100.3',
  ...Array.from({ length: 40 }, (_, i) => `h${i} A 198.51.100.${i + 50}`),
].join('\n');

const udp: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 53 };
const addon = loadNativeUdp().addon;

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;

/** The offset after the (possibly compressed) name at b[at]. */
function skipName(b: Uint8Array, at: number): number {
  for (;;) {
    const c = b[at]!;
    if (c === 0) return at + 1;
    if (c >= 0xc0) return at + 2;
    at += c + 1;
  }
}

interface Found {
  place: number;
  /** Where its block starts and ends in the reply. */
  start: number;
  end: number;
}

/** Every NSEC3 in the reply with its RRSIGs, checked against the arena's block for its place. */
function checkBlocks(reply: Uint8Array, qEnd: number, apexAt: number, a: Nsec3ReplayArena, what: string): Found[] {
  const found: Found[] = [];
  let at = qEnd;
  const count = u16(reply, 6) + u16(reply, 8) + u16(reply, 10);
  const starts: number[] = [];
  const types: number[] = [];
  for (let i = 0; i < count; i++) {
    starts.push(at);
    const n = skipName(reply, at);
    types.push(u16(reply, n));
    at = n + 10 + u16(reply, n + 8);
  }
  starts.push(at);
  assert.equal(at, reply.length, `${what}: records end where the reply does`);
  for (let i = 0; i < count; i++) {
    if (types[i] !== RRType.NSEC3) continue;
    const start = starts[i]!;
    // The owner: the hashed label and a pointer to the apex where the question holds it.
    assert.equal(reply[start], 32, what);
    assert.equal(u16(reply, start + 33), 0xc000 | apexAt, `${what}: the owner's apex is the question's`);
    let j = i + 1;
    while (j < count && types[j] === RRType.RRSIG && u16(reply, starts[j]!) === (0xc000 | start)) j++;
    const label = new TextDecoder().decode(reply.subarray(start + 1, start + 33));
    const d = fromBase32hex(label)!;
    let place = -1;
    for (let p = 0; p < a.digests.length / 20 && place < 0; p++) if (a.digests.subarray(20 * p, 20 * p + 20).every((x, k) => x === d[k])) place = p;
    assert.ok(place >= 0, `${what}: ${label} is a place of the chain`);
    const want = a.blocks.slice(a.blockAt[place]!, a.blockAt[place + 1]!);
    // Relocated as C does: the apex pointer, then each RRSIG's owner pointer to the block's start.
    want[33] = 0xc0 | (apexAt >> 8);
    want[34] = apexAt & 0xff;
    let o = 35 + 10 + u16(want, 35 + 8);
    while (o < want.length) {
      want[o] = 0xc0 | (start >> 8);
      want[o + 1] = start & 0xff;
      o += 12 + u16(want, o + 10);
    }
    assert.deepEqual(reply.subarray(start, starts[j]!), want, `${what}: block of place ${place}`);
    found.push({ place, start, end: starts[j]! });
  }
  return found;
}

const MODES: [SignMode, { salt?: string; iterations?: number }][] = [
  ['nsec3', {}],
  ['nsec3', { salt: 'aabbccdd', iterations: 12 }],
  ['nsec3-optout', { salt: '0123', iterations: 3 }],
  ['ldns-nsec3', { salt: 'beef', iterations: 1 }],
  ['ldns-nsec3-optout', {}],
];

describe('NSEC3 replay arena: block bytes equal the engine\'s', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fluxdns-n3arena-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [mode, o] of MODES) {
    it(`${mode} salt ${o.salt ?? '-'} iterations ${o.iterations ?? 0}`, () => {
      const signed = signZone(join(dir), Z, TEXT, mode, o);
      const zone = Zone.build(Z, parseZone(readFileSync(signed.file, 'utf8'), { origin: Z }).records);
      const runtime = { config: parseConfigText('{}', 't.yaml').config, zones: new ZoneSet([zone]), generation: 1 };
      const engine = new Engine(runtime, createUnits());
      const idx = dnssecIndexOf(zone)!;
      const a = nsec3ReplayArena(idx);
      assert.ok(a, 'an arena is built');
      assert.equal(a.blockAt.length, idx.nsec3Count + 1);
      assert.equal(nsec3ReplayArena(idx), a, 'made once per index');
      let blocks = 0;
      let covered = 0;
      const places = new Set<number>();
      const bases = ['', 'wild.', 'wc.', 'mx.', 'ent.', 'deep.ent.', 'www.', 'h7.'];
      for (let k = 0; k < 240; k++) {
        const base = bases[k % bases.length]!;
        const label = `n${k}x${(k * 7919).toString(36)}`;
        const deeper = k % 5 === 0 ? `a.b${k}.` : '';
        const name = `${k % 3 === 0 ? label.toUpperCase() : label}.${deeper}${base}${k % 4 === 0 ? 'ARENA.lab.' : Z}`;
        const type = [RRType.A, RRType.TXT, RRType.MX, RRType.AAAA][k % 4]!;
        const q = encodeMessage(queryMessage(name, type, { id: k, dnssecOk: true, edns: 4096 }));
        const reply = engine.handle(q, udp) as Uint8Array;
        const qEnd = skipName(q, 12) + 4;
        const apexAt = skipName(q, 12) - canonicalNameWire(Z).length;
        const found = checkBlocks(reply, qEnd, apexAt, a, `${name}/${type}`);
        blocks += found.length;
        for (const f of found) places.add(f.place);
        if (addon?.nsec3Hash !== undefined && found.length > 0) {
          // The next closer name: one label below the closest encloser (the base, when the name is below it).
          const enc = base === '' || base === 'wild.' || base === 'wc.' || base === 'mx.' || base === 'ent.' || base === 'deep.ent.' || base === 'www.' || base === 'h7.' ? base : '';
          const nc = deeper === '' ? `${label}.${enc}${Z}` : `b${k}.${enc}${Z}`;
          const place = addon.nsec3Cover!(a.digests, addon.nsec3Hash(canonicalNameWire(nc), a.salt, a.iterations));
          assert.ok(found.some((f) => f.place === place), `${name}: C's cover of ${nc} (place ${place}) is in the reply`);
          covered++;
        }
      }
      assert.ok(blocks > 240, `blocks checked: ${blocks}`);
      assert.ok(places.size > 10, `distinct places: ${places.size}`);
      if (addon?.nsec3Hash !== undefined) assert.ok(covered > 200, `covers checked: ${covered}`);
    });
  }
});
