// header guard: refuses what no unit may answer — responses, malformed queries, unknown opcodes,
// EDNS versions we do not speak, and classes we hold no data for.
import { Opcode, Rcode, RRClass, RRType } from '../../wire/types.js';
import type { QueryContext } from '../../answer/context.js';
import { CONTINUE, drop, fail, type Outcome, type Unit } from '../../answer/unit.js';

export function headerGuard(): Unit {
  return {
    name: 'header',
    stage: 'guard',
    handle(ctx: QueryContext): Outcome {
      const q = ctx.query;
      // Answering a response could start a loop between two servers (RFC 1035 §7.3 spirit).
      if (q.qr) return drop('query has QR set');
      // An unknown opcode is NOTIMP even without a question (RFC 8906 §8.1.4 sends opcode 15 header-only).
      // NOTIFY (RFC 1996) and UPDATE (RFC 2136) go on to the xfr unit, which claims them.
      const known = q.opcode === Opcode.QUERY || q.opcode === Opcode.NOTIFY || q.opcode === Opcode.UPDATE;
      if (!known && (!q.error || q.error.noQuestion)) return fail(Rcode.NOTIMP, `opcode ${q.opcode} is not implemented`);
      if (q.error) return fail(q.error.rcode, q.error.reason);
      // RFC 6891 §6.1.3: a version we do not implement gets BADVERS and our highest version (0).
      if (q.edns && q.edns.version > 0) return fail(Rcode.BADVERS, `EDNS version ${q.edns.version}`);
      const question = q.question;
      if (!question) return fail(Rcode.FORMERR, 'no question');
      // OPT is a pseudo-type that only lives in the additional section (RFC 6891 §6.1.1).
      if (question.type === RRType.OPT) return fail(Rcode.FORMERR, 'OPT as query type');
      if (question.class !== RRClass.IN && question.class !== RRClass.ANY) return fail(Rcode.REFUSED, `class ${question.class}`);
      return CONTINUE;
    },
  };
}
