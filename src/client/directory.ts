// The public-discovery directory (seed 003 §3.1.2, §2.8.3): a small authoritative server for alias.@ that
// an NR delegation points at; it lists service instances (PTR, SRV, TXT, A/AAAA) and takes RFC 2136 UPDATEs.
//
// What it answers, for apex = alias.@ and its own address IP (the address the query arrived on):
//   apex SOA / NS (NS nr.apex, glue nr.apex A IP), apex A IP (§2.8.3's "alias.@ IN A IP"), nr.apex A IP,
//   apex PTR → every registered instance, and every registered record below the apex.
// UPDATE (RFC 2136): zone section = apex SOA; prerequisites §2.4 without values (name in use / not in
// use, RRset exists / does not exist); updates §2.5: add (class IN), delete RRset (ANY), delete all at a
// name (ANY ANY), delete one RR (NONE). Only PTR at the apex and PTR/SRV/TXT/A/AAAA below it are accepted.
// There is NO authentication (no TSIG): anyone who can reach the directory can register or delete.
import dgram from 'node:dgram';
import net from 'node:net';
import { decodeMessage, encodeMessage, wordToFlags } from '../wire/message.js';
import { isSubdomain, namesEqual, nameKey, splitLabels } from '../wire/name.js';
import { Opcode, RRClass, RRType, Rcode, type Message, type Rdata, type ResourceRecord } from '../wire/types.js';
import { decodeUpdate, type UpdateRecord } from './update.js';
import type { ServerAddress } from './stub.js';

export interface DirectoryOptions {
  /** The echo zone, absolute. */
  zone: string;
  /** The alias label served; undefined serves every alias (the probe's NR responder). */
  alias?: string;
  /** TTL of answers; short, so a resolver keeps asking through the delegation. Default 5. */
  ttl?: number;
}

const ACCEPTED = new Set<number>([RRType.PTR, RRType.SRV, RRType.TXT, RRType.A, RRType.AAAA]);

function dataKey(d: Rdata | undefined): string {
  return JSON.stringify(d, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : typeof v === 'string' ? v.toLowerCase() : v));
}

export class DirectoryStore {
  /** Records by owner key. */
  readonly records = new Map<string, ResourceRecord[]>();

  list(name: string): ResourceRecord[] {
    return this.records.get(nameKey(name)) ?? [];
  }

  add(rr: ResourceRecord): void {
    const list = this.records.get(nameKey(rr.name)) ?? [];
    if (!list.some((x) => x.type === rr.type && dataKey(x.data) === dataKey(rr.data))) list.push(rr);
    this.records.set(nameKey(rr.name), list);
  }

  delete(name: string, type: number | undefined, data?: Rdata): void {
    const key = nameKey(name);
    const list = (this.records.get(key) ?? []).filter((x) => !((type === undefined || x.type === type) && (data === undefined || dataKey(x.data) === dataKey(data))));
    if (list.length) this.records.set(key, list);
    else this.records.delete(key);
  }
}

export class Directory {
  readonly store = new DirectoryStore();
  private readonly zone: string;
  private readonly alias: string | undefined;
  private readonly ttl: number;
  private readonly sockets: dgram.Socket[] = [];
  private readonly servers: net.Server[] = [];

  constructor(opts: DirectoryOptions) {
    this.zone = opts.zone.endsWith('.') ? opts.zone : opts.zone + '.';
    this.alias = opts.alias;
    this.ttl = opts.ttl ?? 5;
  }

  /** alias.@ for a name below the zone (the label right under it), or undefined when not served. */
  private apexOf(name: string): string | undefined {
    if (!isSubdomain(name, this.zone) || namesEqual(name, this.zone)) return undefined;
    const labels = splitLabels(name);
    const alias = labels[labels.length - splitLabels(this.zone).length - 1]!;
    if (this.alias !== undefined && alias.toLowerCase() !== this.alias.toLowerCase()) return undefined;
    return `${alias}.${this.zone}`;
  }

