// fluxdns directory: the public-discovery directory for one service type (seed 003 §3.1.2), reached via NR.
import { Directory } from '../client/directory.js';
import { directoryApex, registerWithDirectory, serviceAlias } from '../client/discover.js';
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
} as const;

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
  const dir = new Directory({ zone, alias });
  await dir.listen([{ host: listen, port: 53 }]);
  // §3.1.2: "it will establish itself as name server for this service type using the programming query" IP.nr.alias.@
  const put = await kvPut({ stub, zone }, { method: 'nr', type: 'A' }, alias, listen);
  if (values.instance) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: expected 0..65535, found ${JSON.stringify(values.port)}`);
    await registerWithDirectory({ host: listen, port: 53 }, zone, { instance: values.instance, service: values.service, port, txt: values.txt ?? [], address: listen });
  }
  process.stdout.write(`fluxdns directory ready: ${directoryApex(zone, values.service)} on ${listen}:53 (NR programmed, resolver answered ${put.rcode})\n`);
  const stop = () => {
    void dir.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1;
}
