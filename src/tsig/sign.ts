// Signs an encoded message by appending a TSIG record (RFC 8945 §4.3, §5.3) and counting it in ARCOUNT.
import type { TsigKey } from './keys.js';
import { encodeVariables, hmac, requestMacPrefix } from './mac.js';
import { encodeTsigRecord, tsigRecordLength, write48 } from './record.js';

export interface SignPlan {
  readonly keyName: string;
  readonly algorithm: string;
  /** Absent: an unsigned error TSIG (MAC size 0), as §5.3.2 asks after BADKEY and BADSIG. */
  readonly key?: TsigKey;
  /** The request's MAC, digested first in a response (§4.3.1); absent for a request. */
  readonly requestMac?: Uint8Array;
  /** MAC bytes to send: the full HMAC, or a request's truncated size (§5.2.2.1). */
  readonly macSize: number;
  readonly fudge: number;
  readonly error: number;
  /** Fixed Time Signed (a BADTIME response repeats the request's); otherwise the signing time. */
  readonly timeSigned?: number;
  readonly other?: Uint8Array;
}

/** Bytes the TSIG record of this plan takes (to keep room for it under a size limit). */
export function signedOverhead(plan: SignPlan): number {
  return tsigRecordLength(plan.keyName, plan.algorithm, plan.key ? plan.macSize : 0, plan.other?.length ?? 0);
}

/** 48-bit Other Data holding a time: what a BADTIME response carries (§5.2.3). */
export function timeOther(seconds: number): Uint8Array {
  const out = new Uint8Array(6);
  write48(out, 0, seconds);
  return out;
}

/** Returns `wire` with the TSIG appended; `now` in seconds. The message ID is the Original ID. */
export function appendTsig(wire: Uint8Array, plan: SignPlan, now: number): Uint8Array {
  return signOne(wire, plan, now, undefined).wire;
}

/**
 * Signs one message. `prior` is the MAC of the previous message of the same response when this is
 * not the first (RFC 8945 §5.3.1): then the digest is the prior MAC (size and bytes), the message,
 * and the TSIG timers alone (Time Signed, Fudge); otherwise §4.3 (request MAC, message, all variables).
 */
function signOne(wire: Uint8Array, plan: SignPlan, now: number, prior: Uint8Array | undefined): { wire: Uint8Array; mac: Uint8Array } {
  const { rr, mac } = tsigFor(wire, plan, now, prior);
  const out = new Uint8Array(wire.length + rr.length);
  out.set(wire, 0);
  out.set(rr, wire.length);
  countTsig(out);
  return { wire: out, mac };
}

/** The TSIG record that signs `wire` (§4.3, or §5.3.1 after `prior`), and its MAC. */
function tsigFor(wire: Uint8Array, plan: SignPlan, now: number, prior: Uint8Array | undefined): { rr: Uint8Array; mac: Uint8Array } {
  const originalId = (wire[0]! << 8) | wire[1]!;
  const vars = {
    keyName: plan.keyName,
    algorithm: plan.algorithm,
    timeSigned: plan.timeSigned ?? now,
    fudge: plan.fudge,
    error: plan.error,
    other: plan.other ?? new Uint8Array(0),
  };
  let mac: Uint8Array = new Uint8Array(0);
  if (plan.key) {
    let parts: Uint8Array[];
    if (prior) parts = [requestMacPrefix(prior), wire, encodeTimers(vars.timeSigned, vars.fudge)];
    else parts = plan.requestMac ? [requestMacPrefix(plan.requestMac), wire, encodeVariables(vars)] : [wire, encodeVariables(vars)];
    mac = hmac(plan.key.algorithm, plan.key.secret, parts).subarray(0, plan.macSize);
  }
  return { rr: encodeTsigRecord({ ...vars, mac, originalId }), mac };
}

/** ARCOUNT + 1: the message now ends with its TSIG (the MAC covered the count without it). */
function countTsig(m: Uint8Array): void {
  const ar = ((m[10]! << 8) | m[11]!) + 1;
  m[10] = (ar >>> 8) & 0xff;
  m[11] = ar & 0xff;
}

/** §4.3.3 "TSIG Timers": Time Signed (48 bits) and Fudge, what a subsequent message of a response digests. */
function encodeTimers(timeSigned: number, fudge: number): Uint8Array {
  const out = new Uint8Array(8);
  write48(out, 0, timeSigned);
  out[6] = fudge >>> 8;
  out[7] = fudge & 0xff;
  return out;
}

/**
 * Signs the messages of one multi-message response (a zone transfer, RFC 8945 §5.3.1) in order: every
 * message carries a TSIG, each chained to the MAC of the one before, the first to the request's MAC.
 */
export class TsigStreamSigner {
  private prior: Uint8Array | undefined;
  constructor(
    private readonly plan: SignPlan,
    /** Seconds since the epoch; read for each message (a long transfer's later messages carry later times). */
    private readonly now: () => number,
  ) {}

  /** Bytes each message must leave free for its TSIG. */
  get overhead(): number {
    return signedOverhead(this.plan);
  }

  sign(wire: Uint8Array): Uint8Array {
    const r = signOne(wire, this.plan, this.now(), this.prior);
    this.prior = r.mac;
    return r.wire;
  }

  /**
   * sign() without the copy: the message is buf[0, length) and its TSIG is written after it, in the
   * `overhead` bytes the caller left free. Returns the signed message's length. The same bytes as sign().
   */
  signInto(buf: Uint8Array, length: number): number {
    const wire = buf.subarray(0, length);
    const { rr, mac } = tsigFor(wire, this.plan, this.now(), this.prior);
    if (length + rr.length > buf.length) throw new RangeError(`no room for a ${rr.length}-byte TSIG after a ${length}-byte message`);
    this.prior = mac;
    buf.set(rr, length);
    countTsig(buf);
    return length + rr.length;
  }
}
