// Configuration loading: defaults, relative paths, and errors that name line, key path and expectation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText } from './load.js';
import { parseHostPort } from './schema.js';

function errorsOf(text: string): string[] {
  try {
    parseConfigText(text, 'c.yaml', '/etc/fluxdns');
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  assert.fail('expected a ConfigError');
}

test('an empty file gives the documented defaults', () => {
  const { config } = parseConfigText('', 'c.yaml', '/x');
  assert.deepEqual(config.listen, [
    { proto: 'udp', address: '127.0.0.1:5353' },
    { proto: 'tcp', address: '127.0.0.1:5353' },
  ]);
  assert.equal(config.workers, 1);
  assert.equal(config.limits.udpPayload, 1232);
  assert.equal(config.limits.tcpIdleTimeout, 10);
  assert.deepEqual(config.zones, []);
});

test('zone names are canonicalized and relative files resolved against the config folder', () => {
  const { config } = parseConfigText('zones:\n  - { name: Example.LAB, file: z/e.zone }\n  - { name: b.lab., file: /abs/b.zone }\n', 'c.yaml', '/etc/fluxdns');
  assert.deepEqual(config.zones.map((z) => ({ name: z.name, file: z.file })), [
    { name: 'Example.LAB.', file: '/etc/fluxdns/z/e.zone' },
    { name: 'b.lab.', file: '/abs/b.zone' },
  ]);
});

test('each error names the line, the key path and what was expected', () => {
  const errs = errorsOf('listen:\n  - proto: udp\n    address: "localhost:53"\nlimits:\n  udpPayload: 100\nzones:\n  - { name: "a..b", file: x }\n');
  assert.ok(errs.includes('c.yaml:3: listen[0].address: expected "IP:PORT" (IPv6 as "[::1]:PORT") with a literal address and a port from 0 to 65535'), errs.join('\n'));
  assert.ok(errs.some((e) => /^c\.yaml:5: limits\.udpPayload: Number must be greater than or equal to 512$/.test(e)), errs.join('\n'));
  assert.ok(errs.some((e) => /^c\.yaml:7: zones\[0\]\.name: expected a domain name: empty label/.test(e)), errs.join('\n'));
});

test('unknown keys, missing keys and YAML syntax errors are reported', () => {
  assert.deepEqual(errorsOf('zones:\n  - { name: a.lab }\n'), ['c.yaml:2: zones[0].file: missing; expected string']);
  assert.deepEqual(errorsOf('listen: []\nworkrs: 2\n'), ['c.yaml:1: listen: expected at least one listener', 'c.yaml:1: unknown key "workrs"']);
  assert.match(errorsOf('listen: [\n')[0]!, /^c\.yaml:\d+: YAML syntax: /);
  assert.match(errorsOf('a: 1\na: 2\n')[0]!, /^c\.yaml:2: YAML syntax: .*[Uu]nique/);
});

test('host:port parsing accepts IPv4 and bracketed IPv6 literals only', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:53'), { host: '127.0.0.1', port: 53 });
  assert.deepEqual(parseHostPort('[::1]:5353'), { host: '::1', port: 5353 });
  assert.equal(parseHostPort('::1:53'), undefined);
  assert.equal(parseHostPort('example.com:53'), undefined);
  assert.equal(parseHostPort('127.0.0.1:65536'), undefined);
});
