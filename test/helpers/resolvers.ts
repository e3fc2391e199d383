// Real recursive resolvers (unbound, named, kresd, pdns_recursor, dnsmasq) on free loopback ports behind a
// fake root (NSD on a random 127.A.B.C:53), each in its own temp dir, stopped by PID (../shared/NOTES.md).
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import net from 'node:net';
import { startProcess, type Proc } from './proc.js';
import { freePort } from './ports.js';
import { nsdConfig } from './servers.js';
import { Stub } from '../../src/client/stub.js';
import { RRType } from '../../src/wire/types.js';

export type ResolverKind = 'unbound' | 'named' | 'kresd' | 'pdns_recursor' | 'dnsmasq';

export interface Resolver {
  kind: ResolverKind;
  port: number;
  proc: Proc;
  dir: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fluxdns-${prefix}-`));
}

async function bindable(host: string, port: number): Promise<boolean> {
  const udp = await new Promise<dgram.Socket | null>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(null);
    });
    s.bind({ address: host, port, exclusive: true }, () => resolve(s));
  });
  if (!udp) return false;
  const tcp = await new Promise<net.Server | null>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host, port, exclusive: true }, () => resolve(srv));
  });
  await new Promise<void>((r) => udp.close(() => r()));
  if (!tcp) return false;
  await new Promise<void>((r) => tcp.close(() => r()));
  return true;
}

const handedOut = new Set<string>();

/**
 * A random 127.A.B.C address whose port 53 is free for UDP and TCP right now: tests that need port
 * 53 (a fake root, delegation targets) cannot collide with a parallel test file or run.
 */
export async function freeLoopback(port = 53): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const addr = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 250)}`;
    if (handedOut.has(addr)) continue;
    if (await bindable(addr, port)) {
      handedOut.add(addr);
      return addr;
    }
  }
  throw new Error('freeLoopback: no free 127.x.y.z address with port 53 free');
}

export interface Delegation {
  /** Delegated zone, absolute ("echo.lab."). */
  zone: string;
  /** Its name server's name (inside the zone: glue is added). */
  ns: string;
  address: string;
}

/** NSD serving a root zone on ADDRESS:53 that delegates each zone with glue. */
export async function startFakeRoot(address: string, delegations: Delegation[]): Promise<{ proc: Proc; dir: string; stop(): Promise<void> }> {
  const dir = tempDir('root');
  const zone = [
    '$TTL 86400',
    '. SOA a.root-servers.net. hostmaster.root. 1 1800 900 604800 86400',
    '. NS a.root-servers.net.',
    `a.root-servers.net. A ${address}`,
    ...delegations.flatMap((d) => [`${d.zone} NS ${d.ns}`, `${d.ns} A ${d.address}`]),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'root.zone'), zone);
  const conf = nsdConfig(dir, { address, port: 53, zones: [{ name: '.', file: join(dir, 'root.zone') }] });
  writeFileSync(join(dir, 'nsd.conf'), conf);
  const proc = startProcess('nsd', ['-d', '-c', join(dir, 'nsd.conf'), '-P', join(dir, 'nsd.pid')], { name: `nsd-root@${address}`, cwd: dir });
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15000;
  for (;;) {
    if (!proc.running) throw new Error(`fake root did not start\n${proc.describe()}`);
    try {
      const r = await new Stub({ servers: [{ host: address, port: 53 }], recursion: false, timeoutMs: 500, retries: 0 }).query('.', RRType.SOA);
      if (r.message.flags.aa) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`fake root on ${address} did not answer\n${proc.describe()}`);
    }
    await sleep(100);
  }
  return { proc, dir, stop };
}

function rootHints(dir: string, rootAddress: string): string {
  const file = join(dir, 'root.hints');
  writeFileSync(file, `.  3600000 NS a.root-servers.net.\na.root-servers.net. 3600000 A ${rootAddress}\n`);
  return file;
}

/**
 * An unbound configuration for a foreground, unprivileged, single-threaded resolver in `dir` that may
 * query loopback addresses (NOTES.md), iterating from `rootHints`. `server` lines are added to the
 * server clause, `after` lines after it (stub-zone: clauses, for example).
 */
export function unboundConfig(dir: string, o: { port: number; rootHints: string; server?: string[]; after?: string[] }): string {
  return [
    'server:',
    `  interface: 127.0.0.1@${o.port}`,
    '  do-ip6: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    '  use-syslog: no',
    '  logfile: ""',
    '  do-daemonize: no',
    '  num-threads: 1',
    '  so-reuseport: no',
    `  root-hints: "${o.rootHints}"`,
    '  module-config: "iterator"',
    '  do-not-query-localhost: no',
    // Unbound's usual setting: recursion for the clients, RD=0 (cache-only) queries REFUSED.
    '  access-control: 127.0.0.0/8 allow',
    ...(o.server ?? []),
    ...(o.after ?? []),
    'remote-control:',
    '  control-enable: no',
    '',
  ].join('\n');
}

