// The server as a user runs it: the demo and the README's commands, reload, workers, TCP behaviour,
// truncation, error rcodes on the wire, and the check commands' error messages.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFile, spawnSync } from 'node:child_process';
import { DEMO_COMMANDS, demoCommands, DEMO_PORTS } from '../../src/config/demo.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import { dig } from '../helpers/dig.js';
import { freePort, freePortRange } from '../helpers/ports.js';
import { startProcess, stopAll, waitUntil } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot, startFluxdns } from '../helpers/servers.js';
import { udpExchange as udpOnce } from '../helpers/udp.js';

after(() => stopAll());

const tmp = () => mkdtempSync(join(tmpdir(), 'fluxdns-server-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function zoneText(serial: number, extra = ''): string {
  return `$ORIGIN t.lab.\n$TTL 300\n@ SOA ns hm ${serial} 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n` +
    `big TXT ${Array.from({ length: 8 }, (_, i) => `"${String(i).repeat(200)}"`).join(' ')}\n${extra}`;
}

/** Writes the t.lab. zone and starts fluxdns on a free port; `conf` adds YAML keys beside the defaults. */
async function serveZone(opts: { extraRecords?: string; conf?: string; listen?: string } = {}) {
  const dir = tmp();
  const zoneFile = join(dir, 't.lab.zone');
  writeFileSync(zoneFile, zoneText(1, opts.extraRecords));
  const port = await freePort();
  const host = opts.listen ?? '127.0.0.1';
  const yaml = `listen:\n  - { proto: udp, address: "${host}:${port}" }\n  - { proto: tcp, address: "${host}:${port}" }\n${opts.conf ?? ''}zones:\n  - { name: t.lab., file: ${JSON.stringify(zoneFile)} }\n`;
  const server = await startFluxdns(yaml, port, host === '127.0.0.1' ? 't.lab.' : undefined);
  return { server, port, zoneFile };
}

function query(name: string, type: string, opts: { id?: number; edns?: boolean } = {}): Buffer {
  return packet.encode({
    type: 'query',
    id: opts.id ?? 4242,
    flags: 0,
    questions: [{ name, type: type as packet.RecordType, class: 'IN' }],
    additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as packet.Answer] : [],
  });
}

const udpExchange = async (port: number, msg: Uint8Array, timeoutMs = 2000): Promise<Buffer | null> =>
  (await udpOnce(msg, port, { timeoutMs })) ?? null;

/** Runs a printed demo command; dig gets a short timeout so a silent server fails fast. */
function runShell(cmd: string): Promise<string> {
  const [bin, ...args] = cmd.split(/\s+/) as [string, ...string[]];
  if (bin === 'dig') args.push('+time=2', '+tries=1');
  return new Promise((resolve, reject) => {
    execFile(bin === 'fluxdns' ? process.execPath : bin, bin === 'fluxdns' ? ['--import', 'tsx', fluxdnsMain, ...args] : args, { cwd: repoRoot, timeout: 20000 }, (err, out, errOut) =>
      err ? reject(new Error(`${cmd}: ${err.message}\n${out}${errOut}`)) : resolve(out + errOut),
    );
  });
}

function frame(msg: Uint8Array): Buffer {
  const b = Buffer.alloc(2 + msg.length);
  b.writeUInt16BE(msg.length, 0);
  b.set(msg, 2);
  return b;
}

describe('built-in demo', () => {
  test('serve with no --config prints the README commands, and each answers as described', async () => {
    const port = await freePortRange(Object.keys(DEMO_PORTS).length);
    const proc = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--port', String(port)], { cwd: repoRoot, name: 'demo' });
    await proc.waitFor((out) => out.includes(`# ${DEMO_COMMANDS.at(-1)!.shows}\n`), 30000, 'stdout');
    const printed = proc.stdout.split('\n').filter((l) => /^  (dig|kdig|curl|fluxdns|node) /.test(l)).map((l) => l.trim());
    assert.deepEqual(printed, demoCommands(port));
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const c of DEMO_COMMANDS) assert.ok(readme.includes(c.command), `README lacks: ${c.command}`);
    for (let i = 0; i < printed.length; i++) {
      const out = await runShell(printed[i]!);
      assert.match(out, DEMO_COMMANDS[i]!.expect, `${printed[i]} (${DEMO_COMMANDS[i]!.shows})`);
    }
    await proc.stop();
  });
});

