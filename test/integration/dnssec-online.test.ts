// Online signing validated by real resolvers: unbound, kresd and named (each with trust anchors for the test zones, sending
// those zones to fluxdns) set AD on a static answer, a capability lease, a pool answer of a policy, echo-zone store answers
// and a compact-denial NXDOMAIN; a zone signed with a key other than its anchor gives SERVFAIL; delv says "fully validated".
// ECDSA pool answers signed with nonces drawn ahead of need, and with none ready (a burst that empties the pool, and
// FLUXDNS_DNSSEC_NONCES=0), are signed correctly and validate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { generateKey, writeKeyFiles, type DnssecKey } from '../../src/dnssec/keys.js';
import { startFluxdns } from '../helpers/servers.js';
import { startProcess, type Proc } from '../helpers/proc.js';
import { freePort } from '../helpers/ports.js';
import { dig, type DigResult } from '../helpers/dig.js';
import { OboVerifier } from '../../src/capability/obo.js';
import { parseTrustAnchor } from '../../src/dnssec/validate.js';
import { Stub } from '../../src/client/stub.js';
import { parseAddress, parseCidr } from '../../src/net/cidr.js';
import { udpExchange } from '../helpers/udp.js';
import { decodeMessage, encodeMessage, queryMessage } from '../../src/wire/message.js';
import { RRType, type OpaqueRdata } from '../../src/wire/types.js';
import { parseRrsig, verifyRRset } from '../../src/dnssec/rrsig.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'unbound' | 'kresd' | 'named';

interface Anchor {
  zone: string;
  key: DnssecKey;
}

const b64 = (k: DnssecKey) => Buffer.from(k.publicKey).toString('base64');

