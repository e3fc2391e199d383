// Attacks mounted on loopback while a legitimate client keeps querying over TCP, DoT and DoH (issue 16):
// connections holding every slot from many /24s and from one /24, a reconnect flood, BADSIG floods and a
// replayed signed query. Loopback gives a whole /8 of source addresses, so "many prefixes" are 127.x.y.z.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import { algorithmByName } from '../../src/tsig/algorithms.js';
import { appendTsig } from '../../src/tsig/sign.js';
import { answered, askDoh, askStream, dohStreamAttack, formatScores, holdSlots, legitimate, query, reconnectFlood, sleep, type Ports, type Scores } from '../helpers/attack.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll, type Proc } from '../helpers/proc.js';
import { fluxdnsMain, repoRoot, startFluxdns, type RunningServer } from '../helpers/servers.js';
import { makeTestCert, type TestCert } from '../helpers/tls.js';

after(() => stopAll());

const dir = mkdtempSync(join(tmpdir(), 'fluxdns-attack-'));
const SECRET = Buffer.from('attack-test-secret-0123456789abcdef');
let cert: TestCert;
let zone: string;

async function serve(extra: string, level = 'warn'): Promise<{ server: RunningServer; ports: Ports }> {
  const ports: Ports = { host: '127.0.0.1', dns: await freePort(), dot: await freePort(), doh: await freePort() };
  const yaml =
    `listen:\n  - { proto: udp, address: "127.0.0.1:${ports.dns}" }\n  - { proto: tcp, address: "127.0.0.1:${ports.dns}" }\n` +
    `  - { proto: tls, address: "127.0.0.1:${ports.dot}", cert: ${cert.cert}, key: ${cert.key} }\n` +
    `  - { proto: https, address: "127.0.0.1:${ports.doh}", cert: ${cert.cert}, key: ${cert.key} }\n` +
    `log: { level: ${level} }\nzones:\n  - { name: t.lab., file: ${zone} }\n${extra}`;
  return { server: await startFluxdns(yaml, ports.dns, 't.lab.'), ports };
}

before(() => {
  cert = makeTestCert(dir);
  zone = join(dir, 't.lab.zone');
  writeFileSync(zone, '$ORIGIN t.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.2\n');
});

function assertShare(score: Scores, min: number, label: string): void {
  // The figures for the README's robustness section.
  process.stdout.write(`# ${label}: ${formatScores(score)}\n`);
  for (const [k, s] of Object.entries(score)) {
    assert.ok(s.asked >= 5, `${label}: ${k} asked only ${s.asked}`);
    assert.ok(s.answered / s.asked >= min, `${label}: ${k} answered ${s.answered} of ${s.asked} (need ${min * 100} %)`);
  }
}

describe('slot holding and reconnect floods', () => {
  let server: RunningServer;
  let ports: Ports;
  before(async () => {
    // A small table keeps the test cheap; the attacks outnumber it.
    ({ server, ports } = await serve('limits: { tcpMaxConnections: 200, tcpIdleTimeout: 10, tcpHandshakeTimeout: 5 }\n'));
  });
  after(() => server?.stop());

  for (const shape of ['16 addresses in 16 /24s', '16 addresses in one /24'] as const) {
    test(`${shape} hold every slot with a query every 4 s: the legitimate client still gets ≥ 90 % over TCP, DoT and DoH`, async () => {
      const sources = Array.from({ length: 16 }, (_, i) => (shape.includes('16 /24s') ? `127.20.${i}.1` : `127.30.0.${i + 1}`));
      let end!: () => void;
      const stop = new Promise<void>((r) => (end = r));
      const attack = holdSlots(ports.host, ports.dns, sources, 16, 4000, stop);
      // Let the attackers fill the table first.
      await sleep(2000);
      assert.ok(attack.opened() >= 200, `the attack opened ${attack.opened()} connections`);
      const legit = legitimate([{ ...ports, localAddress: '127.0.0.1' }], stop);
      await sleep(6000);
      end();
      const score = await legit;
      assertShare(score, 0.9, shape);
      assert.ok(server.proc.running);
    });
  }

  test('a reconnect flood from one /24 and from eight: the legitimate client still gets ≥ 90 %', async () => {
    const sources = [...Array.from({ length: 8 }, (_, i) => `127.40.0.${i + 1}`), ...Array.from({ length: 8 }, (_, i) => `127.41.${i}.1`)];
    let end!: () => void;
    const stop = new Promise<void>((r) => (end = r));
    const flood = reconnectFlood(ports.host, ports.dns, sources, 32, stop);
    const legit = legitimate([{ ...ports, localAddress: '127.0.0.1' }], stop);
    await sleep(6000);
    end();
    const score = await legit;
    const attempts = await flood;
    assert.ok(attempts > 200, `the flood made ${attempts} connection attempts`);
    assertShare(score, 0.9, 'reconnect flood');
  });
});

