// Configuration errors of `services` and `capabilities` name the key path and what was expected; blocklist lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, ConfigError } from '../config/load.js';
import { parseBlocklist } from './blocklist.js';

function errorOf(yaml: string): string {
  try {
    parseConfigText(yaml, 'caps.yaml', '/tmp');
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
}

const pool = 'pools: [{ name: p, prefixes: [198.18.0.0/24] }]\n';

test('a service naming a missing pool, a bad port, a honeypot without its address', () => {
  assert.match(errorOf(`${pool}services: [{ name: a.lab, target: 10.0.0.1, ports: [tcp/80], pool: q }]\n`), /caps\.yaml:2: services\[0\]\.pool: expected the name of a pool in "pools" \("p"\), found "q"/);
  assert.match(errorOf(`${pool}services: [{ name: a.lab, target: 10.0.0.1, ports: [http/80], pool: p }]\n`), /services\[0\]\.ports\[0\]: expected "tcp\/PORT"/);
  assert.match(errorOf(`${pool}services: [{ name: a.lab, target: 10.0.0.1, ports: [tcp/80], pool: p, onDeny: honeypot }]\n`), /services\[0\]\.honeypot: expected a honeypot address/);
  assert.match(errorOf(`${pool}services: [{ name: a.lab, target: nowhere, ports: [tcp/80], pool: p }]\n`), /services\[0\]\.target: expected a private address/);
});

test('one name in two services, workers above 1, an admin API off loopback or with a short token', () => {
  assert.match(errorOf(`${pool}services: [{ name: a.lab, target: 10.0.0.1, ports: [tcp/80], pool: p }, { name: [b.lab, A.lab], target: 10.0.0.2, ports: [tcp/81], pool: p }]\n`), /services\[1\]\.name\[1\]: expected each name in one service only/);
  assert.match(errorOf(`workers: 2\n${pool}services: [{ name: a.lab, target: 10.0.0.1, ports: [tcp/80], pool: p }]\n`), /workers: expected workers: 1 with services and the memory state store/);
  assert.match(errorOf('capabilities: { admin: { listen: "198.51.100.1:80", token: "0123456789abcdef" } }\n'), /capabilities\.admin\.listen: expected a loopback/);
  assert.match(errorOf('capabilities: { admin: { listen: "127.0.0.1:80", token: "short" } }\n'), /capabilities\.admin\.token: expected a token of at least 16/);
});

test('defaults: ttl 20, grace 60, scope resolver, onDeny refuse; slack 5, quarantine 300, share on exhaustion', () => {
  const { config } = parseConfigText(`${pool}services: [{ name: A.lab, target: 10.0.0.1, ports: [tcp/80], pool: p }]\n`, 'caps.yaml', '/tmp');
  const s = config.services[0]!;
  assert.deepEqual([s.name, s.ttl, s.grace, s.scope, s.onDeny], [['a.lab.'], 20, 60, 'resolver', 'refuse']);
  const c = config.capabilities;
  assert.deepEqual([c.backend, c.failOpen, c.slack, c.quarantine, c.exhaustion], ['userspace', false, 5, 300, 'share']);
});

test('blocklist files: CIDRs and addresses, comments, errors with file and line', () => {
  const r = parseBlocklist('# list\n198.51.100.0/24\n\n203.0.113.7  # one host\nnot-an-address\n2001:db8::/32\n', 'b.txt');
  assert.equal(r.prefixes.length, 3);
  assert.deepEqual(r.errors.map((e) => e.split(':').slice(0, 2).join(':')), ['b.txt:5']);
});
