// Turns a finished response draft into wire bytes: header, the question as asked, EDNS, truncation.
import { encodeMessage, type EncodeOptions } from '../wire/message.js';
import type { Edns, Flags, Message, Question } from '../wire/types.js';
import type { QueryContext } from './context.js';
import { needsPadding, paddedOptions } from './padding.js';

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

/**
 * The message, flags, OPT and options encodeResponse hands the encoder: one set reused for every
 * response (the encoder is synchronous and keeps none of them), so encoding a response from data
 * allocates only its bytes — five objects less per answer not served from the cache. They keep the
 * last response's references until the next one (nothing that outlives a query's context).
 */
const scratchFlags: Flags = { qr: true, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 };
const scratchEdns: Edns = { udpSize: 0, extendedRcode: 0, version: 0, dnssecOk: false, z: 0, options: [] };
const scratchQuestions: Question[] = [];
const NO_QUESTIONS: Question[] = [];
const scratchMsg: Message = { id: 0, flags: scratchFlags, questions: NO_QUESTIONS, answers: [], authorities: [], additionals: [], edns: undefined };
const scratchOpts: EncodeOptions = { maxSize: 0, padBlock: undefined, requiredAdditional: undefined, query: undefined };

export function encodeResponse(ctx: QueryContext): Uint8Array {
  const q = ctx.query;
  const r = ctx.response;
  const padding = needsPadding(ctx) ? paddedOptions(ctx, r.ednsOptions) : undefined;
  let edns: Edns | undefined;
  if (q.edns) {
    edns = scratchEdns;
    edns.udpSize = ctx.runtime.config.limits.udpPayload;
    edns.extendedRcode = r.rcode >> 4;
    // RFC 3225 §3: the DO bit is copied into the response.
    edns.dnssecOk = q.edns.dnssecOk;
    edns.options = padding?.options ?? r.ednsOptions;
  }
  const f = scratchFlags;
  f.opcode = q.opcode;
  f.aa = r.aa;
  f.tc = r.tc;
  f.rd = q.rd;
  // CD belongs to answers from data (RFC 4035 §3.1.6); an error answer copies RD alone (RFC 8906 §8.1.4).
  f.cd = q.cd && !r.failed;
  f.rcode = r.rcode & 0xf;
  const msg = scratchMsg;
  msg.id = q.id;
  if (q.question) {
    scratchQuestions[0] = q.question;
    msg.questions = scratchQuestions;
  } else msg.questions = NO_QUESTIONS;
  msg.answers = r.answer;
  msg.authorities = r.authority;
  msg.additionals = r.additional;
  msg.edns = edns;
  // A seal (TSIG) must be the last record and is never truncated away (RFC 8945 §5.3): room is kept for it.
  const o = scratchOpts;
  o.maxSize = responseLimit(ctx) - (r.seal?.reserve ?? 0);
  o.padBlock = padding?.padBlock;
  o.requiredAdditional = r.requiredAdditional;
  o.query = ctx.raw;
  const wire = encodeMessage(msg, o);
  return r.seal ? r.seal.apply(wire) : wire;
}