/** A validating resolver on 127.0.0.1:port whose only trust anchors are `anchors`, sending `zones` to fluxdns on `auth`. */
async function startValidator(kind: Kind, dir: string, auth: number, zones: string[], anchors: Anchor[]): Promise<{ port: number; proc: Proc }> {
  const port = await freePort();
  const d = mkdtempSync(join(dir, kind + '-'));
  let cmd: string;
  let args: string[];
  if (kind === 'unbound') {
    const conf = join(d, 'unbound.conf');
    writeFileSync(conf, [
      'server:',
      `  interface: 127.0.0.1@${port}`, '  do-ip6: no', '  username: ""', '  chroot: ""', `  directory: "${d}"`, `  pidfile: "${join(d, 'pid')}"`,
      '  use-syslog: no', '  logfile: ""', '  do-daemonize: no', '  num-threads: 1', '  so-reuseport: no', '  do-not-query-localhost: no',
      '  access-control: 127.0.0.0/8 allow', '  module-config: "validator iterator"', '  val-log-level: 2',
      ...anchors.map((a) => `  trust-anchor: "${a.zone} DNSKEY ${a.key.flags} 3 ${a.key.algorithm} ${b64(a.key)}"`),
      // unbound answers the RFC 5737/6303 reverse zones itself unless told not to.
      ...zones.map((z) => `  local-zone: "${z}." nodefault`),
      ...zones.flatMap((z) => ['stub-zone:', `  name: "${z}"`, `  stub-addr: 127.0.0.1@${auth}`]),
      'remote-control:', '  control-enable: no', '',
    ].join('\n'));
    cmd = 'unbound';
    args = ['-d', '-c', conf];
  } else if (kind === 'kresd') {
    const conf = join(d, 'kresd.conf');
    writeFileSync(conf, [
      `net.listen('127.0.0.1', ${port}, { kind = 'dns' })`,
      "trust_anchors.remove('.')",
      "for _, m in ipairs({'priming', 'detect_time_skew', 'ta_update', 'ta_signal_query', 'ta_sentinel'}) do pcall(modules.unload, m) end",
      ...anchors.map((a) => `trust_anchors.add('${a.zone} DNSKEY ${a.key.flags} 3 ${a.key.algorithm} ${b64(a.key)}')`),
      // FORWARD validates what it gets (STUB would not); the trust anchor is at each zone's own apex.
      ...zones.map((z) => `policy.add(policy.suffix(policy.FORWARD({'127.0.0.1@${auth}'}), {todname('${z}')}))`),
      'cache.size = 10 * MB', '',
    ].join('\n'));
    cmd = 'kresd';
    args = ['-n', '-c', conf, d];
  } else {
    const conf = join(d, 'named.conf');
    writeFileSync(conf, [
      'options {', `  directory "${d}";`, `  pid-file "${join(d, 'named.pid')}";`, `  session-keyfile "${join(d, 'session.key')}";`,
      `  managed-keys-directory "${d}";`, `  listen-on port ${port} { 127.0.0.1; };`, '  listen-on-v6 { none; };', '  recursion yes;',
      '  allow-recursion { 127.0.0.0/8; };', '  allow-query { 127.0.0.0/8; };', '  dnssec-validation yes;', '  empty-zones-enable no;', '  notify no;', '};',
      'controls { };',
      'trust-anchors {', ...anchors.map((a) => `  "${a.zone}" static-key ${a.key.flags} 3 ${a.key.algorithm} "${b64(a.key)}";`), '};',
      ...zones.map((z) => `zone "${z}" { type forward; forward only; forwarders { 127.0.0.1 port ${auth}; }; };`), '',
    ].join('\n'));
    cmd = 'named';
    args = ['-g', '-n', '1', '-4', '-c', conf];
  }
  const proc = startProcess(cmd, args, { name: `${kind}:${port}`, cwd: d });
  // Ready when it accepts TCP on its port (every one of them listens on TCP too).
  const deadline = Date.now() + 60000;
  for (;;) {
    if (!proc.running) throw new Error(`${kind} exited\n${proc.describe()}`);
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), res(true)));
      s.on('error', () => res(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${kind} did not listen\n${proc.describe()}`);
    await sleep(200);
  }
  return { port, proc };
}

/** A recursive query with DO through a resolver (dig's defaults otherwise; the AD bit is read from the header). */
async function ask(port: number, name: string, type: string): Promise<DigResult> {
  return dig(port, name, type, { extra: ['+rec', '+dnssec', '+time=5', '+tries=2'] });
}

function delv(anchorFile: string, root: string, port: number, name: string, type: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('delv', ['-a', anchorFile, `+root=${root}`, '@127.0.0.1', '-p', String(port), name, type], { timeout: 30000 }, (_e, stdout, stderr) => resolve(stdout + stderr));
  });
}

test('online-signed answers validate in unbound, kresd and named; a key that does not match its anchor gives SERVFAIL; delv fully validates', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnssec-online-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // sig.lab: ECDSA KSK + Ed25519 ZSK (two algorithms: each signs everything); the others one combined key each.
  const sigKsk = generateKey('sig.lab', 13, true);
  const sigZsk = generateKey('sig.lab', 15, false);
  const echoKey = generateKey('echo.lab', 15, true);
  const polKey = generateKey('pol.lab', 13, true);
  const badServed = generateKey('bad.lab', 13, true);
  const badAnchor = generateKey('bad.lab', 13, true); // what the resolvers trust: not the key the server signs with
  const file = (k: DnssecKey) => writeKeyFiles(dir, k).privateFile;
  const zoneFile = join(dir, 'sig.lab.zone');
  writeFileSync(zoneFile, ['$ORIGIN sig.lab.', '$TTL 300', '@ SOA ns1 hostmaster 1 3600 600 86400 60', '@ NS ns1', 'ns1 A 127.0.0.1', 'www A 198.51.100.7', 'alias CNAME www', '*.wild TXT "wild"', 'sub NS ns1.sub', 'ns1.sub A 127.0.0.1', ''].join('\n'));
  // A child zone of sig.lab served here too, online-signed with a key of its own and no DS in sig.lab (insecure).
  const subKey = generateKey('sub.sig.lab', 13, true);
  const subFile = join(dir, 'sub.sig.lab.zone');
  writeFileSync(subFile, ['$ORIGIN sub.sig.lab.', '$TTL 300', '@ SOA ns1 hostmaster 1 3600 600 86400 60', '@ NS ns1', 'ns1 A 127.0.0.1', 'www A 198.51.100.12', ''].join('\n'));
  // OBO verification records (seed 000 §2.2): one in a signed reverse zone, one in an unsigned one.
  const revSigned = join(dir, 'rev-signed.zone');
  writeFileSync(revSigned, ['$TTL 300', '@ SOA ns1.sig.lab. hostmaster.sig.lab. 1 3600 600 86400 60', '@ NS ns1.sig.lab.', '1 TXT "v=obo1 198.51.100.0/24"', ''].join('\n'));
  const revPlain = join(dir, 'rev-plain.zone');
  writeFileSync(revPlain, ['$TTL 300', '@ SOA ns1.sig.lab. hostmaster.sig.lab. 1 3600 600 86400 60', '@ NS ns1.sig.lab.', '1 TXT "v=obo1 203.0.113.0/24"', ''].join('\n'));
  const revKey = generateKey('100.51.198.in-addr.arpa', 13, true);
  const badFile = join(dir, 'bad.lab.zone');
  writeFileSync(badFile, ['$ORIGIN bad.lab.', '$TTL 300', '@ SOA ns1 hostmaster 1 3600 600 86400 60', '@ NS ns1', 'ns1 A 127.0.0.1', 'www A 198.51.100.8', ''].join('\n'));
  const backend = net.createServer((s) => s.end('hello\n'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  after(() => backend.close());
  const [dns, svcPort] = [await freePort(), await freePort()];
  const keysYaml = (...files: string[]) => `{ sign: online, keys: [${files.map((f) => JSON.stringify(f)).join(', ')}] }`;
  const server = await startFluxdns(
    `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }, { proto: tcp, address: "127.0.0.1:${dns}" }]
