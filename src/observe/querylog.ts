// The sampled query log (`log.queries: { sample: 0.01 }`): one JSON line for a fraction of the queries.
import type { QueryObserver } from '../answer/engine.js';
import { rcodeName, typeName } from '../wire/types.js';
import type { Logger } from './log.js';

/** An engine observer that logs about `sample` of the queries (0 < sample ≤ 1) at info level. */
export function queryLog(sample: number, logger: Logger, random: () => number = Math.random): QueryObserver {
  return (ctx, reply, seconds) => {
    if (random() >= sample) return;
    const q = ctx.query.question;
    const rcode = reply === null ? null : ctx.response.prebuilt === reply ? reply[3]! & 15 : ctx.response.rcode;
    logger.info('query', {
      client: ctx.transport.remoteAddress,
      port: ctx.transport.remotePort,
      transport: ctx.transport.proto,
      id: ctx.query.id,
      qname: q?.name ?? null,
      qtype: q ? typeName(q.type) : null,
      rcode: rcode === null ? 'none' : rcodeName(rcode),
      size: reply?.length ?? 0,
      ms: Math.round(seconds * 1e6) / 1000,
    });
  };
}
