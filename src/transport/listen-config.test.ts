// listen entries: tls/https need cert and key (relative to the config file); udp/tcp refuse them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText } from '../config/load.js';

function errorsOf(text: string): string[] {
  try {
    parseConfigText(text, 'c.yaml', '/etc/fluxdns');
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  assert.fail('expected a ConfigError');
}

test('tls and https listeners resolve cert and key against the configuration folder', () => {
  const { config } = parseConfigText('listen:\n  - { proto: tls, address: "127.0.0.1:853", cert: c.pem, key: /abs/k.pem }\n  - { proto: https, address: "[::1]:443", cert: d/c.pem, key: d/k.pem }\n', 'c.yaml', '/etc/fluxdns');
  assert.deepEqual(config.listen, [
    { proto: 'tls', address: '127.0.0.1:853', cert: '/etc/fluxdns/c.pem', key: '/abs/k.pem' },
    { proto: 'https', address: '[::1]:443', cert: '/etc/fluxdns/d/c.pem', key: '/etc/fluxdns/d/k.pem' },
  ]);
  assert.equal(parseConfigText('', 'c.yaml').config.limits.tcpMaxConnectionsPerClient, 64);
});

test('a missing certificate, a certificate on udp, and an unknown proto are named with line and key', () => {
  const errs = errorsOf('listen:\n  - { proto: tls, address: "127.0.0.1:853", key: k.pem }\n  - { proto: udp, address: "127.0.0.1:53", cert: c.pem, key: k.pem }\n  - { proto: doq, address: "127.0.0.1:853" }\n');
  assert.ok(errs.some((e) => /^c\.yaml:2: listen\[0\]\.cert: missing; proto tls needs a PEM certificate/.test(e)), errs.join('\n'));
  assert.ok(errs.some((e) => /^c\.yaml:3: listen\[1\]\.cert: only tls and https listeners take a cert; proto udp is unencrypted$/.test(e)), errs.join('\n'));
  assert.ok(errs.some((e) => /^c\.yaml:3: listen\[1\]\.key: only tls and https listeners take a key/.test(e)), errs.join('\n'));
  assert.ok(errs.some((e) => /^c\.yaml:4: listen\[2\]\.proto: expected one of "udp", "tcp", "tls", "https", found "doq"$/.test(e)), errs.join('\n'));
});

test('abuse limits are checked', () => {
  const errs = errorsOf('limits: { tcpQueryTimeout: 0, maxQuerySize: 100000 }\n');
  assert.ok(errs.some((e) => /limits\.tcpQueryTimeout: Number must be greater than 0/.test(e)), errs.join('\n'));
  assert.ok(errs.some((e) => /limits\.maxQuerySize: Number must be less than or equal to 65535/.test(e)), errs.join('\n'));
});