rrl: off
zones:
  - { name: sig.lab, file: ${JSON.stringify(zoneFile)}, ttlJitter: { min: 60 }, dnssec: ${keysYaml(file(sigKsk), file(sigZsk))} }
  - { name: sub.sig.lab, file: ${JSON.stringify(subFile)}, dnssec: ${keysYaml(file(subKey))} }
  - { name: bad.lab, file: ${JSON.stringify(badFile)}, dnssec: ${keysYaml(file(badServed))} }
  - { name: 100.51.198.in-addr.arpa, file: ${JSON.stringify(revSigned)}, dnssec: ${keysYaml(file(revKey))} }
  - { name: 113.0.203.in-addr.arpa, file: ${JSON.stringify(revPlain)} }
echo:
  - { zone: echo.lab, nsAddress: 127.0.0.1, dnssec: ${keysYaml(file(echoKey))} }
gateway:
  listeners: [{ prefixes: [127.83.0.0/24], ports: [tcp/${svcPort}] }]
pools:
  - { name: caps, prefixes: [127.83.0.0/24] }
  - { name: cdn, prefixes: [198.18.0.0/24] }
policies:
  - { name: cdn, match: { qname: "*.pol.lab", qtype: [A] }, action: { pool: cdn, ttl: 30 }, zone: { name: pol.lab, dnssec: ${keysYaml(file(polKey))} } }
services:
  - { name: app.sig.lab, target: "127.0.0.1:${(backend.address() as net.AddressInfo).port}", ports: [tcp/${svcPort}], pool: caps, ttl: 20, exceptions: [198.51.100.77/32] }
