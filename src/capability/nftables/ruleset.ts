// The nftables capability table as text: its sets, maps and chains, and the elements one lease needs.
//
// Design (seed 000 §2–3, facts verified in ../shared/NOTES.md):
// - Translation: `caps` / `caps_port` (any source) and `caps_src` / `caps_src_port` (subnet scope: the
//   OBO prefix is the key's first part) map (public address . proto . port . slot) to the target;
//   `_port` maps also rewrite the port ("IP:PORT" targets). The slot is `ct mark` set from
//   `numgen inc mod 60` on a connection's first packet, so several targets share new flows round robin.
// - Admission, on the first packet of a connection before NAT: `caps_live` (timeout: end of live)
//   admits any source and records it in `seen`; `caps_grace` (timeout: end of grace) admits only
//   sources in `seen` (§3.2, third strategy). `except` refuses a lease's excepted sources (§2.3);
//   `mc_N` + `ct count over N` bounds concurrent connections per address (§2.4).
// - Every other new connection to a `pool` address is dropped, and so is a packet still addressed to
//   the pool after NAT (a subnet-scoped address dialled from outside the subnet), before routing.
// - Established flows keep their conntrack NAT binding after the elements time out (as Linux NAT
//   does); `ct original ip daddr @revoked drop` cuts them in both directions.
import { cidrContains, formatAddress, parseAddress, parseCidr, type Cidr } from '../../net/cidr.js';
import type { Lease } from '../../state/store.js';
import { parseTarget } from '../schema.js';

export type NftFamily = 'ip' | 'inet';

/** Slots of the round-robin number `ct mark` carries; targets split them (60: 1–6, 10, 12 targets split evenly). */
export const SLOTS = 60;

/** The maps and sets holding per-lease elements (flushed and rebuilt by reconcile). */
export const LEASE_SETS = ['caps', 'caps_port', 'caps_src', 'caps_src_port', 'caps_live', 'caps_grace', 'except'] as const;

export interface TableOptions {
  family: NftFamily;
  table: string;
  /** Seconds a source stays in `seen` after its last new connection while live: at least ttl + slack + grace. */
  seenTimeout: number;
}

/**
 * The commands that create the table or bring an existing one to this definition: `add` is a no-op
 * for an identical object, and each chain is flushed and refilled, all in one transaction.
 */
export function tableCommands(o: TableOptions): string[] {
  const t = `${o.family} ${o.table}`;
  const key = 'ipv4_addr . inet_proto . inet_service';
  const c: string[] = [`add table ${t}`];
  c.push(`add set ${t} pool { type ipv4_addr; flags interval; auto-merge; }`);
  c.push(`add map ${t} caps { type ${key} . mark : ipv4_addr; flags interval, timeout; }`);
  c.push(`add map ${t} caps_port { type ${key} . mark : ipv4_addr . inet_service; flags interval, timeout; }`);
  c.push(`add map ${t} caps_src { type ipv4_addr . ${key} . mark : ipv4_addr; flags interval, timeout; }`);
  c.push(`add map ${t} caps_src_port { type ipv4_addr . ${key} . mark : ipv4_addr . inet_service; flags interval, timeout; }`);
  c.push(`add set ${t} caps_live { type ${key}; flags interval, timeout; }`);
  c.push(`add set ${t} caps_grace { type ${key}; flags interval, timeout; }`);
  c.push(`add set ${t} except { type ipv4_addr . ${key}; flags interval, timeout; }`);
  c.push(`add set ${t} seen { type ipv4_addr . ipv4_addr; size 1048576; flags dynamic, timeout; timeout ${o.seenTimeout}s; }`);
  c.push(`add set ${t} revoked { type ipv4_addr; flags timeout; }`);

  // Before NAT (dstnat is -100) and after conntrack (-200), so `ct state` and the public address are known.
  c.push(`add chain ${t} admit { type filter hook prerouting priority -150; policy accept; }`);
  c.push(`add chain ${t} limits`);
  c.push(`add chain ${t} nat { type nat hook prerouting priority dstnat; policy accept; }`);
  // Right after NAT (dstnat + 10): a packet still addressed to the pool was not translated.
  c.push(`add chain ${t} guard { type filter hook prerouting priority -90; policy accept; }`);
  for (const ch of ['admit', 'nat', 'guard']) c.push(`flush chain ${t} ${ch}`);

  const a = `add rule ${t} admit`;
  c.push(`${a} ct original ip daddr @revoked counter drop`);
  c.push(`${a} ct state != new accept`);
  c.push(`${a} ip daddr != @pool accept`);
  c.push(`${a} ip saddr . ip daddr . meta l4proto . th dport @except counter drop`);
  c.push(`${a} jump limits`);
  c.push(`${a} ip daddr . meta l4proto . th dport @caps_live update @seen { ip saddr . ip daddr } accept`);
  c.push(`${a} ip daddr . meta l4proto . th dport @caps_grace ip saddr . ip daddr @seen accept`);
  c.push(`${a} counter drop`);

  const n = `add rule ${t} nat`;
  c.push(`${n} ip daddr @pool ct mark set numgen inc mod ${SLOTS}`);
  c.push(`${n} ip daddr @pool dnat ip to ip saddr . ip daddr . meta l4proto . th dport . ct mark map @caps_src`);
  c.push(`${n} ip daddr @pool meta l4proto { tcp, udp } dnat ip addr . port to ip saddr . ip daddr . meta l4proto . th dport . ct mark map @caps_src_port`);
  c.push(`${n} ip daddr @pool dnat ip to ip daddr . meta l4proto . th dport . ct mark map @caps`);
  c.push(`${n} ip daddr @pool meta l4proto { tcp, udp } dnat ip addr . port to ip daddr . meta l4proto . th dport . ct mark map @caps_port`);

  // Admitted but not translated (a source outside a subnet scope): dropped silently, before routing
  // could answer with ICMP unreachable (the address must look like nothing is there).
  c.push(`add rule ${t} guard ip daddr @pool counter drop`);
  return c;
}

