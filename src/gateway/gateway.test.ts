// Unit tests: config validation with key paths, the dispatch table's first match, PROXY v2 round trips, idle expiry with an injected clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText } from '../config/load.js';
import { parseAddress } from '../net/cidr.js';
import { IdleClock, FlowRegistry } from './flows.js';
import { decodeProxyV2, encodeProxyV2 } from './proxy-v2.js';
import { gatewaySchema } from './schema.js';
import { DispatchTable } from './table.js';

const errors = (yaml: string): string => {
  try {
    parseConfigText(yaml, 'gw.yaml');
    return '';
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
};

describe('gateway config', () => {
  it('names the key path and says what was expected', () => {
    assert.match(errors('gateway:\n  listeners: [{ prefixes: [198.18.0.1/16], ports: [tcp/80] }]\n'), /gw\.yaml:2: gateway\.listeners\[0\]\.prefixes\[0\]: host bits set/);
    assert.match(errors('gateway:\n  listeners: [{ prefixes: [198.18.0.0/16], ports: [tcp/0] }]\n'), /gateway\.listeners\[0\]\.ports\[0\]: expected "tcp\/PORT"/);
    assert.match(
      errors('gateway:\n  listeners: [{ prefixes: [198.18.0.0/16], ports: [tcp/80] }]\n  dispatch:\n    - { prefix: 198.18.0.0/15, proto: tcp, ports: 80, backend: "127.0.0.1:1" }\n'),
      /gw\.yaml:4: gateway\.dispatch\[0\]: 198\.18\.0\.0\/15 tcp\/80 is outside every listener/,
    );
    assert.match(
      errors('gateway:\n  listeners: [{ prefixes: [198.18.0.0/16], ports: [tcp/80] }]\n  dispatch:\n    - { prefix: 198.18.0.0/24, proto: udp, ports: 80, backend: "127.0.0.1:1" }\n'),
      /dispatch\[0\]: 198\.18\.0\.0\/24 udp\/80 is outside every listener/,
    );
    assert.match(errors('gateway:\n  listeners: [{ prefixes: [198.18.0.0/16], ports: [udp/53] }]\n'), /UDP listeners need 65536 sockets/);
    assert.match(errors('gateway:\n  listeners: [{ prefixes: [198.18.0.0/16], ports: [tcp/1-5000] }]\n'), /at most 4096 distinct/);
    assert.match(errors('gateway:\n  listeners: [{ prefixes: [198.18.0.0/16], ports: [tcp/80] }]\n  dispatch: [{ prefix: 198.18.0.0/16, proto: tcp, ports: 80, backend: "host:80" }]\n'), /backend: expected a backend "IP:PORT"/);
  });
  it('accepts a valid table with defaults', () => {
    const g = gatewaySchema.parse({ listeners: [{ prefixes: ['198.18.0.0/16'], ports: ['tcp/80'] }], dispatch: [{ prefix: '198.18.1.0/24', proto: 'tcp', ports: 80, backend: '127.0.0.1:8080' }] });
    assert.equal(g.unmatched, 'refuse');
    assert.equal(g.dispatch[0]!.proxyProtocol, false);
    assert.equal(g.dispatch[0]!.ports, '80');
  });
});

describe('dispatch table', () => {
  const table = new DispatchTable(
    gatewaySchema.parse({
      listeners: [
        { prefixes: ['198.18.0.0/16', '2001:db8::/64'], ports: ['tcp/80', 'tcp/1000-1002'] },
        { prefixes: ['198.18.0.0/24'], ports: ['tcp/80'] },
      ],
      dispatch: [
        { prefix: '198.18.1.0/24', proto: 'tcp', ports: '80', backend: '127.0.0.1:1' },
        { prefix: '198.18.0.0/16', proto: 'tcp', ports: '80', backend: '127.0.0.1:2', proxyProtocol: true },
        { prefix: '198.18.0.0/16', proto: 'tcp', ports: '1001-1002', backend: '[::1]:3' },
        { prefix: '2001:db8::/64', proto: 'tcp', ports: '80', backend: '127.0.0.1:4' },
      ],
    }),
  );
  const look = (a: string, port: number) => {
    const r = table.lookup('tcp', parseAddress(a)!, port);
    return r.kind === 'backend' ? `${r.backend.host}:${r.backend.port}${r.backend.proxyProtocol ? '+pp' : ''}` : r.kind;
  };
  it('takes the first matching entry by (address, proto, port)', () => {
    assert.equal(look('198.18.1.9', 80), '127.0.0.1:1');
    assert.equal(look('198.18.2.9', 80), '127.0.0.1:2+pp');
    assert.equal(look('198.18.2.9', 1001), '::1:3');
    assert.equal(look('198.18.2.9', 1000), 'unmatched');
    assert.equal(look('198.19.0.1', 80), 'unserved');
    assert.equal(look('198.18.0.1', 81), 'unserved');
    assert.equal(look('2001:db8::77', 80), '127.0.0.1:4');
    assert.equal(look('2001:db8:1::77', 80), 'unserved');
  });
  it('merges overlapping listeners into one socket per (proto, port)', () => {
    assert.deepEqual(table.listeners().map((l) => `${l.proto}/${l.port}:${l.served.length}`), ['tcp/80:2', 'tcp/1000:2', 'tcp/1001:2', 'tcp/1002:2']);
  });
  it('is refused for a UDP lookup on a TCP-only port', () => {
    assert.equal(table.lookup('udp', parseAddress('198.18.1.9')!, 80).kind, 'unserved');
  });
});

describe('PROXY v2', () => {
  it('round-trips IPv4 TCP and IPv6 UDP headers', () => {
    const h4 = encodeProxyV2({ proto: 'tcp', src: '203.0.113.5', srcPort: 40000, dst: '198.18.64.7', dstPort: 443 });
    assert.equal(h4.length, 28);
    assert.equal(h4.subarray(12, 16).toString('hex'), '2111000c');
    assert.deepEqual(decodeProxyV2(h4), { length: 28, command: 'proxy', proto: 'tcp', src: '203.0.113.5', srcPort: 40000, dst: '198.18.64.7', dstPort: 443 });
    const h6 = encodeProxyV2({ proto: 'udp', src: '2001:db8::1', srcPort: 5, dst: '2001:db8::2', dstPort: 53 });
    assert.equal(h6.subarray(12, 16).toString('hex'), '21220024');
    assert.deepEqual(decodeProxyV2(h6), { length: 52, command: 'proxy', proto: 'udp', src: '2001:db8::1', srcPort: 5, dst: '2001:db8::2', dstPort: 53 });
  });
  it('reports incomplete and foreign input', () => {
    const h = encodeProxyV2({ proto: 'tcp', src: '203.0.113.5', srcPort: 1, dst: '198.18.64.7', dstPort: 2 });
    assert.equal(decodeProxyV2(h.subarray(0, 20)), 'incomplete');
    assert.ok(decodeProxyV2(Buffer.from('GET / HTTP/1.1\r\n')) instanceof Error);
  });
});

describe('flows', () => {
  it('expires idle keys exactly by the injected clock', () => {
    let now = 1000;
    const c = new IdleClock<string>(() => now);
    c.touch('a');
    now = 1500;
    c.touch('b');
    now = 30999;
    assert.deepEqual(c.expired(30000), []);
    now = 31000;
    assert.deepEqual(c.expired(30000), ['a']);
    c.touch('a');
    now = 31500;
    assert.deepEqual(c.expired(30000), ['b']);
  });
  it('counts flows per dialled address and cuts them', () => {
    const events: string[] = [];
    const r = new FlowRegistry((e) => events.push(`${e.type}:${e.flow.dst}`));
    const mk = (dst: string) => {
      const t = { flow: { proto: 'tcp' as const, src: '127.0.0.1', srcPort: 1, dst, dstPort: 80 }, close: () => r.remove(t, 0, 0) };
      r.add(t);
      return t;
    };
    mk('198.18.0.1');
    mk('198.18.0.1');
    mk('198.18.0.2');
    assert.equal(r.count('198.18.0.1'), 2);
    assert.equal(r.count(), 3);
    assert.equal(r.cut('198.18.0.1'), 2);
    assert.equal(r.count('198.18.0.1'), 0);
    assert.equal(r.count(), 1);
    assert.deepEqual(events, ['close:198.18.0.1', 'close:198.18.0.1']);
  });
});
