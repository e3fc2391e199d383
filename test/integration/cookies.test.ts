// DNS Cookies against real clients: dig and kdig with +cookie, and named and unbound as resolvers in
// front of fluxdns in enforce mode (named speaks cookies; unbound 1.17 sends none and gets in over TCP).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopAll } from '../helpers/proc.js';
import { startFluxdns, type RunningServer } from '../helpers/servers.js';

after(() => stopAll());

const ZONE = `$ORIGIN ck.lab.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\nwww A 198.51.100.80\n`;
const SECRET = 'e5e973e5a6b2a43f48e7dc849e37bfcf';

async function serve(cookies: string): Promise<{ server: RunningServer; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-cookies-'));
  const zoneFile = join(dir, 'ck.lab.zone');
  writeFileSync(zoneFile, ZONE);
  const port = await freePort();
  const yaml = `listen:\n  - { proto: udp, address: "127.0.0.1:${port}" }\n  - { proto: tcp, address: "127.0.0.1:${port}" }\ncookies: ${cookies}\nzones:\n  - { name: ck.lab., file: ${JSON.stringify(zoneFile)} }\n`;
  // The helper's readiness probe is a dig over UDP without cookies, which enforce mode truncates:
  // wait for the ready line, then for a SOA over TCP.
  const server = await startFluxdns(yaml, port);
  for (let i = 0; ; i++) {
    const r = await dig(port, 'ck.lab', 'SOA', { tcp: true }).catch(() => undefined);
    if (r?.rcode === 'NOERROR') break;
    if (i > 50) throw new Error('fluxdns did not answer SOA over TCP');
    await new Promise((res) => setTimeout(res, 100));
  }
  return { server, port };
}

function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 15000 }, (_err, out, errOut) => resolve(`${out}${errOut}`));
  });
}

/** A bare UDP socket standing in for the authoritative server, to see what a resolver sends. */
async function probeSocket(): Promise<{ socket: dgram.Socket; seen: Buffer[] }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((res) => socket.bind(0, '127.0.0.1', () => res()));
  const seen: Buffer[] = [];
  socket.on('message', (m) => seen.push(m));
  return { socket, seen };
}

/** The COOKIE option (code 10) of a query's OPT record, if any. */
function cookieOf(q: Buffer): Buffer | undefined {
  const opt = packet.decode(q).additionals?.find((a) => a.type === 'OPT') as { options?: { code: number; data?: Buffer }[] } | undefined;
  return opt?.options?.find((o) => o.code === 10)?.data;
}

const COOKIE_LINE = /; COOKIE: ([0-9a-f]{16})([0-9a-f]{32}) \(good\)/;

describe('cookies: answer mode', () => {
  let port = 0;
  before(async () => {
    ({ port } = await serve(`{ mode: answer, secret: ${SECRET} }`));
  });

  test('dig +cookie gets a 16-byte RFC 9018 server cookie, marked good', async () => {
    const out = await run('dig', [`@127.0.0.1`, '-p', String(port), '+norec', '+cookie', '+time=2', '+tries=1', 'www.ck.lab', 'A']);
    const m = COOKIE_LINE.exec(out);
    assert.ok(m, out);
    assert.match(m[2]!, /^01000000[0-9a-f]{24}$/, 'version 1, reserved 0');
    assert.match(out, /status: NOERROR/);
    // Sending it back: still good, the same cookie while younger than rotateEvery.
    const again = await run('dig', [`@127.0.0.1`, '-p', String(port), '+norec', `+cookie=${m[1]}${m[2]}`, '+time=2', '+tries=1', 'www.ck.lab', 'A']);
    assert.equal(COOKIE_LINE.exec(again)?.[2], m[2], again);
  });

  test('kdig +cookie gets the server cookie too', async () => {
    const out = await run('kdig', [`@127.0.0.1`, '-p', String(port), '+norec', '+cookie', '+time=2', '+retry=0', 'www.ck.lab', 'A']);
    assert.match(out, /;; COOKIE: [0-9a-f]{16}01000000[0-9a-f]{24}\b/i, out);
  });

  test('dig +nocookie gets no cookie, and a malformed cookie is FORMERR', async () => {
    const r = await dig(port, 'www.ck.lab', 'A');
    assert.equal(r.rcode, 'NOERROR');
    assert.doesNotMatch(r.raw, /COOKIE/);
    const bad = await run('dig', [`@127.0.0.1`, '-p', String(port), '+norec', '+nocookie', '+ednsopt=10:0102030405', '+time=2', '+tries=1', 'www.ck.lab', 'A']);
    assert.match(bad, /status: FORMERR/, bad);
  });
});