/** A `ct count` limit per distinct maxConnections value, created the first time a lease needs it. */
export function limitCommands(t: string, max: number): string[] {
  return [
    `add set ${t} mc_${max} { type ipv4_addr . inet_proto . inet_service; flags interval, timeout; }`,
    `add set ${t} conns_${max} { type ipv4_addr; size 65535; flags dynamic; }`,
    `add rule ${t} limits ip daddr . meta l4proto . th dport @mc_${max} add @conns_${max} { ip daddr ct count over ${max} } counter drop`,
  ];
}

/** One element a lease needs: `key` and optional `data` as nft text, in `set` of the table. */
export interface LeaseElement {
  readonly set: string;
  readonly key: string;
  readonly data?: string;
  /** ms since the epoch: when the element may go. */
  readonly until: number;
}

export class LeaseRejected extends Error {}

/**
 * The elements that put `lease` in force. Every address is parsed and re-formatted, so nothing but
 * canonical literals reaches nft (a malformed address would make nft try DNS). Throws LeaseRejected
 * for what the kernel backend cannot translate (IPv6).
 */
export function leaseElements(lease: Lease): LeaseElement[] {
  const addr = v4(lease.address, 'address');
  const targets = lease.targets.map((text) => {
    const t = parseTarget(text);
    if (!t) throw new LeaseRejected(`lease ${lease.id}: target ${JSON.stringify(text)} is not "IP" or "IP:PORT"`);
    return { host: v4(t.host, 'target'), port: t.port };
  });
  if (targets.length === 0) throw new LeaseRejected(`lease ${lease.id}: no target`);
  const src = lease.sourceSubnet === undefined ? undefined : v4cidr(lease.sourceSubnet, 'sourceSubnet');
  const out: LeaseElement[] = [];
  for (const p of lease.ports) {
    if (!(Number.isInteger(p.from) && Number.isInteger(p.to) && p.from >= 1 && p.from <= p.to && p.to <= 65535) || (p.proto !== 'tcp' && p.proto !== 'udp')) {
      throw new LeaseRejected(`lease ${lease.id}: bad ports ${JSON.stringify(p)}`);
    }
    const ports = p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`;
    const k = `${addr} . ${p.proto} . ${ports}`;
    // Round robin: target i takes slots [i*S/n, (i+1)*S/n); beyond SLOTS targets the rest get none.
    const n = Math.min(targets.length, SLOTS);
    for (let i = 0; i < n; i++) {
      const lo = Math.floor((i * SLOTS) / n);
      const hi = Math.floor(((i + 1) * SLOTS) / n) - 1;
      const slot = lo === hi ? `${lo}` : `${lo}-${hi}`;
      const t = targets[i]!;
      const set = (src ? 'caps_src' : 'caps') + (t.port === undefined ? '' : '_port');
      out.push({ set, key: `${src ? src + ' . ' : ''}${k} . ${slot}`, data: t.port === undefined ? t.host : `${t.host} . ${t.port}`, until: lease.graceUntil });
    }
    out.push({ set: 'caps_live', key: k, until: lease.liveUntil });
    out.push({ set: 'caps_grace', key: k, until: lease.graceUntil });
    for (const e of lease.exceptions) {
      const c = parseCidr(e, false) ?? cidrOfAddress(e);
      // An IPv6 exception cannot match an IPv4 lease: nothing to refuse.
      if (!c || c.family !== 4) continue;
      out.push({ set: 'except', key: `${cidrText(c)} . ${k}`, until: lease.graceUntil });
    }
    if (lease.maxConnections !== undefined) out.push({ set: `mc_${lease.maxConnections}`, key: k, until: lease.graceUntil });
  }
  return out;
}

/** `key timeout T expires T : data`: the explicit expiry also refreshes an element that exists (NOTES). */
export function elementText(e: LeaseElement, now: number): string {
  const ms = Math.max(1000, Math.ceil(e.until - now));
  return `${e.key} timeout ${ms}ms expires ${ms}ms${e.data === undefined ? '' : ' : ' + e.data}`;
}

function v4(text: string, what: string): string {
  const a = parseAddress(text);
  if (!a) throw new LeaseRejected(`${what} ${JSON.stringify(text)} is not an IP address`);
  if (a.family !== 4) throw new LeaseRejected(`${what} ${text}: the nftables backend translates IPv4 only`);
  return formatAddress(a);
}

function v4cidr(text: string, what: string): string {
  const c = parseCidr(text, false);
  if (!c) throw new LeaseRejected(`${what} ${JSON.stringify(text)} is not a CIDR prefix`);
  if (c.family !== 4) throw new LeaseRejected(`${what} ${text}: the nftables backend translates IPv4 only`);
  return cidrText(c);
}

function cidrOfAddress(text: string): Cidr | undefined {
  const a = parseAddress(text);
  return a ? { family: a.family, bytes: a.bytes, length: a.family === 4 ? 32 : 128 } : undefined;
}

/** The prefix with host bits cleared, as nft wants it. */
export function cidrText(c: Cidr): string {
  const bytes = new Uint8Array(c.bytes);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, c.length - i * 8));
    bytes[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return `${formatAddress({ family: c.family, bytes })}/${c.length}`;
}

/** True when `address` (canonical) is inside the IPv4 `pool` prefixes. */
export function inPools(pools: readonly Cidr[], address: string): boolean {
  const a = parseAddress(address);
  return a !== undefined && pools.some((p) => p.family === a.family && cidrContains(p, a));
}
