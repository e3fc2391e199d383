// TSIG for a zone-transfer client: signs the request and verifies every response message (RFC 8945 §5.3.1, §5.4.1).
import { timingSafeEqual } from 'node:crypto';
import type { TsigKey } from '../tsig/keys.js';
import { digestedMessage, encodeVariables, hmac, requestMacPrefix } from '../tsig/mac.js';
import { parseTsigAt, write48, type TsigRecord } from '../tsig/record.js';
import { appendTsig } from '../tsig/sign.js';
import { findTsig } from '../tsig/verify.js';
import { macSizeAcceptable } from '../tsig/algorithms.js';
import { WireError } from '../wire/types.js';

/** RFC 8945 §5.3.1: a server may leave up to 99 messages in a row unsigned; the 100th must be signed. */
export const MAX_UNSIGNED = 99;

export class TsigStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TsigStreamError';
  }
}

/** Signs `wire` (a request) with `key`; returns the signed bytes and the MAC the response chain starts from. */
export function signRequest(wire: Uint8Array, key: TsigKey, fudge: number, now = Math.floor(Date.now() / 1000)): { wire: Uint8Array; mac: Uint8Array } {
  const signed = appendTsig(wire, { keyName: key.name, algorithm: key.algorithm.name, key, macSize: key.algorithm.size, fudge, error: 0 }, now);
  return { wire: signed, mac: parseTsigAt(signed, wire.length).mac };
}

/**
 * Verifies the messages of one response stream in order. The first message must be signed and its
 * MAC covers the request MAC, the message and all TSIG variables (§4.3.1). Each later signed message
 * covers the previous MAC, every message since it (unsigned ones whole) and the timers only (§4.3.1,
 * §5.3.1). The last message must be signed (`finish`), and no more than 99 may go unsigned in a row.
 */
export class TsigResponseVerifier {
  private prevMac: Uint8Array;
  private first = true;
  private unsigned: Uint8Array[] = [];
  /** Messages verified so far (signed ones and the unsigned ones they covered). */
  verified = 0;
  /** Of those, how many carried a TSIG of their own. */
  signed = 0;

  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
    private readonly fudge: number,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.prevMac = requestMac;
  }

  /** Checks one message; throws TsigStreamError when it does not verify. */
  add(raw: Uint8Array): void {
    let at: number | undefined;
    try {
      at = findTsig(raw);
    } catch (e) {
      throw new TsigStreamError(`malformed response: ${e instanceof WireError ? e.message : String(e)}`);
    }
    if (at === undefined) {
      if (this.first) throw new TsigStreamError('the first response message is not signed (RFC 8945 §5.3.1)');
      if (this.unsigned.length >= MAX_UNSIGNED) throw new TsigStreamError(`more than ${MAX_UNSIGNED} response messages in a row are unsigned (RFC 8945 §5.3.1)`);
      this.unsigned.push(raw.slice());
      return;
    }
    let rec: TsigRecord;
    try {
      rec = parseTsigAt(raw, at);
    } catch (e) {
      throw new TsigStreamError(`malformed TSIG in a response: ${(e as Error).message}`);
    }
    if (rec.keyName.toLowerCase() !== this.key.name) throw new TsigStreamError(`response signed with key ${rec.keyName}, not ${this.key.name}`);
    if (rec.error !== 0) throw new TsigStreamError(`the primary answered with TSIG error ${rec.error} (${tsigErrorName(rec.error)})`);
    if (!macSizeAcceptable(this.key.algorithm, rec.mac.length)) throw new TsigStreamError(`response MAC of ${rec.mac.length} bytes`);
    const body = digestedMessage(raw, at, rec.originalId);
    let parts: Uint8Array[];
    if (this.first) {
      parts = [requestMacPrefix(this.prevMac), body, encodeVariables(rec)];
    } else {
      const timers = new Uint8Array(8);
      write48(timers, 0, rec.timeSigned);
      timers[6] = rec.fudge >>> 8;
      timers[7] = rec.fudge & 0xff;
      parts = [requestMacPrefix(this.prevMac), ...this.unsigned, body, timers];
    }
    const expected = hmac(this.key.algorithm, this.key.secret, parts);
    if (!timingSafeEqual(expected.subarray(0, rec.mac.length), rec.mac)) {
      throw new TsigStreamError(`response message ${this.verified + this.unsigned.length + 1} does not verify with key ${this.key.name} (BADSIG)`);
    }
    if (Math.abs(this.now() - rec.timeSigned) > Math.min(this.fudge, rec.fudge)) throw new TsigStreamError(`response signed at ${rec.timeSigned}, outside the fudge of ${this.fudge} s (BADTIME)`);
    this.verified += this.unsigned.length + 1;
    this.signed++;
    this.unsigned = [];
    this.prevMac = rec.mac;
    this.first = false;
  }

  /** At the end of the stream: the last message must have been signed. */
  finish(): void {
    if (this.first) throw new TsigStreamError('no signed response message');
    if (this.unsigned.length > 0) throw new TsigStreamError(`the last ${this.unsigned.length} response messages are unsigned (RFC 8945 §5.3.1: the last must be signed)`);
  }
}

export function tsigErrorName(code: number): string {
  return code === 16 ? 'BADSIG' : code === 17 ? 'BADKEY' : code === 18 ? 'BADTIME' : code === 22 ? 'BADTRUNC' : `error ${code}`;
}
