// The TSIG MAC (RFC 8945 §4.3): HMAC over [request MAC], the message without its TSIG, and the TSIG variables.
import { createHmac } from 'node:crypto';
import { canonicalName, write48 } from './record.js';
import type { TsigAlgorithm } from './algorithms.js';

export interface TsigVariables {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  error: number;
  other: Uint8Array;
}

/** §4.3.3: NAME, CLASS (ANY), TTL (0), Algorithm Name, Time Signed, Fudge, Error, Other Len, Other Data. */
export function encodeVariables(v: TsigVariables): Uint8Array {
  const name = canonicalName(v.keyName);
  const alg = canonicalName(v.algorithm);
  const out = new Uint8Array(name.length + 6 + alg.length + 12 + v.other.length);
  out.set(name, 0);
  let p = name.length;
  out[p++] = 0x00;
  out[p++] = 0xff; // class ANY
  p += 4; // TTL 0
  out.set(alg, p);
  p += alg.length;
  write48(out, p, v.timeSigned);
  p += 6;
  out[p++] = v.fudge >>> 8;
  out[p++] = v.fudge & 0xff;
  out[p++] = v.error >>> 8;
  out[p++] = v.error & 0xff;
  out[p++] = v.other.length >>> 8;
  out[p++] = v.other.length & 0xff;
  out.set(v.other, p);
  return out;
}

/** §4.3.1: a response's digest starts with the request's MAC Size and MAC. */
export function requestMacPrefix(requestMac: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + requestMac.length);
  out[0] = requestMac.length >>> 8;
  out[1] = requestMac.length & 0xff;
  out.set(requestMac, 2);
  return out;
}

/**
 * The message as digested (§4.3.2): everything before the TSIG record, with ARCOUNT not counting it
 * and the ID replaced by the TSIG's Original ID (a forwarder may have changed the ID).
 */
export function digestedMessage(raw: Uint8Array, tsigAt: number, originalId: number): Uint8Array {
  const m = new Uint8Array(raw.subarray(0, tsigAt));
  m[0] = originalId >>> 8;
  m[1] = originalId & 0xff;
  const ar = ((m[10]! << 8) | m[11]!) - 1;
  m[10] = (ar >>> 8) & 0xff;
  m[11] = ar & 0xff;
  return m;
}

export function hmac(alg: TsigAlgorithm, secret: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const h = createHmac(alg.hash, secret);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