`,
    dns,
    'sig.lab.',
  );
  after(() => server.stop());

  const zones = ['sig.lab', 'echo.lab', 'pol.lab', 'bad.lab', '100.51.198.in-addr.arpa', '113.0.203.in-addr.arpa'];
  const anchors: Anchor[] = [
    { zone: 'sig.lab.', key: sigKsk },
    { zone: 'echo.lab.', key: echoKey },
    { zone: 'pol.lab.', key: polKey },
    { zone: 'bad.lab.', key: badAnchor },
    { zone: '100.51.198.in-addr.arpa.', key: revKey },
  ];
  const cases: { name: string; type: string; what: string; check: (r: DigResult) => void }[] = [
    { name: 'www.sig.lab', type: 'A', what: 'a static answer (TTL jittered, then signed)', check: (r) => assert.ok(r.answer.some((a) => a.type === 'A' && a.data === '198.51.100.7')) },
    { name: 'sig.lab', type: 'DNSKEY', what: 'the apex DNSKEY set (KSK and ZSK)', check: (r) => assert.equal(r.answer.filter((a) => a.type === 'DNSKEY').length, 2) },
    { name: 'sig.lab', type: 'CDS', what: "the apex CDS (the KSK's DS)", check: (r) => assert.deepEqual(r.answer.filter((a) => a.type === 'CDS').map((a) => a.data.split(' ').slice(0, 3).join(' ')), [`${sigKsk.keyTag} 13 2`]) },
    { name: 'alias.sig.lab', type: 'A', what: 'a CNAME to a static answer', check: (r) => assert.ok(r.answer.some((a) => a.type === 'CNAME') && r.answer.some((a) => a.type === 'A')) },
    { name: 'x.wild.sig.lab', type: 'TXT', what: 'a wildcard answer', check: (r) => assert.ok(r.answer.some((a) => a.type === 'TXT' && a.data === '"wild"')) },
    { name: 'app.sig.lab', type: 'A', what: 'a capability lease', check: (r) => assert.ok(r.answer.some((a) => a.type === 'A' && a.data.startsWith('127.83.0.'))) },
    { name: '_exceptions.app.sig.lab', type: 'TXT', what: "a service's exceptions as a signed TXT", check: (r) => assert.deepEqual(r.answer.filter((a) => a.type === 'TXT').map((a) => a.data), ['"v=exc1 198.51.100.77/32"']) },
    { name: 'www.pol.lab', type: 'A', what: "a policy's pool answer", check: (r) => assert.ok(r.answer.some((a) => a.type === 'A' && a.data.startsWith('198.18.0.'))) },
    { name: '198.51.100.9.da.box.echo.lab', type: 'A', what: 'an echo DA store', check: (r) => assert.ok(r.answer.some((a) => a.type === 'DNAME' && a.data === '00.198.51.100.9.00.echo.lab.')) },
    { name: '198.51.100.10.dx.boy.echo.lab', type: 'A', what: 'an echo DX store', check: (r) => assert.ok(r.answer.some((a) => a.type === 'DNAME')) },
    { name: '198.51.100.11.00.echo.lab', type: 'A', what: 'the 00 echo domain', check: (r) => assert.ok(r.answer.some((a) => a.type === 'A' && a.data === '198.51.100.11')) },
    { name: 'nope.sig.lab', type: 'A', what: 'a compact-denial NXDOMAIN (NOERROR, NXNAME)', check: (r) => assert.equal(r.answer.length, 0) },
    { name: 'www.sig.lab', type: 'AAAA', what: 'a NODATA', check: (r) => assert.equal(r.answer.length, 0) },
    { name: 'x.y.echo.lab', type: 'A', what: 'an echo NXDOMAIN', check: (r) => assert.equal(r.answer.length, 0) },
    // The NSEC asked for is the answer (a NODATA whose NSEC holds NSEC proved nothing: SERVFAIL in unbound and named).
    { name: 'www.sig.lab', type: 'NSEC', what: 'the NSEC of a name', check: (r) => assert.ok(r.answer.some((a) => a.type === 'NSEC' && /\sa rrsig nsec$/i.test(a.data))) },
    { name: 'nope.sig.lab', type: 'NSEC', what: 'the NSEC of a name that does not exist', check: (r) => assert.ok(r.answer.some((a) => a.type === 'NSEC' && /\srrsig nsec type128$/i.test(a.data))) },
  ];
  for (const kind of ['unbound', 'kresd', 'named'] as const) {
    const v = await startValidator(kind, dir, dns, zones, anchors);
    try {
      for (const c of cases) {
        const r = await ask(v.port, c.name, c.type);
        assert.equal(r.rcode, 'NOERROR', `${kind}: ${c.what} (${c.name} ${c.type}): ${r.raw}`);
        assert.ok(r.flags.has('ad'), `${kind}: ${c.what} (${c.name} ${c.type}) has AD\n${r.raw}`);
        try {
          c.check(r);
        } catch (e) {
          throw new Error(`${kind}: ${c.what} (${c.name} ${c.type}): ${(e as Error).message}\n${r.raw}`);
        }
      }
      // The child's DS is denied by the parent (sig.lab's key, NS in the bitmap, no SOA): proven, so its data is
      // insecure (no AD), not bogus. Before, the child's own apex NSEC answered the DS query: SERVFAIL for both.
      const subDs = await ask(v.port, 'sub.sig.lab', 'DS');
      assert.ok(subDs.rcode === 'NOERROR' && subDs.flags.has('ad') && subDs.answer.length === 0, `${kind}: sub.sig.lab DS\n${subDs.raw}`);
      const subA = await ask(v.port, 'www.sub.sig.lab', 'A');
      assert.ok(subA.rcode === 'NOERROR' && !subA.flags.has('ad') && subA.answer.some((a) => a.type === 'A' && a.data === '198.51.100.12'), `${kind}: www.sub.sig.lab A\n${subA.raw}`);
      // The retrieval after a DA store: the resolver applies the cached, validated DNAME.
      const got = await ask(v.port, '198.51.100.9.da.box.echo.lab', 'A');
      assert.ok(got.flags.has('ad'));
      // Validation really happens: the zone whose signatures do not match its anchor fails.
      const bad = await ask(v.port, 'www.bad.lab', 'A');
      assert.equal(bad.rcode, 'SERVFAIL', `${kind}: bad.lab must not validate\n${bad.raw}`);
      // obo.requireDnssec: the signed verification record counts, the unsigned one only without it.
      const obo = (requireDnssec: boolean) =>
        new OboVerifier({ stub: () => new Stub({ servers: [{ host: '127.0.0.1', port: v.port }], retries: 1, timeoutMs: 3000 }), trusted: () => [], cacheMs: () => 0, timeoutMs: () => 10000, requireDnssec: () => requireDnssec });
      const resolver = parseAddress('127.0.0.1')!;
      assert.deepEqual(await obo(true).verify(resolver, parseCidr('198.51.100.0/24')!), { ok: true, how: 'verified' }, `${kind}: signed OBO record`);
      const insecure = await obo(true).verify(resolver, parseCidr('203.0.113.0/24')!);
      assert.ok(!insecure.ok && /not validated/.test(insecure.reason), `${kind}: ${JSON.stringify(insecure)}`);
      assert.deepEqual(await obo(false).verify(resolver, parseCidr('203.0.113.0/24')!), { ok: true, how: 'verified' });
      if (kind === 'unbound') {
        // fluxdns's own validation (obo.trustAnchors), asking fluxdns directly: no validating resolver in between.
        const own = (anchor: string) =>
          new OboVerifier({ stub: () => new Stub({ servers: [{ host: '127.0.0.1', port: dns }], retries: 1, timeoutMs: 3000 }), trusted: () => [], cacheMs: () => 0, timeoutMs: () => 10000, requireDnssec: () => true, trustAnchors: () => [parseTrustAnchor(anchor)] });
        const line = `100.51.198.in-addr.arpa. DNSKEY 257 3 13 ${b64(revKey)}`;
        assert.deepEqual(await own(line).verify(resolver, parseCidr('198.51.100.0/24')!), { ok: true, how: 'verified' });
        const wrong = await own(`100.51.198.in-addr.arpa. DNSKEY 257 3 13 ${b64(generateKey('100.51.198.in-addr.arpa', 13, true))}`).verify(resolver, parseCidr('198.51.100.0/24')!);
        assert.ok(!wrong.ok && /not signed by its trust anchor/.test(wrong.reason), JSON.stringify(wrong));
        const plain = await own(line).verify(resolver, parseCidr('203.0.113.0/24')!);
        assert.ok(!plain.ok && /unsigned/.test(plain.reason), JSON.stringify(plain));
      }
    } finally {
      await v.proc.stop();
    }
  }

  // delv, with each anchor as a trust-anchors clause: "fully validated" for answers and denials alike.
  const anchorFile = join(dir, 'anchors.conf');
  writeFileSync(anchorFile, `trust-anchors {\n${anchors.map((a) => `  "${a.zone}" static-key ${a.key.flags} 3 ${a.key.algorithm} "${b64(a.key)}";`).join('\n')}\n};\n`);
  for (const c of cases.filter((c) => !c.name.includes('.dx.'))) {
    const root = zones.find((z) => c.name.endsWith(z))!;
    const out = await delv(anchorFile, root, dns, c.name, c.type);
    assert.match(out, /fully validated/, `delv ${c.name} ${c.type}\n${out}`);
  }
  const bad = await delv(anchorFile, 'bad.lab', dns, 'www.bad.lab', 'A');
  assert.doesNotMatch(bad, /fully validated/);
  assert.match(bad, /resolution failed|no valid signature|insecurity proof failed|broken trust chain/, bad);
});

test('ECDSA pool answers validate whether their nonce was drawn ahead or the pool was empty (a burst, FLUXDNS_DNSSEC_NONCES=0)', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnssec-nonces-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const key = generateKey('pol.lab', 13, true);
  const keyFile = writeKeyFiles(dir, key).privateFile;
  for (const nonces of ['ahead', 'off'] as const) {
    const dns = await freePort();
    const yaml = `listen: [{ proto: udp, address: "127.0.0.1:${dns}" }, { proto: tcp, address: "127.0.0.1:${dns}" }]
