// fluxdns check's listener checks: one socket claimed twice, addresses not on this host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../config/load.js';
import { checkListeners, isLocalAddress } from './listen-check.js';
import { restartNeeded } from './server.js';

const conf = (listen: string) => parseConfigText(`listen:\n${listen}`, 't.yaml').config;

test('two listeners on one socket: tcp, tls and https share TCP; udp is its own; port 0 never clashes', () => {
  const c = conf('  - { proto: udp, address: "127.0.0.1:53" }\n  - { proto: tcp, address: "127.0.0.1:53" }\n  - { proto: udp, address: "127.0.0.1:53" }\n  - { proto: tcp, address: "127.0.0.1:0" }\n  - { proto: tcp, address: "127.0.0.1:0" }\n');
  const issues = checkListeners(c, Date.now(), new Set());
  assert.deepEqual(issues.map((i) => i.path), ['listen[2].address']);
  assert.match(issues[0]!.message, /udp 127\.0\.0\.1:53 needs the same UDP socket as listen\[0\]/);
});

test('addresses: wildcards and 127/8 are local; others only when an interface has them', () => {
  const local = new Set(['198.51.100.1', '2001:db8::1']);
  for (const a of ['0.0.0.0', '::', '127.0.0.1', '127.53.1.2', '198.51.100.1', '2001:db8::1', '2001:DB8:0::1']) assert.ok(isLocalAddress(a, local), a);
  for (const a of ['198.51.100.2', '203.0.113.1', '::2', '2001:db8::2']) assert.equal(isLocalAddress(a, local), false, a);
  const issues = checkListeners(conf('  - { proto: udp, address: "203.0.113.7:53" }\n'), Date.now(), local);
  assert.equal(issues.length, 1);
  assert.match(issues[0]!.message, /^203\.0\.113\.7 is not an address of this host/);
});

test('a reload names what needs a restart', () => {
  const a = parseConfigText('listen:\n  - { proto: udp, address: "127.0.0.1:53" }\nworkers: 1\n', 'a.yaml').config;
  const b = parseConfigText('listen:\n  - { proto: udp, address: "127.0.0.1:53" }\n  - { proto: tcp, address: "127.0.0.1:53" }\nworkers: 2\nlog: { level: debug }\n', 'b.yaml').config;
  assert.deepEqual(restartNeeded(a, b), ['listen: tcp 127.0.0.1:53 added', 'workers: 1 -> 2']);
  assert.deepEqual(restartNeeded(b, a), ['listen: tcp 127.0.0.1:53 removed', 'workers: 2 -> 1']);
  assert.deepEqual(restartNeeded(a, a), []);
});
