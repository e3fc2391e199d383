// Service discovery over Stateless DNS (seed 003 §3.1): among trusted hosts, an instance's SRV, TXT and
// address stored as key-value entries (§3.1.1); in public, a directory reached through an NR delegation
// that lists instances and takes RFC 2136 registrations (§3.1.2).
import dgram from 'node:dgram';
import net from 'node:net';
import { getRcode } from '../wire/message.js';
import { RRClass, RRType, Rcode, rcodeName, type ResourceRecord, type SRVRdata, type TXTRdata, type TargetRdata } from '../wire/types.js';
import { namesEqual, parseName } from '../wire/name.js';
import { kvGet, kvPut, type KvSpec, type KvTarget } from './kv.js';
import { Stub, type ServerAddress } from './stub.js';
import { addRecordsUpdate } from './update.js';

export interface Instance {
  instance: string;
  /** "_type._tcp" */
  service: string;
  port: number;
  txt: string[];
  address: string;
}

/** `_type._tcp` → `_type_tcp`: one label, as §3.1.2 writes the alias ("Note the lack of the separating ."). */
export function serviceAlias(service: string): string {
  if (!/^_[A-Za-z0-9-]{1,15}\._(tcp|udp)$/.test(service)) throw new Error(`expected a service type like _http._tcp, found ${JSON.stringify(service)}`);
  return service.replace('.', '');
}

function checkInstance(instance: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,40}$/.test(instance)) throw new Error(`expected an instance name of letters, digits and "-" (one label), found ${JSON.stringify(instance)}`);
}

/** Keys of one instance (§3.1.1: "a label similar to the mDNS-SD domain"): one per record, TXT numbered. */
export function instanceKeys(instance: string, service: string): { srv: string; addr: string; txt: (i: number) => string } {
  checkInstance(instance);
  const base = `${instance}${serviceAlias(service)}`;
  return { srv: `${base}-srv`, addr: `${base}-addr`, txt: (i) => `${base}-txt${i}` };
}

const MAX_TXT = 16;

/** The local address used to reach `server` (what an announcement should advertise by default). */
export async function localAddressFor(server: ServerAddress): Promise<string> {
  const sock = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(server.port, server.host, () => resolve());
    });
    return sock.address().address;
  } finally {
    sock.close();
  }
}

/** §3.1.1: stores SRV, TXT and the address as key-value entries with one method. */
export async function announceTrusted(t: KvTarget, method: KvSpec['method'], inst: Instance): Promise<string[]> {
  const k = instanceKeys(inst.instance, inst.service);
  const zone = t.zone === '.' ? '' : t.zone;
  const sent: string[] = [];
  const put = async (type: KvSpec['type'], key: string, value: string) => {
    const r = await kvPut(t, { method, type }, key, value);
    sent.push(`${r.query.name} ${r.rcode}`);
  };
  await put('SRV', k.srv, `${k.addr}.${zone}:${inst.port}`);
  await put(inst.address.includes(':') ? 'AAAA' : 'A', k.addr, inst.address);
  for (let i = 0; i < Math.min(inst.txt.length, MAX_TXT); i++) await put('TXT', k.txt(i + 1), inst.txt[i]!);
  return sent;
}

export interface Resolved {
  srv?: { target: string; port: number };
  address?: string;
  txt: string[];
}

/** §3.1.1: reads an instance back; `v6` asks for an AAAA address. */
export async function resolveTrusted(t: KvTarget, method: KvSpec['method'], instance: string, service: string, v6 = false): Promise<Resolved> {
  const k = instanceKeys(instance, service);
  const sub = () => `q${Math.floor(Math.random() * 1e9).toString(36)}`;
  const out: Resolved = { txt: [] };
  const srv = (await kvGet(t, { method, type: 'SRV' }, k.srv, sub())).value;
  if (srv) {
    const m = /^(.*):(\d+)$/.exec(srv);
    if (m) out.srv = { target: m[1]!, port: Number(m[2]) };
  }
  const address = (await kvGet(t, { method, type: v6 ? 'AAAA' : 'A' }, k.addr, sub())).value;
  if (address) out.address = address;
  for (let i = 1; i <= MAX_TXT; i++) {
    const v = (await kvGet(t, { method, type: 'TXT' }, k.txt(i), sub())).value;
    if (v === undefined) break;
    out.txt.push(v);
  }
  return out;
}

