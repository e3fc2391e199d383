// The AXFR writer on a compiled zone's arrays: every record once between two SOAs, owner case kept, names
// compressed against the apex, messages under the size limit, EDNS and TSIG on every message.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { axfrFrames } from './axfr-wire.js';
import { nativeAxfrBody } from './axfr-native.js';
import { recordKey } from './diff.js';
import { TsigResponseVerifier, signRequest } from '../secondary/tsig-stream.js';
import { TsigStreamSigner } from '../tsig/sign.js';
import { keyRingOf } from '../tsig/keys.js';
import { tsigSchema } from '../tsig/schema.js';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { RRClass, RRType, type ResourceRecord } from '../wire/types.js';
import { Zone } from '../zone/tree.js';
import { loadZoneFile } from '../zone/parser.js';
import { verifyZonemd } from '../zone/zonemd.js';
import { fileURLToPath } from 'node:url';

const ORIGIN = 'Xfr.Lab.';

function zoneRecords(): ResourceRecord[] {
  const rr = (name: string, type: number, data: unknown, ttl = 300): ResourceRecord => ({ name, type, class: RRClass.IN, ttl, data: data as ResourceRecord['data'] });
  const out: ResourceRecord[] = [
    rr(ORIGIN, RRType.SOA, { mname: `ns.${ORIGIN}`, rname: `hostmaster.${ORIGIN}`, serial: 7, refresh: 3600, retry: 600, expire: 86400, minimum: 60 }),
    rr(ORIGIN, RRType.NS, { target: `ns.${ORIGIN}` }),
    rr(ORIGIN, RRType.MX, { preference: 10, exchange: `Mail.${ORIGIN}` }),
    rr(`ns.${ORIGIN}`, RRType.A, { address: '198.51.100.1' }),
    rr(`*.Wild.${ORIGIN}`, RRType.TXT, { strings: [new TextEncoder().encode('wild')] }),
    rr(`deep.Er.Name.${ORIGIN}`, RRType.AAAA, { address: '2001:db8::1' }),
    rr(`sub.${ORIGIN}`, RRType.NS, { target: 'ns.elsewhere.example.' }),
    rr(`big.${ORIGIN}`, RRType.TXT, { strings: Array.from({ length: 8 }, (_, i) => new Uint8Array(250).fill(0x41 + i)) }),
  ];
  for (let i = 0; i < 3000; i++) {
    out.push(rr(`Host${i}.${ORIGIN}`, RRType.A, { address: `203.0.113.${i % 250}` }, 60 + (i % 3)));
    if (i % 3 === 0) out.push(rr(`Host${i}.${ORIGIN}`, RRType.TXT, { strings: [new TextEncoder().encode(`t${i}`)] }, 60));
    if (i % 5 === 0) out.push(rr(`alias${i}.${ORIGIN}`, RRType.CNAME, { target: `Host${i}.${ORIGIN}` }));
  }
  return out;
}

const zone = Zone.build(ORIGIN, zoneRecords());
const head = (edns: boolean) => ({ id: 0x1234, opcode: 0, rd: false, question: { name: 'Xfr.Lab.', type: RRType.AXFR, class: RRClass.IN }, ...(edns ? { edns: { udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: true, z: 0, options: [] } } : {}) });

/** The messages of a transfer, each checked to follow its own 2-byte length (RFC 1035 §4.2.2). */
function axfrMessages(...args: Parameters<typeof axfrFrames>): Uint8Array[] {
  return [...axfrFrames(...args)].map((f, i) => {
    assert.equal((f[0]! << 8) | f[1]!, f.length - 2, `message ${i}: length prefix`);
    return f.subarray(2);
  });
}

