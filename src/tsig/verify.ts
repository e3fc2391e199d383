// Verifies a signed request (RFC 8945 §5.2): key, then MAC (with truncation rules), then time.
import { timingSafeEqual } from 'node:crypto';
import { Reader } from '../wire/reader.js';
import { RRType, WireError } from '../wire/types.js';
import { algorithmByName, macSizeAcceptable } from './algorithms.js';
import type { KeyRing, TsigKey } from './keys.js';
import { digestedMessage, encodeVariables, hmac, requestMacPrefix } from './mac.js';
import { parseTsigAt, type TsigRecord } from './record.js';

export const TSIG_BADSIG = 16;
export const TSIG_BADKEY = 17;
export const TSIG_BADTIME = 18;

export type VerifyResult =
  | { readonly kind: 'valid'; readonly key: TsigKey; readonly record: TsigRecord }
  /** §5.2.1/§5.2.2: unknown key or algorithm, or a MAC that does not verify: answered unsigned. */
  | { readonly kind: 'badkey' | 'badsig'; readonly record: TsigRecord }
  /** §5.2.3: the MAC verified but the time is outside the window: answered signed. */
  | { readonly kind: 'badtime'; readonly key: TsigKey; readonly record: TsigRecord }
  /** §5.1, §5.2.2.1: a malformed TSIG or an impossible MAC size: FORMERR, no TSIG in the answer. */
  | { readonly kind: 'formerr'; readonly reason: string };

/**
 * `raw` is the whole request, `tsigAt` where its last record (the TSIG) starts, `now` seconds since
 * the epoch. The window is the smaller of the request's fudge and ours, so a client cannot widen it.
 */
export function verifyRequest(raw: Uint8Array, tsigAt: number, ring: KeyRing, fudge: number, now: number): VerifyResult {
  let record: TsigRecord;
  try {
    record = parseTsigAt(raw, tsigAt);
  } catch (e) {
    return { kind: 'formerr', reason: `malformed TSIG: ${e instanceof WireError ? e.message : String(e)}` };
  }
  const key = ring.get(record.keyName.toLowerCase());
  const alg = algorithmByName(record.algorithm);
  // §5.2.1: a key we do not hold, or held for another algorithm, is BADKEY.
  if (!key || !alg || key.algorithm !== alg) return { kind: 'badkey', record };
  if (!macSizeAcceptable(alg, record.mac.length)) {
    return { kind: 'formerr', reason: `TSIG MAC of ${record.mac.length} bytes for ${alg.name} (RFC 8945 §5.2.2.1)` };
  }
  const expected = hmac(alg, key.secret, [digestedMessage(raw, tsigAt, record.originalId), encodeVariables(record)]);
  // A truncated MAC is compared with the leading bytes of the full one (§5.2.2.1 case 4).
  if (!timingSafeEqual(expected.subarray(0, record.mac.length), record.mac)) return { kind: 'badsig', record };
  if (Math.abs(now - record.timeSigned) > Math.min(fudge, record.fudge)) return { kind: 'badtime', key, record };
  return { kind: 'valid', key, record };
}

/**
 * Verifies a signed response to a request whose MAC was `requestMac` (RFC 8945 §5.4.1): the MAC covers
 * the request MAC, the response without its TSIG, and the TSIG variables. For clients (zone transfers
 * later) and tests; an unsigned error TSIG (MAC size 0) never verifies.
 */
export function verifyResponse(raw: Uint8Array, tsigAt: number, key: TsigKey, requestMac: Uint8Array): { ok: boolean; record?: TsigRecord; reason?: string } {
  let record: TsigRecord;
  try {
    record = parseTsigAt(raw, tsigAt);
  } catch (e) {
    return { ok: false, reason: `malformed TSIG: ${e instanceof WireError ? e.message : String(e)}` };
  }
  if (record.keyName.toLowerCase() !== key.name || algorithmByName(record.algorithm) !== key.algorithm) return { ok: false, record, reason: 'another key' };
  if (!macSizeAcceptable(key.algorithm, record.mac.length)) return { ok: false, record, reason: `MAC of ${record.mac.length} bytes` };
  const expected = hmac(key.algorithm, key.secret, [requestMacPrefix(requestMac), digestedMessage(raw, tsigAt, record.originalId), encodeVariables(record)]);
  return timingSafeEqual(expected.subarray(0, record.mac.length), record.mac) ? { ok: true, record } : { ok: false, record, reason: 'MAC does not verify' };
}

/** Where the last record of a message starts when it is a TSIG (the message parsed strictly), else undefined. */
export function findTsig(raw: Uint8Array): number | undefined {
  const r = new Reader(raw, 12);
  const qd = (raw[4]! << 8) | raw[5]!;
  const total = ((raw[6]! << 8) | raw[7]!) + ((raw[8]! << 8) | raw[9]!) + ((raw[10]! << 8) | raw[11]!);
  for (let i = 0; i < qd; i++) {
    r.skipName();
    r.pos += 4;
  }
  let last = -1;
  let lastType = -1;
  for (let i = 0; i < total; i++) {
    last = r.pos;
    r.skipName();
    lastType = r.u16();
    r.pos += 6;
    const rdlength = r.u16();
    r.pos += rdlength;
  }
  return lastType === RRType.TSIG ? last : undefined;
}