describe('TSIG abuse', () => {
  let server: RunningServer;
  let ports: Ports;
  before(async () => {
    // A service requiring TSIG is what makes replays matter; `replay: refuse` says so without one.
    ({ server, ports } = await serve(`tsig:\n  replay: refuse\n  keys: [{ name: k1, secret: "${SECRET.toString('base64')}" }]\n`));
  });
  after(() => server?.stop());

  const K1 = { name: 'k1.', algorithm: algorithmByName('hmac-sha256')!, secret: SECRET };
  const sign = (secret = SECRET) => appendTsig(new Uint8Array(query(0x3131)), { keyName: 'k1.', algorithm: 'hmac-sha256.', key: { ...K1, secret }, macSize: 32, fudge: 300, error: 0 }, Math.floor(Date.now() / 1000));

  const rcode = (m: packet.Packet | undefined) => (m as (packet.Packet & { rcode?: string }) | undefined)?.rcode;
  const firstA = (m: packet.Packet | undefined) => (m?.answers?.[0] as { data?: unknown } | undefined)?.data;

  /** Sends each datagram from `from` and collects the answers for `waitMs`. */
  async function udp(from: string, datagrams: Uint8Array[], waitMs = 1000): Promise<packet.Packet[]> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, from, () => r()));
    const got: packet.Packet[] = [];
    sock.on('message', (m) => got.push(packet.decode(m)));
    for (const d of datagrams) sock.send(d, ports.dns, '127.0.0.1');
    await sleep(waitMs);
    sock.close();
    return got;
  }

  test('a signed query replayed from another address is refused (NOTAUTH); the sender may retransmit it', async () => {
    const signed = sign();
    const [first] = await udp('127.0.0.1', [signed], 500);
    assert.equal(rcode(first), 'NOERROR');
    assert.equal(firstA(first), '198.51.100.2');
    const [again] = await udp('127.0.0.1', [signed], 500);
    assert.equal(rcode(again), 'NOERROR', 'a retransmission from the same address is answered');
    const [replay] = await udp('127.50.0.9', [signed], 500);
    assert.equal(rcode(replay), 'NOTAUTH');
    assert.equal(replay?.answers?.length ?? 0, 0);
  });

  test('a BADSIG flood from one /24 gets about tsig.errorsPerSecond answers; another /24 still gets its error', async () => {
    const bad = sign(Buffer.from('guess'));
    const got = await udp('127.60.0.1', Array.from({ length: 500 }, () => bad), 1500);
    assert.ok(got.length >= 1, 'some errors are answered');
    assert.ok(got.length <= 30, `${got.length} of 500 BADSIG answered (limit 10 per second)`);
    for (const m of got) assert.equal(rcode(m), 'NOTAUTH');
    const other = await udp('127.61.0.1', [bad], 500);
    assert.equal(rcode(other[0]), 'NOTAUTH');
    // TCP DNS still answers meanwhile.
    assert.ok(await askStream(ports.host, ports.dns, false, '127.0.0.1'));
  });
});

/** One UDP or TCP query from 127.0.0.1 for www.t.lab; false on any failure within 2 s. */
function askUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => finish(false), 2000);
    function finish(ok: boolean) {
      clearTimeout(timer);
      try {
        s.close();
      } catch {
        // closed already
      }
      resolve(ok);
    }
    s.on('message', (m) => finish(answered(m)));
    s.on('error', () => finish(false));
    s.send(query(77), port, '127.0.0.1');
  });
}

