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
// - Exact twins (`_x`: hash sets, no intervals) hold the common lease — one target, single ports, no
//   maxHosts, not a honeypot lease: `caps_x` / `caps_port_x` (no slot: one target takes them all),
//   `caps_live_x`, `caps_grace_x`, and per OBO prefix length L `caps_src_x_L` / `caps_src_port_x_L`
//   keyed by `ip saddr & MASK_L` (rules in the `srcx` chain, created with the first lease of that
//   length). The kernel clones an interval set of concatenations (pipapo) on every transaction that
//   changes it, so its commit grows with the set; a hash set's insert does not.
import { cidrContains, formatAddress, parseAddress, parseCidr, type Cidr } from '../../net/cidr.js';
import type { Lease } from '../../state/store.js';
import { parseTarget } from '../schema.js';

export type NftFamily = 'ip' | 'inet';

/** Slots of the round-robin number `ct mark` carries; targets split them (60: 1–6, 10, 12 targets split evenly). */
export const SLOTS = 60;

/** The packet mark the admit chain gives a new flow no lease admits, so the nat chain sends it to the honeypot. */
export const HONEYPOT_MARK = '0x464c5848';

/** IPv4 objects carry the base name; their IPv6 twins insert "6" after the first word (caps_port → caps6_port). */
export function setName(base: string, fam: 4 | 6): string {
  return fam === 4 ? base : base.replace(/^([a-z]+)/, '$16');
}

/** The address families a table of `family` translates: `ip` IPv4 only, `inet` both. */
export const familiesOf = (family: NftFamily): Array<4 | 6> => (family === 'inet' ? [4, 6] : [4]);

const BASE_LEASE_SETS = ['caps', 'caps_port', 'caps_src', 'caps_src_port', 'caps_live', 'caps_grace', 'except', 'hp', 'hostlim', 'caps_x', 'caps_port_x', 'caps_live_x', 'caps_grace_x'] as const;

/** The maps and sets holding per-lease elements (flushed and rebuilt by reconcile), with the kind `flush` needs. */
export function leaseSets(family: NftFamily): Array<{ name: string; kind: 'map' | 'set' }> {
  const maps = new Set<string>(['caps', 'caps_port', 'caps_src', 'caps_src_port', 'hostlim', 'caps_x', 'caps_port_x']);
  return familiesOf(family).flatMap((f) => BASE_LEASE_SETS.map((b) => ({ name: setName(b, f), kind: maps.has(b) ? ('map' as const) : ('set' as const) })));
}

/** A honeypot target for unleased pool addresses, parsed: "IP" keeps the dialled port. */
export interface HoneypotTarget {
  host: string;
  port?: number;
}

export interface TableOptions {
  family: NftFamily;
  table: string;
  /** Seconds a source stays in `seen` after its last new connection while live: at least ttl + slack + grace. */
  seenTimeout: number;
  /** New flows to pool addresses no lease admits are DNAT-ed here instead of dropped (seed 000 §2.4). */
  honeypot?: HoneypotTarget;
  /** Seconds a source stays in `probes` after its last unproductive attempt; undefined: no counting. */
  probeTimeout?: number;
}

const P = (f: 4 | 6) => (f === 4 ? 'ip' : 'ip6');
const ADDR = (f: 4 | 6) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');

/**
 * The commands that create the table or bring an existing one to this definition: `add` is a no-op
 * for an identical object, and each chain is flushed and refilled, all in one transaction.
 */
