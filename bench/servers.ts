// Starts each benchmarked server (fluxdns, knotd, nsd, named, pdns, bare Node) in a temp dir on a loopback port.
import { execFile, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startProcess, type Proc } from '../test/helpers/proc.js';
import { knotConfig, nsdConfig } from '../test/helpers/servers.js';

const run = promisify(execFile);

export const repoRoot: string = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const fluxdnsDist: string = join(repoRoot, 'dist', 'cli', 'main.js');
export const bareResponder: string = join(repoRoot, 'bench', 'bare-responder.mjs');

export type ServerKind = 'fluxdns' | 'knotd' | 'nsd' | 'named' | 'pdns' | 'bare-node' | 'bare-c' | 'bare-c-block';

export interface StartOptions {
  /** Absolute path of the bench.lab. master file. */
  zoneFile: string;
  port: number;
  /** CPU list for `taskset -c`, or null to leave the server unpinned. */
  cpu: string | null;
  /** fluxdns only: `workers:` in its config. */
  workers?: number;
  /** fluxdns only: YAML appended to its config (pools and policies for the dynamic-answer phase). */
  extraYaml?: string;
  /** pdns only: serve LUA records (the dynamic-answer phase). */
  lua?: boolean;
  /** fluxdns only: node options before the script (e.g. --trace-gc). */
  nodeFlags?: string[];
  /** fluxdns only: the CLI's main.js to run instead of this tree's dist (A/B of two builds). */
  main?: string;
  /** fluxdns only: rrl on as by default, at this many responses per second, instead of `rrl: off`. */
  rrlRate?: number;
}

export interface BenchServer {
  kind: ServerKind;
  port: number;
  proc: Proc;
  dir: string;
  /** SIGTERM (then SIGKILL) by PID and remove the temp dir. */
  stop(): Promise<void>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface KdigResult {
  ok: boolean;
  status: string;
  aa: boolean;
  answer: string[];
  raw: string;
}

/** One kdig query over UDP (or TCP), 1 s timeout, no retry. */
export async function kdig(port: number, name: string, type: string, tcp = false): Promise<KdigResult> {
  const args = [`@127.0.0.1`, '-p', String(port), '+time=1', '+retry=0', '+noall', '+header', '+answer', name, type];
  if (tcp) args.unshift('+tcp');
  let raw: string;
  try {
    raw = (await run('kdig', args, { timeout: 5000 })).stdout;
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? '';
    return { ok: false, status: 'TIMEOUT', aa: false, answer: [], raw: out || (e as Error).message };
  }
  const status = /status: (\w+)/.exec(raw)?.[1] ?? 'NONE';
  const flags = /;; Flags: ([^;]*);/i.exec(raw)?.[1] ?? '';
  const answer = raw.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';;'));
  return { ok: true, status, aa: flags.split(/\s+/).includes('aa'), answer, raw };
}

/** SOA query for `zone` in wire format (no EDNS), ID 0x4242. */
function soaQuery(zone: string): Buffer {
  const labels = zone.split('.').filter((l) => l !== '');
  const name = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  return Buffer.concat([Buffer.from([0x42, 0x42, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 6, 0, 1])]);
}

/** A probe's answer: NOERROR, AA and at least one answer record. */
function soaAnswered(m: Buffer): boolean {
  if (m.length < 12 || m[0] !== 0x42 || m[1] !== 0x42) return false;
  return (m[2]! & 0x04) !== 0 && (m[3]! & 0x0f) === 0 && m.readUInt16BE(6) > 0;
}

/** How often firstSoaAnswer asks. */
const PROBE_MS = 10;

/**
 * performance.now() when the server first answers SOA `zone` with NOERROR, AA and an answer, asked every
 * PROBE_MS from one connected UDP socket. Why one connected socket: before the server binds its port,
 * the kernel's port-unreachable reaches a connected socket at once (ECONNREFUSED), where a fresh
 * unconnected socket per probe waited out a timeout (200 ms: load times came out up to 0.22 s late for a
 * server that binds only once its zones are loaded, as fluxdns does, and not for one that binds first and
 * answers REFUSED meanwhile); and a probe queued while a bound server is busy is answered to a socket
 * that is still listening, so the first answer is seen when it is sent.
 */
export function firstSoaAnswer(proc: Proc, port: number, zone: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const query = soaQuery(zone);
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (err: Error | undefined, at = 0): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(at);
    };
    const tick = (): void => {
      if (done) return;
      if (!proc.running) return finish(new Error(`${proc.name} exited during start-up\n${proc.describe()}`));
      if (Date.now() - t0 > timeoutMs) return finish(new Error(`${proc.name} did not answer SOA ${zone} on port ${port} within ${timeoutMs} ms\n${proc.describe()}`));
      sock.send(query);
      timer = setTimeout(tick, PROBE_MS);
    };
    sock.on('message', (m) => {
      if (soaAnswered(m)) finish(undefined, performance.now());
    });
    // ECONNREFUSED: nothing bound to the port yet; the next tick asks again.
    sock.on('error', () => {});
    sock.connect(port, '127.0.0.1', tick);
  });
}