describe('gateway UDP flow flood at 1024 descriptors', () => {
  let proc: Proc;
  let dns: number;
  let gw: number;
  let backend: dgram.Socket;
  before(async () => {
    dns = await freePort();
    gw = await freePort();
    backend = dgram.createSocket('udp4');
    backend.on('message', (m, r) => backend.send(m, r.port, r.address));
    await new Promise<void>((r) => backend.bind(0, '127.0.0.1', () => r()));
    const conf = join(dir, 'gw.yaml');
    writeFileSync(
      conf,
      `listen:\n  - { proto: udp, address: "127.0.0.1:${dns}" }\n  - { proto: tcp, address: "127.0.0.1:${dns}" }\nlog: { level: info }\n` +
        `zones:\n  - { name: t.lab., file: ${zone} }\n` +
        `gateway:\n  listeners: [{ prefixes: [127.79.0.1/32], ports: [udp/${gw}] }]\n` +
        `  dispatch: [{ prefix: 127.79.0.1/32, proto: udp, ports: ${gw}, backend: "127.0.0.1:${(backend.address() as net.AddressInfo).port}" }]\n`,
    );
    // The common default limit, soft and hard: nothing to raise.
    proc = startProcess('prlimit', ['--nofile=1024', process.execPath, '--expose-gc', '--import', 'tsx', fluxdnsMain, 'serve', '--config', conf], { name: 'fluxdns-1024', cwd: repoRoot });
    await proc.waitFor(/fluxdns ready/, 90_000, 'stdout');
  });
  after(async () => {
    await proc?.stop();
    backend?.close();
  });

  test('3,000 one-datagram flows from 3,000 sources: the budget evicts the oldest, TCP and UDP DNS keep answering ≥ 99 %', async () => {
    const log = proc.stdout + proc.stderr;
    const budget = /"gateway descriptor budget".*?"flows":(\d+)/.exec(log);
    assert.ok(budget, `the gateway logs its budget:\n${log.slice(-2000)}`);
    const flows = Number(budget[1]);
    assert.ok(flows > 0 && flows < 1024, `budget ${flows} within the limit`);
    assert.match(log, /does not fit the descriptor limit 1024/, 'serve warns that tcpMaxConnections 1000 does not fit 1024');
    let stopped = false;
    let sent = 0;
    const flood = (async () => {
      for (let i = 0; i < 3000 && !stopped; i += 100) {
        // 100 sources at a time, each one datagram from its own address and port, then closed.
        const socks = await Promise.all(
          Array.from({ length: 100 }, (_, j) => {
            const n = i + j;
            const s = dgram.createSocket('udp4');
            s.on('error', () => {});
            s.on('message', () => {});
            return new Promise<dgram.Socket>((r) => s.bind(0, `127.81.${Math.floor(n / 250)}.${(n % 250) + 1}`, () => r(s)));
          }),
        );
        await Promise.all(socks.map((s) => new Promise<void>((r) => s.send('x', gw, '127.79.0.1', () => r()))));
        sent += socks.length;
        await sleep(20);
        for (const s of socks) s.close();
      }
    })();
    const score = { udp: { asked: 0, answered: 0 }, tcp: { asked: 0, answered: 0 } };
    const legit = (async () => {
      for (let i = 0; i < 100; i++) {
        const [u, t] = await Promise.all([askUdp(dns), askStream('127.0.0.1', dns, false, '127.0.0.1')]);
        score.udp.asked++;
        score.tcp.asked++;
        if (u) score.udp.answered++;
        if (t) score.tcp.answered++;
      }
    })();
    await Promise.all([flood, legit]);
    stopped = true;
    assert.equal(sent, 3000);
    assert.ok(sent > flows, `the flood (${sent} flows) exceeded the budget (${flows})`);
    assertShare(score, 0.99, 'gateway UDP flow flood at 1024 descriptors');
    // And after it: a new flow through the gateway still works (the budget evicted, not refused).
    const c = dgram.createSocket('udp4');
    const echoed = new Promise<string>((r) => c.once('message', (m) => r(m.toString())));
    c.send('hello', gw, '127.79.0.1');
    assert.equal(await Promise.race([echoed, sleep(3000).then(() => 'timeout')]), 'hello');
    c.close();
    assert.ok(proc.running);
  });
});

