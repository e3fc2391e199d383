// Packs a record stream into as many DNS messages as it takes (RFC 5936 §2.2), compressed, each signed.
import { encodeMessage } from '../wire/message.js';
import type { Edns, Question, ResourceRecord } from '../wire/types.js';
import type { TsigStreamSigner } from '../tsig/sign.js';
import { streamFrame } from '../wire/frame.js';

export interface TransferHead {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  /** Sent in the first message only (RFC 5936 §2.2.1: later messages MAY leave it out). */
  readonly question: Question;
  readonly edns?: Edns;
}

/** Largest message over TCP (RFC 1035 §4.2.2's 16-bit length). */
export const STREAM_MAX = 65535;

/** Each message of `messages` in stream framing (what a transfer's later messages are handed over in). */
export function* framed(messages: Iterable<Uint8Array>): Generator<Uint8Array> {
  for (const m of messages) yield streamFrame(m);
}

/**
 * Yields encoded messages holding `records` in order, pulled lazily (a million-record zone is never
 * held encoded at once). Each message is as full as the encoder lets it be under `maxSize` minus the
 * TSIG's room; the encoder stops at the first RRset that does not fit and the rest opens the next one.
 */
export function* packMessages(head: TransferHead, records: Iterator<ResourceRecord>, signer?: TsigStreamSigner, maxSize = STREAM_MAX): Generator<Uint8Array> {
  const budget = maxSize - (signer?.overhead ?? 0);
  let pending: ResourceRecord[] = [];
  let exhausted = false;
  let target = 64;
  let first = true;
  for (;;) {
    while (!exhausted && pending.length < target) {
      const n = records.next();
      if (n.done) exhausted = true;
      else pending.push(n.value);
    }
    if (pending.length === 0 && !first) return;
    let take = pending.length;
    let wire: Uint8Array;
    let written: number;
    for (;;) {
      wire = encodeMessage(
        {
          id: head.id,
          flags: { qr: true, opcode: head.opcode, aa: true, tc: false, rd: head.rd, ra: false, z: false, ad: false, cd: false, rcode: 0 },
          questions: first ? [head.question] : [],
          answers: take === pending.length ? pending : pending.slice(0, take),
          authorities: [],
          additionals: [],
          edns: head.edns,
        },
        { maxSize: budget },
      );
      written = (wire[6]! << 8) | wire[7]!;
      if (written > 0 || take <= 1) break;
      // One RRset larger than a message: send it in parts (a transfer need not keep RRsets whole).
      take >>= 1;
    }
    if (written === 0 && pending.length > 0) throw new Error(`record ${pending[0]!.name} type ${pending[0]!.type} does not fit in a ${maxSize}-byte message`);
    // The encoder sets TC when it stopped early; here the rest simply follows in the next message.
    wire[2] = wire[2]! & ~0x02;
    first = false;
    yield signer ? signer.sign(wire) : wire;
    // Ask for half again as many next time: the encoder stops at the limit, so the spare costs one RRset.
    target = written === pending.length ? Math.min(target * 2, 16384) : Math.max(16, written + (written >> 1));
    pending = written === pending.length ? [] : pending.slice(written);
    if (exhausted && pending.length === 0) return;
  }
}
