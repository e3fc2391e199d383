// The UDP addon's NSEC3 hashing and cover search (native/nsec3.c) against RFC 5155 Appendix A and the JS
// implementation the engine answers with (src/dnssec/nsec3-hash.ts): the encloser replay's NSEC3 denials
// must pick exactly the record JS would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32hex, nsec3Hash } from '../dnssec/nsec3-hash.js';
import { canonicalNameWire } from '../dnssec/canonical.js';
import { loadNativeUdp } from './udp-native.js';

const addon = loadNativeUdp().addon;
const skip = addon?.nsec3Hash === undefined ? 'native UDP addon not built' : false;

/** A deterministic generator (xorshift32): the same names on every run. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

test('C nsec3Hash: RFC 5155 Appendix A (salt aabbccdd, 12 iterations)', { skip }, () => {
  const salt = Uint8Array.from([0xaa, 0xbb, 0xcc, 0xdd]);
  const vectors: [string, string][] = [
    ['example.', '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom'],
    ['a.example.', '35mthgpgcu1qg68fab165klnsnk3dpvl'],
    ['*.w.example.', 'r53bq7cc2uvmubfu5ocmm6pers9tk9en'],
    ['x.y.w.example.', '2vptu5timamqttgl4luu9kg21e0aor3s'],
    ['2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.', 'kohar7mbb8dc2ce8a9qvl8hon4k53uhi'],
  ];
  for (const [name, hash] of vectors) assert.equal(base32hex(addon!.nsec3Hash!(canonicalNameWire(name), salt, 12)), hash, name);
  assert.equal(base32hex(addon!.nsec3Hash!(canonicalNameWire('example.'), new Uint8Array(0), 0)), '3msev9usmd4br9s97v51r2tdvmr9iqo1');
});

test('C nsec3Hash equals the JS hash for names and salts of every length (one to nine SHA-1 blocks)', { skip }, () => {
  const r = rng(0x5155);
  for (let k = 0; k < 400; k++) {
    const labels: string[] = [];
    // Names up to 255 bytes on the wire, salts up to 255 bytes: the padding's every case (55/56/64-byte edges).
    const want = k < 300 ? 1 + Math.floor(r() * 120) : 200 + Math.floor(r() * 54);
    let len = 1;
    while (len < want) {
      const n = Math.min(63, Math.max(1, Math.min(want - len - 1, 1 + Math.floor(r() * 20))));
      if (len + n + 1 > 255) break;
      labels.push(Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz0123456789-_*'[Math.floor(r() * 39)]).join(''));
      len += n + 1;
    }
    const name = labels.length === 0 ? '.' : `${labels.join('.')}.`;
    const salt = Uint8Array.from({ length: k % 7 === 0 ? 255 - (k % 3) : Math.floor(r() * 70) }, () => Math.floor(r() * 256));
    const iterations = k % 5 === 0 ? Math.floor(r() * 150) : Math.floor(r() * 3);
    assert.deepEqual(addon!.nsec3Hash!(canonicalNameWire(name), salt, iterations), nsec3Hash(name, salt, iterations), `${name} salt ${salt.length} it ${iterations}`);
  }
});

test('C nsec3Cover: the last digest strictly before the hash, wrapping to the last', { skip }, () => {
  const r = rng(77);
  const cmp = (a: Uint8Array, b: Uint8Array): number => {
    for (let i = 0; i < 20; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  };
  for (const places of [0, 1, 2, 3, 17, 500]) {
    const ds = Array.from({ length: places }, () => Uint8Array.from({ length: 20 }, () => (r() < 0.3 ? 0x55 : Math.floor(r() * 256))));
    ds.sort(cmp);
    const flat = new Uint8Array(places * 20);
    ds.forEach((d, i) => flat.set(d, i * 20));
    const probes = [...ds.map((d) => d.slice()), ...Array.from({ length: 300 }, () => Uint8Array.from({ length: 20 }, () => (r() < 0.3 ? 0x55 : Math.floor(r() * 256))))];
    probes.push(new Uint8Array(20), new Uint8Array(20).fill(255));
    for (const h of probes) {
      let want = -1;
      for (let i = 0; i < places; i++) if (cmp(ds[i]!, h) < 0) want = i;
      if (want < 0) want = places - 1;
      assert.equal(addon!.nsec3Cover!(flat, h), want);
    }
  }
  assert.throws(() => addon!.nsec3Cover!(new Uint8Array(21), new Uint8Array(20)), RangeError);
});