export function tableCommands(o: TableOptions): string[] {
  const t = `${o.family} ${o.table}`;
  const fams = familiesOf(o.family);
  const c: string[] = [`add table ${t}`];
  for (const f of fams) {
    const A = ADDR(f);
    const key = `${A} . inet_proto . inet_service`;
    const n = (b: string) => setName(b, f);
    c.push(`add set ${t} ${n('pool')} { type ${A}; flags interval; auto-merge; }`);
    c.push(`add map ${t} ${n('caps')} { type ${key} . mark : ${A}; flags interval, timeout; }`);
    c.push(`add map ${t} ${n('caps_port')} { type ${key} . mark : ${A} . inet_service; flags interval, timeout; }`);
    c.push(`add map ${t} ${n('caps_src')} { type ${A} . ${key} . mark : ${A}; flags interval, timeout; }`);
    c.push(`add map ${t} ${n('caps_src_port')} { type ${A} . ${key} . mark : ${A} . inet_service; flags interval, timeout; }`);
    c.push(`add set ${t} ${n('caps_live')} { type ${key}; flags interval, timeout; }`);
    c.push(`add set ${t} ${n('caps_grace')} { type ${key}; flags interval, timeout; }`);
    c.push(`add set ${t} ${n('except')} { type ${A} . ${key}; flags interval, timeout; }`);
    // Honeypot leases (a denied query's capability): their flows are unproductive too (seed 000 §4).
    c.push(`add set ${t} ${n('hp')} { type ${key}; flags interval, timeout; }`);
    // maxHosts: a lease's key jumps to its own chain, which admits a source only if it fits in the lease's sized set.
    c.push(`add map ${t} ${n('hostlim')} { type ${key} : verdict; flags interval, timeout; }`);
    // Exact twins (hash sets) for the common lease: see the header.
    c.push(`add map ${t} ${n('caps_x')} { type ${key} : ${A}; flags timeout; }`);
    c.push(`add map ${t} ${n('caps_port_x')} { type ${key} : ${A} . inet_service; flags timeout; }`);
    c.push(`add set ${t} ${n('caps_live_x')} { type ${key}; flags timeout; }`);
    c.push(`add set ${t} ${n('caps_grace_x')} { type ${key}; flags timeout; }`);
    c.push(`add set ${t} ${n('seen')} { type ${A} . ${A}; size 1048576; flags dynamic, timeout; timeout ${o.seenTimeout}s; }`);
    c.push(`add set ${t} ${n('revoked')} { type ${A}; flags timeout; }`);
    c.push(`add set ${t} ${n('scanners')} { type ${A}; flags timeout; }`);
    // Per-source counters of unproductive attempts, read and diffed by the backend (the scanner detector).
    c.push(`add set ${t} ${n('probes')} { type ${A}; size 262144; flags dynamic, timeout; counter; timeout ${o.probeTimeout ?? 60}s; }`);
  }

  // Before NAT (dstnat is -100) and after conntrack (-200), so `ct state` and the public address are known.
  c.push(`add chain ${t} admit { type filter hook prerouting priority -150; policy accept; }`);
  c.push(`add chain ${t} limits`);
  // Subnet-scoped exact maps, one pair per prefix length (srcxCommands); like limits, not flushed here.
  c.push(`add chain ${t} srcx`);
  c.push(`add chain ${t} unleased`);
  c.push(`add chain ${t} nat { type nat hook prerouting priority dstnat; policy accept; }`);
  // Right after NAT (dstnat + 10): a packet still addressed to the pool was not translated.
  c.push(`add chain ${t} guard { type filter hook prerouting priority -90; policy accept; }`);
  for (const ch of ['admit', 'unleased', 'nat', 'guard']) c.push(`flush chain ${t} ${ch}`);

  const a = `add rule ${t} admit`;
  for (const f of fams) c.push(`${a} ct original ${P(f)} daddr @${setName('revoked', f)} counter drop`);
  c.push(`${a} ct state != new accept`);
  // After these two, a packet is addressed to its own family's pool (a rule on `ip6 daddr` never matches IPv4).
  for (const f of fams) c.push(`${a} ${P(f)} daddr != @${setName('pool', f)} accept`);
  for (const f of fams) {
    const p = P(f);
    const n = (b: string) => setName(b, f);
    c.push(`${a} ${p} saddr @${n('scanners')} counter drop`);
    c.push(`${a} ${p} saddr . ${p} daddr . meta l4proto . th dport @${n('except')} counter drop`);
  }
  c.push(`${a} jump limits`);
  for (const f of fams) {
    const p = P(f);
    const n = (b: string) => setName(b, f);
    const k = `${p} daddr . meta l4proto . th dport`;
    if (o.probeTimeout !== undefined) c.push(`${a} ${k} @${n('hp')} update @${n('probes')} { ${p} saddr }`);
    // A lease with maxHosts: its chain returns for a source that fits (counted before the dnat) and drops the rest.
    c.push(`${a} ${k} @${n('caps_live')} ${k} vmap @${n('hostlim')}`);
    c.push(`${a} ${k} @${n('caps_live')} update @${n('seen')} { ${p} saddr . ${p} daddr } accept`);
    c.push(`${a} ${k} @${n('caps_grace')} ${p} saddr . ${p} daddr @${n('seen')} accept`);
    c.push(`${a} ${k} @${n('caps_live_x')} update @${n('seen')} { ${p} saddr . ${p} daddr } accept`);
    c.push(`${a} ${k} @${n('caps_grace_x')} ${p} saddr . ${p} daddr @${n('seen')} accept`);
  }
  c.push(`${a} jump unleased`);
  c.push(`${a} counter drop`);

  // No lease admits the flow: count it for the scanner detector, then the honeypot or nothing (seed 000 §2.4, §4).
  const u = `add rule ${t} unleased`;
  for (const f of fams) if (o.probeTimeout !== undefined) c.push(`${u} meta nfproto ${f === 4 ? 'ipv4' : 'ipv6'} update @${setName('probes', f)} { ${P(f)} saddr }`);
  const hpFam = o.honeypot ? (o.honeypot.host.includes(':') ? 6 : 4) : undefined;
  if (hpFam !== undefined && fams.includes(hpFam)) c.push(`${u} meta nfproto ${hpFam === 4 ? 'ipv4' : 'ipv6'} meta mark set ${HONEYPOT_MARK} counter accept`);

  const nat = `add rule ${t} nat`;
  if (o.honeypot && hpFam !== undefined && fams.includes(hpFam)) {
    const h = o.honeypot;
    const to = h.port === undefined ? h.host : hpFam === 4 ? `${h.host}:${h.port}` : `[${h.host}]:${h.port}`;
    // A port rewrite needs a transport protocol match; other protocols keep their port-less DNAT.
    c.push(`${nat} meta mark ${HONEYPOT_MARK}${h.port === undefined ? '' : ' meta l4proto { tcp, udp }'} dnat ${P(hpFam)} to ${to}`);
  }
  for (const f of fams) {
    const p = P(f);
    const n = (b: string) => setName(b, f);
    c.push(`${nat} ${p} daddr @${n('pool')} ct mark set numgen inc mod ${SLOTS}`);
    c.push(`${nat} ${p} daddr @${n('pool')} dnat ${p} to ${p} saddr . ${p} daddr . meta l4proto . th dport . ct mark map @${n('caps_src')}`);
    c.push(`${nat} ${p} daddr @${n('pool')} meta l4proto { tcp, udp } dnat ${p} addr . port to ${p} saddr . ${p} daddr . meta l4proto . th dport . ct mark map @${n('caps_src_port')}`);
    c.push(`${nat} ${p} daddr @${n('pool')} jump srcx`);
    c.push(`${nat} ${p} daddr @${n('pool')} dnat ${p} to ${p} daddr . meta l4proto . th dport map @${n('caps_x')}`);
    c.push(`${nat} ${p} daddr @${n('pool')} meta l4proto { tcp, udp } dnat ${p} addr . port to ${p} daddr . meta l4proto . th dport map @${n('caps_port_x')}`);
    c.push(`${nat} ${p} daddr @${n('pool')} dnat ${p} to ${p} daddr . meta l4proto . th dport . ct mark map @${n('caps')}`);
    c.push(`${nat} ${p} daddr @${n('pool')} meta l4proto { tcp, udp } dnat ${p} addr . port to ${p} daddr . meta l4proto . th dport . ct mark map @${n('caps_port')}`);
  }

  // Admitted but not translated (a source outside a subnet scope): dropped silently, before routing
  // could answer with ICMP unreachable (the address must look like nothing is there).
  for (const f of fams) c.push(`add rule ${t} guard ${P(f)} daddr @${setName('pool', f)} counter drop`);
  return c;
}

