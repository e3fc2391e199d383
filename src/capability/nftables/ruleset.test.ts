// The elements a lease becomes: maps per scope and target form, slot split, timeouts, validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from '../../state/store.js';
import { elementText, hostLimitCommands, LeaseRejected, leaseElements, srcxCommands, tableCommands } from './ruleset.js';

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

test('a resolver-scoped lease with one target and one port: the exact (hash) twins, no slot', () => {
  assert.deepEqual(leaseElements(base), [
    { set: 'caps_x', key: '198.18.64.5 . tcp . 8080', data: '198.18.2.1', until: 5000 },
    { set: 'caps_live_x', key: '198.18.64.5 . tcp . 8080', until: 2000 },
    { set: 'caps_grace_x', key: '198.18.64.5 . tcp . 8080', until: 5000 },
  ]);
  assert.deepEqual(
    leaseElements({ ...base, targets: ['198.18.2.1:9000'], sourceSubnet: '198.18.1.77/24' }).map((e) => `${e.set} ${e.key}${e.data ? ' : ' + e.data : ''}`),
    ['caps_src_port_x_24 198.18.1.0 . 198.18.64.5 . tcp . 8080 : 198.18.2.1 . 9000', 'caps_live_x 198.18.64.5 . tcp . 8080', 'caps_grace_x 198.18.64.5 . tcp . 8080'],
  );
  assert.deepEqual(
    leaseElements({ ...base, address: '2001:db8:64::5', targets: ['2001:db8:2::1'], sourceSubnet: '2001:db8:100::/56' }).map((e) => e.set),
    ['caps6_src_x_56', 'caps6_live_x', 'caps6_grace_x'],
  );
  assert.deepEqual(srcxCommands('inet t', 4, 24), [
    'add map inet t caps_src_x_24 { type ipv4_addr . ipv4_addr . inet_proto . inet_service : ipv4_addr; flags timeout; }',
    'add map inet t caps_src_port_x_24 { type ipv4_addr . ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; flags timeout; }',
    'add rule inet t srcx dnat ip to ip saddr & 255.255.255.0 . ip daddr . meta l4proto . th dport map @caps_src_x_24',
    'add rule inet t srcx meta l4proto { tcp, udp } dnat ip addr . port to ip saddr & 255.255.255.0 . ip daddr . meta l4proto . th dport map @caps_src_port_x_24',
  ]);
  assert.match(srcxCommands('inet t', 6, 56)[2]!, /ip6 saddr & ffff:ffff:ffff:ff00:: \. ip6 daddr/);
});

test('a lease with one target over every slot stays in the interval maps when a port is a range, or maxHosts / honeypot is set', () => {
  for (const over of [{ ports: [{ proto: 'tcp' as const, from: 8080, to: 8081 }] }, { maxHosts: 2 }, { honeypot: true }]) {
    const els = leaseElements({ ...base, ...over });
    assert.equal(els[0]!.set, 'caps');
    assert.match(els[0]!.key, / \. 0-59$/);
    assert.ok(els.some((e) => e.set === 'caps_live') && !els.some((e) => e.set.endsWith('_x')));
  }
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

test('an IPv6 lease fills the ip6 twins with its IPv6 targets; an ip table refuses it', () => {
  const v6 = { ...base, address: '2001:DB8:64::5', targets: ['198.18.2.1', '2001:db8:2::1', '[2001:db8:2::2]:9000'], exceptions: ['2001:db8:1::/64', '198.18.1.7'] };
  assert.deepEqual(
    leaseElements(v6).map((e) => `${e.set} ${e.key}${e.data ? ' : ' + e.data : ''}`),
    [
      'caps6 2001:db8:64::5 . tcp . 8080 . 0-29 : 2001:db8:2::1',
      'caps6_port 2001:db8:64::5 . tcp . 8080 . 30-59 : 2001:db8:2::2 . 9000',
      'caps6_live 2001:db8:64::5 . tcp . 8080',
      'caps6_grace 2001:db8:64::5 . tcp . 8080',
      'except6 2001:db8:1::/64 . 2001:db8:64::5 . tcp . 8080',
    ],
  );
  assert.throws(() => leaseElements(v6, 'ip'), /family: inet/);
  assert.throws(() => leaseElements({ ...v6, targets: ['198.18.2.1'] }), /no IPv6 target/);
});

test("maxHosts jumps to the lease's own chain; a honeypot lease's key is in hp", () => {
  const els = leaseElements({ ...base, maxHosts: 2, honeypot: true });
  assert.deepEqual(els.filter((e) => e.set === 'hostlim' || e.set === 'hp').map((e) => `${e.set} ${e.key}${e.data ? ' : ' + e.data : ''}`), ['hp 198.18.64.5 . tcp . 8080', 'hostlim 198.18.64.5 . tcp . 8080 : jump hl_a']);
  assert.deepEqual(hostLimitCommands('inet t', { ...base, maxHosts: 2 }, 0), [
    'add set inet t h_a { type ipv4_addr; size 2; flags dynamic, timeout; timeout 6s; }',
    'add chain inet t hl_a',
    'flush chain inet t hl_a',
    'add rule inet t hl_a update @h_a { ip saddr } return',
    'add rule inet t hl_a counter drop',
  ]);
  assert.throws(() => leaseElements({ ...base, id: 'a; flush ruleset' }), LeaseRejected);
});

test('the table: unleased flows are counted and marked for the honeypot only when configured', () => {
  const plain = tableCommands({ family: 'inet', table: 't', seenTimeout: 60 });
  assert.ok(!plain.some((c) => c.includes('meta mark')), 'no honeypot rule without a honeypot');
  assert.ok(!plain.some((c) => c.includes('update @probes')), 'no counting without scanner detection');
  const full = tableCommands({ family: 'inet', table: 't', seenTimeout: 60, honeypot: { host: '198.18.2.1', port: 9090 }, probeTimeout: 60 });
  assert.ok(full.includes('add rule inet t unleased meta nfproto ipv4 update @probes { ip saddr }'));
  assert.ok(full.includes('add rule inet t unleased meta nfproto ipv4 meta mark set 0x464c5848 counter accept'));
  assert.ok(full.includes('add rule inet t nat meta mark 0x464c5848 meta l4proto { tcp, udp } dnat ip to 198.18.2.1:9090'));
  assert.ok(!tableCommands({ family: 'ip', table: 't', seenTimeout: 60 }).some((c) => c.includes('ip6')), 'an ip table has no IPv6 rules');
});

test('nothing but canonical literals reaches nft', () => {
  assert.throws(() => leaseElements({ ...base, address: '2001:db8::5' }), LeaseRejected);
  assert.throws(() => leaseElements({ ...base, address: 'evil.example; flush ruleset' }), LeaseRejected);
  assert.throws(() => leaseElements({ ...base, targets: ['10.0.0.1 }; flush ruleset'] }), LeaseRejected);
  assert.throws(() => leaseElements({ ...base, sourceSubnet: '198.18.1.0/33' }), LeaseRejected);
  assert.throws(() => leaseElements({ ...base, ports: [{ proto: 'tcp', from: 0, to: 80 }] }), LeaseRejected);
});
