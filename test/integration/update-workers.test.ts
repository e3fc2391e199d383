// UPDATE with `workers: 2` (issue 13): whichever worker receives an UPDATE, one owner applies and journals
// it and every worker serves the new version before the answer leaves — queries spread over both workers by
// SO_REUSEPORT see it every time; knotd follows by NOTIFY and IXFR; kill -9 of a worker (the owner or not)
// or of the cluster primary during a burst loses no acknowledged update and half-applies none.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { stopAll, waitUntil } from '../helpers/proc.js';
import { dig, soaSerial } from '../helpers/dig.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';
import { startKnotSecondary, type Secondary } from '../helpers/secondaries.js';
import { burstUpdate } from '../helpers/update-burst.js';
import { rcodeOf, udpExchange } from '../helpers/udp.js';
import { encodeMessage } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/types.js';

const KEY = { name: 'upd-key', secret: Buffer.from('update-workers-test-secret-0123456789ab').toString('base64') };
const ZONE = 'uw.lab.';
const BURST_ZONE = 'burst.lab.';
const HOSTS = 20;

let dir = '';
let port = 0;
let server: RunningServer | undefined;
let knot: Secondary | undefined;
let yaml = '';

function logText(): string {
  return server ? server.proc.stdout + server.proc.stderr : '';
}

type LogRecord = Record<string, unknown>;
let parsed: LogRecord[] = [];
let consumed = 0;
let parsedOf: RunningServer | undefined;

/** The server's log records so far (stderr), parsed once each (the query log makes the log long: no re-reading it whole). */
function records(): LogRecord[] {
  if (parsedOf !== server) {
    parsed = [];
    consumed = 0;
    parsedOf = server;
  }
  const out = server?.proc.stderr ?? '';
  const end = out.lastIndexOf('\n') + 1;
  if (end > consumed) {
    for (const l of out.slice(consumed, end).split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        parsed.push(JSON.parse(l) as LogRecord);
      } catch {
        // not a log record
      }
    }
    consumed = end;
  }
  return parsed;
}

/** The log records with message `msg`, from record number `mark` (records().length earlier) on. */
function lines(msg: string, mark = 0): LogRecord[] {
  return records().slice(mark).filter((r) => r['msg'] === msg);
}

/** True while process `pid` runs (an orphan nobody reaps yet shows as a zombie: not running). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The serving workers' PIDs: each logs its UDP transport once it listens; the dead are left out. */
function workerPids(): Set<number> {
  return new Set(lines('UDP transport').map((l) => l['pid'] as number).filter(alive));
}

