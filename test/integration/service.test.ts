// Running as a service: the systemd unit verifies, root drops to `user: nobody` after binding a port
// below 1024 and keeps answering, the PID file, the log file reopened on SIGUSR1 (and no inspector),
// the shutdown lines; the demo's defaults: every socket on loopback, PROXY v2 believed only from the gateway.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeProxyV2 } from '../../src/gateway/proxy-v2.js';
import { dig } from '../helpers/dig.js';
import { freePort, freePortRange } from '../helpers/ports.js';
import { DEMO_PORTS } from '../../src/config/demo.js';
import { startProcess, stopAll } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot, waitForSoa } from '../helpers/servers.js';

after(() => stopAll());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A port below 1024 free for UDP and TCP on 127.0.0.1 (the test runs as root). */
async function lowPort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const p = 600 + Math.floor(Math.random() * 400);
    const tcpOk = await new Promise<boolean>((res) => {
      const s = net.createServer();
      s.once('error', () => res(false));
      s.listen(p, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (!tcpOk) continue;
    const udpOk = await new Promise<boolean>((res) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => res(false));
      u.bind(p, '127.0.0.1', () => u.close(() => res(true)));
    });
    if (udpOk) return p;
  }
  throw new Error('no free port below 1024');
}

const procStatus = (pid: number, key: string) => new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

test('systemd-analyze verify accepts contrib/fluxdns.service without a warning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-unit-'));
  const file = join(repoRoot, 'contrib', 'fluxdns.service');
  const unit = readFileSync(file, 'utf8');
  assert.match(unit, /^Type=notify$/m);
  assert.match(unit, /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
  assert.match(unit, /^NoNewPrivileges=yes$/m);
  // verify exits 0 on unknown keys and bad values (it only warns), so its output must be empty too.
  const verify = (f: string) => spawnSync('systemd-analyze', ['verify', f], { encoding: 'utf8', cwd: dir });
  const ok = verify(file);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout + ok.stderr, '');
  // Broken copies are reported: the check is real.
  for (const [from, to] of [[/^Type=notify$/m, 'Type=notifyy'], [/^NoNewPrivileges=yes$/m, 'NoNewPrivilegs=yes']] as const) {
    writeFileSync(join(dir, 'broken.service'), unit.replace(from, to));
    const bad = verify(join(dir, 'broken.service'));
    assert.notEqual(bad.stdout + bad.stderr, '', `${to} passed`);
  }
});

test('as root with user: nobody on a port below 1024: binds, drops to nobody, answers; PID file, log file on SIGUSR1, no inspector, shutdown lines', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-svc-'));
  // nobody must read the zone at reload and write beside the log and PID files.
  chmodSync(dir, 0o777);
  const zone = join(dir, 's.lab.zone');
  writeFileSync(zone, '$ORIGIN s.lab.\n$TTL 60\n@ SOA ns hm 5 3600 600 86400 60\n  NS ns\nns A 198.51.100.9\n');
  const port = await lowPort();
  const log = join(dir, 'fluxdns.log');
  const pidFile = join(dir, 'fluxdns.pid');
  const conf = join(dir, 'fluxdns.yaml');
  writeFileSync(conf, `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n  - { proto: tcp, address: "127.0.0.1:${port}" }\nuser: nobody\npidFile: ${pidFile}\nlog: { file: ${log} }\nzones:\n  - { name: s.lab., file: ${zone} }\n`);
  const proc = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', conf], { cwd: repoRoot, name: 'fluxdns-root' });
  await proc.waitFor(/fluxdns ready/, 90_000);
  await waitForSoa(proc, port, 's.lab.');
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  // Real, effective, saved and filesystem uid are all nobody's: root cannot be regained.
  assert.deepEqual(procStatus(proc.pid, 'Uid')!.split(/\s+/).map(Number), [nobody, nobody, nobody, nobody]);
  assert.equal(procStatus(proc.pid, 'Groups')!.trim().split(/\s+/).length, 1);
  assert.equal((await dig(port, 's.lab', 'SOA')).rcode, 'NOERROR');
  assert.equal((await dig(port, 'ns.s.lab', 'A', { tcp: true })).answer[0]?.data, '198.51.100.9');
  assert.equal(readFileSync(pidFile, 'utf8'), `${proc.pid}\n`);
  // Logs go to the file, not stderr.
  const first = readFileSync(log, 'utf8');
  assert.match(first, /"msg":"running as","user":"nobody","uid":\d+/);
  assert.match(first, /"msg":"ready"/);
  assert.doesNotMatch(proc.stderr, /"msg"/);

  // logrotate: move the file, send SIGUSR1; the next lines land in a new file at the path.
  renameSync(log, `${log}.1`);
  process.kill(proc.pid, 'SIGUSR1');
  await until('a new log file', () => existsSync(log) && readFileSync(log, 'utf8').includes('log file reopened'));
  // A reload logs to the new file (as nobody, who reads the zone).
  process.kill(proc.pid, 'SIGHUP');
  await until('the reload in the new file', () => readFileSync(log, 'utf8').includes('"msg":"reloaded"'));
  assert.doesNotMatch(readFileSync(`${log}.1`, 'utf8'), /reopened|reloaded/);
  // SIGUSR1 did not open Node's inspector: nothing said so, nothing listens on 9229, still serving.
  assert.doesNotMatch(proc.stderr, /Debugger listening/);
  assert.equal(execFileSync('ss', ['-Hltnp', `( sport = :9229 )`], { encoding: 'utf8' }).includes(`pid=${proc.pid},`), false);
  assert.equal((await dig(port, 's.lab', 'SOA')).rcode, 'NOERROR');

  const exit = await proc.stop();
  assert.equal(exit.code, 0);
  const text = readFileSync(log, 'utf8');
  assert.match(text, /"msg":"shutting down","reason":"SIGTERM"/);
  assert.match(text, /"msg":"stopped"/);
  assert.equal(existsSync(pidFile), false, 'PID file removed');
});