/** Throws unless kdig also gets NOERROR, AA and a SOA record for SOA `zone` (firstSoaAnswer's probe reads only the header). */
export async function checkSoa(proc: Proc, port: number, zone: string): Promise<void> {
  const r = await kdig(port, zone, 'SOA');
  if (r.status !== 'NOERROR' || !r.aa || !r.answer.some((l) => /\sSOA\s/.test(l))) throw new Error(`${proc.name} on port ${port}: SOA ${zone} answered but kdig disagrees:\n${r.raw}`);
}

/** Waits until the server answers SOA `zone` (firstSoaAnswer, then checkSoa). Returns performance.now() of the first answer. */
export async function waitForSoa(proc: Proc, port: number, zone: string, timeoutMs: number): Promise<number> {
  const at = await firstSoaAnswer(proc, port, zone, timeoutMs);
  await checkSoa(proc, port, zone);
  return at;
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fluxdns-bench-${prefix}-`));
}

function spawnPinned(kind: ServerKind, cpu: string | null, cmd: string, args: string[], cwd: string, port: number): Proc {
  // taskset execs the command, so the PID we hold is the server's own.
  const [c, a] = cpu === null ? [cmd, args] : ['taskset', ['-c', cpu, cmd, ...args]];
  return startProcess(c, a, { name: `${kind}:${port}`, cwd });
}

function wrap(kind: ServerKind, port: number, proc: Proc, dir: string): BenchServer {
  return {
    kind,
    port,
    proc,
    dir,
    async stop() {
      await proc.stop(5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** fluxdns from dist/ (node dist/cli/main.js serve --config FILE). Waits for "fluxdns ready". */
export function spawnFluxdns(o: StartOptions): BenchServer {
  const main = o.main ?? fluxdnsDist;
  if (!existsSync(main)) throw new Error(`${main} missing: run npm run build`);
  const dir = tempDir('fluxdns');
  const conf = join(dir, 'fluxdns.yaml');
  writeFileSync(
    conf,
    [
      'listen:',
      `  - { proto: udp, address: "127.0.0.1:${o.port}" }`,
      `  - { proto: tcp, address: "127.0.0.1:${o.port}" }`,
      `workers: ${o.workers ?? 1}`,
      'log: { level: warn }',
      // dnsperf floods a few names from one address; NSD here runs with rrl-ratelimit: 0, Knot and named without RRL.
      // rrlRate: the default configuration's rrl, at a rate dnsperf's one source never reaches (at the
      // default 200/s the mix's NXDOMAINs, which share the zone's bucket, would be limited).
      o.rrlRate === undefined ? 'rrl: off' : `rrl: { responsesPerSecond: ${o.rrlRate} }`,
      'zones:',
      `  - { name: bench.lab., file: ${JSON.stringify(o.zoneFile)} }`,
      o.extraYaml ?? '',
      '',
    ].join('\n'),
  );
  const proc = spawnPinned('fluxdns', o.cpu, process.execPath, [...(o.nodeFlags ?? []), main, 'serve', '--config', conf], repoRoot, o.port);
  return wrap('fluxdns', o.port, proc, dir);
}

/** Knot DNS 3.x in the foreground: one UDP and one TCP worker (the server gets one core). */
export function spawnKnot(o: StartOptions): BenchServer {
  const dir = tempDir('knot');
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'knot.conf');
  writeFileSync(conf, knotConfig(dir, { port: o.port, zones: [{ name: 'bench.lab.', file: o.zoneFile }], log: 'warning' }));
  const proc = spawnPinned('knotd', o.cpu, 'knotd', ['-c', conf], dir, o.port);
  return wrap('knotd', o.port, proc, dir);
}

/** NSD 4.x in the foreground, one server process, no database file, RRL off. */
export function spawnNsd(o: StartOptions): BenchServer {
  const dir = tempDir('nsd');
  const conf = join(dir, 'nsd.conf');
  writeFileSync(conf, nsdConfig(dir, { address: '127.0.0.1', port: o.port, zones: [{ name: 'bench.lab.', file: o.zoneFile }], verbosity: 0 }));
  const proc = spawnPinned('nsd', o.cpu, 'nsd', ['-d', '-c', conf, '-P', join(dir, 'nsd.pid')], dir, o.port);
  return wrap('nsd', o.port, proc, dir);
}

/** BIND 9 named in the foreground (-g), one worker thread (-n 1), authoritative only. */
export function spawnNamed(o: StartOptions): BenchServer {
  const dir = tempDir('named');
  const conf = join(dir, 'named.conf');
  const lines = [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  session-keyfile "${join(dir, 'session.key')}";`,
    `  managed-keys-directory "${dir}";`,
    `  listen-on port ${o.port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  allow-transfer { none; };',
    '  notify no;',
    '  dnssec-validation no;',
    '};',
    'controls { };',
    'zone "bench.lab" {',
    '  type master;',
    `  file "${o.zoneFile}";`,
    '};',
  ];
  writeFileSync(conf, lines.join('\n') + '\n');
  const proc = spawnPinned('named', o.cpu, 'named', ['-g', '-c', conf, '-n', '1'], dir, o.port);
  return wrap('named', o.port, proc, dir);
}

/** PowerDNS Authoritative 4.7 with the bind backend, foreground, one receiver thread. */
export function spawnPdns(o: StartOptions): BenchServer {
  const dir = tempDir('pdns');
  writeFileSync(join(dir, 'pdns.conf'), '');
  const bindConf = join(dir, 'named.conf');
  writeFileSync(bindConf, `zone "bench.lab" { type master; file "${o.zoneFile}"; };\n`);
  const args = [
    `--config-dir=${dir}`,
    `--socket-dir=${dir}`,
    '--launch=bind',
    `--bind-config=${bindConf}`,
    '--local-address=127.0.0.1',
    `--local-port=${o.port}`,
    '--daemon=no',
    '--guardian=no',
    '--disable-syslog=yes',
    '--write-pid=no',
    '--receiver-threads=1',
    '--distributor-threads=1',
    '--loglevel=4',
    ...(o.lua ? ['--enable-lua-records=yes'] : []),
  ];
  const proc = spawnPinned('pdns', o.cpu, 'pdns_server', args, dir, o.port);
  return wrap('pdns', o.port, proc, dir);
}

/** The bare Node dgram responder (bench/bare-responder.mjs). */
export function spawnBare(o: StartOptions): BenchServer {
  const dir = tempDir('bare');
  const proc = spawnPinned('bare-node', o.cpu, process.execPath, [bareResponder, String(o.port)], dir, o.port);
  return wrap('bare-node', o.port, proc, dir);
}

/**
 * The same fixed reply from a C epoll/recvmmsg/sendmmsg loop (bench/bare-responder.c, compiled here with
 * the system's cc): the floor of the addon's and knotd's loop on this machine.
 */
export function spawnBareC(o: StartOptions, kind: 'bare-c' | 'bare-c-block' = 'bare-c'): BenchServer {
  const dir = tempDir(kind);
  const bin = join(dir, 'bare-responder');
  const cc = spawnSync('cc', ['-O2', '-o', bin, join(repoRoot, 'bench', 'bare-responder.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`bench/bare-responder.c did not compile: ${cc.stderr || cc.error?.message}`);
  const proc = spawnPinned(kind, o.cpu, bin, kind === 'bare-c' ? [String(o.port)] : [String(o.port), 'block'], dir, o.port);
  return wrap(kind, o.port, proc, dir);
}

const spawners: Record<ServerKind, (o: StartOptions) => BenchServer> = {
  fluxdns: spawnFluxdns,
  knotd: spawnKnot,
  nsd: spawnNsd,
  named: spawnNamed,
  pdns: spawnPdns,
  'bare-node': spawnBare,
  'bare-c': (o) => spawnBareC(o),
  /** The same with a blocking recvmmsg instead of epoll: what a UDP thread of its own would cost. */
  'bare-c-block': (o) => spawnBareC(o, 'bare-c-block'),
};

/**
 * Starts a server and waits until it answers: SOA bench.lab. (all but the bare responders), or until a
 * bare responder says it listens. Stops it again if it never does.
 */
export async function startServer(kind: ServerKind, o: StartOptions, timeoutMs = 60000): Promise<BenchServer> {
  const s = spawners[kind](o);
  try {
    if (kind === 'bare-node' || kind === 'bare-c' || kind === 'bare-c-block') await s.proc.waitFor(/bare ready/, timeoutMs, 'stdout');
    else await waitForSoa(s.proc, o.port, 'bench.lab.', timeoutMs);
  } catch (e) {
    await s.stop();
    throw e;
  }
  return s;
}

/** Spawns without waiting (for load-time measurement, where the caller times the first SOA answer). */
export function spawnServer(kind: ServerKind, o: StartOptions): BenchServer {
  return spawners[kind](o);
}
