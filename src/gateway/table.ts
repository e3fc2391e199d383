// The compiled dispatch table (seed 002 Fig. 5b: an ordered list of match → socket), and the sockets the listeners need.
import { cidrContains, cidrCovers, formatAddress, type Address, type Cidr } from '../net/cidr.js';
import { parseBackend, parseCidrOrThrow, parsePortRange, parseProtoPorts, type GatewayConfig } from './schema.js';
import type { Backend, Proto } from './types.js';

interface Rule {
  cidr: Cidr;
  from: number;
  to: number;
  backend: Backend;
}

/** Everything that can arrive on one (proto, port): the prefixes served there and the rules in order. */
interface PortEntry {
  served: Cidr[];
  rules: Rule[];
}

export type Lookup = { kind: 'unserved' } | { kind: 'unmatched' } | { kind: 'backend'; backend: Backend };

const key = (proto: Proto, port: number): number => (proto === 'tcp' ? port : 65536 + port);

/**
 * Per-(proto, port) lists, so a new flow scans only the rules that can match its port; the first
 * matching rule wins, as the dispatch list is ordered.
 */
export class DispatchTable {
  private readonly ports = new Map<number, PortEntry>();

  constructor(g: GatewayConfig) {
    for (const l of g.listeners) {
      const prefixes = l.prefixes.map(parseCidrOrThrow);
      for (const spec of l.ports) {
        const { proto, range } = parseProtoPorts(spec)!;
        for (let p = range.from; p <= range.to; p++) {
          let e = this.ports.get(key(proto, p));
          if (!e) this.ports.set(key(proto, p), (e = { served: [], rules: [] }));
          for (const c of prefixes) if (!e.served.some((s) => cidrCovers(s, c))) e.served.push(c);
        }
      }
    }
    for (const d of g.dispatch) {
      const cidr = parseCidrOrThrow(d.prefix);
      const { from, to } = parsePortRange(d.ports)!;
      const hp = parseBackend(d.backend)!;
      const rule: Rule = { cidr, from, to, backend: { host: hp.host, port: hp.port, proxyProtocol: d.proxyProtocol } };
      for (let p = from; p <= to; p++) this.ports.get(key(d.proto, p))?.rules.push(rule);
    }
  }

  lookup(proto: Proto, dst: Address, port: number): Lookup {
    const e = this.ports.get(key(proto, port));
    if (!e || !e.served.some((c) => cidrContains(c, dst))) return { kind: 'unserved' };
    for (const r of e.rules) if (cidrContains(r.cidr, dst)) return { kind: 'backend', backend: r.backend };
    return { kind: 'unmatched' };
  }

  /** (proto, port) pairs with the prefixes served on each, for opening sockets. */
  listeners(): { proto: Proto; port: number; served: readonly Cidr[] }[] {
    return [...this.ports.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([k, e]) => ({ proto: k >= 65536 ? 'udp' : 'tcp', port: k % 65536, served: e.served }));
  }
}

/** Every address of the prefix, in order (UDP binds one socket per address; the schema bounds the count). */
export function* addressesOf(c: Cidr): Generator<string> {
  const bits = (c.family === 4 ? 32 : 128) - c.length;
  const n = 1n << BigInt(bits);
  let base = 0n;
  for (const b of c.bytes) base = (base << 8n) | BigInt(b);
  for (let i = 0n; i < n; i++) {
    let v = base + i;
    const bytes = new Uint8Array(c.bytes.length);
    for (let j = bytes.length - 1; j >= 0; j--) {
      bytes[j] = Number(v & 0xffn);
      v >>= 8n;
    }
    yield formatAddress({ family: c.family, bytes });
  }
}

