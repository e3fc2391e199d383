// RFC 8906 ("A Common Operational Problem in DNS Servers: Failure to Communicate") §8: every test
// it lists, run with dig and kdig against fluxdns, checking the response the RFC expects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, type DigResult } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { startFluxdns } from '../helpers/servers.js';

after(() => stopAll());

const ZONE = `$ORIGIN ff.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n`;
let port = 0;
let cookiePort = 0;

async function serve(extra: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-8906-'));
  const zoneFile = join(dir, 'ff.lab.zone');
  writeFileSync(zoneFile, ZONE);
  const p = await freePort();
  const yaml = `listen:\n  - { proto: udp, address: "127.0.0.1:${p}" }\n  - { proto: tcp, address: "127.0.0.1:${p}" }\n${extra}zones:\n  - { name: ff.lab., file: ${JSON.stringify(zoneFile)} }\n`;
  await startFluxdns(yaml, p, 'ff.lab.');
  return p;
}

before(async () => {
  port = await serve('');
  cookiePort = await serve('cookies: { mode: answer }\n');
});

/** dig with RFC 8906's flags; the helper adds +norec +nocookie +noadflag +ignore. */
const q = (extra: string[], type = 'SOA', p = port) => dig(p, 'ff.lab', type, { extra });
const kq = (extra: string[], type = 'SOA') => dig(port, 'ff.lab', type, { tool: 'kdig', extra });

function soaAnswer(r: DigResult): void {
  assert.equal(r.rcode, 'NOERROR', r.raw);
  assert.ok(r.flags.has('aa'), r.raw);
  assert.deepEqual(r.answer.map((a) => a.type), ['SOA'], r.raw);
}

/** The OPT line as dig prints it: "; EDNS: version: 0, flags: do; udp: 1232". */
function ednsLine(r: DigResult): string {
  return /; EDNS: ([^\n]*)/.exec(r.raw)?.[1] ?? '';
}

function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve) => execFile(bin, args, { timeout: 10000 }, (_e, out, err) => resolve(out + err)));
}

describe('RFC 8906 §8.1 basic DNS', () => {
  test('8.1.1 the server is configured for the zone (no EDNS)', async () => {
    const r = await q(['+noedns']);
    soaAnswer(r);
    assert.equal(r.edns, false);
  });

  test('8.1.2 unknown types get NODATA with the SOA', async () => {
    for (const type of ['TYPE1000', 'TYPE65280']) {
      const r = await q(['+noedns'], type);
      assert.equal(r.rcode, 'NOERROR', r.raw);
      assert.ok(r.flags.has('aa'));
      assert.equal(r.answer.length, 0);
      assert.deepEqual(r.authority.map((a) => a.type), ['SOA']);
    }
  });

  test('8.1.3.1 a recursive query is answered, RD copied, RA clear', async () => {
    const r = await q(['+noedns', '+rec']);
    soaAnswer(r);
    assert.ok(r.flags.has('rd'));
    assert.ok(!r.flags.has('ra'));
  });

  test('8.1.3.2 the Z bit is answered and clear in the response', async () => {
    const r = await q(['+noedns', '+zflag']);
    soaAnswer(r);
    assert.doesNotMatch(r.raw, /MBZ/);
  });

  test('8.1.3.3 AD in the query: answered, AD clear (nothing here is validated)', async () => {
    const r = await q(['+noedns', '+adflag']);
    soaAnswer(r);
    assert.ok(!r.flags.has('ad'));
  });

  test('8.1.3.4 CD in the query: answered, CD copied', async () => {
    const r = await q(['+noedns', '+cdflag']);
    soaAnswer(r);
    assert.ok(r.flags.has('cd'));
  });

  test('8.1.4 unknown opcodes get NOTIMP with the opcode echoed, with and without a question', async () => {
    for (const extra of [['+noedns', '+opcode=15', '+header-only'], ['+noedns', '+opcode=15'], ['+edns=0', '+opcode=15', '+header-only']]) {
      const out = await run('dig', ['@127.0.0.1', '-p', String(port), '+norec', '+nocookie', '+time=2', '+tries=1', ...extra, 'ff.lab', 'SOA']);
      assert.match(out, /opcode: RESERVED15, status: NOTIMP/, `${extra.join(' ')}\n${out}`);
      assert.match(out, /ANSWER: 0, AUTHORITY: 0/);
    }
  });

  test('8.1.4 unknown opcode with every header flag set: NOTIMP copies RD and no other flag (genreport "opcodeflg")', async () => {
    for (const extra of [['+noedns'], ['+edns=0'], ['+noedns', '+header-only'], ['+noedns', '+tcp']]) {
      const args = ['+opcode=15', '+rec', '+tcflag', '+aaflag', '+adflag', '+cdflag', '+raflag', '+zflag', ...extra];
      const out = await run('dig', ['@127.0.0.1', '-p', String(port), '+nocookie', '+time=2', '+tries=1', ...args, 'ff.lab', 'SOA']);
      assert.match(out, /opcode: RESERVED15, status: NOTIMP/, `${args.join(' ')}\n${out}`);
      assert.match(out, /;; flags: qr rd; QUERY/, `${args.join(' ')}\n${out}`);
    }
  });

  test('8.1.5 TCP', async () => {
    soaAnswer(await q(['+noedns', '+tcp']));
    soaAnswer(await kq(['+tcp']));
  });
});

