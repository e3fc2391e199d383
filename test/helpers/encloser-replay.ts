// What the encloser-replay integration tests share: a fluxdns serving zones with the UDP addon or without
// it (udp.batching: off, the reference every reply is compared with), and how many replies the addon made
// from templates (fluxdns_answer_cache_shaped_total, read through the control socket).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { controlRequest } from '../../src/control/client.js';
import type { FamilyJson } from '../../src/observe/metrics/family.js';
import { freePort } from './ports.js';
import { startFluxdns } from './servers.js';

/** The value of the server's unlabelled metric `name` (ctl stats), undefined when it exports no such family. */
export async function metricValue(socket: string, name: string): Promise<number | undefined> {
  const r = await controlRequest(socket, { cmd: 'stats' });
  assert.ok(r.ok, 'ctl stats');
  const families = (r.data as { families: FamilyJson[] }).families;
  const f = families.find((x) => x.name === name);
  return f === undefined ? undefined : (f.values[0]?.value ?? 0);
}

/** Replies the server's addon made from encloser templates so far. */
export async function shapedCount(socket: string): Promise<number> {
  return (await metricValue(socket, 'fluxdns_answer_cache_shaped_total')) ?? 0;
}

/**
 * Starts fluxdns on a free port (UDP and TCP) serving `zones`, with the addon when `batching`; `top` is
 * YAML added at the top level (rrl, metrics), `zoneOptions` is added to each zone's entry (e.g. allowUpdate).
 */
export async function serveZones(
  dir: string,
  name: string,
  zones: readonly { name: string; file: string }[],
  batching: boolean,
  top = 'rrl: off',
  zoneOptions = '',
): Promise<{ port: number; socket: string }> {
  const port = await freePort();
  const socket = join(dir, `${name}.sock`);
  const yaml = [
    'listen:',
    `  - { proto: udp, address: "127.0.0.1:${port}" }`,
    `  - { proto: tcp, address: "127.0.0.1:${port}" }`,
    top,
    batching ? '' : 'udp: { batching: off }',
    `control: { socket: ${JSON.stringify(socket)} }`,
    'zones:',
    ...zones.map((z) => `  - { name: ${z.name}, file: ${JSON.stringify(z.file)}${zoneOptions} }`),
    '',
  ].join('\n');
  await startFluxdns(yaml, port, zones[0]!.name);
  return { port, socket };
}