function configFor(kind: ResolverKind, dir: string, port: number, upstream: { root?: string; forwardTo?: number }): { cmd: string; args: string[] } {
  const root = upstream.root ?? '';
  switch (kind) {
    case 'unbound': {
      const conf = join(dir, 'unbound.conf');
      writeFileSync(conf, unboundConfig(dir, { port, rootHints: rootHints(dir, root) }));
      return { cmd: 'unbound', args: ['-d', '-c', conf] };
    }
    case 'named': {
      const conf = join(dir, 'named.conf');
      writeFileSync(
        conf,
        [
          'options {',
          `  directory "${dir}";`,
          `  pid-file "${join(dir, 'named.pid')}";`,
          `  session-keyfile "${join(dir, 'session.key')}";`,
          `  managed-keys-directory "${dir}";`,
          `  listen-on port ${port} { 127.0.0.1; };`,
          '  listen-on-v6 { none; };',
          '  recursion yes;',
          '  allow-recursion { 127.0.0.0/8; };',
          '  allow-query { 127.0.0.0/8; };',
          '  dnssec-validation no;',
          '  notify no;',
          '};',
          'controls { };',
          `zone "." { type hint; file "${rootHints(dir, root)}"; };`,
          '',
        ].join('\n'),
      );
      return { cmd: 'named', args: ['-g', '-n', '1', '-4', '-c', conf] };
    }
    case 'kresd': {
      const conf = join(dir, 'kresd.conf');
      writeFileSync(
        conf,
        [
          `net.listen('127.0.0.1', ${port}, { kind = 'dns' })`,
          "trust_anchors.remove('.')",
          "for _, m in ipairs({'priming', 'detect_time_skew', 'ta_update', 'ta_signal_query', 'ta_sentinel'}) do pcall(modules.unload, m) end",
          "modules.load('hints > iterate')",
          `hints.root({['a.root-servers.net.'] = '${root}'})`,
          'cache.size = 10 * MB',
          '',
        ].join('\n'),
      );
      return { cmd: 'kresd', args: ['-n', '-c', conf, dir] };
    }
    case 'pdns_recursor': {
      writeFileSync(
        join(dir, 'recursor.conf'),
        [
          'local-address=127.0.0.1',
          `local-port=${port}`,
          `hint-file=${rootHints(dir, root)}`,
          'dnssec=off',
          'security-poll-suffix=',
          'dont-query=',
          `socket-dir=${dir}`,
          'daemon=no',
          'write-pid=no',
          'threads=1',
          'quiet=yes',
          'allow-from=127.0.0.0/8',
          '',
        ].join('\n'),
      );
      return { cmd: 'pdns_recursor', args: [`--config-dir=${dir}`] };
    }
    case 'dnsmasq':
      // dnsmasq is a forwarder (NOTES.md): it caches what an upstream resolver hands it.
      return {
        cmd: 'dnsmasq',
        args: ['-k', '-C', '/dev/null', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', `--server=127.0.0.1#${upstream.forwardTo}`, `--pid-file=${join(dir, 'dnsmasq.pid')}`, '--user=root', '--log-facility=-'],
      };
  }
}

/**
 * Starts one resolver: recursive from the fake root at `upstream.root`, or (dnsmasq) forwarding to
 * the resolver on 127.0.0.1:`upstream.forwardTo`. Ready once it answers a query for `readyName`.
 */
export async function startResolver(kind: ResolverKind, upstream: { root?: string; forwardTo?: number }, readyName: string): Promise<Resolver> {
  const dir = tempDir(kind);
  const port = await freePort();
  const { cmd, args } = configFor(kind, dir, port, upstream);
  const proc = startProcess(cmd, args, { name: `${kind}:${port}`, cwd: dir });
  const r: Resolver = {
    kind,
    port,
    proc,
    dir,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 20000;
  let last = '';
  for (;;) {
    if (!proc.running) throw new Error(`${kind} exited during start-up\n${proc.describe()}`);
    try {
      const res = await new Stub({ servers: [{ host: '127.0.0.1', port }], timeoutMs: 1000, retries: 0 }).query(readyName, RRType.SOA);
      if (res.message.flags.rcode === 0 && res.message.answers.some((a) => a.type === RRType.SOA)) return r;
      last = JSON.stringify(res.message.flags);
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      await r.stop();
      throw new Error(`${kind} on port ${port} did not resolve ${readyName} SOA\nlast: ${last}\n${proc.describe()}`);
    }
    await sleep(200);
  }
}
