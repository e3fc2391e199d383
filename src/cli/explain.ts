// fluxdns explain: which policy a query would match and why, and the answer it would get.
import { QueryContext, type TransportProto } from '../answer/context.js';
import { encodeResponse } from '../answer/encode.js';
import { Pipeline } from '../answer/pipeline.js';
import { COOKIE_STATE, policySetOf } from '../modules/policies/index.js';
import { createUnits } from '../answer/units.js';
import { AnswerCache } from '../modules/cache/index.js';
import { demoConfig } from '../config/demo.js';
import { loadConfigFile } from '../config/load.js';
import { parseAddress, parseCidr } from '../net/cidr.js';
import type { TraceLine } from '../policy/compile.js';
import { factsOf, type CookieState } from '../policy/facts.js';
import { buildRuntime } from '../server/runtime-load.js';
import { clientSubnetOption } from '../wire/edns.js';
import { parseQuery } from '../wire/fastpath.js';
import { decodeMessage, encodeMessage, queryMessage } from '../wire/message.js';
import { parseName } from '../wire/name.js';
import { rcodeName, typeCode, type ResourceRecord } from '../wire/types.js';
import { formatRecord } from '../zone/format.js';
import { parseFlags, UsageError } from './args.js';

export const EXPLAIN_FLAGS = {
  qname: { type: 'string', value: 'NAME', help: 'the query name (required)' },
  qtype: { type: 'string', default: 'A', value: 'TYPE', help: 'the query type' },
  client: { type: 'string', default: '127.0.0.1', value: 'IP', help: "the client's address" },
  ecs: { type: 'string', value: 'CIDR', help: 'an EDNS client subnet in the query' },
  config: { type: 'string', short: 'c', value: 'FILE', help: 'the configuration (default: the built-in demo)' },
  transport: { type: 'string', default: 'udp', value: 'udp|tcp|tls|https', help: 'the transport the query came over' },
  cookie: { type: 'string', default: 'absent', value: 'STATE', help: 'the DNS Cookie state: absent, client or valid' },
  time: { type: 'string', value: 'ISO', help: 'the time of the query (for time-window policies)' },
} as const;

export async function runExplain(args: string[]): Promise<number> {
  const { values: v } = parseFlags(args, EXPLAIN_FLAGS);
  if (!v.qname) throw new UsageError('explain needs --qname NAME');
  const qname = parseName(v.qname.endsWith('.') ? v.qname : v.qname + '.');
  const qtype = typeCode(v.qtype!);
  if (qtype === undefined) throw new UsageError(`--qtype: expected a record type, found ${JSON.stringify(v.qtype)}`);
  if (!parseAddress(v.client!)) throw new UsageError(`--client: expected an IP address, found ${JSON.stringify(v.client)}`);
  const ecs = v.ecs === undefined ? undefined : parseCidr(v.ecs, false);
  if (v.ecs !== undefined && !ecs) throw new UsageError(`--ecs: expected a prefix like 198.51.100.0/24, found ${JSON.stringify(v.ecs)}`);
  if (!['udp', 'tcp', 'tls', 'https'].includes(v.transport!)) throw new UsageError('--transport: expected udp, tcp, tls or https');
  if (!['valid', 'absent', 'invalid'].includes(v.cookie!)) throw new UsageError('--cookie: expected valid, absent or invalid');
  const now = v.time === undefined ? Date.now() : Date.parse(v.time);
  if (Number.isNaN(now)) throw new UsageError(`--time: expected an ISO 8601 date-time, found ${JSON.stringify(v.time)}`);

  const loaded = v.config ? loadConfigFile(v.config) : demoConfig();
  const { runtime } = buildRuntime(loaded, 1);
  const raw = encodeMessage(
    queryMessage(qname, qtype, {
      id: 1,
      options: ecs ? [clientSubnetOption({ family: ecs.family === 4 ? 1 : 2, sourcePrefix: ecs.length, scopePrefix: 0, address: v.ecs!.split('/')[0]! })] : undefined,
    }),
  );
  const transport = { proto: v.transport as TransportProto, remoteAddress: v.client!, remotePort: 53000, localAddress: '127.0.0.1', localPort: 53 };
  const ctx = new QueryContext(raw, parseQuery(raw), transport, runtime, now);
  const cookie = v.cookie as CookieState;
  ctx.set(COOKIE_STATE, cookie);

  const out: string[] = [];
  out.push(`query: ${qname} ${v.qtype!.toUpperCase()} from ${v.client} over ${v.transport}${ecs ? `, ECS ${v.ecs}` : ''}, cookie ${cookie}, at ${new Date(now).toISOString()}`);
  const trace: TraceLine[] = [];
  const set = policySetOf(runtime);
  const matched = set.match(factsOf(ctx, cookie, new Date(now)), trace);
  if (set.empty) out.push('no policies configured');
  for (const t of trace) {
    const label = `policy ${t.policy.index}${t.policy.name.startsWith('#') ? '' : ` "${t.policy.name}"`}`;
    out.push(t.matched ? `${label}: MATCH (${t.policy.tests.map((x) => x.label).join('; ') || 'matches everything'})` : `${label}: no — ${t.failed!.label}: ${t.failed!.why}`);
  }
  if (matched) {
    out.push(`action: ${matched.action.describe}`);
    if (matched.rateLimit) out.push(`rate limit: ${matched.rateLimit.describe}; over the limit: ${matched.rateLimit.over.describe}`);
  } else if (!set.empty) {
    out.push('no policy matched: the zones answer');
  }

  const verdict = await new Pipeline(createUnits(new AnswerCache(), { now: () => now })).run(ctx);
  if (verdict.kind === 'drop') {
    out.push(`answer: none (dropped: ${verdict.reason})`);
  } else {
    const msg = decodeMessage(ctx.response.prebuilt ?? encodeResponse(ctx));
    const flags = [msg.flags.aa && 'aa', msg.flags.tc && 'tc'].filter(Boolean).join(' ');
    out.push(`answer: ${rcodeName(msg.flags.rcode | ((msg.edns?.extendedRcode ?? 0) << 4))}${flags ? ` (${flags})` : ''}`);
    const section = (title: string, rrs: ResourceRecord[]) => {
      if (rrs.length) out.push(`  ${title}:`, ...rrs.map((r) => `    ${formatRecord(r).replace(/\t/g, ' ')}`));
    };
    section('answer', msg.answers);
    section('authority', msg.authorities);
    section('additional', msg.additionals);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