test('workers: 2 with user: nobody: workers and then the primary drop root; a worker started again after one died binds port below 1024 and drops the capability', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-svc2-'));
  chmodSync(dir, 0o755);
  const zone = join(dir, 'w.lab.zone');
  writeFileSync(zone, '$ORIGIN w.lab.\n$TTL 60\n@ SOA ns hm 3 3600 600 86400 60\n  NS ns\nns A 198.51.100.9\n');
  chmodSync(zone, 0o644);
  const port = await lowPort();
  const conf = join(dir, 'fluxdns.yaml');
  writeFileSync(conf, `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n  - { proto: tcp, address: "127.0.0.1:${port}" }\nworkers: 2\nuser: nobody\nzones:\n  - { name: w.lab., file: ${zone} }\n`);
  const proc = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', conf], { cwd: repoRoot, name: 'fluxdns-root-workers' });
  await proc.waitFor(/fluxdns ready/, 60000);
  await waitForSoa(proc, port, 'w.lab.');
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const uids = (pid: number) => procStatus(pid, 'Uid')!.split(/\s+/).map(Number);
  const capEff = (pid: number) => BigInt(`0x${procStatus(pid, 'CapEff')}`);
  const CAP_NET_BIND_SERVICE = 1n << 10n;
  /**
   * The threads of `pid` that hold any capability. Capabilities are per thread: a worker gets the bind
   * capability as an ambient one, in every thread Node starts, and the JS thread alone clearing it left
   * five others with it. One may stay: a thread that blocks every signal (Node 20's debug-signal thread,
   * which only waits for SIGUSR1); it is returned with its blocked set so the assertion can check that.
   */
  const capThreads = (pid: number) =>
    readdirSync(`/proc/${pid}/task`).flatMap((t) => {
      const st = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      const field = (k: string) => BigInt(`0x${st.match(new RegExp(`^${k}:\\s*(\\w+)`, 'm'))![1]}`);
      const held = field('CapPrm') | field('CapEff') | field('CapAmb') | field('CapInh');
      return held === 0n ? [] : [{ tid: t, blocked: field('SigBlk') }];
    });
  /** SIGUSR1 and every real-time signal past glibc's two: what a thread that blocks "every signal" blocks. */
  const ALL_BLOCKED = (1n << 9n) | (((1n << 64n) - 1n) ^ ((1n << 33n) - 1n));
  const dropsInEveryThread = (pid: number) => {
    const left = capThreads(pid);
    assert.ok(left.length <= 1, `worker ${pid}: ${left.length} threads still hold a capability`);
    for (const t of left) assert.equal(t.blocked & ALL_BLOCKED, ALL_BLOCKED, `worker ${pid} thread ${t.tid} holds a capability and takes signals`);
  };
  // The primary's children that run `serve` (tsx also starts an esbuild service beside them).
  const workerPids = () => {
    const r = spawnSync('pgrep', ['-P', String(proc.pid)], { encoding: 'utf8' });
    return r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((c) => {
        try {
          return readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').includes('serve');
        } catch {
          return false;
        }
      });
  };
  const workers = workerPids();
  assert.equal(workers.length, 2);
  for (const w of workers) {
    assert.deepEqual(uids(w), [nobody, nobody, nobody, nobody], `worker ${w}`);
    assert.equal(capEff(w), 0n, `worker ${w} holds no capability`);
    dropsInEveryThread(w);
  }
  // The primary: real, effective, saved and filesystem uid nobody's; of root's capabilities only the bind one.
  await until('the primary to drop root', () => uids(proc.pid)[0] === nobody);
  assert.deepEqual(uids(proc.pid), [nobody, nobody, nobody, nobody]);
  assert.equal(capEff(proc.pid), CAP_NET_BIND_SERVICE);
  assert.match(proc.stderr, /"msg":"primary running as","user":"nobody","uid":\d+,"gid":\d+,"keeps":"CAP_NET_BIND_SERVICE"/);
  for (let i = 0; i < 4; i++) assert.equal((await dig(port, 'w.lab', 'SOA', { tcp: i % 2 === 1 })).rcode, 'NOERROR');

  // A worker dies: the primary, no longer root, starts another, which binds its own UDP socket on the low port.
  process.kill(workers[0]!, 'SIGKILL');
  const fresh = await until('a new worker', () => workerPids().find((w) => !workers.includes(w)), 60000);
  const udpOwners = () => execFileSync('ss', ['-Hlunp', `sport = :${port}`], { encoding: 'utf8' });
  await until('the new worker to bind the UDP port', () => udpOwners().includes(`pid=${fresh},`), 60000).catch((e) => { throw new Error(`${(e as Error).message}\n${udpOwners()}\n${proc.stderr.slice(-3000)}`); });
  assert.deepEqual(uids(fresh), [nobody, nobody, nobody, nobody]);
  await until('the new worker to drop the capability', () => capEff(fresh) === 0n);
  // The JS thread clears its own sets first, then signals the others: read every thread only once the
  // worker logged who it runs as (after clearCapabilities returned). Read as soon as the JS thread's
  // CapEff was 0, 10 threads still held the capability when test files ran three at a time.
  const ranAs = await until('the new worker to log who it runs as', () => proc.stderr.split('\n').find((l) => l.includes('"msg":"running as"') && l.endsWith(`"pid":${fresh}}`)), 60000);
  assert.ok((JSON.parse(ranAs) as { threadsKeepingCaps?: number }).threadsKeepingCaps! <= 1, ranAs);
  dropsInEveryThread(fresh);
  assert.equal(workerPids().length, 2);
  for (let i = 0; i < 6; i++) assert.equal((await dig(port, 'w.lab', 'SOA', { tcp: i % 2 === 1 })).rcode, 'NOERROR');
  assert.doesNotMatch(proc.stderr, /EACCES|permission denied/i);
  assert.equal((await proc.stop()).code, 0);
});

