// fluxdns as a primary (issue 13): knotd, nsd and named transfer the zone with TSIG; a SIGHUP with a new
// serial and an nsupdate reach each of them by NOTIFY and IXFR; kdig AXFR over TCP and XoT; transfers
// without the key or from another address are refused and logged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { runTool as run, stopAll, waitUntil } from '../helpers/proc.js';
import { dig, soaSerial } from '../helpers/dig.js';
import { repoRoot, startFluxdns, type RunningServer } from '../helpers/servers.js';
import { startKnotSecondary, startNamedSecondary, startNsdSecondary, type Secondary } from '../helpers/secondaries.js';
import { makeTestCert } from '../helpers/tls.js';
import { decodeMessage, encodeMessage, getRcode, queryMessage } from '../../src/wire/message.js';
import { Rcode, RRType } from '../../src/wire/types.js';
import { udpExchange } from '../helpers/udp.js';

const KEY = { name: 'xfr-key', secret: Buffer.from('xfr-primary-test-secret-0123456789abcdef').toString('base64') };
const OTHER = Buffer.from('not-the-right-secret-0123456789abcdefgh').toString('base64');
const ZONE = 'xp.lab.';
const HOSTS = 400;
const AUTO = (extra: string) => `$ORIGIN auto.lab.\n$TTL 300\n@ SOA ns hostmaster 7 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${extra}`;
/** A zone with a date serial (YYYYMMDDnn) under `serial: auto`. */
const DATED = (extra: string) => `$ORIGIN dated.lab.\n$TTL 300\n@ SOA ns hostmaster 2020010105 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${extra}`;

function zoneText(serial: number, extra = ''): string {
  const hosts = Array.from({ length: HOSTS }, (_, i) => `h${i} A 198.51.100.${(i % 250) + 1}\nh${i} TXT "host ${i} of the transfer test zone"`).join('\n');
  return `$ORIGIN ${ZONE}\n$TTL 300\n@ SOA ns hostmaster ${serial} 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${hosts}\n${extra}`;
}

let dir = '';
let port = 0;
let tlsPort = 0;
let server: RunningServer | undefined;
const secondaries: Secondary[] = [];

/** The SOA serial `port` serves for the test zone, polled with one-second tries. */
const serial = (port: number): Promise<number | undefined> => soaSerial(port, ZONE, ['+time=1']);

/** Polls each secondary until it serves `want` (a loaded machine: generous). */
async function allServe(want: number, timeoutMs = 60000): Promise<Map<string, number | undefined>> {
  const seen = new Map<string, number | undefined>();
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const s of secondaries) seen.set(s.kind, await serial(s.port));
    if ([...seen.values()].every((v) => v === want) || Date.now() > end) return seen;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function logText(): string {
  return server!.proc.stdout + server!.proc.stderr;
}

/** An IXFR query from `serial` (RFC 1995 §3: the client's SOA in the authority section), from the allowed address. */
function ixfrQuery(serial: number): Uint8Array {
  const q = queryMessage(ZONE, RRType.IXFR);
  q.authorities = [{ name: ZONE, type: RRType.SOA, class: 1, ttl: 0, data: { mname: `ns.${ZONE}`, rname: `hostmaster.${ZONE}`, serial, refresh: 0, retry: 0, expire: 0, minimum: 0 } }];
  return encodeMessage(q);
}

