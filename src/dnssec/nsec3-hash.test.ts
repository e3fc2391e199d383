import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32hex, fromBase32hex, nsec3Label, nsec3ParamWarning } from './nsec3-hash.js';

test('RFC 5155 Appendix A: hashed owner names with salt aabbccdd and 12 iterations', () => {
  const salt = Uint8Array.from([0xaa, 0xbb, 0xcc, 0xdd]);
  const vectors: [string, string][] = [
    ['example.', '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom'],
    ['a.example.', '35mthgpgcu1qg68fab165klnsnk3dpvl'],
    ['ai.example.', 'gjeqe526plbf1g8mklp59enfd789njgi'],
    ['ns1.example.', '2t7b4g4vsa5smi47k61mv5bv1a22bojr'],
    ['ns2.example.', 'q04jkcevqvmu85r014c7dkba38o0ji5r'],
    ['w.example.', 'k8udemvp1j2f7eg6jebps17vp3n8i58h'],
    ['*.w.example.', 'r53bq7cc2uvmubfu5ocmm6pers9tk9en'],
    ['x.w.example.', 'b4um86eghhds6nea196smvmlo4ors995'],
    ['y.w.example.', 'ji6neoaepv8b5o6k4ev33abha8ht9fgc'],
    ['x.y.w.example.', '2vptu5timamqttgl4luu9kg21e0aor3s'],
    ['xx.example.', 't644ebqk9bibcna874givr6joj62mlhv'],
    ['2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.', 'kohar7mbb8dc2ce8a9qvl8hon4k53uhi'],
  ];
  for (const [name, hash] of vectors) assert.equal(nsec3Label(name, salt, 12), hash, name);
  // Case does not change the hash (the canonical form is lower case).
  assert.equal(nsec3Label('X.W.Example.', salt, 12), 'b4um86eghhds6nea196smvmlo4ors995');
});

test('no salt and 0 iterations (RFC 9276) is one SHA-1 of the name', () => {
  // As ldns-nsec3-hash -t 0 example. prints it.
  assert.equal(nsec3Label('example.', new Uint8Array(0), 0), '3msev9usmd4br9s97v51r2tdvmr9iqo1');
});

test('base32hex round trip and its order is the byte order', () => {
  const bytes = Uint8Array.from([0, 1, 2, 250, 251, 252, 253, 254, 255, 17, 99, 128]);
  assert.deepEqual(fromBase32hex(base32hex(bytes)), bytes);
  assert.equal(base32hex(Uint8Array.from([0xff])), 'vs');
  assert.equal(fromBase32hex('zz'), undefined);
  const a = base32hex(Uint8Array.from([0x10, 0, 0, 0, 0]));
  const b = base32hex(Uint8Array.from([0x0f, 0xff, 0xff, 0xff, 0xff]));
  assert.ok(b < a);
});

test('RFC 9276: a warning above 0 iterations or with a salt, none at 0 without salt', () => {
  assert.equal(nsec3ParamWarning(0, new Uint8Array(0)), undefined);
  assert.match(nsec3ParamWarning(10, new Uint8Array(0))!, /10 additional iterations.*recommends 0/);
  assert.match(nsec3ParamWarning(150, new Uint8Array(0))!, /validators may treat the zone as insecure/);
  assert.match(nsec3ParamWarning(0, Uint8Array.from([1, 2]))!, /2-byte salt/);
});
