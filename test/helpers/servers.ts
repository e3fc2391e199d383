// Starts NSD, Knot and fluxdns on a given port in their own temporary directories, ready to answer.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, type Proc } from './proc.js';
import { dig } from './dig.js';

export interface ZoneSpec {
  /** Absolute zone name with trailing dot, e.g. "diff.test.". */
  name: string;
  /** Absolute path of the zone file. */
  file: string;
}

export interface RunningServer {
  kind: 'nsd' | 'knot' | 'named' | 'fluxdns';
  port: number;
  proc: Proc;
  dir: string;
  /** Stops the process (SIGTERM, then SIGKILL) and removes the temporary directory. */
  stop(): Promise<void>;
}

/** Repository root, resolved from this file's location (test/helpers/servers.ts). */
export const repoRoot: string = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const fluxdnsMain: string = join(repoRoot, 'src', 'cli', 'main.ts');

/** What one `fluxdns` command printed and its exit code (1 when it was killed or could not start). */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `fluxdns ARGS…` from the source tree, as a user would, killed after `timeoutMs`. */
export function runFluxdns(args: string[], timeoutMs: number): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', fluxdnsMain, ...args], { cwd: repoRoot, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function fluxdnsAvailable(): boolean {
  return existsSync(fluxdnsMain);
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fluxdns-${prefix}-`));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls with dig until the server answers a SOA query for `zone` with NOERROR and AA. */
export async function waitForSoa(proc: Proc, port: number, zone: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`${proc.name} exited during start-up\n${proc.describe()}`);
    try {
      const r = await dig(port, zone, 'SOA', { extra: ['+time=1'] });
      if (r.rcode === 'NOERROR' && r.flags.has('aa') && r.answer.some((a) => a.type === 'SOA')) return;
      last = r.raw;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await sleep(100);
  }
  throw new Error(`${proc.name} did not answer SOA ${zone} on port ${port} within ${timeoutMs} ms\nlast: ${last}\n${proc.describe()}`);
}

function makeRunning(kind: RunningServer['kind'], port: number, proc: Proc, dir: string): RunningServer {
  return {
    kind,
    port,
    proc,
    dir,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function started(kind: RunningServer['kind'], port: number, proc: Proc, dir: string, zones: ZoneSpec[]): Promise<RunningServer> {
  const server = makeRunning(kind, port, proc, dir);
  try {
    await waitForSoa(proc, port, zones[0]!.name);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/** NSD 4.x in the foreground (`nsd -d`), no privilege drop, no chroot, no database file. */
/**
 * An NSD configuration for a foreground, unprivileged, single-process server in `dir`: no database,
 * no remote control, and RRL off (Debian builds NSD with RRL; tests and benchmarks send many
 * queries quickly). Shared by the differential tests, the fake root and the benchmark.
 */
export function nsdConfig(dir: string, o: { address: string; port: number; zones: readonly ZoneSpec[]; verbosity?: number }): string {
  const lines = [
    'server:',
    `  ip-address: ${o.address}`,
    `  port: ${o.port}`,
    '  do-ip4: yes',
    '  do-ip6: no',
    '  username: ""',
    '  chroot: ""',
    `  zonesdir: "${dir}"`,
    `  pidfile: "${join(dir, 'nsd.pid')}"`,
    '  database: ""',
    `  zonelistfile: "${join(dir, 'zone.list')}"`,
    `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `  xfrdir: "${dir}"`,
    '  server-count: 1',
    `  verbosity: ${o.verbosity ?? 1}`,
    '  hide-version: yes',
    '  hide-identity: yes',
    '  refuse-any: no',
    '  rrl-ratelimit: 0',
    '  reuseport: no',
    'remote-control:',
    '  control-enable: no',
    '',
  ];
  for (const z of o.zones) lines.push('zone:', `  name: "${z.name}"`, `  zonefile: "${z.file}"`, '');
  return lines.join('\n');
}

/**
 * A Knot DNS configuration for a foreground server in `dir` (which must hold a db/ folder): one UDP,
 * one TCP and one background worker, no journal, zone files loaded whole and never written back.
 * Shared by the differential tests and the benchmark.
 */
