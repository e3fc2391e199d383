// fluxdns probe: seed 003 §4's evaluation of every Stateless DNS method against one resolver.
import { writeFileSync } from 'node:fs';
import { Directory } from '../client/directory.js';
import { probe } from '../client/probe.js';
import { formatTable, saveProbe } from '../client/probe-report.js';
import { formatServer } from '../client/stub.js';
import { parseIPv4 } from '../wire/rdata/ip.js';
import { parseFlags, UsageError } from './args.js';
import { CLIENT_FLAGS, cacheDirFrom, stubFrom, zoneFrom } from './client-options.js';

function addresses(flag: string, v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => s.trim());
  if (list.length !== 2 || list.some((a) => !parseIPv4(a))) throw new UsageError(`--${flag}: expected two IPv4 addresses IP1,IP2, found ${JSON.stringify(v)}`);
  return list;
}

function positive(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag}: expected a whole number ≥ 1, found ${JSON.stringify(v)}`);
  return n;
}

export const PROBE_FLAGS = {
  ...CLIENT_FLAGS,
  json: { type: 'string', value: 'FILE', help: 'also write the report as JSON to FILE' },
  'retention-max': { type: 'string', value: 'S', help: 'longest retention to measure, in seconds (default 64)' },
  'max-group': { type: 'string', value: 'N', help: 'largest group of names to try at once (default 16)' },
  'nr-address': { type: 'string', value: 'IP1,IP2', help: 'two addresses of this host for the NR method' },
  'na-address': { type: 'string', value: 'IP1,IP2', help: 'two addresses for the NA method' },
} as const;

export async function runProbe(args: string[]): Promise<number> {
  const { values } = parseFlags(args, PROBE_FLAGS);
  const stub = stubFrom(values);
  const zone = zoneFrom(values);
  const nr = addresses('nr-address', values['nr-address']);
  const na = addresses('na-address', values['na-address']);
  const retentionMax = positive('retention-max', values['retention-max'], 64);
  const maxGroup = positive('max-group', values['max-group'], 16);
  // NR needs a name server at the delegated address (§2.8.3): the probe runs one there for the duration.
  const directory = nr ? new Directory({ zone }) : undefined;
  if (directory && nr) await directory.listen(nr.map((host) => ({ host, port: 53 })));
  const tty = process.stderr.isTTY;
  try {
    const result = await probe(stub, {
      resolver: formatServer(stub.servers[0]!),
      zone,
      retentionMax,
      maxGroup,
      ...(nr ? { nrAddresses: nr } : {}),
      ...(na ? { naAddresses: na } : {}),
      onProgress: (done, total, what) => {
        if (!tty) return;
        const w = 24;
        const fill = Math.round((done / total) * w);
        process.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${done}/${total} methods ${done ? `(${what} done)` : ''}   `);
        if (done === total) process.stderr.write('\n');
      },
    });
    process.stdout.write(formatTable([result]));
    if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
    if (result.recursive && !result.note) saveProbe(cacheDirFrom(values), result);
    return result.reachable ? 0 : 1;
  } finally {
    await directory?.close();
  }
}
