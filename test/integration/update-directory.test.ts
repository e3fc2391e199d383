// The Stateless DNS public directory takes UPDATEs through the zones' machinery (issue 13): nsupdate -y with
// the listed TSIG key is applied and answered signed, an unsigned or wrongly keyed nsupdate is refused
// (REFUSED / NOTAUTH), and after kill -9 during a burst of signed updates every acknowledged one is back
// from the journal and none is half there. The directory runs in its own process (src/client/directory.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll, type Proc } from '../helpers/proc.js';
import { dig } from '../helpers/dig.js';
import { repoRoot } from '../helpers/servers.js';
import { burstUpdate } from '../helpers/update-burst.js';
import { rcodeOf, udpExchange } from '../helpers/udp.js';
import { signRequest } from '../../src/secondary/tsig-stream.js';
import { keyRingOf } from '../../src/tsig/keys.js';
import { tsigSchema } from '../../src/tsig/schema.js';
import { encodeMessage } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/types.js';

const APEX = '_chat_tcp.echo.lab.';
const SECRET = Buffer.alloc(32, 11).toString('base64');
const WRONG = Buffer.alloc(32, 12).toString('base64');
const BURST = 30;

let dir = '';
let port = 0;
let directory: Proc | undefined;

/** The directory process: allowUpdate only the key, a journal folder, listening on 127.0.0.1:port. */
function script(): string {
  return `
import { Directory } from ${JSON.stringify(join(repoRoot, 'src/client/directory.ts'))};
import { tsigSchema } from ${JSON.stringify(join(repoRoot, 'src/tsig/schema.ts'))};
const tsig = tsigSchema.parse({ keys: [{ name: 'dir-key', secret: ${JSON.stringify(SECRET)} }] });
const log = (level, msg, fields) => process.stderr.write(JSON.stringify({ level, msg, ...fields }) + '\\n');
const d = new Directory({ zone: 'echo.lab.', alias: '_chat_tcp', tsig, allowUpdate: [{ key: 'dir-key.' }], journalDir: ${JSON.stringify(join(dir, 'jnl'))}, log });
await d.listen([{ host: '127.0.0.1', port: ${port} }]);
process.stdout.write('directory ready\\n');
`;
}

async function start(): Promise<void> {
  directory = startProcess(process.execPath, ['--import', 'tsx', join(dir, 'directory.mts')], { cwd: repoRoot, name: 'directory' });
  await directory.waitFor(/directory ready/, 60_000);
}

function run(bin: string, args: string[], input: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, out: stdout + stderr });
    });
    child.stdin?.end(input);
  });
}

const nsupdate = (args: string[], body: string) => run('nsupdate', args, `check-names off\nserver 127.0.0.1 ${port}\nzone ${APEX}\n${body}send\n`);

/** One signed UPDATE adding an A and a TXT at u<i>; resolves with its rcode, or undefined when unanswered in 5 s. */
function signedUpdate(i: number): Promise<number | undefined> {
  const key = keyRingOf(tsigSchema.parse({ keys: [{ name: 'dir-key', secret: SECRET }] })).get('dir-key.')!;
  return udpExchange(signRequest(encodeMessage(burstUpdate(i, APEX)), key, 300).wire, port).then(rcodeOf);
}

describe('directory UPDATE with access control and a journal', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fluxdns-dirupd-'));
    port = await freePort();
    writeFileSync(join(dir, 'directory.mts'), script());
    await start();
  });

  after(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('nsupdate -y with the listed key registers; unsigned is REFUSED, a wrong secret NOTAUTH; nothing of those applied', async () => {
    const ok = await nsupdate(['-y', `hmac-sha256:dir-key:${SECRET}`], `update add ${APEX} 60 PTR alice.${APEX}\nupdate add alice.${APEX} 60 SRV 0 0 5222 alice.${APEX}\nupdate add alice.${APEX} 60 A 198.51.100.5\n`);
    assert.equal(ok.code, 0, ok.out);
    const ptr = await dig(port, APEX, 'PTR');
    assert.deepEqual(ptr.answer.map((r) => r.data), [`alice.${APEX}`]);
    assert.equal((await dig(port, `alice.${APEX}`, 'SRV')).answer.length, 1);
    const soa = await dig(port, APEX, 'SOA');
    assert.equal(soa.answer[0]!.data.split(' ')[2], '2');
    const unsigned = await nsupdate([], `update add mallory.${APEX} 60 A 198.51.100.66\n`);
    assert.notEqual(unsigned.code, 0);
    assert.match(unsigned.out, /REFUSED/);
    const forged = await nsupdate(['-y', `hmac-sha256:dir-key:${WRONG}`], `update add mallory.${APEX} 60 A 198.51.100.66\n`);
    assert.notEqual(forged.code, 0);
    assert.match(forged.out, /NOTAUTH|BADSIG|tsig verify failure/i);
    assert.equal((await dig(port, `mallory.${APEX}`, 'A')).rcode, 'NXDOMAIN');
    // Each decision left an audit line.
    assert.match(directory!.stderr, /"msg":"update allowed".*"by":"key dir-key\."/);
    assert.match(directory!.stderr, /"msg":"update refused".*"reason":"127\.0\.0\.1 with no TSIG matches no item"/);
    assert.match(directory!.stderr, /"msg":"update refused".*"reason":"TSIG BADSIG"/);
  });

  test('kill -9 during a burst of signed updates: every acknowledged update is back after a restart, none half there', async () => {
    const acked = new Set<number>();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < BURST; i++) {
      pending.push(
        signedUpdate(i).then((rc) => {
          if (rc === Rcode.NOERROR) acked.add(i);
        }),
      );
      // Kill once a third are acknowledged: the rest are in flight or not yet sent.
      if (i === Math.floor(BURST / 2)) {
        while (acked.size < BURST / 3) await new Promise((r) => setTimeout(r, 5));
        process.kill(directory!.pid, 'SIGKILL');
      }
    }
    await Promise.all(pending);
    await directory!.exited;
    assert.ok(acked.size >= BURST / 3, `acknowledged ${acked.size}`);
    assert.ok(acked.size < BURST, 'the kill came before the burst ended');
    await start();
    assert.match(directory!.stderr, /"msg":"journal replayed"/);
    let present = 0;
    for (let i = 0; i < BURST; i++) {
      const [a, t] = await Promise.all([dig(port, `u${i}.${APEX}`, 'A'), dig(port, `u${i}.${APEX}`, 'TXT')]);
      assert.equal(a.answer.length, t.answer.length, `u${i}: A and TXT both or neither`);
      if (acked.has(i)) assert.equal(a.answer.length, 1, `acknowledged u${i} lost`);
      if (a.answer.length) present++;
    }
    assert.ok(present >= acked.size);
    // The earlier registration survived too.
    assert.equal((await dig(port, `alice.${APEX}`, 'A')).answer.length, 1);
  });
});