/** A `ct count` limit per distinct maxConnections value and family, created the first time a lease needs it. */
export function limitCommands(t: string, max: number, f: 4 | 6 = 4): string[] {
  const p = P(f);
  const mc = `${setName('mc', f)}_${max}`;
  const conns = `${setName('conns', f)}_${max}`;
  return [
    `add set ${t} ${mc} { type ${ADDR(f)} . inet_proto . inet_service; flags interval, timeout; }`,
    `add set ${t} ${conns} { type ${ADDR(f)}; size 65535; flags dynamic; }`,
    `add rule ${t} limits ${p} daddr . meta l4proto . th dport @${mc} add @${conns} { ${p} daddr ct count over ${max} } counter drop`,
  ];
}

/** The exact maps of subnet-scoped leases whose OBO prefix has `len` bits (`caps_src_x_L`, `caps_src_port_x_L`). */
export function srcxNames(f: 4 | 6, len: number): [string, string] {
  return [`${setName('caps_src_x', f)}_${len}`, `${setName('caps_src_port_x', f)}_${len}`];
}

/** The mask of a prefix length as nft text (255.255.255.0, ffff:ffff:ffff:ff00::). */
function maskText(f: 4 | 6, len: number): string {
  const bytes = new Uint8Array(f === 4 ? 4 : 16);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (0xff << (8 - Math.max(0, Math.min(8, len - i * 8)))) & 0xff;
  return formatAddress({ family: f, bytes });
}

