// Tests for the shared Stateless DNS encodings, method names and query-name parser (seed 003 §2.3–2.8).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeA,
  decodeAAAA,
  decodeData,
  decodeSrv,
  decodeTxt,
  decodeTxtBytes,
  EchoEncodingError,
  encodeA,
  encodeAAAA,
  encodeData,
  encodeSrv,
  encodeTxt,
} from './encoding.js';
import { dataFromEchoName, dataFromXyName, echoName, METHODS, programmingName, retrievalName, retrievalQtype } from './methods.js';
import { parseEchoName } from './parse.js';
import { parseName, splitLabels } from '../wire/name.js';

describe('A form (seed §2.4)', () => {
  test('dotted quad ⇄ four labels', () => {
    assert.deepEqual(encodeA('134.34.165.165'), ['134', '34', '165', '165']);
    assert.equal(decodeA(['134', '34', '165', '165']), '134.34.165.165');
  });
  test('rejects what is not an address', () => {
    assert.throws(() => encodeA('1.2.3'), EchoEncodingError);
    assert.equal(decodeA(['1', '2', '3']), undefined);
    assert.equal(decodeA(['1', '2', '3', '256']), undefined);
    assert.equal(decodeA(['01', '2', '3', '4']), undefined);
    assert.equal(decodeA(['a', 'b', 'c', 'd']), undefined);
  });
});

describe('AAAA form', () => {
  test('RFC 5952 text with "-" for ":" in one label', () => {
    assert.deepEqual(encodeAAAA('2001:DB8:0:0:0:0:0:7'), ['2001-db8--7']);
    assert.equal(decodeAAAA(['2001-db8--7']), '2001:db8::7');
    assert.equal(decodeAAAA(['2001-DB8--7']), '2001:db8::7');
    assert.deepEqual(encodeAAAA('::1'), ['--1']);
    assert.equal(decodeAAAA(['--1']), '::1');
  });
  test('IPv4-mapped addresses use 32 hex digits; both forms decode', () => {
    assert.deepEqual(encodeAAAA('::ffff:198.51.100.7'), ['00000000000000000000ffffc6336407']);
    assert.equal(decodeAAAA(['20010db8000000000000000000000007']), '2001:db8::7');
  });
  test('rejects garbage', () => {
    assert.equal(decodeAAAA(['2001-db8']), undefined);
    assert.equal(decodeAAAA(['2001', 'db8']), undefined);
    assert.equal(decodeAAAA(['g--1']), undefined);
    assert.throws(() => encodeAAAA('198.51.100.7'), EchoEncodingError);
  });
});

describe('TXT form', () => {
  test('key=value as in the seed (§2.4)', () => {
    assert.deepEqual(encodeTxt('key=value'), ['key=value']);
    assert.equal(decodeTxt(['key=value']), 'key=value');
  });
  test('dots separate labels; upper case, space and % are escaped', () => {
    assert.deepEqual(encodeTxt('host=a.b'), ['host=a', 'b']);
    assert.deepEqual(encodeTxt('Key=A b%'), ['%4bey=%41%20b%25']);
    assert.equal(decodeTxt(['%4Bey=%41%20b%25']), 'Key=A b%');
    assert.equal(decodeTxt(['KEY=x']), 'key=x', 'a name is case-insensitive, so unescaped letters read as lower case');
  });
  test('empty segments and the 00 delimiter are escaped', () => {
    assert.deepEqual(encodeTxt('.a..b.'), ['%2ea%2e', 'b%2e']);
    assert.equal(decodeTxt(['%2ea%2e', 'b%2e']), '.a..b.');
    assert.deepEqual(encodeTxt('00'), ['0%30']);
    assert.deepEqual(encodeTxt('x.00'), ['x', '0%30']);
  });
  test('long runs continue with a trailing %', () => {
    const text = 'v=' + 'x'.repeat(100);
    const labels = encodeTxt(text);
    assert.equal(labels.length, 2);
    assert.ok(labels[0]!.endsWith('%') && labels[0]!.length <= 63);
    assert.equal(decodeTxt(labels), text);
  });
  test('presentation escapes in a query name are read', () => {
    assert.equal(decodeTxt(['a\\@b']), 'a@b');
    assert.deepEqual([...decodeTxtBytes(['\\255'])!], [255]);
  });
  test('malformed escapes do not decode', () => {
    assert.equal(decodeTxt(['a%4']), undefined);
    assert.equal(decodeTxt(['a%zz']), undefined);
    assert.equal(decodeTxt(['a%']), undefined);
    assert.equal(decodeTxt([]), undefined);
    assert.throws(() => encodeTxt(''), EchoEncodingError);
  });
  test('round trip for any text (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 120, unit: 'grapheme' }), (text) => {
        const labels = encodeTxt(text);
        for (const l of labels) {
          assert.ok(l.length >= 1 && l.length <= 63, l);
          assert.notEqual(l.toLowerCase(), '00');
          assert.match(l, /^[a-z0-9\-_=+,:/~!%]+$/);
        }
        // What a resolver may do to the case of the name must not change the data.
        assert.equal(decodeTxt(labels.map((l) => l.toUpperCase())), text);
      }),
      { numRuns: 300 },
    );
  });
});