function run(bin: string, args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, out: stdout + stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The SOA serial `p` serves; `quick` (polling a secondary that may not serve yet): one-second tries. Undefined on failure. */
const serial = (p: number, zone = ZONE, quick = false): Promise<number | undefined> => soaSerial(p, zone, quick ? ['+time=1'] : []);

/**
 * Asks `check` (one query per call, each from a new socket) until both workers have answered at least
 * `perWorker` of them (the query log names the answering PID), and every answer passed.
 */
async function everyWorkerSees(qname: string, check: () => Promise<string | undefined>, perWorker = 3): Promise<void> {
  const mark = records().length;
  const pids = workerPids();
  for (let i = 0; i < 200; i++) {
    const problem = await check();
    assert.equal(problem, undefined, `query ${i}: ${problem}`);
    const counts = new Map<number, number>();
    for (const l of lines('query', mark)) if (l['qname'] === qname) counts.set(l['pid'] as number, (counts.get(l['pid'] as number) ?? 0) + 1);
    if ([...pids].every((p) => (counts.get(p) ?? 0) >= perWorker)) return;
  }
  assert.fail(`the queries did not reach both workers ${[...pids].join(', ')}`);
}

async function start(): Promise<void> {
  server = await startFluxdns(yaml, port, ZONE);
  // Both workers listen (the ready line comes once every worker is ready).
  assert.equal(workerPids().size, 2, logText());
}

/** Sends one UPDATE of the burst zone (an A and a TXT at u<i>); its rcode, or undefined when unanswered in 5 s. */
function burst(i: number): Promise<number | undefined> {
  return udpExchange(encodeMessage(burstUpdate(i, BURST_ZONE)), port).then(rcodeOf);
}

async function has(i: number): Promise<{ a: boolean; txt: boolean }> {
  const a = await dig(port, `u${i}.${BURST_ZONE}`, 'A');
  const t = await dig(port, `u${i}.${BURST_ZONE}`, 'TXT');
  return { a: a.answer.length === 1, txt: t.answer.length === 1 };
}

/** 40 UPDATEs in flight; `kill` once 5 are acknowledged. Returns the acknowledged ones (before the kill). */
async function burstWithKill(from: number, kill: () => Promise<void>): Promise<Set<number>> {
  const acked = new Set<number>();
  const pending: Promise<void>[] = [];
  let killed = false;
  for (let i = from; i < from + 40; i++) {
    pending.push(
      burst(i).then((rc) => {
        if (rc === Rcode.NOERROR && !killed) acked.add(i);
      }),
    );
    if (i === from + 20) {
      await waitUntil(() => acked.size >= 5, 30000);
      killed = true;
      await kill();
    }
  }
  await Promise.all(pending);
  assert.ok(acked.size >= 5, `only ${acked.size} updates were acknowledged before the kill`);
  return acked;
}

/** Every acknowledged update is served by every worker, none is half there; returns how many are there. */
async function checkBurst(from: number, acked: Set<number>): Promise<number> {
  let applied = 0;
  for (let i = from; i < from + 40; i++) {
    const h = await has(i);
    assert.equal(h.a, h.txt, `update ${i} is half applied: ${JSON.stringify(h)}`);
    if (acked.has(i)) assert.ok(h.a, `acknowledged update ${i} is missing`);
    if (h.a) applied++;
  }
  // Both workers serve the same version: the SOA serial asked of both is the same every time.
  const serials = new Set<number | undefined>();
  await everyWorkerSees(BURST_ZONE, async () => {
    serials.add(await serial(port, BURST_ZONE));
    return serials.size === 1 ? undefined : `serials ${[...serials].join(', ')}`;
  });
  return applied;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-updw-'));
  const hosts = Array.from({ length: HOSTS }, (_, i) => `h${i} A 198.51.100.${i + 1}\nh${i} TXT "host ${i}"`).join('\n');
  writeFileSync(join(dir, 'zone'), `$ORIGIN ${ZONE}\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${hosts}\n`);
  writeFileSync(join(dir, 'burst'), `$ORIGIN ${BURST_ZONE}\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n`);
  port = await freePort();
  const knotPort = await freePort();
  yaml = `listen:
  - { proto: udp, address: "127.0.0.1:${port}" }
  - { proto: tcp, address: "127.0.0.1:${port}" }
workers: 2
rrl: off
log: { queries: { sample: 1 } }
tsig:
  keys:
    - { name: ${KEY.name}, secret: "${KEY.secret}" }
zones:
  - name: ${ZONE}
    file: ${JSON.stringify(join(dir, 'zone'))}
    allowTransfer: [{ key: ${KEY.name} }]
    allowUpdate: [{ key: ${KEY.name} }]
    notify: [{ address: "127.0.0.1:${knotPort}", tsigKey: ${KEY.name} }]
  - { name: ${BURST_ZONE}, file: ${JSON.stringify(join(dir, 'burst'))}, allowUpdate: ["127.0.0.0/8"], allowTransfer: ["127.0.0.0/8"] }
`;
  await start();
  knot = startKnotSecondary({ zone: ZONE, primary: { host: '127.0.0.1', port }, key: KEY, address: '127.0.0.11', port: knotPort, notifySigned: true });
});

