// The public-discovery directory (seed 003 §3.1.2, §2.8.3): a small authoritative server for alias.@ that
// an NR delegation points at; it lists service instances (PTR, SRV, TXT, A/AAAA) and takes RFC 2136 UPDATEs.
//
// What it answers, for apex = alias.@ and its own address IP (the address the query arrived on):
//   apex SOA / NS (NS nr.apex, glue nr.apex A IP), apex A IP (§2.8.3's "alias.@ IN A IP"), nr.apex A IP,
//   apex PTR → every registered instance, and every registered record below the apex.
// Each apex is a zone (SOA, NS nr.apex, the registered records) that UPDATEs change through the server's
// own machinery (src/update/standalone.ts): TSIG, the allowUpdate list (default deny, as for zones),
// RFC 2136 applied all or nothing with the serial raised, and, with a journal folder, the difference
// fsynced before the answer and replayed at start. Only PTR at the apex and PTR/SRV/TXT/A/AAAA below it
// may be added.
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { streamFrame } from '../wire/frame.js';
import { decodeMessage, encodeMessage, wordToFlags } from '../wire/message.js';
import { isSubdomain, namesEqual, nameKey, splitLabels } from '../wire/name.js';
import { Opcode, RRClass, RRType, Rcode, type Message, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { Zone } from '../zone/tree.js';
import { compileAcl, type AclConfig } from '../transfer/acl.js';
import { applyDiff } from '../transfer/diff.js';
import { Journal } from '../transfer/journal.js';
import { keyRingOf } from '../tsig/keys.js';
import type { TsigConfig } from '../tsig/schema.js';
import { commitUpdate, serveUpdate, type StandaloneUpdates, type UpdateLog, type UpdateTarget } from '../update/standalone.js';
import type { ServerAddress } from './stub.js';
import type { UpdateMessage } from './update.js';

export interface DirectoryOptions {
  /** The echo zone, absolute. */
  zone: string;
  /** The alias label served; undefined serves every alias (the probe's NR responder). */
  alias?: string;
  /** TTL of answers; short, so a resolver keeps asking through the delegation. Default 5. */
  ttl?: number;
  /** Who may UPDATE: prefixes and `{ key }` items as a zone's allowUpdate; absent or empty: nobody. */
  allowUpdate?: AclConfig;
  /** TSIG keys (as the server's `tsig:` section, secrets already read) for signed UPDATEs. */
  tsig?: TsigConfig;
  /** A folder for one journal per apex: updates are fsynced there before the answer and replayed at start. Absent: memory only. */
  journalDir?: string;
  /** Journal entries are never dropped (the journal is the directory's only copy); this bounds nothing but is passed on. */
  journalMaxSize?: number;
  log?: UpdateLog;
  /** Seconds since the epoch (tests). */
  now?: () => number;
}

const ACCEPTED = new Set<number>([RRType.PTR, RRType.SRV, RRType.TXT, RRType.A, RRType.AAAA]);

export class Directory {
  /** One zone per apex that has taken an update, by apex key. */
  private readonly zones = new Map<string, Zone>();
  private readonly journals = new Map<string, Journal>();
  private readonly zone: string;
  private readonly alias: string | undefined;
  private readonly ttl: number;
  private readonly updates: StandaloneUpdates;
  private readonly target: UpdateTarget;
  private readonly sockets: dgram.Socket[] = [];
  private readonly servers: net.Server[] = [];

  constructor(private readonly opts: DirectoryOptions) {
    this.zone = opts.zone.endsWith('.') ? opts.zone : opts.zone + '.';
    this.alias = opts.alias;
    this.ttl = opts.ttl ?? 5;
    const log: UpdateLog = opts.log ?? (() => {});
    this.updates = {
      acl: compileAcl(opts.allowUpdate),
      keys: opts.tsig ? keyRingOf(opts.tsig) : new Map(),
      fudge: opts.tsig?.fudge ?? 300,
      log,
      now: opts.now ?? (() => Math.floor(Date.now() / 1000)),
    };
    this.target = {
      zone: (name) => {
        const apex = this.apexOf(name);
        // RFC 2136 §3.1.1: the zone section must name a zone served here (an alias apex), else NOTAUTH.
        return apex && namesEqual(apex, name) ? this.zoneAt(apex) : undefined;
      },
      restrict: (zone, u) => {
        for (const r of u.updates) {
          if (r.class !== RRClass.IN || !isSubdomain(r.name, zone.origin)) continue;
          if (!ACCEPTED.has(r.type) || (namesEqual(r.name, zone.origin) && r.type !== RRType.PTR)) {
            return { rcode: Rcode.REFUSED, reason: `the directory holds PTR at its apex and PTR, SRV, TXT, A, AAAA below it, not ${r.name} type ${r.type}` };
          }
        }
        return undefined;
      },
      persist: (old, _next, diff) => {
        if (!opts.journalDir) return;
        let j = this.journals.get(old.originKey);
        if (!j) {
          mkdirSync(opts.journalDir, { recursive: true });
          j = Journal.open(join(opts.journalDir, `${old.originKey}jnl`), opts.journalMaxSize ?? 64 * 1024 * 1024).journal;
          this.journals.set(old.originKey, j);
        }
        // Every entry from serial 1 on is kept: the journal is the only copy of the directory's data.
        j.append(diff, 1);
      },
      install: (next) => void this.zones.set(next.originKey, next),
    };
    if (opts.journalDir) this.replay(opts.journalDir, log);
  }

  /** The zone of an apex before any update: SOA (serial 1) and NS nr.apex. */
  private skeleton(apex: string): Zone {
    const soa: ResourceRecord<SOARdata> = { name: apex, type: RRType.SOA, class: RRClass.IN, ttl: this.ttl, data: { mname: `nr.${apex}`, rname: `hostmaster.${apex}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 1 } };
    return Zone.build(apex, [soa, { name: apex, type: RRType.NS, class: RRClass.IN, ttl: this.ttl, data: { target: `nr.${apex}` } }]);
  }

  private zoneAt(apex: string): Zone {
    return this.zones.get(nameKey(apex)) ?? this.skeleton(apex);
  }

  /** At start: each apex's journal replayed over its skeleton (a torn tail was cut when it opened). */
  private replay(dir: string, log: UpdateLog): void {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.jnl'));
    } catch {
      return; // no folder yet: nothing was ever journaled
    }
    for (const f of files) {
      const { journal, report } = Journal.open(join(dir, f), this.opts.journalMaxSize ?? 64 * 1024 * 1024);
      if (report.problem) log('warn', 'journal damaged: cut back to its last whole entry', { journal: join(dir, f), problem: report.problem, bytesCut: report.cut });
      const first = journal.firstSerial;
      const last = journal.lastSerial;
      const diffs = first === undefined || last === undefined ? [] : journal.diffs(first, last) ?? [];
      const apex = diffs[0]?.from.name;
      if (!apex || this.apexOf(apex) === undefined || !namesEqual(this.apexOf(apex)!, apex)) {
        journal.close();
        continue;
      }
      let z = this.skeleton(apex);
      for (const d of diffs) z = applyDiff(z, d);
      this.zones.set(z.originKey, z);
      this.journals.set(z.originKey, journal);
      log('info', 'journal replayed', { zone: z.origin, serial: z.serial, differences: diffs.length });
    }
  }

  /** alias.@ for a name below the zone (the label right under it), or undefined when not served. */
  private apexOf(name: string): string | undefined {
    if (!isSubdomain(name, this.zone) || namesEqual(name, this.zone)) return undefined;
    const labels = splitLabels(name);
    const alias = labels[labels.length - splitLabels(this.zone).length - 1]!;
    if (this.alias !== undefined && alias.toLowerCase() !== this.alias.toLowerCase()) return undefined;
    return `${alias}.${this.zone}`;
  }

  /** The registered records at `name` (not the apex SOA and NS, which are synthesized). */
  private stored(apex: string, name: string): ResourceRecord[] {
    const z = this.zones.get(nameKey(apex));
    const node = z?.nodes.get(nameKey(name));
    if (!node) return [];
    const atApex = namesEqual(apex, name);
    const out: ResourceRecord[] = [];
    for (const [t, set] of node.rrsets) if (!(atApex && (t === RRType.SOA || t === RRType.NS))) out.push(...set.records);
    return out;
  }

  /** Answers one message that arrived on `local` (an IPv4/IPv6 address) from `remote`; null drops it. */
  handle(packet: Uint8Array, local: string, remote: string): Uint8Array | null {
    if (packet.length < 12 || (packet[2]! & 0x80) !== 0) return null;
    const opcode = wordToFlags((packet[2]! << 8) | packet[3]!).opcode;
    if (opcode === Opcode.UPDATE) return serveUpdate(packet, remote, this.updates, this.target);
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
    const soa: ResourceRecord = { ...this.zoneAt(apex).soa, name: apex, ttl };
    const qn = question.name;
    const want = (rr: ResourceRecord) => question.type === RRType.ANY || rr.type === question.type;
    const synthesized: ResourceRecord[] = [];
    if (namesEqual(qn, apex)) synthesized.push(soa, ns, addr(qn));
    if (namesEqual(qn, `nr.${apex}`)) synthesized.push(addr(qn));
    const stored = this.stored(apex, qn).map((r) => ({ ...r, name: qn, ttl }));
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

  /**
   * Registers records as the directory's own operator (the `fluxdns directory --instance` it serves itself):
   * the same update path, journal included, without the access list.
   */
  registerLocal(apex: string, records: readonly ResourceRecord[]): number {
    const z = this.target.zone(apex);
    if (!z) return Rcode.NOTAUTH;
    const updates = records.map((r) => ({ name: r.name, type: r.type, class: RRClass.IN, ttl: r.ttl, data: r.data }));
    const u: UpdateMessage = { id: 0, flags: this.reply({ id: 0, questions: [] }, 0, Opcode.UPDATE).flags, zone: [{ name: apex, type: RRType.SOA, class: RRClass.IN }], prerequisites: [], updates, additional: [] };
    return commitUpdate(z, u, 'operator', this.updates, this.target);
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

  /** Listens on UDP and TCP at each address. */
  async listen(addresses: ServerAddress[]): Promise<void> {
    for (const a of addresses) {
      const sock = dgram.createSocket(net.isIPv6(a.host) ? 'udp6' : 'udp4');
      sock.on('message', (msg, rinfo) => {
        const out = this.handle(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), a.host, rinfo.address);
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
        const out = this.handle(Uint8Array.from(buf.subarray(2, 2 + n)), local, c.remoteAddress ?? '');
        buf = buf.subarray(2 + n);
        if (out) c.write(streamFrame(out));
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.close();
    for (const j of this.journals.values()) j.close();
    this.journals.clear();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets.length = 0;
    this.servers.length = 0;
  }
}