describe('axfrFrames', () => {
  for (const [label, maxSize, edns] of [['64 KiB messages', 65535, false], ['2300-byte messages with EDNS', 2300, true]] as const) {
    test(`${label}: SOA, every record once with its owner's case, SOA; each message under the limit`, () => {
      const msgs = axfrMessages(zone, head(edns), undefined, maxSize);
      assert.ok(msgs.length > (maxSize === 2300 ? 20 : 1), `${msgs.length} messages`);
      const got: ResourceRecord[] = [];
      msgs.forEach((m, i) => {
        assert.ok(m.length <= maxSize, `message ${i}: ${m.length} bytes`);
        const d = decodeMessage(m);
        assert.equal(d.id, 0x1234);
        assert.equal(d.flags.qr && d.flags.aa, true);
        assert.equal(d.questions.length, i === 0 ? 1 : 0);
        assert.equal(d.edns !== undefined, edns);
        if (edns) assert.equal(d.edns!.dnssecOk, true);
        got.push(...d.answers);
      });
      const want = [...zone.records()];
      assert.equal(got.length, want.length + 1);
      assert.equal(got[0]!.type, RRType.SOA);
      assert.equal(got.at(-1)!.type, RRType.SOA);
      // Same records (names compared without case, RFC 4343), and owners spelt as in the zone.
      assert.deepEqual(new Set(got.slice(0, -1).map(recordKey)), new Set(want.map(recordKey)));
      const spelt = new Set(want.map((r) => r.name));
      for (const r of got) assert.ok(spelt.has(r.name) || spelt.has(r.name.replace(/xfr\.lab\.$/i, ORIGIN)), r.name);
      assert.ok(got.some((r) => r.name === `Host7.${ORIGIN}`));
      // Compression: far fewer bytes than the owners written out in full.
      if (maxSize === 65535) assert.ok(msgs.reduce((n, m) => n + m.length, 0) < want.length * 30, 'owner names compressed');
    });
  }

  test('signed: every message carries a TSIG that verifies as one stream (RFC 8945 §5.3.1)', () => {
    const tsig = tsigSchema.parse({ keys: [{ name: 'xfr-key', secret: Buffer.alloc(32, 3).toString('base64') }] });
    const key = keyRingOf(tsig).get('xfr-key.')!;
    const request = signRequest(encodeMessage({ id: 0x1234, flags: { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 }, questions: [head(false).question], answers: [], authorities: [], additionals: [] }), key, 300);
    const signer = new TsigStreamSigner({ keyName: key.name, algorithm: key.algorithm.name, key, requestMac: request.mac, macSize: 32, fudge: 300, error: 0 }, () => Math.floor(Date.now() / 1000));
    const msgs = axfrMessages(zone, head(false), signer, 4096);
    assert.ok(msgs.length > 5);
    const v = new TsigResponseVerifier(key, request.mac, 300);
    for (const m of msgs) {
      assert.ok(m.length <= 4096);
      v.add(m);
    }
    v.finish();
    assert.equal(v.signed, msgs.length);
  });

  test('the C record loop (native/axfr_body.c) writes the same bytes as the JavaScript one', { skip: nativeAxfrBody() === null && 'fluxdns_xfr addon not built' }, () => {
    const tsig = tsigSchema.parse({ keys: [{ name: 'xfr-key', secret: Buffer.alloc(32, 5).toString('base64') }] });
    const key = keyRingOf(tsig).get('xfr-key.')!;
    // A fixed clock: both signers stamp the same Time Signed, so signed streams compare byte for byte.
    const signer = () => new TsigStreamSigner({ keyName: key.name, algorithm: key.algorithm.name, key, requestMac: new Uint8Array(32).fill(9), macSize: 32, fudge: 300, error: 0 }, () => 1_700_000_000);
    const lower = { ...head(false), question: { ...head(false).question, name: 'xfr.lab.' } };
    for (const [maxSize, h, signed] of [[65535, head(false), false], [65535, lower, false], [2300, head(true), false], [2400, head(true), true], [16384, head(false), true]] as const) {
      const js = [...axfrFrames(zone, h, signed ? signer() : undefined, maxSize, 'js')];
      const c = [...axfrFrames(zone, h, signed ? signer() : undefined, maxSize, 'native')];
      assert.equal(c.length, js.length, `${maxSize}: messages`);
      js.forEach((m, i) => assert.deepEqual(Buffer.from(c[i]!), Buffer.from(m), `${maxSize} ${h.question.name} signed ${signed}: message ${i}`));
    }
  });

  test('frames handed back with recycle() carry later messages; the stream is the same as without', () => {
    const fresh = [...axfrFrames(zone, head(true), undefined, 2300)].map((f) => Buffer.from(f));
    const it = axfrFrames(zone, head(true), undefined, 2300);
    const seen = new Set<ArrayBufferLike>();
    let i = 0;
    for (let n = it.next(); !n.done; n = it.next(), i++) {
      assert.deepEqual(Buffer.from(n.value), fresh[i], `message ${i}`);
      seen.add(n.value.buffer);
      // The transport hands each frame back once written (stream.ts); the first goes out as the reply.
      if (i > 0) it.recycle(n.value);
    }
    assert.equal(i, fresh.length);
    assert.ok(seen.size <= 3, `${seen.size} buffers for ${i} messages`);
    // What is not one of its frames is ignored.
    it.recycle(new Uint8Array(2300));
  });

  test('a TSIG appended in place (signInto) is the same bytes as sign()', () => {
    const tsig = tsigSchema.parse({ keys: [{ name: 'xfr-key', secret: Buffer.alloc(32, 7).toString('base64') }] });
    const key = keyRingOf(tsig).get('xfr-key.')!;
    const plan = { keyName: key.name, algorithm: key.algorithm.name, key, requestMac: new Uint8Array(32).fill(1), macSize: 32, fudge: 300, error: 0 };
    const copying = new TsigStreamSigner(plan, () => 1_700_000_000);
    const inPlace = new TsigStreamSigner(plan, () => 1_700_000_000);
    for (const msg of [...axfrFrames(zone, head(false), undefined, 4096)].map((f) => f.subarray(2))) {
      const buf = new Uint8Array(msg.length + inPlace.overhead);
      buf.set(msg);
      const len = inPlace.signInto(buf, msg.length);
      assert.deepEqual(Buffer.from(buf.subarray(0, len)), Buffer.from(copying.sign(msg)));
    }
    assert.throws(() => inPlace.signInto(new Uint8Array(20), 12), RangeError);
  });

  test('RRSIGs go out at the TTL of the RRset each covers, not the smallest of their set: a signed zone keeps its ZONEMD', () => {
    // RFC 8976 A.4, uri.arpa signed: the apex RRSIGs cover SOA (3600), NS (86400), MX (600), DNSKEY … The
    // zone holds a node's RRSIGs as one set (TTL 600, the smallest); each must go out as the file has it.
    const file = loadZoneFile(fileURLToPath(new URL('../../test/fixtures/zones/real/pdns/zonemd4.zone', import.meta.url)), 'uri.arpa.');
    const signed = Zone.build('uri.arpa.', file.records);
    const ttlOf = (rs: readonly ResourceRecord[]) => new Map(rs.filter((r) => r.type === RRType.RRSIG).map((r) => [recordKey(r), r.ttl]));
    const want = ttlOf(file.records);
    assert.deepEqual(new Set(want.values()), new Set([3600, 86400, 600, 604800]), 'the fixture mixes TTLs');
    assert.deepEqual(ttlOf([...signed.records()]), want, 'Zone.records() (zone flush, reload differences)');
    const uri = { ...head(false), question: { ...head(false).question, name: 'uri.arpa.' } };
    for (const loop of nativeAxfrBody() === null ? (['js'] as const) : (['js', 'native'] as const)) {
      const got = [...axfrFrames(signed, uri, undefined, 65535, loop)].flatMap((f) => decodeMessage(f.subarray(2)).answers);
      assert.deepEqual(ttlOf(got), want, loop);
      assert.equal(verifyZonemd('uri.arpa.', got.slice(0, -1)).status, 'valid', `${loop}: the transferred zone's ZONEMD`);
    }
  });
});
