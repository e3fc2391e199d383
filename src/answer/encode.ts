// Turns a finished response draft into wire bytes: header, the question as asked, EDNS, truncation.
import { encodeMessage } from '../wire/message.js';
import type { Edns, Message } from '../wire/types.js';
import type { QueryContext } from './context.js';
import { paddedOptions } from './padding.js';

const TCP_MAX = 65535;
/** RFC 1035 §4.2.1: without EDNS a UDP response is at most 512 bytes. */
const UDP_CLASSIC = 512;

/** The most bytes this response may take on its transport (RFC 6891 §6.2.5 for UDP with EDNS). */
export function responseLimit(ctx: QueryContext): number {
  if (ctx.transport.proto !== 'udp') return TCP_MAX;
  const edns = ctx.query.edns;
  if (!edns) return UDP_CLASSIC;
  return Math.max(UDP_CLASSIC, Math.min(edns.udpSize, ctx.runtime.config.limits.udpPayload));
}

export function encodeResponse(ctx: QueryContext): Uint8Array {
  const q = ctx.query;
  const r = ctx.response;
  let edns: Edns | undefined;
  const padding = paddedOptions(ctx, r.ednsOptions);
  if (q.edns) {
    edns = {
      udpSize: ctx.runtime.config.limits.udpPayload,
      extendedRcode: r.rcode >> 4,
      version: 0,
      // RFC 3225 §3: the DO bit is copied into the response.
      dnssecOk: q.edns.dnssecOk,
      z: 0,
      options: padding.options,
    };
  }
  const msg: Message = {
    id: q.id,
    flags: {
      qr: true,
      opcode: q.opcode,
      aa: r.aa,
      tc: r.tc,
      rd: q.rd,
      ra: false,
      z: false,
      ad: false,
      // CD belongs to answers from data (RFC 4035 §3.1.6); an error answer copies RD alone (RFC 8906 §8.1.4).
      cd: q.cd && !r.failed,
      rcode: r.rcode & 0xf,
    },
    questions: q.question ? [q.question] : [],
    answers: r.answer,
    authorities: r.authority,
    additionals: r.additional,
    edns,
  };
  // A seal (TSIG) must be the last record and is never truncated away (RFC 8945 §5.3): room is kept for it.
  const wire = encodeMessage(msg, { maxSize: responseLimit(ctx) - (r.seal?.reserve ?? 0), padBlock: padding.padBlock, requiredAdditional: r.requiredAdditional, query: ctx.raw });
  return r.seal ? r.seal.apply(wire) : wire;
}
