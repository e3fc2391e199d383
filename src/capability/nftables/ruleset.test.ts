// The elements a lease becomes: maps per scope and target form, slot split, timeouts, validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from '../../state/store.js';
import { elementText, LeaseRejected, leaseElements } from './ruleset.js';

const base: Lease = {
  id: 'a',
  service: 'app.caps.lab.',
  scope: 'resolver',
  scopeKey: '198.18.0.1',
  resolver: '198.18.0.1',
  address: '198.18.64.5',
  targets: ['198.18.2.1'],
  ports: [{ proto: 'tcp', from: 8080, to: 8080 }],
  ttl: 2,
  grantedAt: 0,
  ttlUntil: 2000,
  liveUntil: 2000,
  graceUntil: 5000,
  quarantineUntil: 9000,
  exceptions: [],
  honeypot: false,
};

test('a resolver-scoped lease: one caps element over every slot, live and grace', () => {
  assert.deepEqual(leaseElements(base), [
    { set: 'caps', key: '198.18.64.5 . tcp . 8080 . 0-59', data: '198.18.2.1', until: 5000 },
    { set: 'caps_live', key: '198.18.64.5 . tcp . 8080', until: 2000 },
    { set: 'caps_grace', key: '198.18.64.5 . tcp . 8080', until: 5000 },
  ]);
});

test('subnet scope, two targets (one with a port), a port range, exceptions and a connection limit', () => {
  const els = leaseElements({ ...base, sourceSubnet: '198.18.1.0/24', targets: ['198.18.2.1', '198.18.2.2:9000'], ports: [{ proto: 'udp', from: 5000, to: 5010 }], exceptions: ['198.18.1.7', '2001:db8::/32'], maxConnections: 4 });
  assert.deepEqual(
    els.map((e) => `${e.set} ${e.key}${e.data ? ' : ' + e.data : ''}`),
    [
      'caps_src 198.18.1.0/24 . 198.18.64.5 . udp . 5000-5010 . 0-29 : 198.18.2.1',
      'caps_src_port 198.18.1.0/24 . 198.18.64.5 . udp . 5000-5010 . 30-59 : 198.18.2.2 . 9000',
      'caps_live 198.18.64.5 . udp . 5000-5010',
      'caps_grace 198.18.64.5 . udp . 5000-5010',
      'except 198.18.1.7/32 . 198.18.64.5 . udp . 5000-5010',
      'mc_4 198.18.64.5 . udp . 5000-5010',
    ],
  );
});

test('element text carries timeout and expiry from now (refreshing an existing element)', () => {
  assert.equal(elementText({ set: 'caps', key: 'K', data: 'D', until: 5000 }, 1500), 'K timeout 3500ms expires 3500ms : D');
  assert.equal(elementText({ set: 'caps_live', key: 'K', until: 2000 }, 1900), 'K timeout 1000ms expires 1000ms');
});

test('nothing but canonical IPv4 literals reaches nft', () => {
  assert.throws(() => leaseElements({ ...base, address: '2001:db8::5' }), LeaseRejected);
  assert.throws(() => leaseElements({ ...base, address: 'evil.example; flush ruleset' }), LeaseRejected);
  assert.throws(() => leaseElements({ ...base, targets: ['10.0.0.1 }; flush ruleset'] }), LeaseRejected);
  assert.throws(() => leaseElements({ ...base, sourceSubnet: '198.18.1.0/33' }), LeaseRejected);
  assert.throws(() => leaseElements({ ...base, ports: [{ proto: 'tcp', from: 0, to: 80 }] }), LeaseRejected);
});
