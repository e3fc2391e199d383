// Encloser replay of signed NSEC3 replies (native/nsec3.c n3_cut/n3_place/n3_fill in udp_batch.c's templates):
// a DO reply for a name below its closest encloser E is learnt with a hole where the NSEC3 covering the next
// closer name was, and the addon answers the next name below E with the NSEC3 covering *its* next closer
// name — byte for byte what the engine answers, for zones signed by dnssec-signzone and ldns-signzone (salt,
// iterations, opt-out). As in udp-encloser.test.ts, every reply is marked (word 7 = 1 + bit 29) until the
// engine marks them itself: the addon must refuse by itself what is not of the hole's shape (names that
// exist, cuts, a covering NSEC3 that is also E's or the wildcard's, E without an NSEC3, guards).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../config/load.js';
import { parseZone } from '../zone/parser.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { wireName } from '../zone/compiled.js';
import { encodeMessage, queryMessage } from '../wire/message.js';
import { RRType } from '../wire/types.js';
import { Engine } from '../answer/engine.js';
import { ModuleSet } from '../answer/units.js';
import type { Runtime } from '../answer/runtime.js';
import type { TransportInfo } from '../answer/context.js';
import { dnssecIndexOf } from '../dnssec/serve/index.js';
import { nsec3ReplayArena } from '../dnssec/serve/nsec3-replay.js';
import { nsec3Label } from '../dnssec/nsec3-hash.js';
import { listenUdpBatch } from './udp-batch.js';
import { loadNativeUdp, type EncloserZone, type NativeUdp, type NativeUdpSocket } from './udp-native.js';
import { addonWith, markingAddon } from '../../test/helpers/addon-spy.js';
import { signZone, type SignMode } from '../../test/helpers/dnssec-chain.js';
import { udpAsker } from '../../test/helpers/udp.js';

const native = loadNativeUdp().addon;
const skip = native?.nsec3Hash === undefined ? 'native UDP addon not built' : false;

const Z = 'n3.lab.';
const W7 = 1 | 0x20000000;

function text(odd: string): string {
  return [
    '$TTL 300',
    '@ SOA ns1 hostmaster 1 7200 3600 1209600 60',
    '@ NS ns1',
    'ns1 A 198.51.100.1',
    'www A 198.51.100.10',
    'www AAAA 2001:db8::10',
    '*.wild TXT "from the wildcard"',
    '*.wild A 198.51.100.20',
    '*.wc CNAME www',
    '*.mx MX 10 www',
    // A wildcard CNAME to a name that looks like an NSEC3 owner (a guard: the block owner would compress against it).
    `*.odd CNAME ${odd}`,
    'deep.ent A 198.51.100.30',
    'unsigned NS ns.unsigned',
    'ns.unsigned A 198.51.100.3',
    'dn DNAME other.lab.',
    ...Array.from({ length: 60 }, (_, i) => `h${i} A 198.51.100.${i + 50}`),
  ].join('\n');
}

function runtime(zone: Zone): Runtime {
  const loaded = parseConfigText('rrl: off\nlimits: { udpPayload: 1232 }', 't.yaml');
  const set = new ZoneSet([zone]);
  const { authorities, chain } = new ModuleSet().load(loaded, set);
  return { config: loaded.config, zones: set, generation: 1, authorities, chain };
}

function encloserZone(z: Zone): EncloserZone {
  const b = z.store.b;
  const idx = dnssecIndexOf(z);
  const nsec3 = idx && nsec3ReplayArena(idx);
  return { apex: wireName(z.origin).wire, index: b.index, nodeHash: b.nodeHash, nodeName: b.nodeName, names: b.names, nodeFlags: b.nodeFlags, ...(nsec3 ? { nsec3 } : {}) };
}

const info: TransportInfo = { proto: 'udp', remoteAddress: '127.0.0.1', remotePort: 5353, localAddress: '127.0.0.1', localPort: 53 };


/** A batch listener marking every reply with `mark` in word 7, the engine's zones registered on each mirror reset. */
async function withMarkingListener(engine: Engine, mark: number, body: (stats: () => { replayed: number; shaped: number }, ask: (q: Uint8Array) => Promise<Uint8Array>) => Promise<void>): Promise<void> {
  const n = native!;
  const m = markingAddon(n, mark, () => engine.runtime.zones.zones.map(encloserZone), engine.runtime.config.limits.udpPayload);
  await listenAndAsk(m.addon, engine, () => n.stats(m.socket()), body, m.register);
}

/** The listener as the server runs it: the engine marks replies itself (Engine.lastShape) and registers its zones. */
async function withListener(engine: Engine, body: (stats: () => { replayed: number; shaped: number }, ask: (q: Uint8Array) => Promise<Uint8Array>) => Promise<void>): Promise<void> {
  const n = native!;
  let sock: NativeUdpSocket | undefined;
  const spy = addonWith(n, {
    open: (h, p, b, r, cb, owner) => (sock = n.open(h, p, b, r, cb, owner)),
  });
  await listenAndAsk(spy, engine, () => n.stats(sock!), body);
}

/** A batch listener on `addon` and one client asking it; `started` runs once the listener has opened its socket. */
async function listenAndAsk(addon: NativeUdp, engine: Engine, stats: () => { replayed: number; shaped: number }, body: (stats: () => { replayed: number; shaped: number }, ask: (q: Uint8Array) => Promise<Uint8Array>) => Promise<void>, started?: () => void): Promise<void> {
  const l = listenUdpBatch(addon, engine, '127.0.0.1', 0, { udp: { batchSize: 16 }, reusePort: false, onError: (e) => assert.fail(e) });
  started?.();
  const c = await udpAsker();
  try {
    await body(stats, (q) => c.ask(l.port, q));
  } finally {
    c.sock.close();
    await l.close();
  }
}

