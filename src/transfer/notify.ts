// NOTIFY out (RFC 1996): tells each of a zone's `notify` targets of a new serial over UDP, retrying with
// exponential backoff, capped, until the target answers (§3.6) or a newer serial of the zone replaces it;
// signed with the target's TSIG key when it has one (RFC 8945), the answer then verified.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { randomInt } from 'node:crypto';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { Opcode, Rcode, rcodeName, RRClass, RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import type { TsigKey } from '../tsig/keys.js';
import { signRequest, TsigResponseVerifier } from '../secondary/tsig-stream.js';

export interface NotifyLog {
  info(msg: string, fields: Record<string, unknown>): void;
  warn(msg: string, fields: Record<string, unknown>): void;
}

/** Where one NOTIFY goes, resolved from the configuration (Primary.notify). */
export interface NotifyTarget {
  /** As configured ("IP:PORT"): names the target in log lines. */
  readonly target: string;
  readonly host: string;
  readonly port: number;
  /** Signs each NOTIFY (RFC 8945 §5.1) and requires the answer to verify. */
  readonly key?: TsigKey;
}

interface Pending {
  readonly zone: string;
  readonly t: NotifyTarget;
  readonly serial: number;
  /** The NOTIFY unsigned; signed afresh for each send (Time Signed stays inside the fudge however long it retries). */
  readonly wire: Uint8Array;
  readonly id: number;
  tries: number;
  timer?: NodeJS.Timeout;
  /** MACs of the last sends: an answer to an earlier one (crossing a resend) still verifies. */
  macs: Uint8Array[];
  /** Logged once each: past maxTries, a send error, an answer that did not verify. */
  saidSlow: boolean;
  saidSendError: boolean;
  saidBadAnswer: boolean;
}

export interface NotifierOptions {
  /** Sends with a doubling interval before the interval stays at maxRetryMs (and the slow target is logged, once). */
  maxTries?: number;
  /** Wait before the first resend; doubled after each (1 s, 2 s, 4 s …) up to maxRetryMs. */
  firstRetryMs?: number;
  /** The longest wait between sends: an unanswered NOTIFY is resent this often until answered or superseded. */
  maxRetryMs?: number;
  /** TSIG fudge of signed NOTIFYs (tsig.fudge). */
  fudge?: number;
}

/** MACs kept per target (an answer to a send older than that is ignored; the next resend follows). */
const KEPT_MACS = 3;

export class Notifier {
  private readonly pending = new Map<string, Pending>();
  private readonly byId = new Map<number, Pending>();
  private v4: dgram.Socket | undefined;
  private v6: dgram.Socket | undefined;
  private maxTries = 8;
  private firstRetryMs = 1000;
  private maxRetryMs = 60_000;
  private fudge = 300;
  private closed = false;

  constructor(
    private readonly log: NotifyLog,
    opts: NotifierOptions = {},
  ) {
    this.configure(opts);
  }

  /** New settings (a reload's `notify:` and `tsig.fudge`): the next send and wait use them; an option left out keeps its default. */
  configure(opts: NotifierOptions): void {
    this.maxTries = opts.maxTries ?? 8;
    this.firstRetryMs = opts.firstRetryMs ?? 1000;
    this.maxRetryMs = Math.max(this.firstRetryMs, opts.maxRetryMs ?? 60_000);
    this.fudge = opts.fudge ?? 300;
  }

  /**
   * Sends NOTIFY for `soa`'s serial to every target now; an older serial still being retried for the
   * same target is dropped (§3.6: retries stop at an answer; a newer serial replaces the old NOTIFY).
   */
  notify(zone: string, soa: ResourceRecord<SOARdata>, targets: readonly NotifyTarget[]): void {
    if (this.closed) return;
    for (const t of targets) {
      const key = pendingKey(zone, t);
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
      const p: Pending = { zone, t, serial: soa.data.serial, wire, id, tries: 0, macs: [], saidSlow: false, saidSendError: false, saidBadAnswer: false };
      this.pending.set(key, p);
      this.byId.set(id, p);
      this.send(p);
    }
  }

  /** Stops retrying for targets no longer configured (after a reload): `keep` holds pendingKey()s. */
  retain(keep: ReadonlySet<string>): void {
    for (const [k, p] of [...this.pending]) if (!keep.has(k)) this.forget(p);
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
    let wire = p.wire;
    if (p.t.key) {
      const signed = signRequest(p.wire, p.t.key, this.fudge);
      wire = signed.wire;
      p.macs.push(signed.mac);
      if (p.macs.length > KEPT_MACS) p.macs.shift();
    }
    this.socket(isIPv6(p.t.host)).send(wire, p.t.port, p.t.host, (err) => {
      if (!err || p.saidSendError) return;
      p.saidSendError = true;
      this.log.warn('NOTIFY not sent (retrying; said once per serial)', { zone: p.zone, target: p.t.target, serial: p.serial, err: err.message });
    });
    const wait = Math.min(this.firstRetryMs * 2 ** Math.min(p.tries - 1, 30), this.maxRetryMs);
    p.timer = setTimeout(() => {
      if (p.tries >= this.maxTries && !p.saidSlow) {
        p.saidSlow = true;
        this.log.warn('NOTIFY unanswered; resending until it answers or the zone changes again', { zone: p.zone, target: p.t.target, serial: p.serial, tries: p.tries, everySeconds: this.maxRetryMs / 1000 });
      }
      this.send(p);
    }, wait);
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
    const rcode = m.flags.rcode;
    if (p.t.key && rcode === Rcode.NOERROR) {
      // RFC 8945 §5.3: the answer to a signed request is signed; one that does not verify is no acknowledgement.
      const problem = this.unverified(raw, p);
      if (problem !== undefined) {
        if (!p.saidBadAnswer) {
          p.saidBadAnswer = true;
          this.log.warn('NOTIFY answer failed TSIG verification; still resending', { zone: p.zone, target: p.t.target, serial: p.serial, problem });
        }
        return;
      }
    }
    this.forget(p);
    if (rcode === Rcode.NOERROR) this.log.info('NOTIFY acknowledged', { zone: p.zone, target: p.t.target, serial: p.serial, tries: p.tries, ...(p.t.key ? { key: p.t.key.name } : {}) });
    else this.log.warn('NOTIFY refused by the secondary', { zone: p.zone, target: p.t.target, serial: p.serial, rcode: rcodeName(rcode), ...(p.t.key ? { key: p.t.key.name } : {}) });
  }

  /** Why `raw` does not verify against any of the last sends' MACs, or undefined when it does. */
  private unverified(raw: Uint8Array, p: Pending): string | undefined {
    let problem = 'no request MAC';
    for (let i = p.macs.length - 1; i >= 0; i--) {
      try {
        const v = new TsigResponseVerifier(p.t.key!, p.macs[i]!, this.fudge);
        v.add(raw);
        v.finish();
        return undefined;
      } catch (e) {
        problem = (e as Error).message;
      }
    }
    return problem;
  }

  private cancel(p: Pending | undefined): void {
    if (p) this.forget(p);
  }

  private forget(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    this.byId.delete(p.id);
    const key = pendingKey(p.zone, p.t);
    if (this.pending.get(key) === p) this.pending.delete(key);
  }

  close(): void {
    this.closed = true;
    for (const p of [...this.pending.values()]) this.forget(p);
    this.v4?.close();
    this.v6?.close();
  }
}

/** Identifies one target of one zone (its key included: a reload that changes the key restarts it). */
export function pendingKey(zone: string, t: NotifyTarget): string {
  return `${zone.toLowerCase()}|${t.target}|${t.key?.name ?? ''}`;
}