/** alias.@ of a service's directory. */
export function directoryApex(zone: string, service: string): string {
  return parseName(`${serviceAlias(service)}.${zone === '.' ? '' : zone.endsWith('.') ? zone : zone + '.'}`);
}

/**
 * §3.1.2: asks the resolver for alias.@ A; a directory answers with its own address. undefined when
 * nobody serves the alias yet (the caller then becomes the directory).
 */
export async function findDirectory(stub: Stub, zone: string, service: string): Promise<string | undefined> {
  const apex = directoryApex(zone, service);
  const r = await stub.query(apex, RRType.A);
  const a = r.message.answers.find((x) => x.type === RRType.A && namesEqual(x.name, apex));
  return a ? (a.data as { address: string }).address : undefined;
}

/** The records that register an instance with its service's directory: PTR at the apex, SRV, A/AAAA and TXT at the instance. */
export function instanceRecords(zone: string, inst: Instance, ttl = 60): { apex: string; owner: string; records: ResourceRecord[] } {
  checkInstance(inst.instance);
  const apex = directoryApex(zone, inst.service);
  const owner = `${inst.instance}.${apex}`;
  const records: ResourceRecord[] = [
    { name: apex, type: RRType.PTR, class: RRClass.IN, ttl, data: { target: owner } },
    { name: owner, type: RRType.SRV, class: RRClass.IN, ttl, data: { priority: 0, weight: 0, port: inst.port, target: owner } },
    { name: owner, type: inst.address.includes(':') ? RRType.AAAA : RRType.A, class: RRClass.IN, ttl, data: { address: inst.address } },
  ];
  if (inst.txt.length) records.push({ name: owner, type: RRType.TXT, class: RRClass.IN, ttl, data: { strings: inst.txt.map((s) => new TextEncoder().encode(s)) } });
  return { apex, owner, records };
}

/** Sends the instance's PTR, SRV, TXT and A/AAAA to the directory at `directory`:53 as an UPDATE. */
export async function registerWithDirectory(directory: ServerAddress, zone: string, inst: Instance, ttl = 60): Promise<string> {
  const { apex, owner, records } = instanceRecords(zone, inst, ttl);
  const stub = new Stub({ servers: [directory], recursion: false, edns: false });
  const r = await stub.exchange(addRecordsUpdate(Math.floor(Math.random() * 65536), apex, records));
  const rc = getRcode(r.message);
  if (rc !== Rcode.NOERROR) throw new Error(`the directory at ${directory.host} refused the registration: ${rcodeName(rc)}`);
  return owner;
}

/** §3.1.2 browsing: the directory's PTR list, through the resolver. Instance names, sorted. */
/** The instances listed at the service's directory apex, and what the resolver answered (for "says what failed"). */
export async function browse(stub: Stub, zone: string, service: string): Promise<{ instances: string[]; apex: string; rcode: string }> {
  const apex = directoryApex(zone, service);
  const r = await stub.query(apex, RRType.PTR);
  const instances = r.message.answers
    .filter((x) => x.type === RRType.PTR && namesEqual(x.name, apex))
    .map((x) => (x.data as TargetRdata).target.slice(0, -(apex.length + 1)))
    .sort();
  return { instances, apex, rcode: rcodeName(getRcode(r.message)) };
}

/** §3.1.2 resolution: SRV, TXT and address of one instance from the directory, through the resolver. */
export async function resolvePublic(stub: Stub, zone: string, service: string, instance: string): Promise<Resolved> {
  const owner = `${instance}.${directoryApex(zone, service)}`;
  const out: Resolved = { txt: [] };
  const srv = (await stub.query(owner, RRType.SRV)).message.answers.find((x) => x.type === RRType.SRV);
  if (srv) out.srv = { target: (srv.data as SRVRdata).target.replace(/\.$/, ''), port: (srv.data as SRVRdata).port };
  const a = (await stub.query(owner, RRType.A)).message.answers.find((x) => x.type === RRType.A || x.type === RRType.AAAA);
  const a6 = a ? undefined : (await stub.query(owner, RRType.AAAA)).message.answers.find((x) => x.type === RRType.AAAA);
  const addr = a ?? a6;
  if (addr) out.address = (addr.data as { address: string }).address;
  const txt = (await stub.query(owner, RRType.TXT)).message.answers.find((x) => x.type === RRType.TXT);
  if (txt) out.txt = (txt.data as TXTRdata).strings.map((s) => new TextDecoder().decode(s));
  return out;
}