describe('configured server', () => {
  test('SIGHUP reloads zones; a bad zone is reported with file and line and the old data keeps serving', async () => {
    const { server, port, zoneFile } = await serveZone();
    assert.equal((await dig(port, 'new.t.lab', 'A')).rcode, 'NXDOMAIN');

    writeFileSync(zoneFile, zoneText(2, 'new A 198.51.100.7\n'));
    process.kill(server.proc.pid, 'SIGHUP');
    await server.proc.waitFor(/"reloaded"/, 10000, 'stderr');
    const fresh = await dig(port, 'new.t.lab', 'A');
    assert.equal(fresh.rcode, 'NOERROR');
    assert.equal(fresh.answer[0]?.data, '198.51.100.7');

    writeFileSync(zoneFile, zoneText(3, 'new A 198.51.100.7\nbroken A 300.1.2.3\n'));
    process.kill(server.proc.pid, 'SIGHUP');
    await server.proc.waitFor(/reload failed/, 10000, 'stderr');
    assert.match(server.proc.stderr, /t\.lab\.zone:8:10: expected an IPv4 address/);
    const still = await dig(port, 'new.t.lab', 'A');
    assert.equal(still.answer[0]?.data, '198.51.100.7');
    const soa = await dig(port, 't.lab', 'SOA');
    assert.match(soa.answer[0]!.data, / 2 3600 600 86400 60$/);

    // An emptied file (a deploy that wrote nothing): refused, and the error names the file.
    writeFileSync(zoneFile, '; nothing left\n');
    const before = server.proc.stderr.length;
    process.kill(server.proc.pid, 'SIGHUP');
    await server.proc.waitFor(/reload failed[^\n]*no SOA record/, 10000, 'stderr');
    assert.ok(server.proc.stderr.slice(before).includes(`${zoneFile}: no SOA record at the apex t.lab.`), server.proc.stderr.slice(before));
    assert.equal((await dig(port, 'new.t.lab', 'A')).answer[0]?.data, '198.51.100.7');
    await server.stop();
  });

  test('workers: 2 serves UDP and TCP from two processes', async () => {
    const { server, port } = await serveZone({ conf: 'workers: 2\n' });
    const children = readFileSync(`/proc/${server.proc.pid}/task/${server.proc.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    assert.equal(children.length, 2);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => dig(port, 'ns.t.lab', 'A', { tcp: i % 2 === 0 })));
    for (const r of results) assert.equal(r.answer[0]?.data, '198.51.100.1');
    await server.stop();
    // The workers leave with the primary.
    await sleep(500);
    for (const pid of children) assert.throws(() => process.kill(Number(pid), 0));
  });

  test('IPv6 listeners answer over UDP and TCP', async () => {
    const { server, port } = await serveZone({ extraRecords: 'v6 AAAA 2001:db8::6\n', listen: '[::1]' });
    await server.proc.waitFor(/fluxdns ready: udp \[::1\]:\d+, tcp \[::1\]:\d+/, 10000, 'stdout');
    for (const tcp of [false, true]) {
      const r = await dig(port, 'v6.t.lab', 'AAAA', { server: '::1', tcp });
      assert.equal(r.rcode, 'NOERROR');
      assert.equal(r.answer[0]?.data, '2001:db8::6');
    }
    await server.stop();
  });

  test('UDP truncation: 512 without EDNS, the EDNS size otherwise; TCP carries the whole answer', async () => {
    const { server, port } = await serveZone();
    const plain = await dig(port, 'big.t.lab', 'TXT', { edns: false });
    assert.ok(plain.flags.has('tc'));
    assert.equal(plain.answer.length, 0);
    const small = await dig(port, 'big.t.lab', 'TXT', { edns: 1232 });
    assert.ok(small.flags.has('tc'), 'a 1.6 kB answer does not fit 1232 bytes');
    assert.ok(small.edns, 'OPT kept in a truncated answer');
    const big = await dig(port, 'big.t.lab', 'TXT', { edns: 4096, extra: ['+ignore'] });
    assert.ok(big.flags.has('tc'), 'limits.udpPayload (1232) caps what the client offers');
    const tcp = await dig(port, 'big.t.lab', 'TXT', { tcp: true });
    assert.ok(!tcp.flags.has('tc'));
    assert.equal(tcp.answer.length, 1);
    await server.stop();
  });

  test('errors on the wire: FORMERR, NOTIMP, BADVERS, REFUSED; responses are never answered', async () => {
    const { server, port } = await serveZone();

    // Two questions: FORMERR.
    const two = Buffer.from(query('ns.t.lab', 'A'));
    two.writeUInt16BE(2, 4);
    const twoAns = await udpExchange(port, Buffer.concat([two, two.subarray(12)]));
    assert.ok(twoAns);
    assert.equal(twoAns[3]! & 0xf, 1, 'FORMERR');

    // A question whose name ends past the packet: FORMERR with the same ID.
    const cut = query('ns.t.lab', 'A', { id: 777 }).subarray(0, 16);
    const cutAns = await udpExchange(port, cut);
    assert.ok(cutAns);
    assert.equal(cutAns.readUInt16BE(0), 777);
    assert.equal(cutAns[3]! & 0xf, 1);

    const notify = await dig(port, 't.lab', 'SOA', { extra: ['+opcode=status'] });
    assert.equal(notify.rcode, 'NOTIMP');
    const badvers = await dig(port, 't.lab', 'SOA', { extra: ['+edns=1', '+noednsneg'] });
    assert.equal(badvers.rcode, 'BADVERS');
    const chaos = await dig(port, 'version.bind', 'TXT', { class: 'CH' });
    assert.equal(chaos.rcode, 'REFUSED');
    const outside = await dig(port, 'www.example.com', 'A');
    assert.equal(outside.rcode, 'REFUSED');
    assert.ok(!outside.flags.has('aa'));

    // A message with QR set is a response: no reply at all.
    const resp = Buffer.from(query('ns.t.lab', 'A'));
    resp[2] = resp[2]! | 0x80;
    assert.equal(await udpExchange(port, resp, 500), null);
    await server.stop();
  });

  test('TCP: pipelined queries are all answered, idle connections close, the connection limit holds', async () => {
    const { server, port } = await serveZone({ conf: 'limits: { tcpIdleTimeout: 1, tcpMaxConnections: 3 }\n' });

    const conn = net.connect(port, '127.0.0.1');
    await new Promise((r) => conn.once('connect', r));
    const ids = [11, 12, 13, 14, 15];
    conn.write(Buffer.concat(ids.map((id) => frame(query('ns.t.lab', 'A', { id })))));
    const got = await new Promise<number[]>((resolve) => {
      let buf = Buffer.alloc(0);
      const seen: number[] = [];
      conn.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          seen.push(packet.decode(msg).id!);
          buf = buf.subarray(2 + msg.length);
        }
        if (seen.length === ids.length) resolve(seen);
      });
    });
    assert.deepEqual([...got].sort(), ids);
    // Idle for longer than tcpIdleTimeout: the server closes.
    const closedAt = await new Promise<number>((resolve) => conn.once('close', () => resolve(Date.now())));
    assert.ok(closedAt > 0);

    const held: net.Socket[] = [];
    const heldClosed: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const s = net.connect(port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      heldClosed.push(false);
      s.once('close', () => (heldClosed[i] = true));
      s.on('error', () => {});
      held.push(s);
    }
    await sleep(100);
    // The table is full: the newcomer is served and the least recently active connection makes room.
    const extra = net.connect(port, '127.0.0.1');
    await new Promise((r) => extra.once('connect', r));
    const answered = await new Promise<number | null>((resolve) => {
      extra.once('data', (d: Buffer) => resolve(packet.decode(d.subarray(2)).id!));
      extra.once('close', () => resolve(null));
      const q = packet.encode({ type: 'query', id: 777, flags: 0, questions: [{ name: 'www.example.test', type: 'A', class: 'IN' }] });
      const f = Buffer.alloc(2 + q.length);
      f.writeUInt16BE(q.length, 0);
      q.copy(f, 2);
      extra.write(f);
    });
    assert.equal(answered, 777, 'a connection over tcpMaxConnections is served');
    await waitUntil(() => heldClosed[0] === true, 5000);
    assert.equal(heldClosed[0], true, 'the least recently active connection was evicted');
    extra.destroy();
    for (const s of held) s.destroy();
    await server.stop();
  });
});

describe('check commands', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', fluxdnsMain, ...args], { cwd: repoRoot, encoding: 'utf8' });

  test('fluxdns check names file, line, key path and what was expected', () => {
    const dir = tmp();
    const conf = join(dir, 'bad.yaml');
    writeFileSync(conf, 'listen:\n  - { proto: udp, address: "127.0.0.1:53" }\n  - proto: tpc\n    address: "127.0.0.1:53"\nworkers: two\nzonez: []\n');
    const r = cli('check', '--config', conf);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.yaml:3: listen\[1\]\.proto: expected one of "udp", "tcp", "tls", "https", found "tpc"/);
    assert.match(r.stderr, /bad\.yaml:5: workers: expected number, found string/);
    assert.match(r.stderr, /bad\.yaml:\d+: unknown key "zonez"/);
  });

  test('fluxdns check loads the zones and reports their errors; a good configuration passes', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'z.zone'), zoneText(1, 'www CNAME ns\nwww A 198.51.100.9\n'));
    const conf = join(dir, 'c.yaml');
    writeFileSync(conf, 'zones:\n  - { name: t.lab, file: z.zone }\n');
    const bad = cli('check', '--config', conf);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /z\.zone:\d+: .*CNAME/);
    writeFileSync(join(dir, 'z.zone'), zoneText(1));
    const good = cli('check', '--config', conf);
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /zone t\.lab\.: \d+ records, serial 1/);
    assert.equal(cli('check').status, 0, 'the built-in demo passes its own check');
  });

  test('fluxdns zone check reports FILE:LINE:COL', () => {
    const dir = tmp();
    const f = join(dir, 'z.zone');
    writeFileSync(f, '$TTL 60\n@ SOA ns hm 1 1 1 1 1\n NS ns\nns A 198.51.100.1\nx INX A 1.2.3.4\n');
    const r = cli('zone', 'check', f, '--origin', 't.lab');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /z\.zone:5:3: unsupported record type "INX"/);
    assert.equal(cli('zone', 'check', f).status, 2, 'missing --origin is a usage error');
  });
});