test('under systemd (NOTIFY_SOCKET) fluxdns sends READY=1 itself: the datagram\'s credentials carry its own pid', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-notify-'));
  const sock = join(dir, 'notify.sock');
  // systemd's side: a unix datagram socket (Node has none), here a small python3 receiver that, like
  // systemd, reads the sender's credentials (SO_PASSCRED, SCM_CREDENTIALS) to learn which process sent it.
  const receiver = [
    'import socket, struct',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(sock)})`,
    's.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)',
    "print('bound', flush=True)",
    'while True:',
    '    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))',
    "    pid = [struct.unpack('iII', d)[0] for (l, t, d) in anc if l == socket.SOL_SOCKET and t == socket.SCM_CREDENTIALS]",
    "    print('from', pid[0] if pid else -1, repr(msg.decode()), flush=True)",
  ].join('\n');
  const rx = startProcess('python3', ['-c', receiver], { name: 'notify-receiver' });
  await rx.waitFor(/bound/, 30000);
  const port = await freePort();
  const conf = join(dir, 'fluxdns.yaml');
  writeFileSync(conf, `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n`);
  const proc = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', conf], { cwd: repoRoot, name: 'fluxdns-notify', env: { ...process.env, NOTIFY_SOCKET: sock } });
  await proc.waitFor(/fluxdns ready/, 90_000);
  await rx.waitFor(/READY=1/, 15000);
  // repr() of the datagram: newlines show as \\n. The sender is fluxdns itself, not a systemd-notify child
  // (systemd 252 drops a child's message when the child has exited before it reads the credentials).
  assert.ok(rx.stdout.includes(`from ${proc.pid} 'READY=1\\nSTATUS=serving udp 127.0.0.1:${port}\\nMAINPID=${proc.pid}'`), rx.stdout);
  assert.doesNotMatch(proc.stdout + proc.stderr, /readiness notification failed/);
  await proc.stop();
  await rx.stop();
});

test('the demo: every socket on loopback; the backend refuses a PROXY v2 header not from the gateway', async () => {
  const port = await freePortRange(Object.keys(DEMO_PORTS).length);
  const proc = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--port', String(port)], { cwd: repoRoot, name: 'demo-defaults' });
  await proc.waitFor(/The built-in demo is running/, 30000);
  // Every listening socket of the process (TCP and UDP), from the kernel's table.
  const socks = (args: string[]) =>
    execFileSync('ss', [...args, '-Hnp'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(`pid=${proc.pid},`))
      .map((l) => l.trim().split(/\s+/)[3]!);
  const tcp = socks(['-lt']);
  const udp = socks(['-lu']);
  assert.ok(tcp.length >= 80, `tcp listeners: ${tcp.length}`);
  assert.ok(udp.length >= 1);
  for (const a of [...tcp, ...udp]) assert.match(a, /^(127\.\d+\.\d+\.\d+|\[::1\]|\/tmp\/\S+):\d+$|^127\./, `not loopback: ${a}`);
  assert.ok(tcp.includes(`127.77.1.2:${port + 3}`), 'the gateway binds the served addresses themselves');

  // Through the gateway: believed. Straight to the backend with a forged header: refused.
  const get = (host: string, p: number, header?: Buffer) =>
    new Promise<string>((resolve, reject) => {
      const s = net.connect(p, host, () => {
        if (header) s.write(header);
        s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (buf += d));
      s.on('close', () => resolve(buf));
      s.on('error', reject);
    });
  assert.match(await get('127.77.1.2', port + 3), new RegExp(`^HTTP/1\\.1 200 OK[\\s\\S]*client 127\\.0\\.0\\.1 dialled 127\\.77\\.1\\.2:${port + 3}\\n$`));
  const forged = encodeProxyV2({ proto: 'tcp', src: '203.0.113.9', srcPort: 4444, dst: '127.77.1.2', dstPort: port + 3 });
  const direct = await get('127.0.0.1', port + 4, forged);
  assert.match(direct, /^HTTP\/1\.1 403 Forbidden[\s\S]*PROXY v2 header refused: this connection does not come from the fluxdns gateway\n$/);
  assert.doesNotMatch(direct, /203\.0\.113\.9/);

  // Client commands say what failed, with exit 1: the demo is authoritative, not a caching resolver.
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', fluxdnsMain, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60000 });
  const refused = run(['kv', 'put', 'color', '198.51.100.7', '--resolver', `127.0.0.1:${port}`, '--zone', 'nothere.lab', '--method', 'da']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^color: not stored: the resolver answered REFUSED$/m);
  const uncached = run(['kv', 'put', 'color', '198.51.100.7', '--resolver', `127.0.0.1:${port}`, '--zone', 'echo.lab', '--method', 'da']);
  assert.equal(uncached.status, 1);
  assert.match(uncached.stderr, /^color: not stored: the resolver gives no value back/m);
  const browse = run(['discover', 'browse', '_ipp._tcp', '--resolver', `127.0.0.1:${port}`, '--zone', 'echo.lab']);
  assert.equal(browse.status, 1);
  assert.match(browse.stderr, new RegExp(`^no instances of _ipp\\._tcp under echo\\.lab\\.: asked 127\\.0\\.0\\.1:${port} for _ipp_tcp\\.echo\\.lab\\. PTR; no PTR records there`, 'm'));
  await proc.stop();
});