/** The two maps for prefix length `len` and their rules in `srcx` (the source masked to the prefix, then looked up exactly). */
export function srcxCommands(t: string, f: 4 | 6, len: number): string[] {
  const p = P(f);
  const A = ADDR(f);
  const [m, mp] = srcxNames(f, len);
  const k = `${p} saddr & ${maskText(f, len)} . ${p} daddr . meta l4proto . th dport`;
  return [
    `add map ${t} ${m} { type ${A} . ${A} . inet_proto . inet_service : ${A}; flags timeout; }`,
    `add map ${t} ${mp} { type ${A} . ${A} . inet_proto . inet_service : ${A} . inet_service; flags timeout; }`,
    `add rule ${t} srcx dnat ${p} to ${k} map @${m}`,
    `add rule ${t} srcx meta l4proto { tcp, udp } dnat ${p} addr . port to ${k} map @${mp}`,
  ];
}

/**
 * A lease's own host set and chain for maxHosts (seed 000 §2.4 "only the first N hosts"): the set holds
 * at most N sources; `update` of a known source succeeds, of a new one fails once the set is full, and
 * then the chain's second rule drops the packet. Sources stay until the lease's grace ends.
 */
export function hostLimitCommands(t: string, lease: Lease, now: number): string[] {
  const f = familyOfAddress(lease.address);
  const secs = Math.max(1, Math.ceil((lease.graceUntil - now) / 1000) + 1);
  return [
    `add set ${t} h_${lease.id} { type ${ADDR(f)}; size ${lease.maxHosts}; flags dynamic, timeout; timeout ${secs}s; }`,
    `add chain ${t} hl_${lease.id}`,
    `flush chain ${t} hl_${lease.id}`,
    `add rule ${t} hl_${lease.id} update @h_${lease.id} { ${P(f)} saddr } return`,
    `add rule ${t} hl_${lease.id} counter drop`,
  ];
}

/** Removes a lease's host chain and set (after its hostlim element, in the same transaction). */
export function hostLimitRemoval(t: string, id: string): string[] {
  return [`delete chain ${t} hl_${id}`, `delete set ${t} h_${id}`];
}

const familyOfAddress = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);

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
 * for what the kernel backend cannot translate (an IPv6 lease in an `ip` table, targets of the other
 * family: no NAT64). Lease ids are hex (core.ts newId); anything else is refused too.
 */
