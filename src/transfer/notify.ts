// NOTIFY out (RFC 1996): tells each of a zone's `notify` targets of a new serial over UDP, retrying with
// exponential backoff until the target answers (§3.6), superseded by a newer serial of the same zone.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { randomInt } from 'node:crypto';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { Opcode, Rcode, RRClass, RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { parseTarget } from './schema.js';

export interface NotifyLog {
  info(msg: string, fields: Record<string, unknown>): void;
  warn(msg: string, fields: Record<string, unknown>): void;
}

interface Pending {
  readonly zone: string;
  readonly target: string;
  readonly host: string;
  readonly port: number;
  readonly serial: number;
  readonly wire: Uint8Array;
  readonly id: number;
  tries: number;
  timer?: NodeJS.Timeout;
}

export interface NotifierOptions {
  /** Sends per target before giving up (RFC 1996 §3.6 leaves it to the implementation). */
  maxTries?: number;
  /** Wait before the first resend; doubled after each (1 s, 2 s, 4 s …). */
  firstRetryMs?: number;
}

export class Notifier {
  private readonly pending = new Map<string, Pending>();
  private readonly byId = new Map<number, Pending>();
  private v4: dgram.Socket | undefined;
  private v6: dgram.Socket | undefined;
  private readonly maxTries: number;
  private readonly firstRetryMs: number;
  private closed = false;

  constructor(
    private readonly log: NotifyLog,
    opts: NotifierOptions = {},
  ) {
    this.maxTries = opts.maxTries ?? 8;
    this.firstRetryMs = opts.firstRetryMs ?? 1000;
  }

  /** Sends NOTIFY for `soa`'s serial to every target now; an older serial still being retried is dropped. */
  notify(zone: string, soa: ResourceRecord<SOARdata>, targets: readonly string[]): void {
    if (this.closed) return;
    for (const target of targets) {
      const hp = parseTarget(target);
      if (!hp) continue;
      const key = `${zone.toLowerCase()}|${target}`;
      this.cancel(this.pending.get(key));
      let id = randomInt(0, 0x10000);
      while (this.byId.has(id)) id = (id + 1) & 0xffff;
      const wire = encodeMessage({
        id,
        flags: { qr: false, opcode: Opcode.NOTIFY, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
        questions: [{ name: zone, type: RRType.SOA, class: RRClass.IN }],
        // §3.7: the new SOA may ride along as a hint.
        answers: [soa],
        authorities: [],
        additionals: [],
      });
      const p: Pending = { zone, target, host: hp.host, port: hp.port, serial: soa.data.serial, wire, id, tries: 0 };
      this.pending.set(key, p);
      this.byId.set(id, p);
      this.send(p);
    }
  }

  /** Targets still waiting for an answer (for tests and `zone status`). */
  get waiting(): number {
    return this.pending.size;
  }

  private socket(v6: boolean): dgram.Socket {
    const have = v6 ? this.v6 : this.v4;
    if (have) return have;
    const s = dgram.createSocket(v6 ? 'udp6' : 'udp4');
    s.on('message', (msg) => this.answered(new Uint8Array(msg.buffer, msg.byteOffset, msg.length)));
    s.on('error', (err) => this.log.warn('NOTIFY socket error', { err: err.message }));
    s.unref();
    if (v6) this.v6 = s;
    else this.v4 = s;
    return s;
  }

  private send(p: Pending): void {
    if (this.closed) return;
    p.tries++;
    this.socket(isIPv6(p.host)).send(p.wire, p.port, p.host, (err) => {
      if (err) this.log.warn('NOTIFY not sent', { zone: p.zone, target: p.target, err: err.message });
    });
    if (p.tries >= this.maxTries) {
      p.timer = setTimeout(() => {
        this.forget(p);
        this.log.warn('NOTIFY unanswered; giving up', { zone: p.zone, target: p.target, serial: p.serial, tries: p.tries });
      }, this.firstRetryMs * 2 ** (p.tries - 1));
    } else {
      p.timer = setTimeout(() => this.send(p), this.firstRetryMs * 2 ** (p.tries - 1));
    }
    p.timer.unref();
  }

  private answered(raw: Uint8Array): void {
    let m;
    try {
      m = decodeMessage(raw);
    } catch {
      return;
    }
    const p = this.byId.get(m.id);
    // §4.7: the answer must match ID, opcode and question; anything else is ignored.
    if (!p || !m.flags.qr || m.flags.opcode !== Opcode.NOTIFY || m.questions[0]?.name.toLowerCase() !== p.zone.toLowerCase()) return;
    this.forget(p);
    if (m.flags.rcode === Rcode.NOERROR) this.log.info('NOTIFY acknowledged', { zone: p.zone, target: p.target, serial: p.serial, tries: p.tries });
    else this.log.warn('NOTIFY refused by the secondary', { zone: p.zone, target: p.target, serial: p.serial, rcode: m.flags.rcode });
  }

  private cancel(p: Pending | undefined): void {
    if (p) this.forget(p);
  }

  private forget(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    this.byId.delete(p.id);
    const key = `${p.zone.toLowerCase()}|${p.target}`;
    if (this.pending.get(key) === p) this.pending.delete(key);
  }

  close(): void {
    this.closed = true;
    for (const p of [...this.pending.values()]) this.forget(p);
    this.v4?.close();
    this.v6?.close();
  }
}