export function knotConfig(dir: string, o: { port: number; zones: readonly ZoneSpec[]; log?: 'info' | 'warning'; semanticChecks?: boolean }): string {
  const lines = [
    'server:',
    `  rundir: "${dir}"`,
    `  pidfile: "${join(dir, 'knot.pid')}"`,
    `  listen: 127.0.0.1@${o.port}`,
    '  udp-workers: 1',
    '  tcp-workers: 1',
    '  background-workers: 1',
    'log:',
    '  - target: stderr',
    `    any: ${o.log ?? 'info'}`,
    'database:',
    `  storage: "${join(dir, 'db')}"`,
    'control:',
    `  listen: "${join(dir, 'knot.sock')}"`,
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    journal-content: none',
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    ...(o.semanticChecks ? ['    semantic-checks: on'] : []),
    'zone:',
  ];
  for (const z of o.zones) lines.push(`  - domain: "${z.name}"`, `    file: "${z.file}"`);
  return lines.join('\n') + '\n';
}

export async function startNsd(zones: ZoneSpec[], port: number): Promise<RunningServer> {
  const dir = tempDir('nsd');
  const conf = join(dir, 'nsd.conf');
  writeFileSync(conf, nsdConfig(dir, { address: '127.0.0.1', port, zones }));
  const proc = startProcess('nsd', ['-d', '-c', conf, '-P', join(dir, 'nsd.pid')], { name: `nsd:${port}`, cwd: dir });
  return started('nsd', port, proc, dir, zones);
}

/** Knot DNS 3.x in the foreground, journal and database in the temporary directory. */
export async function startKnot(zones: ZoneSpec[], port: number): Promise<RunningServer> {
  const dir = tempDir('knot');
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'knot.conf');
  writeFileSync(conf, knotConfig(dir, { port, zones, semanticChecks: true }));
  const proc = startProcess('knotd', ['-c', conf], { name: `knotd:${port}`, cwd: dir });
  return started('knot', port, proc, dir, zones);
}

/**
 * BIND's named (9.18) as an authoritative-only primary for `zones` in the foreground: no recursion, no
 * control channel, check-names off (test owners such as "_sip" or "nsec3" are data, not host names).
 */
export async function startNamed(zones: ZoneSpec[], port: number): Promise<RunningServer> {
  const dir = tempDir('named');
  const conf = join(dir, 'named.conf');
  const lines = [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  session-keyfile "${join(dir, 'session.key')}";`,
    `  managed-keys-directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    '};',
    'controls { };',
  ];
  for (const z of zones) lines.push(`zone "${z.name}" { type primary; file "${z.file}"; check-names ignore; };`);
  writeFileSync(conf, lines.join('\n') + '\n');
  const proc = startProcess('named', ['-g', '-n', '1', '-4', '-c', conf], { name: `named:${port}`, cwd: dir });
  return started('named', port, proc, dir, zones);
}

/** Renders the fluxdns YAML config for UDP and TCP on 127.0.0.1:port. */
export function fluxdnsConfig(zones: ZoneSpec[], port: number): string {
  const lines = [
    'listen:',
    `  - { proto: udp, address: "127.0.0.1:${port}" }`,
    `  - { proto: tcp, address: "127.0.0.1:${port}" }`,
    // RRL is on by default; the differential tests compare answers (NSD here runs with rrl-ratelimit: 0).
    'rrl: off',
    'zones:',
    ...zones.map((z) => `  - { name: ${JSON.stringify(z.name)}, file: ${JSON.stringify(z.file)} }`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * fluxdns from the repository sources: `node --import tsx src/cli/main.ts serve --config FILE`.
 * Pass zones (a config is generated for port) or a full YAML text (then `soaZone` names the zone
 * whose SOA is polled).
 */
export async function startFluxdns(config: ZoneSpec[] | string, port: number, soaZone?: string): Promise<RunningServer> {
  const dir = tempDir('fluxdns');
  const confPath = join(dir, 'fluxdns.yaml');
  const yaml = typeof config === 'string' ? config : fluxdnsConfig(config, port);
  writeFileSync(confPath, yaml);
  // --expose-gc as the `fluxdns` command starts node (its shebang): the memory relief's full GC.
  const proc = startProcess(process.execPath, ['--expose-gc', '--import', 'tsx', fluxdnsMain, 'serve', '--config', confPath], {
    name: `fluxdns:${port}`,
    cwd: repoRoot,
  });
  const server = makeRunning('fluxdns', port, proc, dir);
  try {
    // Generous: with workers: N on a loaded machine, each process loads the sources through tsx in turn.
    await proc.waitFor(/fluxdns ready/, 90000, 'stdout');
  } catch (e) {
    await server.stop();
    throw e;
  }
  const zone = typeof config === 'string' ? soaZone : config[0]?.name;
  if (zone) {
    try {
      await waitForSoa(proc, port, zone);
    } catch (e) {
      await server.stop();
      throw e;
    }
  }
  return server;
}