export function leaseElements(lease: Lease, family: NftFamily = 'inet'): LeaseElement[] {
  const a = parseAddress(lease.address);
  if (!a) throw new LeaseRejected(`lease ${lease.id}: address ${JSON.stringify(lease.address)} is not an IP address`);
  const f = a.family;
  if (!familiesOf(family).includes(f)) throw new LeaseRejected(`lease ${lease.id}: address ${lease.address}: an IPv6 lease needs capabilities.nftables.family: inet`);
  if (!/^[0-9a-f]{1,32}$/.test(lease.id)) throw new LeaseRejected(`lease id ${JSON.stringify(lease.id)} is not hex`);
  const n = (b: string) => setName(b, f);
  const addr = formatAddress(a);
  // A service with IPv4 and IPv6 targets: each lease translates to those of its own family (no NAT64).
  const targets = parsedTargets(lease)[f === 4 ? 0 : 1];
  if (targets.length === 0) throw new LeaseRejected(`lease ${lease.id}: no IPv${f} target for an IPv${f} address (no NAT64 in the kernel backend)`);
  const srcCidr = lease.sourceSubnet === undefined ? undefined : prefixCidr(lease.sourceSubnet, f, 'sourceSubnet');
  const src = srcCidr === undefined ? undefined : cidrText(srcCidr);
  // The common lease goes to the exact (hash) twins; see the header.
  const exact = lease.maxHosts === undefined && !lease.honeypot && targets.length === 1 && lease.ports.every((p) => p.from === p.to) && (srcCidr === undefined || srcCidr.length > 0);
  const out: LeaseElement[] = [];
  for (const p of lease.ports) {
    if (!(Number.isInteger(p.from) && Number.isInteger(p.to) && p.from >= 1 && p.from <= p.to && p.to <= 65535) || (p.proto !== 'tcp' && p.proto !== 'udp')) {
      throw new LeaseRejected(`lease ${lease.id}: bad ports ${JSON.stringify(p)}`);
    }
    const ports = p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`;
    const k = `${addr} . ${p.proto} . ${ports}`;
    if (exact) {
      const t = targets[0]!;
      const data = t.port === undefined ? t.host : `${t.host} . ${t.port}`;
      if (srcCidr) {
        const [m, mp] = srcxNames(f, srcCidr.length);
        out.push({ set: t.port === undefined ? m : mp, key: `${src!.slice(0, src!.indexOf('/'))} . ${k}`, data, until: lease.graceUntil });
      } else {
        out.push({ set: n(t.port === undefined ? 'caps_x' : 'caps_port_x'), key: k, data, until: lease.graceUntil });
      }
      out.push({ set: n('caps_live_x'), key: k, until: lease.liveUntil });
      out.push({ set: n('caps_grace_x'), key: k, until: lease.graceUntil });
    } else {
      // Round robin: target i takes slots [i*S/n, (i+1)*S/n); beyond SLOTS targets the rest get none.
      const count = Math.min(targets.length, SLOTS);
      for (let i = 0; i < count; i++) {
        const lo = Math.floor((i * SLOTS) / count);
        const hi = Math.floor(((i + 1) * SLOTS) / count) - 1;
        const slot = lo === hi ? `${lo}` : `${lo}-${hi}`;
        const t = targets[i]!;
        const set = n(src ? 'caps_src' : 'caps') + (t.port === undefined ? '' : '_port');
        out.push({ set, key: `${src ? src + ' . ' : ''}${k} . ${slot}`, data: t.port === undefined ? t.host : `${t.host} . ${t.port}`, until: lease.graceUntil });
    }
    out.push({ set: n('caps_live'), key: k, until: lease.liveUntil });
    out.push({ set: n('caps_grace'), key: k, until: lease.graceUntil });
    }
    if (lease.honeypot) out.push({ set: n('hp'), key: k, until: lease.graceUntil });
    if (lease.maxHosts !== undefined) out.push({ set: n('hostlim'), key: k, data: `jump hl_${lease.id}`, until: lease.graceUntil });
    for (const e of lease.exceptions) {
      const c = parseCidr(e, false) ?? cidrOfAddress(e);
      // An exception of the other family cannot match this lease: nothing to refuse.
      if (!c || c.family !== f) continue;
      out.push({ set: n('except'), key: `${cidrText(c)} . ${k}`, until: lease.graceUntil });
    }
    if (lease.maxConnections !== undefined) out.push({ set: `${n('mc')}_${lease.maxConnections}`, key: k, until: lease.graceUntil });
  }
  return out;
}

/** `key timeout T expires T : data`: the explicit expiry also refreshes an element that exists (NOTES). */
export function elementText(e: LeaseElement, now: number): string {
  const ms = Math.max(1000, Math.ceil(e.until - now));
  return `${e.key} timeout ${ms}ms expires ${ms}ms${e.data === undefined ? '' : ' : ' + e.data}`;
}

function prefixCidr(text: string, f: 4 | 6, what: string): Cidr {
  const c = parseCidr(text, false);
  if (!c) throw new LeaseRejected(`${what} ${JSON.stringify(text)} is not a CIDR prefix`);
  if (c.family !== f) throw new LeaseRejected(`${what} ${text}: not of the lease's address family`);
  return c;
}

interface ParsedTarget {
  host: string;
  family: 4 | 6;
  port?: number;
}

/**
 * The lease's targets parsed, IPv4 ones then IPv6 ones. Every lease this process grants for a service
 * shares the service's targets array, so it is parsed once per array, not per grant (issue 14: the
 * grant path's allocation).
 */
const targetsParsed = new WeakMap<readonly string[], [ParsedTarget[], ParsedTarget[]]>();
function parsedTargets(lease: Lease): [ParsedTarget[], ParsedTarget[]] {
  const hit = targetsParsed.get(lease.targets);
  if (hit) return hit;
  const parsed = lease.targets.map((text): ParsedTarget => {
    const t = parseTarget(text);
    const ta = t ? parseAddress(t.host) : undefined;
    if (!t || !ta) throw new LeaseRejected(`lease ${lease.id}: target ${JSON.stringify(text)} is not "IP" or "IP:PORT"`);
    return { host: formatAddress(ta), family: ta.family, port: t.port };
  });
  const out: [ParsedTarget[], ParsedTarget[]] = [parsed.filter((t) => t.family === 4), parsed.filter((t) => t.family === 6)];
  targetsParsed.set(lease.targets, out);
  return out;
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

/** True when `address` (canonical) is inside the `pool` prefixes. */
export function inPools(pools: readonly Cidr[], address: string): boolean {
  const a = parseAddress(address);
  return a !== undefined && pools.some((p) => p.family === a.family && cidrContains(p, a));
}
