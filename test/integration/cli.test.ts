// The command line's conventions, through the real binary: --version, --help on every command and
// ctl subcommand (read from the command table as `fluxdns --help` prints it), suggestions, exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runFluxdns } from '../helpers/servers.js';

const fluxdns = (args: string[]) => runFluxdns(args, 60000);

/** Runs `jobs` at most `n` at a time (the machine is shared). */
async function limited<T>(jobs: (() => Promise<T>)[], n = 4): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < jobs.length; i += n) out.push(...(await Promise.all(jobs.slice(i, i + n).map((j) => j()))));
  return out;
}

test('--version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const r = await fluxdns(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `fluxdns ${version}\n`);
});

test('every command and every ctl subcommand answers --help with its usage, options and an example', async () => {
  const top = await fluxdns(['--help']);
  assert.equal(top.code, 0);
  // "  fluxdns WORDS [ARGS]   summary": the words are the lower-case ones before any argument.
  const commands = top.stdout
    .split('\n')
    .filter((l) => l.startsWith('  fluxdns '))
    .map((l) => l.trim().split(/\s{2,}/)[0]!.split(' ').slice(1).filter((w) => /^[a-z]+$/.test(w)));
  assert.ok(commands.length >= 18, `commands listed: ${commands.length}`);
  for (const c of [['serve'], ['check'], ['zone', 'check'], ['ctl'], ['kv', 'put']]) assert.ok(commands.some((x) => x.join(' ') === c.join(' ')), `${c.join(' ')} is listed`);
  const ctl = await fluxdns(['ctl', '--help']);
  assert.equal(ctl.code, 0);
  const subs = ctl.stdout
    .split('\n')
    .filter((l) => l.startsWith('  fluxdns ctl '))
    .map((l) => l.trim().split(/\s{2,}/)[0]!.split(' ').slice(1).filter((w) => /^[a-z]+$/.test(w)));
  assert.ok(subs.length >= 7, ctl.stdout);
  assert.match(ctl.stdout, /exit codes: 0 done; 1 .*; 2 usage error; 3 no server on the socket/);
  const all = [...commands.filter((c) => c[0] !== 'ctl'), ...subs];
  const results = await limited(all.map((words) => () => fluxdns([...words, '--help'])));
  all.forEach((words, i) => {
    const r = results[i]!;
    const name = words.join(' ');
    assert.equal(r.code, 0, `${name} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^usage: fluxdns ${name}( |\\n)`), name);
    assert.match(r.stdout, /\noptions:\n[\s\S]*-h, --help +show this help\n/, name);
    assert.match(r.stdout, new RegExp(`\\nexample:\\n  fluxdns ${name.split(' ')[0]} `), name);
    // Each option line names a flag and says what it does.
    for (const line of r.stdout.split('options:\n')[1]!.split('\n\n')[0]!.split('\n')) assert.match(line, /^  (-\w, |    )--[a-z-]+( \S+)?( \.\.\.)? {2,}\S/, `${name}: ${line}`);
  });
});

test('unknown commands and options suggest the nearest one and exit 2', async () => {
  const [serv, confg, capsLst, zone, nothing, ctlTypo] = await limited([
    () => fluxdns(['serv']),
    () => fluxdns(['serve', '--confg', 'x.yaml']),
    () => fluxdns(['caps', 'lst']),
    () => fluxdns(['zone']),
    () => fluxdns([]),
    () => fluxdns(['ctl', '--socket', '/nonexistent', 'zone', 'stats']),
  ]);
  assert.equal(serv!.code, 2);
  assert.match(serv!.stderr, /unknown command "serv"; did you mean "fluxdns serve"\?/);
  assert.equal(confg!.code, 2);
  assert.match(confg!.stderr, /unknown option --confg; did you mean --config\?/);
  assert.equal(capsLst!.code, 2);
  assert.match(capsLst!.stderr, /did you mean "fluxdns caps list"\?; caps commands: caps list, caps revoke, /);
  assert.equal(zone!.code, 2);
  assert.match(zone!.stderr, /zone commands: zone check/);
  assert.equal(nothing!.code, 2);
  assert.match(nothing!.stderr, /^fluxdns \S+: a programmable authoritative DNS server\n\nusage:\n/);
  assert.equal(ctlTypo!.code, 2);
  assert.match(ctlTypo!.stderr, /did you mean "fluxdns ctl zone status"\?/);
});

test('check: exit 0 on a good configuration, 1 with the file, key path and reason on a bad one; listeners and certificates are checked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-cli-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'listen:\n  - { proto: udp, address: "127.0.0.1:5399" }\n');
  const bad = join(dir, 'bad.yaml');
  // Two listeners on one TCP socket (tcp and tls), an address this host does not have, and a
  // certificate whose key belongs to another certificate.
  const { makeTestCert } = await import('../helpers/tls.js');
  const one = makeTestCert(mkdtempSync(join(dir, 'a')));
  const two = makeTestCert(mkdtempSync(join(dir, 'b')));
  writeFileSync(
    bad,
    [
      'listen:',
      '  - { proto: tcp, address: "127.0.0.1:5399" }',
      `  - { proto: tls, address: "127.0.0.1:5399", cert: ${JSON.stringify(one.cert)}, key: ${JSON.stringify(two.key)} }`,
      '  - { proto: udp, address: "198.51.100.77:53" }',
      '',
    ].join('\n'),
  );
  const [ok, ko, missing] = await limited([() => fluxdns(['check', '--config', good]), () => fluxdns(['check', '--config', bad]), () => fluxdns(['check', '--config', join(dir, 'none.yaml')])]);
  assert.equal(ok!.code, 0, ok!.stderr);
  assert.match(ok!.stdout, /good\.yaml: OK\n$/);
  assert.equal(ko!.code, 1);
  assert.match(ko!.stderr, /bad\.yaml: listen\[1\]\.address: tls 127\.0\.0\.1:5399 needs the same TCP socket as listen\[0\] \(tcp 127\.0\.0\.1:5399\)/);
  assert.match(ko!.stderr, /bad\.yaml: listen\[2\]\.address: 198\.51\.100\.77 is not an address of this host/);
  assert.match(ko!.stderr, /bad\.yaml: listen\[1\]\.cert: certificate .*cert\.pem \/ key .*key\.pem: .*(key values mismatch|KEY_VALUES_MISMATCH)/i);
  assert.doesNotMatch(ko!.stdout, /OK/);
  assert.equal(missing!.code, 1);
  assert.match(missing!.stderr, /none\.yaml: cannot read/);
});