  /** Answers one message that arrived on `local` (an IPv4/IPv6 address); null drops it. */
  handle(packet: Uint8Array, local: string): Uint8Array | null {
    if (packet.length < 12 || (packet[2]! & 0x80) !== 0) return null;
    const opcode = wordToFlags((packet[2]! << 8) | packet[3]!).opcode;
    if (opcode === Opcode.UPDATE) return this.handleUpdate(packet);
    let q: Message;
    try {
      q = decodeMessage(packet);
    } catch {
      return encodeMessage(this.reply({ id: (packet[0]! << 8) | packet[1]!, questions: [], rd: false }, Rcode.FORMERR));
    }
    if (opcode !== Opcode.QUERY) return encodeMessage(this.reply(q, Rcode.NOTIMP, q.flags.opcode));
    const question = q.questions[0];
    if (q.questions.length !== 1 || !question) return encodeMessage(this.reply(q, Rcode.FORMERR));
    const apex = this.apexOf(question.name);
    if (!apex) return encodeMessage(this.reply(q, Rcode.REFUSED));
    const m = this.reply(q, Rcode.NOERROR);
    m.flags.aa = true;
    const ttl = this.ttl;
    const v6 = net.isIPv6(local);
    const addr = (name: string): ResourceRecord => ({ name, type: v6 ? RRType.AAAA : RRType.A, class: RRClass.IN, ttl, data: { address: local } });
    const ns: ResourceRecord = { name: apex, type: RRType.NS, class: RRClass.IN, ttl, data: { target: `nr.${apex}` } };
    const soa: ResourceRecord = { name: apex, type: RRType.SOA, class: RRClass.IN, ttl, data: { mname: `nr.${apex}`, rname: `hostmaster.${apex}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 1 } };
    const qn = question.name;
    const want = (rr: ResourceRecord) => question.type === RRType.ANY || rr.type === question.type;
    const synthesized: ResourceRecord[] = [];
    if (namesEqual(qn, apex)) synthesized.push(soa, ns, addr(qn));
    if (namesEqual(qn, `nr.${apex}`)) synthesized.push(addr(qn));
    const stored = this.store.list(qn).map((r) => ({ ...r, name: qn, ttl }));
    const all = [...synthesized, ...stored];
    m.answers = all.filter(want);
    if (m.answers.length === 0) {
      // RFC 2308: NODATA when the name exists, else NXDOMAIN (anything below the apex that nobody registered).
      if (all.length === 0 && !namesEqual(qn, apex)) m.flags.rcode = Rcode.NXDOMAIN;
      m.authorities = [{ ...soa, ttl: 1 }];
    } else if (!(question.type === RRType.NS && namesEqual(qn, apex))) {
      m.authorities = [ns];
      m.additionals = [addr(`nr.${apex}`)];
    }
    return encodeMessage(m, { maxSize: q.edns ? Math.max(512, Math.min(q.edns.udpSize, 1232)) : 512 });
  }

  private reply(q: Pick<Message, 'id' | 'questions'> & { flags?: Message['flags']; rd?: boolean }, rcode: number, opcode: number = Opcode.QUERY): Message {
    return {
      id: q.id,
      flags: { qr: true, opcode, aa: false, tc: false, rd: q.flags?.rd ?? false, ra: false, z: false, ad: false, cd: false, rcode },
      questions: q.questions,
      answers: [],
      authorities: [],
      additionals: [],
    };
  }

  /** RFC 2136 §3: zone check, prerequisites, then every update or none. */
  private handleUpdate(packet: Uint8Array): Uint8Array {
    let u;
    try {
      u = decodeUpdate(packet);
    } catch {
      return encodeMessage(this.reply({ id: (packet[0]! << 8) | packet[1]!, questions: [] }, Rcode.FORMERR, Opcode.UPDATE));
    }
    const answer = (rcode: number) => encodeMessage(this.reply({ id: u.id, questions: u.zone }, rcode, Opcode.UPDATE));
    const z = u.zone[0];
    if (u.zone.length !== 1 || !z || z.type !== RRType.SOA) return answer(Rcode.FORMERR);
    const apex = this.apexOf(z.name);
    // §3.1.1: a zone this server is not authoritative for is NOTAUTH.
    if (!apex || !namesEqual(apex, z.name)) return answer(Rcode.NOTAUTH);
    for (const p of u.prerequisites) {
      const rc = this.checkPrerequisite(p, apex);
      if (rc !== Rcode.NOERROR) return answer(rc);
    }
    for (const r of u.updates) {
      const rc = this.checkUpdate(r, apex);
      if (rc !== Rcode.NOERROR) return answer(rc);
    }
    for (const r of u.updates) this.apply(r);
    return answer(Rcode.NOERROR);
  }

  private checkPrerequisite(p: UpdateRecord, apex: string): number {
    if (!isSubdomain(p.name, apex)) return Rcode.NOTZONE;
    if (p.ttl !== 0 || p.data !== undefined) return p.class === RRClass.IN ? Rcode.NOTIMP : Rcode.FORMERR;
    const list = this.store.list(p.name);
    const has = p.type === RRType.ANY ? list.length > 0 : list.some((r) => r.type === p.type);
    if (p.class === RRClass.ANY) return has ? Rcode.NOERROR : p.type === RRType.ANY ? Rcode.NXDOMAIN : Rcode.NXRRSET;
    if (p.class === RRClass.NONE) return has ? (p.type === RRType.ANY ? Rcode.YXDOMAIN : Rcode.YXRRSET) : Rcode.NOERROR;
    return Rcode.FORMERR;
  }

  private checkUpdate(r: UpdateRecord, apex: string): number {
    if (!isSubdomain(r.name, apex)) return Rcode.NOTZONE;
    const atApex = namesEqual(r.name, apex);
    if (r.class === RRClass.IN) {
      if (!r.data || !ACCEPTED.has(r.type) || (atApex && r.type !== RRType.PTR)) return Rcode.REFUSED;
      return Rcode.NOERROR;
    }
    if (r.class === RRClass.ANY) return r.data === undefined && r.ttl === 0 && (r.type === RRType.ANY || ACCEPTED.has(r.type)) ? Rcode.NOERROR : Rcode.FORMERR;
    if (r.class === RRClass.NONE) return r.data !== undefined && r.ttl === 0 && ACCEPTED.has(r.type) ? Rcode.NOERROR : Rcode.FORMERR;
    return Rcode.FORMERR;
  }

  private apply(r: UpdateRecord): void {
    if (r.class === RRClass.IN) this.store.add({ name: r.name, type: r.type, class: RRClass.IN, ttl: r.ttl, data: r.data! });
    else if (r.class === RRClass.ANY) this.store.delete(r.name, r.type === RRType.ANY ? undefined : r.type);
    else this.store.delete(r.name, r.type, r.data);
  }

  /** Listens on UDP and TCP at each address. */
  async listen(addresses: ServerAddress[]): Promise<void> {
    for (const a of addresses) {
      const sock = dgram.createSocket(net.isIPv6(a.host) ? 'udp6' : 'udp4');
      sock.on('message', (msg, rinfo) => {
        const out = this.handle(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), a.host);
        if (out) sock.send(out, rinfo.port, rinfo.address);
      });
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ address: a.host, port: a.port, exclusive: true }, () => resolve());
      });
      this.sockets.push(sock);
      const srv = net.createServer((c) => this.serveTcp(c, a.host));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ host: a.host, port: a.port, exclusive: true }, () => resolve());
      });
      this.servers.push(srv);
    }
  }

  private serveTcp(c: net.Socket, local: string): void {
    let buf = Buffer.alloc(0);
    c.setTimeout(10000, () => c.destroy());
    c.on('error', () => c.destroy());
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const n = buf.readUInt16BE(0);
        const out = this.handle(Uint8Array.from(buf.subarray(2, 2 + n)), local);
        buf = buf.subarray(2 + n);
        if (out) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          c.write(Buffer.concat([len, out]));
        }
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets.length = 0;
    this.servers.length = 0;
  }
}
