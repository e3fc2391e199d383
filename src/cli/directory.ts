// fluxdns directory: the public-discovery directory for one service type (seed 003 §3.1.2), reached via NR.
import { Directory } from '../client/directory.js';
import { directoryApex, instanceRecords, serviceAlias } from '../client/discover.js';
import { aclSchema } from '../transfer/acl.js';
import { tsigSchema, type TsigConfig } from '../tsig/schema.js';
import { rcodeName } from '../wire/types.js';
import { kvPut } from '../client/kv.js';
import { parseIPv4, parseIPv6 } from '../wire/rdata/ip.js';
import { parseFlags, UsageError } from './args.js';
import { CLIENT_FLAGS, stubFrom, zoneFrom } from './client-options.js';

export const DIRECTORY_FLAGS = {
  ...CLIENT_FLAGS,
  service: { type: 'string', short: 's', value: '_t._tcp', help: 'the service type (required)' },
  listen: { type: 'string', value: 'IP', help: 'the address to serve the directory on, port 53 (required)' },
  instance: { type: 'string', value: 'N', help: 'also register this instance' },
  port: { type: 'string', value: 'P', help: "the instance's port" },
  txt: { type: 'string', multiple: true, value: 'k=v', help: "the instance's TXT data" },
  'allow-update': { type: 'string', multiple: true, value: 'PREFIX|key:NAME', help: 'who may register by UPDATE (RFC 2136), as a zone\'s allowUpdate: an address prefix, or a TSIG key name; repeatable; none: nobody (default deny)' },
  'tsig-key': { type: 'string', multiple: true, value: '[ALG:]NAME:SECRET', help: 'a TSIG key signed UPDATEs may use (as nsupdate -y; ALG defaults to hmac-sha256, SECRET in base64); repeatable' },
  journal: { type: 'string', value: 'DIR', help: 'keep registrations in DIR: each UPDATE is journaled and synced to disk before it is answered, and replayed at start (default: memory only)' },
} as const;

/** `--tsig-key [ALG:]NAME:SECRET` items as the tsig section's keys. */
function tsigKeys(items: readonly string[]): TsigConfig {
  const keys = items.map((item) => {
    const parts = item.split(':');
    if (parts.length < 2 || parts.length > 3) throw new UsageError(`--tsig-key: expected [ALG:]NAME:SECRET, found ${JSON.stringify(item.replace(/:[^:]*$/, ':…'))}`);
    const [algorithm, name, secret] = parts.length === 3 ? parts : ['hmac-sha256', ...parts];
    return { name, algorithm, secret };
  });
  const r = tsigSchema.safeParse({ keys });
  if (!r.success) throw new UsageError(`--tsig-key: ${r.error.issues.map((i) => `${i.path.slice(1).join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** `--allow-update` items: prefixes as they are, `key:NAME` as { key: NAME }. */
function allowUpdate(items: readonly string[], tsig: TsigConfig): NonNullable<ReturnType<typeof aclSchema.parse>> {
  const r = aclSchema.safeParse(items.map((i) => (i.startsWith('key:') ? { key: i.slice(4) } : i)));
  if (!r.success) throw new UsageError(`--allow-update: ${r.error.issues.map((i) => `${JSON.stringify(items[Number(i.path[0])])}: ${i.message}`).join('; ')}`);
  for (const item of r.data ?? []) {
    if (typeof item !== 'string' && !tsig.keys.some((k) => k.name === item.key)) throw new UsageError(`--allow-update: key:${item.key} is not a --tsig-key`);
  }
  return r.data ?? [];
}

export async function runDirectory(args: string[]): Promise<number> {
  const { values } = parseFlags(args, DIRECTORY_FLAGS);
  if (!values.service || !values.listen) throw new UsageError('usage: fluxdns directory --service _type._tcp --listen IP --resolver IP[:PORT] --zone ZONE [--instance NAME --port P [--txt k=v]...]');
  const listen = values.listen;
  if (!parseIPv4(listen) && !parseIPv6(listen)) throw new UsageError(`--listen: expected an IP address (the directory answers on port 53, where NR delegates), found ${JSON.stringify(listen)}`);
  let alias: string;
  try {
    alias = serviceAlias(values.service);
  } catch (e) {
    throw new UsageError(`--service: ${(e as Error).message}`);
  }
  const stub = stubFrom(values);
  const zone = zoneFrom(values);
  const tsig = tsigKeys(values['tsig-key'] ?? []);
  const allow = allowUpdate(values['allow-update'] ?? [], tsig);
  const log = (level: string, msg: string, fields: Record<string, unknown>) => process.stderr.write(JSON.stringify({ level, msg, ...fields }) + '\n');
  const dir = new Directory({ zone, alias, allowUpdate: allow, tsig, journalDir: values.journal, log });
  await dir.listen([{ host: listen, port: 53 }]);
  // §3.1.2: "it will establish itself as name server for this service type using the programming query" IP.nr.alias.@
  const put = await kvPut({ stub, zone }, { method: 'nr', type: 'A' }, alias, listen);
  if (values.instance) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected 0..65535, found ${JSON.stringify(values.port)}`);
    // The directory's own instance goes in through the same update path (and journal), not over the network:
    // the access list is for others.
    const own = instanceRecords(zone, { instance: values.instance, service: values.service, port, txt: values.txt ?? [], address: listen });
    const rc = dir.registerLocal(own.apex, own.records);
    if (rc !== 0) throw new Error(`registering ${own.owner}: ${rcodeName(rc)}`);
  }
  if (allow.length === 0) process.stderr.write('fluxdns directory: no --allow-update: UPDATEs from others are refused (default deny)\n');
  process.stdout.write(`fluxdns directory ready: ${directoryApex(zone, values.service)} on ${listen}:53 (NR programmed, resolver answered ${put.rcode})\n`);
  const stop = () => {
    void dir.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1;
}