const MODES: [SignMode, { salt?: string; iterations?: number }][] = [
  ['nsec3', { salt: 'aabbccdd', iterations: 5 }],
  ['ldns-nsec3-optout', {}],
];

describe('encloser replay: signed NSEC3 replies with the covering NSEC3 filled in C', { skip }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fluxdns-enc-n3-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the engine marks its NSEC3 NXDOMAIN and wildcard answers (bit 29): shaped by the addon, byte-identical', async () => {
    const signed = signZone(dir, Z, text(`other.${Z}`), 'nsec3', { salt: '01', iterations: 2 });
    const zone = Zone.build(Z, parseZone(readFileSync(signed.file, 'utf8'), { origin: Z }).records);
    const rt = runtime(zone);
    const engine = new Engine(rt);
    const ref = new Engine(rt);
    await withListener(engine, async (stats, ask) => {
      let id = 1;
      const kinds = new Map<string, number>();
      for (const type of [RRType.A, RRType.TXT, RRType.MX])
        for (let k = 0; k < 120; k++) {
          // MX below wild.: a wildcard NODATA (the wildcard has TXT and A).
          const base = type === RRType.MX ? (k % 2 === 0 ? 'wild.' : '') : ['', 'wild.', 'h3.', 'ent.', 'deep.ent.'][k % 5]!;
          const name = `${k % 2 === 0 ? 'Q' : 'q'}${k}z${(k * 31) % 97}.${base}${Z}`;
          const q = new Uint8Array(encodeMessage(queryMessage(name, type, { id: id++, edns: 1232, dnssecOk: true })));
          const before = stats().shaped;
          assert.deepEqual(await ask(q), ref.handle(q, info), `${name} type ${type}`);
          const kind = type === RRType.MX ? `${base}MX` : base;
          if (stats().shaped > before) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        }
      // NXDOMAIN below the apex, below a host, below an empty non-terminal, wildcard answers and NODATA: each from C.
      for (const kind of ['', 'wild.', 'h3.', 'ent.', 'deep.ent.', 'wild.MX', 'MX']) assert.ok((kinds.get(kind) ?? 0) > 20, `${kind || 'apex'}: shaped ${kinds.get(kind) ?? 0} of 48 or 60`);
    });
  });

  for (const [mode, o] of MODES) {
    it(`${mode} salt ${o.salt ?? '-'} iterations ${o.iterations ?? 0}: byte-identical to the engine, shaped > 0`, async () => {
      const salt = Uint8Array.from(Buffer.from(o.salt ?? '', 'hex'));
      const odd = `${nsec3Label(`www.${Z}`, salt, o.iterations ?? 0)}.${Z}`;
      const signed = signZone(dir, Z, text(odd), mode, o);
      const zone = Zone.build(Z, parseZone(readFileSync(signed.file, 'utf8'), { origin: Z }).records);
      assert.ok(nsec3ReplayArena(dnssecIndexOf(zone)!), 'the zone has an arena');
      const rt = runtime(zone);
      const engine = new Engine(rt);
      const ref = new Engine(rt);
      const bases = ['', 'wild.', 'wc.', 'mx.', 'odd.', 'ent.', 'deep.ent.', 'www.', 'h7.', 'unsigned.', 'dn.'];
      await withMarkingListener(engine, W7, async (stats, ask) => {
        let id = 1;
        let shapedNx = 0;
        for (const payload of [4096, 1232, 512, 0])
          for (const type of [RRType.A, RRType.TXT, RRType.MX, RRType.ANY])
          for (let k = 0; k < 66; k++) {
            const base = bases[k % bases.length]!;
            const label = k % 7 === 3 ? `${'q'.repeat(40)}${k}` : `n${k}x${((k * 7919) % 1000).toString(36)}`;
            const deeper = k % 5 === 0 ? `a.b${k}.` : '';
            const name = `${k % 3 === 0 ? label.toUpperCase() : label}.${deeper}${base}${k % 4 === 0 ? 'N3.Lab.' : Z}`;
            const q = new Uint8Array(encodeMessage(queryMessage(name, type, { id: id++ & 0xffff, rd: k % 2 === 0, ...(payload > 0 ? { edns: payload, dnssecOk: k % 9 !== 0 } : {}) })));
            const before = stats().shaped;
            assert.deepEqual(await ask(q), ref.handle(q, info), `${name} type ${type} payload ${payload}`);
            if (stats().shaped > before && base === '') shapedNx++;
          }
        // Names that exist, the NSEC3 owners themselves and names below them: the engine's.
        for (const name of [`www.${Z}`, odd, `x.${odd}`, `ns.unsigned.${Z}`, `x.dn.${Z}`]) {
          const q = new Uint8Array(encodeMessage(queryMessage(name, RRType.A, { id: id++, edns: 1232, dnssecOk: true })));
          assert.deepEqual(await ask(q), ref.handle(q, info), name);
        }
        const st = stats();
        assert.ok(st.shaped > 250, `shaped ${st.shaped} of ${id - 1}`);
        assert.ok(shapedNx > 10, `NXDOMAIN below the apex shaped ${shapedNx}`);
        assert.ok(st.replayed >= st.shaped);
      });
    });
  }
});
