// tsig configuration as the loader reads it: secretFile relative to the config file (base64 or a BIND
// key clause), and errors that name file, line and key path without showing the secret.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfigText } from '../config/load.js';
import { keyRingOf } from './keys.js';

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-tsig-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = Buffer.from('a secret that must never show up in an error').toString('base64');

function load(yaml: string) {
  return parseConfigText(yaml, join(dir, 'fluxdns.yaml'), dir);
}

function errorOf(yaml: string): string {
  try {
    load(yaml);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail('expected a configuration error');
}

describe('tsig configuration loading', () => {
  test('secretFile holding base64 alone, or a BIND key clause, relative to the configuration file', () => {
    writeFileSync(join(dir, 'plain.key'), `${SECRET}\n`);
    writeFileSync(join(dir, 'bind.key'), `key "b" {\n\talgorithm hmac-sha512;\n\tsecret "${SECRET}";\n};\n`);
    const { config } = load(`tsig:\n  keys:\n    - { name: a, secretFile: plain.key }\n    - { name: b, algorithm: hmac-sha512, secretFile: bind.key }\n`);
    const ring = keyRingOf(config.tsig);
    assert.deepEqual([...ring.keys()], ['a.', 'b.']);
    for (const k of ring.values()) assert.equal(Buffer.from(k.secret).toString('base64'), SECRET);
    assert.equal(ring.get('b.')!.algorithm.name, 'hmac-sha512.');
    assert.equal(config.tsig.fudge, 300);
  });

  test('a missing secretFile names file, line and key path', () => {
    const msg = errorOf(`zones: []\ntsig:\n  keys:\n    - { name: a, secretFile: nowhere.key }\n`);
    assert.match(msg, /fluxdns\.yaml:4: tsig\.keys\[0\]\.secretFile: cannot read .*nowhere\.key: ENOENT/);
  });

  test('a secretFile without a base64 secret is an error that does not show the content', () => {
    writeFileSync(join(dir, 'bad.key'), 'this is not base64 at all, but could be a secret!\n');
    const msg = errorOf(`tsig:\n  keys:\n    - { name: a, secretFile: bad.key }\n`);
    assert.match(msg, /fluxdns\.yaml:3: tsig\.keys\[0\]\.secretFile: expected .*bad\.key to hold a base64 secret/);
    assert.doesNotMatch(msg, /could be a secret/);
  });

  test('schema errors carry the line and say what was expected', () => {
    assert.match(errorOf(`tsig:\n  keys:\n    - { name: a, secret: "%%%" }\n`), /fluxdns\.yaml:3: tsig\.keys\[0\]\.secret: expected the secret in base64/);
    assert.match(errorOf(`tsig:\n  fudge: 70000\n`), /fluxdns\.yaml:2: tsig\.fudge:/);
    assert.match(errorOf(`tsig:\n  keys:\n    - { name: a, algorithm: hmac-md5, secret: "${SECRET}" }\n`), /tsig\.keys\[0\]\.algorithm: expected one of "hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1", found "hmac-md5"/);
  });
});