describe('RFC 8906 §8.2 extended DNS', () => {
  test('8.2.1 minimal EDNS: OPT version 0, no options, no flags', async () => {
    const r = await q(['+edns=0']);
    soaAnswer(r);
    assert.match(ednsLine(r), /^version: 0, flags:; udp: \d+/);
    assert.match(r.ednsText, /EDNS: version: 0/); // the section the negative checks read
    assert.doesNotMatch(r.ednsText, /COOKIE|NSID|PADDING|OPT=/i, r.ednsText);
  });

  test('8.2.2 EDNS version 1: BADVERS with version 0, nothing in the answer', async () => {
    const r = await q(['+edns=1', '+noednsneg']);
    assert.equal(r.rcode, 'BADVERS', r.raw);
    assert.match(ednsLine(r), /^version: 0,/);
    assert.equal(r.answer.length, 0);
    const k = await kq(['+edns=1']);
    assert.equal(k.rcode, 'BADVERS', k.raw);
  });

  test('8.2.3 unknown EDNS options are ignored and not echoed', async () => {
    for (const opt of ['+ednsopt=100', '+ednsopt=100:0102', '+ednsopt=65001:ff']) {
      const r = await q(['+edns=0', opt]);
      soaAnswer(r);
      assert.doesNotMatch(r.ednsText, /OPT=|COOKIE|PADDING/i, `${opt}\n${r.ednsText}`);
      assert.match(ednsLine(r), /^version: 0, flags:; udp/);
    }
  });

  test('8.2.4 unknown EDNS flags are ignored and clear in the response', async () => {
    const r = await q(['+edns=0', '+ednsflags=0x40']);
    soaAnswer(r);
    assert.match(ednsLine(r), /^version: 0, flags:; udp/);
    assert.doesNotMatch(ednsLine(r), /MBZ/);
  });

  test('8.2.5 EDNS version 1 with an unknown option or flag: BADVERS, none of them echoed', async () => {
    for (const extra of [['+ednsopt=100'], ['+ednsflags=0x40'], ['+ednsopt=100', '+ednsflags=0x40']]) {
      const r = await q(['+edns=1', '+noednsneg', ...extra]);
      assert.equal(r.rcode, 'BADVERS', r.raw);
      assert.match(ednsLine(r), /^version: 0, flags:; udp/);
      assert.doesNotMatch(r.ednsText, /OPT=/);
    }
  });

  test('8.2.6 DO=1: answered, DO copied (RFC 3225 §3)', async () => {
    const r = await q(['+edns=0', '+dnssec']);
    soaAnswer(r);
    assert.match(ednsLine(r), /^version: 0, flags: do; udp/);
    const off = await q(['+edns=0']);
    assert.doesNotMatch(ednsLine(off), /do/);
  });

  test('8.2.7 EDNS over TCP', async () => {
    const r = await q(['+edns=0', '+tcp']);
    soaAnswer(r);
    assert.match(ednsLine(r), /^version: 0,/);
    const k = await kq(['+tcp', '+edns=0', '+dnssec']);
    soaAnswer(k);
    assert.ok(k.edns);
  });

  test('a truncated EDNS response keeps the OPT record (§3.2.6 / RFC 6891 §7)', async () => {
    const r = await q(['+edns=0', '+bufsize=512', '+dnssec'], 'ANY');
    assert.equal(r.rcode, 'NOERROR');
    assert.ok(r.edns, r.raw);
  });

  test('cookies: +nocookie and +cookie are both answered; without cookie support the option is ignored', async () => {
    soaAnswer(await q(['+edns=0']));
    const ignored = await q(['+edns=0', '+cookie']);
    soaAnswer(ignored);
    assert.doesNotMatch(ignored.ednsText, /COOKIE/);
    const answered = await q(['+edns=0', '+cookie'], 'SOA', cookiePort);
    soaAnswer(answered);
    assert.match(answered.raw, /COOKIE: [0-9a-f]{48} \(good\)/);
    // An unknown version with a cookie: still BADVERS, with the cookie (RFC 7873 §5.2).
    const badvers = await q(['+edns=1', '+noednsneg', '+cookie'], 'SOA', cookiePort);
    assert.equal(badvers.rcode, 'BADVERS', badvers.raw);
  });

  test('padding (RFC 7830): a query with a Padding option is answered; UDP responses carry no padding', async () => {
    const r = await q(['+edns=0', '+padding=128']);
    soaAnswer(r);
    assert.doesNotMatch(r.ednsText, /PADDING/);
    const k = await kq(['+edns=0', '+padding=64']);
    soaAnswer(k);
  });

  test('EDNS with an unknown option over TCP, and kdig with NSID and an unknown option', async () => {
    soaAnswer(await q(['+edns=0', '+ednsopt=100', '+tcp']));
    soaAnswer(await kq(['+edns=0', '+nsid', '+ednsopt=100:aa']));
  });
});