describe('SRV form (seed §2.4)', () => {
  test('host.name-22 ⇄ target and port', () => {
    assert.deepEqual(encodeSrv('host.name', 22), ['host', 'name-22']);
    assert.deepEqual(decodeSrv(['host', 'name-22']), { target: 'host.name.', port: 22 });
    assert.deepEqual(decodeSrv(['my-host-8080']), { target: 'my-host.', port: 8080 });
  });
  test('rejects missing or bad ports', () => {
    assert.equal(decodeSrv(['host', 'name']), undefined);
    assert.equal(decodeSrv(['-22']), undefined);
    assert.equal(decodeSrv(['h-65536']), undefined);
    assert.equal(decodeSrv(['h-022']), undefined);
    assert.throws(() => encodeSrv('h', 70000), EchoEncodingError);
    assert.throws(() => encodeSrv('a.00.b', 1), EchoEncodingError);
  });
  test('dispatch by type', () => {
    assert.deepEqual(encodeData('SRV', { target: 'h.lab.', port: 5 }), ['h', 'lab-5']);
    assert.deepEqual(decodeData('SRV', ['h', 'lab-5']), { target: 'h.lab.', port: 5 });
    assert.equal(decodeData('A', encodeData('A', '198.51.100.7')), '198.51.100.7');
  });
});

describe('method names', () => {
  const zone = 'echo3.netfuture.ch.';
  test('programming and echo names as the seed writes them', () => {
    assert.equal(programmingName('a', encodeA('134.34.165.165'), 'mynotebook', zone), '134.34.165.165.a.mynotebook.echo3.netfuture.ch.');
    assert.equal(echoName(encodeA('134.34.165.165'), zone), '134.34.165.165.00.echo3.netfuture.ch.');
    assert.equal(programmingName('du', ['stateless-dns'], 'mynotebook', 'echo3.netfuture.ch'), 'stateless-dns.du.mynotebook.echo3.netfuture.ch.');
  });
  test('retrieval names and types', () => {
    assert.equal(retrievalName('ca', 'mynotebook', zone), 'mynotebook.echo3.netfuture.ch.');
    assert.equal(retrievalName('da', 'mynotebook', zone, 'anything'), 'anything.mynotebook.echo3.netfuture.ch.');
    assert.equal(retrievalQtype('nu', 'A'), 'NS');
    assert.equal(retrievalQtype('cca', 'TXT'), 'TXT');
  });
  test('bad aliases and oversize names are errors', () => {
    assert.throws(() => programmingName('a', ['1', '2', '3', '4'], 'two.labels', zone), EchoEncodingError);
    assert.throws(() => programmingName('a', ['1', '2', '3', '4'], '00', zone), EchoEncodingError);
    assert.throws(() => programmingName('cu', Array.from({ length: 5 }, () => 'x'.repeat(60)), 'a', zone), EchoEncodingError);
  });
  test('data back out of answer targets', () => {
    assert.deepEqual(dataFromEchoName('anything.00.134.34.165.165.00.echo3.netfuture.ch.', zone), ['134', '34', '165', '165']);
    assert.deepEqual(dataFromXyName('stateless-dns.xy.'), ['stateless-dns']);
    assert.deepEqual(dataFromXyName('anything.00.stateless-dns.xy.'), ['stateless-dns']);
    assert.equal(dataFromXyName('example.lab.'), undefined);
  });
});

describe('parseEchoName', () => {
  const zone = 'echo.lab.';
  const p = (n: string) => parseEchoName(parseName(n), zone);
  test('the generic form, case-insensitively', () => {
    assert.deepEqual(p('198.51.100.7.CA.box.echo.lab.'), { kind: 'program', method: 'ca', data: ['198', '51', '100', '7'], alias: 'box' });
    assert.deepEqual(p('echo.lab.'), { kind: 'apex' });
    assert.deepEqual(p('x.y.00.echo.lab.'), { kind: 'echo', data: ['x', 'y'] });
    assert.deepEqual(p('a.b.da.00.c.d.00.echo.lab.'), { kind: 'echo', data: ['c', 'd'] });
    assert.deepEqual(p('box.echo.lab.'), { kind: 'alias', alias: 'box', below: [], ent: true });
    assert.deepEqual(p('nr.box.echo.lab.'), { kind: 'alias', alias: 'box', below: ['nr'], ent: true });
    assert.deepEqual(p('anything.box.echo.lab.'), { kind: 'alias', alias: 'box', below: ['anything'], ent: false });
    assert.equal(p('example.lab.'), undefined);
  });
  test('every method parses back from its own programming name', () => {
    for (const m of METHODS) {
      const name = programmingName(m, ['d1', 'd2'], 'al', zone);
      assert.deepEqual(parseEchoName(name, zone), { kind: 'program', method: m, data: ['d1', 'd2'], alias: 'al' });
    }
  });
  test('labels keep their presentation form', () => {
    const r = parseEchoName('a\\.b.txt.a.x.echo.lab.', zone);
    assert.deepEqual(r, { kind: 'program', method: 'a', data: ['a\\.b', 'txt'], alias: 'x' });
    assert.deepEqual(splitLabels('a\\.b.c.'), ['a\\.b', 'c']);
  });
});
