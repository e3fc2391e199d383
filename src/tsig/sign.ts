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
    const parts = plan.requestMac ? [requestMacPrefix(plan.requestMac), wire, encodeVariables(vars)] : [wire, encodeVariables(vars)];
    mac = hmac(plan.key.algorithm, plan.key.secret, parts).subarray(0, plan.macSize);
  }
  const rr = encodeTsigRecord({ ...vars, mac, originalId });
  const out = new Uint8Array(wire.length + rr.length);
  out.set(wire, 0);
  out.set(rr, wire.length);
  const ar = ((out[10]! << 8) | out[11]!) + 1;
  out[10] = (ar >>> 8) & 0xff;
  out[11] = ar & 0xff;
  return out;
}