after(async () => {
  await knot?.stop();
  await server?.stop();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('UPDATE with workers: 2', () => {
  test('nsupdate -y to either worker: right after each answer, every query to both workers sees the change', async () => {
    const mark = records().length;
    const receivers = new Set<number>();
    const pids = workerPids();
    // Each nsupdate is a new socket: SO_REUSEPORT hands it to either worker. Go on until both received one.
    let n = 0;
    for (; n < 30 && (n < 2 || receivers.size < 2); n++) {
      const script = `server 127.0.0.1 ${port}\nzone ${ZONE}\nupdate add dyn${n}.${ZONE} 60 A 198.51.100.${100 + n}\nupdate delete h${n}.${ZONE} A\nsend\n`;
      const before = records().length;
      const r = await run('nsupdate', ['-y', `hmac-sha256:${KEY.name}:${KEY.secret}`], script);
      assert.equal(r.code, 0, r.out);
      for (const l of lines('update allowed', before)) receivers.add(l['pid'] as number);
      // Read-your-writes: no wait between the acknowledgement and the queries.
      await everyWorkerSees(`dyn${n}.${ZONE}`, async () => {
        const added = await dig(port, `dyn${n}.${ZONE}`, 'A');
        const gone = await dig(port, `h${n}.${ZONE}`, 'A');
        const s = await serial(port);
        if (added.answer[0]?.data !== `198.51.100.${100 + n}`) return `dyn${n} A: ${JSON.stringify(added.answer)}`;
        if (gone.answer.length !== 0) return `h${n} A still there`;
        return s === 2 + n ? undefined : `serial ${s}, not ${2 + n}`;
      });
    }
    assert.deepEqual(receivers, pids, 'UPDATEs reached both workers');
    // One worker applied them all (the owner); the other caught up from the journal each time.
    const appliers = new Set(lines('update applied', mark).map((l) => l['pid'] as number));
    assert.equal(appliers.size, 1, logText().slice(-3000));
    assert.equal(lines('update applied', mark).length, n);
    const others = [...pids].filter((p) => !appliers.has(p));
    assert.equal(lines('caught up with the journal', mark).filter((l) => others.includes(l['pid'] as number)).length, n);
    // A delete of a record that is not there changes nothing: NOERROR, no new serial.
    const noop = await run('nsupdate', ['-y', `hmac-sha256:${KEY.name}:${KEY.secret}`], `server 127.0.0.1 ${port}\nzone ${ZONE}\nupdate delete nothing.${ZONE} A\nsend\n`);
    assert.equal(noop.code, 0, noop.out);
    assert.equal(await serial(port), 1 + n);
    // Refused without the key, whichever worker has it; nothing changes.
    for (let i = 0; i < 4; i++) {
      const unsigned = await run('nsupdate', [], `server 127.0.0.1 ${port}\nzone ${ZONE}\nupdate add nokey.${ZONE} 60 A 198.51.100.9\nsend\n`);
      assert.match(unsigned.out, /REFUSED/);
    }
    // A CNAME beside data is refused by the owner, and the refusal travels back to the receiver.
    for (let i = 0; i < 4; i++) {
      const cname = await run('nsupdate', ['-y', `hmac-sha256:${KEY.name}:${KEY.secret}`], `server 127.0.0.1 ${port}\nzone ${ZONE}\nupdate add h${HOSTS - 1}.${ZONE} 60 CNAME ns.${ZONE}\nsend\n`);
      assert.match(cname.out, /REFUSED/, cname.out);
    }
    assert.equal(await serial(port), 1 + n);
  });

  test('knotd follows the updates by NOTIFY and IXFR', async () => {
    const want = await serial(port);
    let got: number | undefined;
    for (let i = 0; i < 240 && got !== want; i++) {
      got = await serial(knot!.port, ZONE, true);
      if (got !== want) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(got, want, knot!.log().slice(-2000));
    assert.equal((await dig(knot!.port, `dyn0.${ZONE}`, 'A')).answer[0]?.data, '198.51.100.100');
    assert.equal((await dig(knot!.port, `h0.${ZONE}`, 'A')).answer.length, 0);
    assert.match(logText(), /"transfer allowed".*"client":"127\.0\.0\.11".*"type":"IXFR"/);
    assert.ok(await waitUntil(() => lines('NOTIFY acknowledged').length > 0, 30000));
  });

  test('kill -9 of a worker that does not own updates, then of the owner, during bursts: every acknowledged update is served by both, none half there', async () => {
    // The owner is the worker that logs "update applied".
    assert.equal(await burst(99), Rcode.NOERROR);
    const owner = lines('update applied').at(-1)!['pid'] as number;
    const other = [...workerPids()].find((p) => p !== owner)!;
    const restarted = async (gone: number) => {
      assert.ok(await waitUntil(() => lines('worker died; starting another').some((l) => l['pid'] === gone), 60000), logText().slice(-3000));
      // The new worker serves once it logged its UDP transport; give its ready message a moment to reach the primary.
      assert.ok(await waitUntil(() => [...workerPids()].filter((p) => p !== owner && p !== other).length >= 1, 90000), logText().slice(-3000));
    };
    const first = await burstWithKill(0, async () => {
      process.kill(other, 'SIGKILL');
    });
    await restarted(other);
    const applied1 = await checkBurst(0, first);
    const second = await burstWithKill(100, async () => {
      process.kill(owner, 'SIGKILL');
    });
    assert.ok(await waitUntil(() => lines('worker died; starting another').some((l) => l['pid'] === owner && l['ownedUpdates'] === true), 60000));
    // The worker started after the owner's death owns updates: the next UPDATE is applied (it waits for it if need be).
    let rc: number | undefined;
    for (let i = 0; i < 20 && rc !== Rcode.NOERROR; i++) rc = await burst(200);
    assert.equal(rc, Rcode.NOERROR);
    const applied2 = await checkBurst(100, second);
    assert.deepEqual(await has(200), { a: true, txt: true });
    const newOwner = lines('update applied').at(-1)!['pid'] as number;
    assert.ok(newOwner !== owner && newOwner !== other, `applied by ${newOwner}`);
    assert.equal(await serial(port, BURST_ZONE), 1 + 1 + applied1 + applied2 + 1);
  });

  test('kill -9 of the cluster primary during a burst: after a restart every acknowledged update is there, none half there', async () => {
    const before = await serial(port, BURST_ZONE);
    const pids = workerPids();
    const s = server!;
    const acked = await burstWithKill(300, async () => {
      process.kill(s.proc.pid, 'SIGKILL');
    });
    await s.proc.exited;
    // The workers leave when their primary's channel closes; wait until none is left answering.
    assert.ok(await waitUntil(() => [...pids].every((p) => !alive(p)), 30000), 'workers outlived their primary');
    server = undefined;
    await start();
    assert.match(logText(), /"journal replayed over the zone file"/);
    const applied = await checkBurst(300, acked);
    assert.equal(await serial(port, BURST_ZONE), before! + applied);
  });
});
