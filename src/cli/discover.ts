// fluxdns discover announce|resolve|browse: service discovery over Stateless DNS (seed 003 §3.1).
import { announceTrusted, browse, findDirectory, localAddressFor, registerWithDirectory, resolvePublic, resolveTrusted, type Resolved } from '../client/discover.js';
import { EchoEncodingError } from '../echo/encoding.js';
import { parseFlags, UsageError } from './args.js';
import { CLIENT_FLAGS, methodFrom, stubFrom, zoneFrom } from './client-options.js';

export const DISCOVER_FLAGS = {
  ...CLIENT_FLAGS,
  service: { type: 'string', short: 's', value: '_t._tcp', help: 'the service type' },
  public: { type: 'boolean', help: "through the service's public directory (NR, RFC 2136 UPDATE)" },
} as const;
export const DISCOVER_ANNOUNCE_FLAGS = {
  ...DISCOVER_FLAGS,
  port: { type: 'string', short: 'p', value: 'P', help: "the instance's port (required)" },
  txt: { type: 'string', multiple: true, value: 'k=v', help: "the instance's TXT data" },
  address: { type: 'string', value: 'IP', help: "the instance's address (default: this host's address towards the resolver)" },
} as const;
const FLAGS = DISCOVER_FLAGS;

function service(v: { service?: string | undefined }): string {
  if (!v.service) throw new UsageError('--service _type._tcp is required');
  return v.service;
}

async function guard<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof EchoEncodingError || (e instanceof Error && /^expected/.test(e.message))) throw new UsageError(e.message);
    throw e;
  }
}

export async function runDiscoverAnnounce(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, DISCOVER_ANNOUNCE_FLAGS, true);
  if (positionals.length !== 1) throw new UsageError('usage: fluxdns discover announce INSTANCE --service _type._tcp --port P [--txt k=v]... [--address IP] [--public] --resolver IP[:PORT] --zone ZONE [--method M]');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected 0..65535, found ${JSON.stringify(values.port)}`);
  const stub = stubFrom(values);
  const zone = zoneFrom(values);
  const inst = { instance: positionals[0]!, service: service(values), port, txt: values.txt ?? [], address: values.address ?? (await localAddressFor(stub.servers[0]!)) };
  if (values.public) {
    const dir = await guard(() => findDirectory(stub, zone, inst.service));
    if (!dir) {
      process.stderr.write(`no directory for ${inst.service} under ${zone} yet: become it with fluxdns directory --service ${inst.service} --listen IP --resolver ... --zone ${zone} --instance ${inst.instance} --port ${port}\n`);
      return 1;
    }
    const owner = await guard(() => registerWithDirectory({ host: dir, port: 53 }, zone, inst));
    process.stdout.write(`registered ${owner} with the directory at ${dir}\n`);
    return 0;
  }
  const method = methodFrom(values, stub, 'put');
  const sent = await guard(() => announceTrusted({ stub, zone }, method, inst));
  process.stdout.write(sent.map((s) => `programmed ${s}\n`).join(''));
  return 0;
}

function print(instance: string, r: Resolved): number {
  if (!r.srv && !r.address) {
    process.stderr.write(`${instance}: not found\n`);
    return 1;
  }
  if (r.srv) process.stdout.write(`SRV ${r.srv.target}:${r.srv.port}\n`);
  if (r.address) process.stdout.write(`ADDRESS ${r.address}\n`);
  for (const t of r.txt) process.stdout.write(`TXT ${t}\n`);
  return 0;
}

export async function runDiscoverResolve(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, true);
  if (positionals.length !== 1) throw new UsageError('usage: fluxdns discover resolve INSTANCE --service _type._tcp [--public] --resolver IP[:PORT] --zone ZONE [--method M]');
  const stub = stubFrom(values);
  const zone = zoneFrom(values);
  const instance = positionals[0]!;
  if (values.public) return print(instance, await guard(() => resolvePublic(stub, zone, service(values), instance)));
  const method = methodFrom(values, stub, 'put');
  return print(instance, await guard(() => resolveTrusted({ stub, zone }, method, instance, service(values))));
}

export async function runDiscoverBrowse(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, true);
  if (positionals.length !== 1) throw new UsageError('usage: fluxdns discover browse _type._tcp --resolver IP[:PORT] --zone ZONE');
  const stub = stubFrom(values);
  const zone = zoneFrom(values);
  const r = await guard(() => browse(stub, zone, positionals[0]!));
  if (r.instances.length === 0) {
    const why = r.rcode === 'NOERROR' ? 'no PTR records there: no directory holds this service yet (fluxdns directory --service … starts one)' : `the resolver answered ${r.rcode}`;
    process.stderr.write(`no instances of ${positionals[0]} under ${zone}: asked ${stub.servers.map((s) => `${s.host}:${s.port}`).join(', ')} for ${r.apex} PTR; ${why}\n`);
    return 1;
  }
  process.stdout.write(r.instances.map((i) => `${i}\n`).join(''));
  return 0;
}