rrl: off
pools:
  - { name: cdn, prefixes: [198.18.0.0/20] }
policies:
  - { name: cdn, match: { qname: "*.pol.lab", qtype: [A] }, action: { pool: cdn, ttl: 30 }, zone: { name: pol.lab, dnssec: { sign: online, keys: [${JSON.stringify(keyFile)}] } } }
`;
    const saved = process.env.FLUXDNS_DNSSEC_NONCES;
    if (nonces === 'off') process.env.FLUXDNS_DNSSEC_NONCES = '0';
    let server;
    try {
      server = await startFluxdns(yaml, dns);
    } finally {
      if (saved === undefined) delete process.env.FLUXDNS_DNSSEC_NONCES;
      else process.env.FLUXDNS_DNSSEC_NONCES = saved;
    }
    try {
      // A burst of 1,500 distinct names, 150 at a time: more signatures than the pool holds (1,024), so the later
      // ones are made inline. Every answer is a fresh address with an RRSIG that verifies over the TTL sent.
      const signatures = new Set<string>();
      for (let b = 0; b < 10; b++) {
        const replies = await Promise.all(
          Array.from({ length: 150 }, (_, i) => udpExchange(encodeMessage(queryMessage(`n${b}-${i}.${nonces}.pol.lab.`, RRType.A, { id: i, edns: 1232, dnssecOk: true })), dns, { timeoutMs: 20000 })),
        );
        for (const [i, reply] of replies.entries()) {
          assert.ok(reply, `${nonces}: n${b}-${i} answered`);
          const m = decodeMessage(reply);
          const a = m.answers.filter((r) => r.type === RRType.A);
          const sig = m.answers.find((r) => r.type === RRType.RRSIG);
          assert.equal(a.length, 1, `${nonces}: n${b}-${i}: ${JSON.stringify(m.answers)}`);
          assert.ok(sig && verifyRRset(a, sig, key.dnskeyRdata), `${nonces}: n${b}-${i}: the RRSIG verifies`);
          assert.equal(parseRrsig((sig.data as OpaqueRdata).raw).originalTtl, a[0]!.ttl);
          signatures.add(Buffer.from(parseRrsig((sig.data as OpaqueRdata).raw).signature.subarray(0, 32)).toString('hex'));
        }
      }
      assert.equal(signatures.size, 1500, `${nonces}: every signature has its own nonce (r differs)`);
      // Through a validating resolver: AD on pool answers asked after the burst.
      const v = await startValidator('unbound', dir, dns, ['pol.lab'], [{ zone: 'pol.lab.', key }]);
      try {
        for (let i = 0; i < 5; i++) {
          const r = await ask(v.port, `v${i}.${nonces}.pol.lab`, 'A');
          assert.equal(r.rcode, 'NOERROR', r.raw);
          assert.ok(r.flags.has('ad'), `${nonces}: v${i} has AD\n${r.raw}`);
          assert.ok(r.answer.some((x) => x.type === 'A' && x.data.startsWith('198.18.')), r.raw);
        }
      } finally {
        await v.proc.stop();
      }
    } finally {
      await server.stop();
    }
  }
});