/** One datagram to the server and its reply, sent from the address allowTransfer lists, so the answer is about the transport, not the access list. */
async function udpQuery(msg: Uint8Array): Promise<Uint8Array> {
  const reply = await udpExchange(msg, port, { from: '127.0.0.250' });
  if (!reply) throw new Error('no UDP reply in 5 s');
  return new Uint8Array(reply);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fluxdns-xfrp-'));
  writeFileSync(join(dir, 'zone'), zoneText(1));
  writeFileSync(join(dir, 'auto'), AUTO(''));
  writeFileSync(join(dir, 'dated'), DATED(''));
  // RFC 8976 A.4: uri.arpa, signed, with a ZONEMD; its apex RRSIGs cover sets of TTL 600, 3600 and 86400.
  copyFileSync(join(repoRoot, 'test/fixtures/zones/real/pdns/zonemd4.zone'), join(dir, 'uri.arpa'));
  const cert = makeTestCert(dir);
  port = await freePort();
  tlsPort = await freePort();
  const ports = [await freePort(), await freePort(), await freePort()] as const;
  const yaml = `listen:
  - { proto: udp, address: "127.0.0.1:${port}" }
  - { proto: tcp, address: "127.0.0.1:${port}" }
  - { proto: tls, address: "127.0.0.1:${tlsPort}", cert: ${JSON.stringify(cert.cert)}, key: ${JSON.stringify(cert.key)} }
rrl: off
tsig:
  keys:
    - { name: ${KEY.name}, secret: "${KEY.secret}" }
zones:
  - name: ${ZONE}
    file: ${JSON.stringify(join(dir, 'zone'))}
    allowTransfer: ["127.0.0.250", { key: ${KEY.name} }]
    allowUpdate: [{ key: ${KEY.name} }]
    notify: [{ address: "127.0.0.1:${ports[0]}", tsigKey: ${KEY.name} }, "127.0.0.1:${ports[1]}", { address: "127.0.0.1:${ports[2]}", tsigKey: ${KEY.name} }]
  - { name: auto.lab., file: ${JSON.stringify(join(dir, 'auto'))}, serial: increment, allowTransfer: ["127.0.0.0/8"] }
  - { name: dated.lab., file: ${JSON.stringify(join(dir, 'dated'))}, serial: auto, allowTransfer: ["127.0.0.0/8"] }
  - { name: uri.arpa., file: ${JSON.stringify(join(dir, 'uri.arpa'))}, allowTransfer: ["127.0.0.250"] }
`;
  writeFileSync(join(dir, 'fluxdns.yaml'), yaml);
  server = await startFluxdns(yaml, port, ZONE);
  const spec = (address: string, p: number) => ({ zone: ZONE, primary: { host: '127.0.0.1', port }, key: KEY, address, port: p });
  // knotd and named accept only a NOTIFY signed with the key (RFC 8945); nsd any from the primary's address.
  secondaries.push(startKnotSecondary({ ...spec('127.0.0.11', ports[0]), notifySigned: true }), startNsdSecondary(spec('127.0.0.12', ports[1])), startNamedSecondary({ ...spec('127.0.0.13', ports[2]), notifySigned: true }));
});