describe('DoH stream attack', () => {
  let server: RunningServer;
  let ports: Ports;
  before(async () => {
    // Info: the test reads the `memory relief` lines.
    ({ server, ports } = await serve('', 'info'));
  });
  after(() => server?.stop());

  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]);

  const rssAfter = { start: 0, peak: 0, settled: 0 };
  test('sessions opening streams with large headers, half-sent 64 KB bodies and resets: DoH answers right after, RSS measured', async () => {
    // Warm up the way a normal client does, then take the baseline.
    for (let i = 0; i < 20; i++) assert.ok(await askDoh(ports.host, ports.doh, '127.0.0.1'));
    const start = rss();
    let streams = 0;
    const attackFrom = Date.now();
    for (let round = 0; round < 2; round++) streams += await dohStreamAttack(ports.host, ports.doh, '127.90.0.1', 6000);
    const attackTo = Date.now();
    const peak = rss();
    assert.ok(streams > 500, `the attack opened ${streams} streams`);
    assert.ok(await askDoh(ports.host, ports.doh, '127.0.0.1'), 'DoH answers right after the attack');
    let now = rss();
    const deadline = Date.now() + 30000;
    while (now > start * 1.5 && Date.now() < deadline) {
      await sleep(1000);
      now = rss();
    }
    process.stdout.write(`# DoH stream attack: ${streams} streams; VmRSS ${start} kB before, ${peak} kB after, ${now} kB settled\n`);
    // A relief (a full GC) never runs while connections arrive: none logged during the attack (a second's
    // margin at its start for one already under way), whatever ran after it.
    const reliefs = server.proc.stderr.split('\n').filter((l) => l.includes('"memory relief"')).map((l) => JSON.parse(l) as { time: string; longestStepMs: number });
    process.stdout.write(`# memory reliefs: ${JSON.stringify(reliefs)}\n`);
    const during = reliefs.filter((r) => Date.parse(r.time) > attackFrom + 1000 && Date.parse(r.time) < attackTo);
    assert.deepEqual(during, [], 'no memory relief while the attack connections arrived');
    Object.assign(rssAfter, { start, peak, settled: now });
  });
  // Issue #16 item 3. Nothing stays reachable after the attack (a forced GC brings heapUsed and external
  // memory back to their levels before it); what held RSS was garbage an idle server never collected and
  // malloc's arenas. The server collects and trims once the burst of closed connections is over
  // (src/server/memory-relief.ts).
  test('RSS returns within 1.5 × of where it started, 30 s after the attack', () => {
    assert.ok(rssAfter.start > 0, 'the attack ran');
    assert.ok(rssAfter.settled <= rssAfter.start * 1.5, `VmRSS ${rssAfter.settled} kB vs ${rssAfter.start} kB before the attack (peak ${rssAfter.peak} kB)`);
  });
});

describe('amplification of a reflection flood (RRL on by default)', () => {
  const servers: RunningServer[] = [];
  after(() => Promise.all(servers.map((s) => s.stop())));

  /** Sends `n` EDNS queries for big.t.lab TXT (≈ 1,200-byte answers) from one socket at ≈ 2,000/s; returns bytes in and out. */
  async function reflect(port: number, n: number): Promise<{ sent: number; received: number; answers: number }> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.70.0.1', () => r()));
    let received = 0;
    let answers = 0;
    sock.on('message', (m) => {
      received += m.length;
      answers++;
    });
    const q = packet.encode({ type: 'query', id: 9, questions: [{ name: 'big.t.lab', type: 'TXT', class: 'IN' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as packet.Answer] });
    for (let i = 0; i < n; i += 20) {
      for (let j = 0; j < 20; j++) sock.send(q, port, '127.0.0.1');
      await sleep(10);
    }
    await sleep(500);
    sock.close();
    return { sent: n * q.length, received, answers };
  }

  test('4,000 spoofable queries at ≈ 2,000/s for a 1.2 KB answer: amplified ≈ 30× with rrl: off, a third of that or less by default', async () => {
    const big = join(dir, 'big.zone');
    writeFileSync(big, `$ORIGIN t.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${Array.from({ length: 10 }, (_, i) => `big TXT "${String(i).padStart(2, '0')}${'x'.repeat(100)}"`).join('\n')}\n`);
    const result: Record<string, { sent: number; received: number; answers: number }> = {};
    for (const rrl of ['rrl: off', '']) {
      const port = await freePort();
      const s = await startFluxdns(`listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n  - { proto: tcp, address: "127.0.0.1:${port}" }\nlog: { level: warn }\nzones:\n  - { name: t.lab., file: ${big} }\n${rrl}\n`, port, 't.lab.');
      servers.push(s);
      result[rrl || 'default'] = await reflect(port, 4000);
    }
    const factor = (r: { sent: number; received: number }) => r.received / r.sent;
    process.stdout.write(`# amplification: rrl off ${factor(result['rrl: off']!).toFixed(1)}× (${result['rrl: off']!.answers} answers), default ${factor(result['default']!).toFixed(2)}× (${result['default']!.answers} answers)\n`);
    assert.ok(factor(result['rrl: off']!) > 10, `without RRL the flood is amplified ${factor(result['rrl: off']!)}×`);
    assert.ok(factor(result['default']!) < factor(result['rrl: off']!) / 3, `RRL by default: ${factor(result['default']!)}×`);
    assert.ok(result['default']!.answers >= 200, 'the first second’s worth (200) is answered');
  });
});