describe('cookies: enforce mode', () => {
  let port = 0;
  let tcPort = 0;
  before(async () => {
    ({ port } = await serve(`{ mode: enforce, secret: ${SECRET} }`));
    ({ port: tcPort } = await serve(`{ mode: enforce, onInvalid: tc }`));
  });

  test('dig +cookie: BADCOOKIE with a fresh cookie first, dig retries with it and gets the answer', async () => {
    const out = await run('dig', [`@127.0.0.1`, '-p', String(port), '+norec', '+cookie', '+time=2', '+tries=1', 'www.ck.lab', 'A']);
    assert.match(out, /BADCOOKIE, retrying/, out);
    assert.match(out, /status: NOERROR/);
    assert.match(out, /www\.ck\.lab\.\s+300\s+IN\s+A\s+198\.51\.100\.80/);
    assert.match(out, COOKIE_LINE);
  });

  test('dig +cookie +nobadcookie shows the BADCOOKIE itself', async () => {
    const out = await run('dig', [`@127.0.0.1`, '-p', String(port), '+norec', '+cookie', '+nobadcookie', '+time=2', '+tries=1', 'www.ck.lab', 'A']);
    assert.match(out, /status: BADCOOKIE/, out);
    assert.match(out, /ANSWER: 0/);
    assert.match(out, COOKIE_LINE);
  });

  test('kdig +cookie gets through (it resends after BADCOOKIE)', async () => {
    const out = await run('kdig', [`@127.0.0.1`, '-p', String(port), '+norec', '+cookie', '+time=2', '+retry=1', 'www.ck.lab', 'A']);
    assert.match(out, /status: NOERROR/, out);
    assert.match(out, /www\.ck\.lab\.\s+300\s+IN\s+A\s+198\.51\.100\.80/);
  });

  test('no cookie over UDP: TC=1 and nothing else; dig then retries over TCP and gets the answer', async () => {
    const tc = await dig(port, 'www.ck.lab', 'A');
    assert.ok(tc.flags.has('tc'), tc.raw);
    assert.equal(tc.answer.length, 0);
    const retried = await run('dig', [`@127.0.0.1`, '-p', String(port), '+norec', '+nocookie', '+time=2', '+tries=1', 'www.ck.lab', 'A']);
    assert.match(retried, /Truncated, retrying in TCP mode/, retried);
    assert.match(retried, /www\.ck\.lab\.\s+300\s+IN\s+A\s+198\.51\.100\.80/);
    const tcp = await dig(port, 'www.ck.lab', 'A', { tcp: true });
    assert.equal(tcp.answer.length, 1);
  });

  test('onInvalid tc: a client cookie alone gets TC=1 with a server cookie; dig retries over TCP', async () => {
    const out = await run('dig', [`@127.0.0.1`, '-p', String(tcPort), '+norec', '+cookie', '+ignore', '+time=2', '+tries=1', 'www.ck.lab', 'A']);
    assert.match(out, /flags: qr tc;/, out);
    assert.match(out, COOKIE_LINE);
    const full = await run('dig', [`@127.0.0.1`, '-p', String(tcPort), '+norec', '+cookie', '+time=2', '+tries=1', 'www.ck.lab', 'A']);
    assert.match(full, /www\.ck\.lab\.\s+300\s+IN\s+A\s+198\.51\.100\.80/, full);
  });

  test('named 9.18 sends cookies as a resolver, and resolves through enforce mode', async () => {
    const named = async (upstream: number, name: string) => {
      const rport = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'fluxdns-named-'));
      writeFileSync(
        join(dir, 'named.conf'),
        `options { directory "${dir}"; listen-on port ${rport} { 127.0.0.1; }; listen-on-v6 { none; }; pid-file "${dir}/named.pid"; ` +
          `recursion yes; allow-query { any; }; dnssec-validation no; notify no; };\ncontrols { };\n` +
          `zone "ck.lab" { type forward; forward only; forwarders { 127.0.0.1 port ${upstream}; }; };\n`,
      );
      const proc = startProcess('named', ['-g', '-c', join(dir, 'named.conf'), '-n', '1'], { name: `named:${rport}`, cwd: dir });
      try {
        await proc.waitFor(/running/, 20000, 'both');
        return await dig(rport, name, 'A', { extra: ['+rec', '+time=4'] }).catch((e: Error) => e);
      } finally {
        await proc.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const { socket, seen } = await probeSocket();
    await named(socket.address().port, 'www.ck.lab');
    socket.close();
    assert.ok(seen.length > 0, 'named queried the probe');
    assert.ok(seen.every((q) => cookieOf(q)?.length === 8), 'every query carries an 8-byte client cookie');
    const r = await named(port, 'www.ck.lab');
    assert.ok(!(r instanceof Error), String(r));
    assert.equal(r.rcode, 'NOERROR', r.raw);
    assert.deepEqual(r.answer.map((a) => a.data), ['198.51.100.80']);
  });

  test('unbound 1.17 sends no cookie: enforce mode makes it retry over TCP, and it resolves', async () => {
    // First, what unbound sends: a bare UDP socket plays the authoritative server.
    const { socket: probe, seen } = await probeSocket();
    const probePort = probe.address().port;
    const ub = async (upstream: number, name: string) => {
      const rport = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'fluxdns-unbound-'));
      writeFileSync(
        join(dir, 'unbound.conf'),
        `server:\n  interface: 127.0.0.1\n  port: ${rport}\n  do-ip6: no\n  username: ""\n  chroot: ""\n  directory: "${dir}"\n  pidfile: "${dir}/unbound.pid"\n` +
          `  use-syslog: no\n  logfile: ""\n  verbosity: 1\n  do-not-query-localhost: no\n  domain-insecure: "ck.lab."\n  module-config: "iterator"\n  access-control: 127.0.0.0/8 allow\n` +
          `  tcp-upstream: no\nstub-zone:\n  name: "ck.lab."\n  stub-addr: 127.0.0.1@${upstream}\nremote-control:\n  control-enable: no\n`,
      );
      const proc = startProcess('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { name: `unbound:${rport}`, cwd: dir });
      await proc.waitFor(/start of service/, 20000, 'both');
      try {
        return await dig(rport, name, 'A', { extra: ['+rec', '+time=5'] }).catch((e: Error) => e);
      } finally {
        await proc.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    };
    await ub(probePort, 'www.ck.lab');
    probe.close();
    assert.ok(seen.length > 0, 'unbound queried the probe');
    assert.ok(seen.every((q) => cookieOf(q) === undefined), 'no query carries a COOKIE option');
    const r = await ub(port, 'www.ck.lab');
    assert.ok(!(r instanceof Error), String(r));
    assert.equal(r.rcode, 'NOERROR', r.raw);
    assert.deepEqual(r.answer.map((a) => a.data), ['198.51.100.80']);
  });
});