after(async () => {
  for (const s of secondaries) await s.stop();
  await server?.stop();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fluxdns as a primary', () => {
  test('knotd, nsd and named load the zone by AXFR signed with TSIG', async () => {
    const seen = await allServe(1);
    assert.deepEqual(Object.fromEntries(seen), { knot: 1, nsd: 1, named: 1 }, secondaries.map((s) => s.log().slice(-2000)).join('\n----\n'));
    // Every record arrived: the secondaries answer a name from the end of the zone.
    for (const s of secondaries) {
      const r = await dig(s.port, `h${HOSTS - 1}.${ZONE}`, 'TXT');
      assert.equal(r.answer[0]?.data, `"host ${HOSTS - 1} of the transfer test zone"`, s.kind);
    }
    const log = server!.proc.stdout + server!.proc.stderr;
    for (const a of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) assert.match(log, new RegExp(`"transfer allowed".*"client":"${a.replace(/\./g, '\\.')}".*"key":"xfr-key\\."`), a);
  });

  test('kdig AXFR over TCP with the key: every record, each message signed (kdig verifies the chain)', async () => {
    const r = await run('kdig', ['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:${KEY.name}:${KEY.secret}`, ZONE, 'AXFR', '+stat']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`\\(\\d+ messages, ${HOSTS * 2 + 4} records\\)`));
    assert.doesNotMatch(r.out, /TSIG.*(BADSIG|failed)|WARNING/i);
  });

  test('kdig +tls AXFR over XoT (RFC 9103)', async () => {
    // -d: kdig 3.2 reports the transport as "TCP" either way; its debug lines show the TLS handshake.
    const r = await run('kdig', ['-d', '@127.0.0.1', '-p', String(tlsPort), '+tls', '-y', `hmac-sha256:${KEY.name}:${KEY.secret}`, ZONE, 'AXFR', '+stat']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /TLS, received certificate/);
    assert.match(r.out, new RegExp(`${HOSTS * 2 + 4} records`));
  });

  test('a signed zone goes out with each RRSIG at its covered RRset TTL: ldns-verify-zone checks the ZONEMD and signatures of the AXFR', async () => {
    const r = await run('kdig', ['@127.0.0.1', '-p', String(port), '-b', '127.0.0.250', 'uri.arpa.', 'AXFR', '+nocomments', '+nostats']);
    const sigs = r.out.split('\n').filter((l) => /^uri\.arpa\.\s+\d+\s+IN\s+RRSIG\s+(SOA|NS|MX) /.test(l)).map((l) => l.split(/\s+/).slice(1, 6).join(' '));
    assert.deepEqual(sigs.sort(), ['3600 IN RRSIG SOA 8', '600 IN RRSIG MX 8', '86400 IN RRSIG NS 8'], r.out);
    writeFileSync(join(dir, 'uri.axfr'), r.out);
    // The fixture's signatures expired in February 2021: verified at a time they were valid.
    const v = await run('ldns-verify-zone', ['-Z', '-t', '20210201000000', join(dir, 'uri.axfr')]);
    assert.equal(v.code, 0, v.out);
    assert.match(v.out, /Zone is verified and complete/);
  });

  test('a transfer from an allowed address needs no key', async () => {
    const r = await run('kdig', ['@127.0.0.1', '-p', String(port), '-b', '127.0.0.250', ZONE, 'AXFR', '+stat']);
    assert.match(r.out, new RegExp(`${HOSTS * 2 + 4} records`), r.out);
  });

  test('without the key or from another address: REFUSED and a log line; a wrong secret: NOTAUTH', async () => {
    const plain = await run('kdig', ['@127.0.0.1', '-p', String(port), ZONE, 'AXFR']);
    assert.match(plain.out, /REFUSED/);
    const wrong = await run('dig', ['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:${KEY.name}:${OTHER}`, ZONE, 'AXFR']);
    assert.match(wrong.out, /NOTAUTH|BADSIG|tsig/i);
    assert.doesNotMatch(wrong.out, /XFR size/);
    const log = server!.proc.stdout + server!.proc.stderr;
    assert.match(log, /"transfer refused".*"client":"127\.0\.0\.1".*"reason":"127\.0\.0\.1 with no TSIG matches no item"/);
    // AXFR is a stream protocol (RFC 5936 §4.2); over UDP the answer is FORMERR, not a partial zone.
    const udp = await udpQuery(encodeMessage(queryMessage(ZONE, RRType.AXFR)));
    assert.equal(getRcode(decodeMessage(udp)), Rcode.FORMERR);
  });

  test('a flood of refused transfers does not flood the log: 5 lines per client /24, then 1 a second, the next line counts the dropped', async () => {
    // Past the refusals above, the loopback /24's bucket has refilled by now (1 a second, 5 at most).
    await new Promise((r) => setTimeout(r, 5000));
    const mark = logText().length;
    const q = encodeMessage(queryMessage(ZONE, RRType.AXFR));
    // Over UDP, as a forged-source flood would come: the access list answers before the transport rule.
    const replies = await Promise.all(Array.from({ length: 60 }, () => udpExchange(q, port, { from: '127.0.0.77' })));
    assert.ok(replies.every((r) => r !== undefined && getRcode(decodeMessage(new Uint8Array(r))) === Rcode.REFUSED));
    const refused = () => logText().slice(mark).match(/"transfer refused"[^\n]*/g) ?? [];
    assert.ok(refused().length >= 1 && refused().length <= 7, `${refused().length} lines\n${refused().join('\n')}`);
    await new Promise((r) => setTimeout(r, 1500));
    await udpExchange(q, port, { from: '127.0.0.77' });
    assert.ok(await waitUntil(() => refused().some((l) => /"suppressed":\d+/.test(l)), 5000), refused().join('\n'));
    const dropped = refused().map((l) => Number(/"suppressed":(\d+)/.exec(l)?.[1] ?? 0)).reduce((a, b) => a + b, 0);
    assert.equal(dropped + refused().length, 61, refused().join('\n'));
  });

  test('a SIGHUP with a new serial: NOTIFY reaches knotd, nsd and named, each fetches the difference by IXFR', async () => {
    const mark = logText().length;
    writeFileSync(join(dir, 'zone'), zoneText(2, 'added A 198.51.100.200\n'));
    process.kill(server!.proc.pid, 'SIGHUP');
    const seen = await allServe(2);
    assert.deepEqual(Object.fromEntries(seen), { knot: 2, nsd: 2, named: 2 }, logText().slice(mark));
    for (const s of secondaries) assert.equal((await dig(s.port, `added.${ZONE}`, 'A')).answer[0]?.data, '198.51.100.200', s.kind);
    const since = () => logText().slice(mark);
    // Each secondary asked from its own address: its transfer line says IXFR (from serial 1).
    for (const a of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) {
      assert.match(since(), new RegExp(`"transfer allowed".*"client":"${a.replace(/\./g, '\\.')}".*"type":"IXFR","serial":2,"clientSerial":1`), `${a}\n${since()}`);
    }
    assert.ok(await waitUntil(() => (since().match(/"NOTIFY acknowledged"/g) ?? []).length >= 3, 30000), since());
    // knotd's and named's acknowledgements answered a signed NOTIFY and verified (nsd's did not need one).
    for (const s of secondaries) {
      const signed = new RegExp(`"NOTIFY acknowledged".*"target":"127\\.0\\.0\\.1:${s.port}".*"key":"xfr-key\\."`).test(since());
      assert.equal(signed, s.kind !== 'nsd', `${s.kind}\n${since()}`);
    }
    assert.doesNotMatch(since(), /NOTIFY refused|failed TSIG verification/);
  });

  test('knotd refuses an unsigned NOTIFY from the primary address: the signature is what got it through', async () => {
    // named is left out: BIND takes a NOTIFY from a zone's primaries whatever allow-notify says; its
    // acknowledgement above still had to verify with the key.
    for (const s of secondaries.filter((x) => x.kind === 'knot')) {
      const q = queryMessage(ZONE, RRType.SOA, { id: 4242 });
      const wire = encodeMessage({ ...q, flags: { ...q.flags, opcode: 4, aa: true, rd: false } });
      // From 127.0.0.1, the primary's address their ACLs name.
      const reply = await udpExchange(wire, s.port, { from: '127.0.0.1' });
      assert.ok(reply, `${s.kind}: no answer`);
      assert.notEqual(getRcode(decodeMessage(new Uint8Array(reply))), Rcode.NOERROR, s.kind);
    }
  });

  test('IXFR from the journal: kdig sees the difference; a current client gets the SOA alone; over UDP the SOA with TC', async () => {
    const r = await run('kdig', ['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:${KEY.name}:${KEY.secret}`, ZONE, 'IXFR=1']);
    const lines = r.out.split('\n').filter((l) => /\sIN\s/.test(l)).map((l) => l.replace(/\s+/g, ' ').trim());
    assert.deepEqual(lines, [
      `${ZONE} 300 IN SOA ns.${ZONE} hostmaster.${ZONE} 2 3600 600 86400 60`,
      `${ZONE} 300 IN SOA ns.${ZONE} hostmaster.${ZONE} 1 3600 600 86400 60`,
      `${ZONE} 300 IN SOA ns.${ZONE} hostmaster.${ZONE} 2 3600 600 86400 60`,
      `added.${ZONE} 300 IN A 198.51.100.200`,
      `${ZONE} 300 IN SOA ns.${ZONE} hostmaster.${ZONE} 2 3600 600 86400 60`,
    ]);
    const current = await run('kdig', ['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:${KEY.name}:${KEY.secret}`, ZONE, 'IXFR=2', '+stat']);
    assert.match(current.out, /\(1 messages, 1 records\)/, current.out);
    const udp = decodeMessage(await udpQuery(ixfrQuery(1)));
    assert.equal(udp.flags.tc, true);
    assert.deepEqual(udp.answers.map((a) => a.type), [RRType.SOA]);
  });

  test('data changed without a raised serial: refused, still serving the old version; serial: increment raises it', async () => {
    const mark = logText().length;
    writeFileSync(join(dir, 'zone'), zoneText(2, 'added A 198.51.100.200\nsneaky A 198.51.100.201\n'));
    writeFileSync(join(dir, 'auto'), AUTO('fresh A 198.51.100.7\n'));
    writeFileSync(join(dir, 'dated'), DATED('fresh A 198.51.100.8\n'));
    const before = new Date();
    process.kill(server!.proc.pid, 'SIGHUP');
    assert.ok(await waitUntil(() => /"reloaded"/.test(logText().slice(mark)), 30000), logText().slice(mark));
    assert.match(logText().slice(mark), /"zone reload refused".*the data changed but serial 2 was not raised above 2/);
    assert.equal((await dig(port, `sneaky.${ZONE}`, 'A')).rcode, 'NXDOMAIN');
    const auto = await dig(port, 'auto.lab.', 'SOA');
    assert.equal(auto.answer[0]?.data.split(' ')[2], '8');
    assert.equal((await dig(port, 'fresh.auto.lab.', 'A')).answer[0]?.data, '198.51.100.7');
    // serial: auto keeps the zone's convention: a date serial becomes today's first (UTC; the day may turn meanwhile).
    const dated = Number((await dig(port, 'dated.lab.', 'SOA')).answer[0]?.data.split(' ')[2]);
    const day = (t: Date) => (t.getUTCFullYear() * 10000 + (t.getUTCMonth() + 1) * 100 + t.getUTCDate()) * 100;
    assert.ok(dated === day(before) || dated === day(new Date()), String(dated));
    assert.equal((await dig(port, 'fresh.dated.lab.', 'A')).answer[0]?.data, '198.51.100.8');
    // Put the file back as it is served, so later tests start from a clean state.
    writeFileSync(join(dir, 'zone'), zoneText(2, 'added A 198.51.100.200\n'));
  });

  test('nsupdate -y adds and deletes: serial 3, journaled, knotd, nsd and named follow by NOTIFY and IXFR', async () => {
    const mark = logText().length;
    const script = `server 127.0.0.1 ${port}\nzone ${ZONE}\nupdate add dyn.${ZONE} 60 A 198.51.100.50\nupdate add dyn.${ZONE} 60 TXT "dynamic"\nupdate delete h1.${ZONE} A\nsend\n`;
    const r = await run('nsupdate', ['-y', `hmac-sha256:${KEY.name}:${KEY.secret}`], script);
    assert.equal(r.code, 0, r.out);
    assert.equal((await serial(port)), 3);
    const seen = await allServe(3);
    assert.deepEqual(Object.fromEntries(seen), { knot: 3, nsd: 3, named: 3 }, logText().slice(mark));
    for (const s of secondaries) {
      assert.equal((await dig(s.port, `dyn.${ZONE}`, 'TXT')).answer[0]?.data, '"dynamic"', s.kind);
      assert.equal((await dig(s.port, `h1.${ZONE}`, 'A')).answer.length, 0, s.kind);
      assert.equal((await dig(s.port, `h1.${ZONE}`, 'TXT')).answer.length, 1, `${s.kind}: only the A RRset went`);
    }
    for (const a of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) {
      assert.match(logText().slice(mark), new RegExp(`"transfer allowed".*"client":"${a.replace(/\./g, '\\.')}".*"type":"IXFR","serial":3,"clientSerial":2`), a);
    }
  });

  test('updates without the key are REFUSED, CNAME beside data is REFUSED, a malformed UPDATE is FORMERR; nothing changes', async () => {
    const unsigned = await run('nsupdate', [], `server 127.0.0.1 ${port}\nzone ${ZONE}\nupdate add nokey.${ZONE} 60 A 198.51.100.9\nsend\n`);
    assert.match(unsigned.out, /REFUSED/);
    const cname = await run('nsupdate', ['-y', `hmac-sha256:${KEY.name}:${KEY.secret}`], `server 127.0.0.1 ${port}\nzone ${ZONE}\nupdate add dyn.${ZONE} 60 CNAME www.${ZONE}\nsend\n`);
    assert.match(cname.out, /REFUSED/);
    const outside = await run('nsupdate', ['-y', `hmac-sha256:${KEY.name}:${KEY.secret}`], `server 127.0.0.1 ${port}\nzone ${ZONE}\nupdate add elsewhere.example. 60 A 198.51.100.9\nsend\n`);
    assert.match(outside.out, /NOTZONE|not in zone|REFUSED/i, outside.out);
    // An UPDATE whose update section claims a record that is not there (ANCOUNT/NSCOUNT beyond the data).
    const m = encodeMessage({ ...queryMessage(ZONE, RRType.SOA, { id: 77 }), flags: { ...queryMessage(ZONE, RRType.SOA).flags, opcode: 5 } });
    const broken = new Uint8Array(m);
    broken[9] = 1; // NSCOUNT 1, no record follows
    const reply = decodeMessage(await udpQuery(broken));
    assert.equal(getRcode(reply), Rcode.FORMERR);
    assert.equal(reply.flags.opcode, 5);
    assert.equal(await serial(port), 3);
    assert.equal((await dig(port, `nokey.${ZONE}`, 'A')).rcode, 'NXDOMAIN');
  });

  test('named 9.18 as an XoT secondary (primaries { … key … tls …; }): the transfer runs over TLS', async () => {
    const want = await serial(port);
    const xot = startNamedSecondary({ zone: ZONE, primary: { host: '127.0.0.1', port: tlsPort }, key: KEY, address: '127.0.0.14', port: await freePort(), tls: true });
    try {
      let got: number | undefined;
      for (let i = 0; i < 240 && got !== want; i++) {
        got = await serial(xot.port);
        if (got !== want) await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(got, want, xot.log().slice(-2000));
      assert.match(logText(), /"transfer allowed".*"client":"127\.0\.0\.14".*"proto":"tls","type":"AXFR"/);
      assert.equal((await dig(xot.port, `dyn.${ZONE}`, 'TXT')).answer[0]?.data, '"dynamic"');
    } finally {
      await xot.stop();
    }
  });
});
