// A signed fake DNS tree on loopback for DNSSEC validation tests: root → TLD (NSD, signed with dnssec-signzone)
// → zones under test (fluxdns), with unbound, kresd and named validating from the fake root's trust anchor.
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type Proc } from './proc.js';
import { freePort } from './ports.js';
import { freeLoopback } from './resolvers.js';
import { nsdConfig, fluxdnsMain, repoRoot } from './servers.js';
import { parseDig, type DigResult } from './dig.js';
import { Stub } from '../../src/client/stub.js';
import { RRType } from '../../src/wire/types.js';

/** How a zone is signed before it is served: BIND's dnssec-signzone (NSEC, NSEC3, NSEC3 opt-out), ldns-signzone, or not at all. */
export type SignMode = 'nsec' | 'nsec3' | 'nsec3-optout' | 'ldns-nsec' | 'ldns-nsec3' | 'ldns-nsec3-optout' | 'none';

export interface SignedZone {
  name: string;
  /** The signed zone file (or the unsigned one for 'none'). */
  file: string;
  /** DS lines for the parent ("NAME IN DS …"), empty when unsigned. */
  ds: string[];
  /** Key basenames (DIR/K<zone>+013+<tag>) as dnssec-keygen wrote them: KSK first. */
  keys: string[];
  /** The KSK's DNSKEY record line ("NAME 3600 IN DNSKEY 257 3 13 …"). */
  dnskey: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** Signing algorithms dnssec-keygen names (8, 13, 15). */
export type KeyAlgorithm = 'RSASHA256' | 'ECDSAP256SHA256' | 'ED25519';

/** A KSK and a ZSK for `zone` (ECDSAP256SHA256 unless told), made by dnssec-keygen in `dir`. */
export function makeKeys(dir: string, zone: string, algorithm: KeyAlgorithm = 'ECDSAP256SHA256'): { ksk: string; zsk: string } {
  const size = algorithm === 'RSASHA256' ? ['-b', '2048'] : [];
  const ksk = run('dnssec-keygen', ['-q', '-K', dir, '-a', algorithm, ...size, '-f', 'KSK', zone], dir).trim();
  const zsk = run('dnssec-keygen', ['-q', '-K', dir, '-a', algorithm, ...size, zone], dir).trim();
  return { ksk: join(dir, ksk), zsk: join(dir, zsk) };
}

/** How signZone signs besides its mode: NSEC3 salt (hex) and iterations, the algorithm, a ZSK rollover in progress. */
export interface SignOptions {
  salt?: string;
  iterations?: number;
  algorithm?: KeyAlgorithm;
  /**
   * A second ZSK, as in a rollover: 'prepublish' — in the DNSKEY RRset, not signing yet (RFC 6781 §4.1.1.1; dnssec-signzone
   * modes only, the key made with a future activation date); 'double' — both ZSKs sign every RRset (§4.1.1.2).
   */
  secondZsk?: 'prepublish' | 'double';
}

/**
 * Writes `text` as the zone `name` into `dir` and signs it. Extra options: NSEC3 salt (hex) and
 * iterations (RFC 9276 says none and 0; other values exercise the hash).
 */
export function signZone(dir: string, name: string, text: string, mode: SignMode, o: SignOptions = {}): SignedZone {
  const base = join(dir, `${name === '.' ? 'root' : name.slice(0, -1)}.zone`);
  writeFileSync(base, `$ORIGIN ${name}\n${text}\n`);
  if (mode === 'none') return { name, file: base, ds: [], keys: [], dnskey: '' };
  const algorithm = o.algorithm ?? 'ECDSAP256SHA256';
  const { ksk, zsk } = makeKeys(dir, name, algorithm);
  const zsks = [zsk];
  if (o.secondZsk) {
    if (o.secondZsk === 'prepublish' && mode.startsWith('ldns')) throw new Error('ldns-signzone signs with every key it is given: no pre-published ZSK');
    const size = algorithm === 'RSASHA256' ? ['-b', '2048'] : [];
    const later = o.secondZsk === 'prepublish' ? ['-P', 'now', '-A', '+30d'] : [];
    zsks.push(join(dir, run('dnssec-keygen', ['-q', '-K', dir, '-a', algorithm, ...size, ...later, name], dir).trim()));
  }
  const out = `${base}.signed`;
  const salt = o.salt ?? '-';
  const iterations = String(o.iterations ?? 0);
  if (mode.startsWith('ldns')) {
    const args = ['-o', name, '-f', out];
    if (mode !== 'ldns-nsec') args.push('-n', '-t', iterations, ...(salt === '-' ? [] : ['-s', salt]));
    if (mode === 'ldns-nsec3-optout') args.push('-p');
    run('ldns-signzone', [...args, base, ksk, ...zsks], dir);
  } else {
    // -S: smart signing adds the DNSKEYs of the keys found in dir (the two just made).
    const args = ['-o', name, '-K', dir, '-S', '-f', out, '-N', 'keep', '-x'];
    if (mode !== 'nsec') args.push('-3', salt, '-H', iterations);
    if (mode === 'nsec3-optout') args.push('-A');
    run('dnssec-signzone', [...args, base], dir);
  }
  const ds = run('dnssec-dsfromkey', ['-2', `${ksk}.key`], dir).trim().split('\n');
  const dnskey = readFileSync(`${ksk}.key`, 'utf8').split('\n').find((l) => /\sDNSKEY\s/.test(l) && !l.startsWith(';'))!;
  return { name, file: out, ds, keys: [ksk, ...zsks], dnskey };
}

/** NSD serving `zones` on ADDRESS:53 (a fake root or TLD), ready once it answers the first zone's SOA. */
export async function startNsdAt(address: string, zones: { name: string; file: string }[]): Promise<{ proc: Proc; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-nsd-chain-'));
  writeFileSync(join(dir, 'nsd.conf'), nsdConfig(dir, { address, port: 53, zones }));
  const proc = startProcess('nsd', ['-d', '-c', join(dir, 'nsd.conf'), '-P', join(dir, 'nsd.pid')], { name: `nsd@${address}`, cwd: dir });
  const stop = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  await waitAuthoritative(proc, address, zones[0]!.name, stop);
  return { proc, stop };
}

async function waitAuthoritative(proc: Proc, address: string, zone: string, stop: () => Promise<void>, timeoutMs = 90000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running) {
      await stop();
      throw new Error(`${proc.name} exited during start-up\n${proc.describe()}`);
    }
    try {
      const r = await new Stub({ servers: [{ host: address, port: 53 }], recursion: false, timeoutMs: 500, retries: 0 }).query(zone, RRType.SOA);
      if (r.message.flags.aa) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${proc.name} did not answer SOA ${zone} on ${address}:53\n${proc.describe()}`);
    }
    await sleep(100);
  }
}

export type ValidatorKind = 'unbound' | 'kresd' | 'named';

export interface ValidatingResolver {
  kind: ValidatorKind;
  port: number;
  proc: Proc;
  /** Asks the resolver (RD, DO, AD) and parses dig's output. */
  query(name: string, type: string): Promise<DigResult>;
  stop(): Promise<void>;
}

export interface ChainZone {
  /** Absolute name of a child of the TLD, served by fluxdns. */
  name: string;
  /** Zone text relative to the zone ($ORIGIN is set). */
  text: string;
  sign: SignMode;
  salt?: string;
  iterations?: number;
  algorithm?: KeyAlgorithm;
  secondZsk?: SignOptions['secondZsk'];
  /** Edits the signed text before fluxdns loads it (to break a signature, for example). */
  tamper?: (signed: string) => string;
}

export interface DnssecChainOptions {
  /** The TLD under the fake root (not special-use: kresd and unbound answer those themselves). Default "lab.". */
  tld?: string;
  /** Zones served by fluxdns, each a child of the TLD. */
  zones: ChainZone[];
  /**
   * Zones served by the TLD's NSD as well: children of fluxdns's zones (signed and unsigned delegation
   * targets). The parent zone gets their NS, glue and DS lines added before it is signed.
   */
  tldServes?: ChainZone[];
  /**
   * The fluxdns configuration, given the listen address and the zones (signed files and key basenames).
   * Default: the zones as plain file zones.
   */
  fluxdnsConfig?: (listen: string, zones: SignedZone[]) => string;
}

export interface DnssecChain {
  dir: string;
  rootAddress: string;
  tldAddress: string;
  fluxAddress: string;
  /** The fake root's KSK as a DNSKEY line: the trust anchor. */
  trustAnchor: string;
  /** The signed zones fluxdns serves, by name. */
  zones: Map<string, SignedZone>;
  /** The zones the TLD's NSD serves besides the TLD. */
  tldZones: Map<string, SignedZone>;
  fluxdns: Proc;
  /** A validating resolver iterating from the fake root with its trust anchor. */
  resolver(kind: ValidatorKind, o?: ValidatorOptions): Promise<ValidatingResolver>;
  /** delv through `resolverPort` with the fake root's trust anchor: its output and whether it says "fully validated". */
  delv(resolverPort: number, name: string, type: string): Promise<{ fullyValidated: boolean; text: string }>;
  stop(): Promise<void>;
}

function defaultFluxConfig(listen: string, zones: SignedZone[]): string {
  return [
    'listen:',
    `  - { proto: udp, address: "${listen}:53" }`,
    `  - { proto: tcp, address: "${listen}:53" }`,
    'rrl: off',
    'zones:',
    ...zones.map((z) => `  - { name: ${JSON.stringify(z.name)}, file: ${JSON.stringify(z.file)} }`),
    '',
  ].join('\n');
}

/** The NS and glue lines that delegate `zone` to `address`, and its DS lines. */
function delegation(zone: string, address: string, ds: string[]): string[] {
  return [`${zone} 3600 IN NS ns.${zone}`, `ns.${zone} 3600 IN A ${address}`, ...ds];
}

export async function startDnssecChain(o: DnssecChainOptions): Promise<DnssecChain> {
  const tld = o.tld ?? 'lab.';
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-dnssec-chain-'));
  const stops: (() => Promise<void>)[] = [];
  const stopAllHere = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const rootAddress = await freeLoopback();
    const tldAddress = await freeLoopback();
    const fluxAddress = await freeLoopback();

    // Bottom up: the TLD's extra zones (delegated from a fluxdns zone, with their DS added to it), then
    // the zones under test (their DS go into the TLD), then the TLD and the root.
    const tldZones = new Map<string, SignedZone>();
    for (const z of o.tldServes ?? []) tldZones.set(z.name, signZone(dir, z.name, z.text, z.sign, z));
    const zones = new Map<string, SignedZone>();
    for (const z of o.zones) {
      const children = [...tldZones.values()].filter((c) => c.name.endsWith('.' + z.name));
      const text = [z.text, ...children.flatMap((c) => delegation(c.name, tldAddress, c.ds))].join('\n');
      const s = signZone(dir, z.name, text, z.sign, z);
      if (z.tamper) writeFileSync(s.file, z.tamper(readFileSync(s.file, 'utf8')));
      zones.set(z.name, s);
    }

    const tldText = [
      '$TTL 3600',
      `@ SOA ns.${tld} hostmaster.${tld} 1 7200 3600 1209600 300`,
      `@ NS ns.${tld}`,
      `ns.${tld} A ${tldAddress}`,
      ...o.zones.flatMap((z) => delegation(z.name, fluxAddress, zones.get(z.name)!.ds)),
    ].join('\n');
    const tldZone = signZone(dir, tld, tldText, 'nsec');
    const rootText = [
      '$TTL 86400',
      '@ SOA a.root-servers.net. hostmaster.root. 1 1800 900 604800 86400',
      '@ NS a.root-servers.net.',
      `a.root-servers.net. A ${rootAddress}`,
      ...delegation(tld, tldAddress, tldZone.ds),
    ].join('\n');
    const rootZone = signZone(dir, '.', rootText, 'nsec');

    const root = await startNsdAt(rootAddress, [rootZone]);
    stops.push(root.stop);
    const tldNsd = await startNsdAt(tldAddress, [tldZone, ...tldZones.values()]);
    stops.push(tldNsd.stop);

    const confPath = join(dir, 'fluxdns.yaml');
    writeFileSync(confPath, (o.fluxdnsConfig ?? defaultFluxConfig)(fluxAddress, [...zones.values()]));
    const fluxdns = startProcess(process.execPath, ['--import', 'tsx', fluxdnsMain, 'serve', '--config', confPath], { name: `fluxdns@${fluxAddress}`, cwd: repoRoot });
    const stopFlux = async (): Promise<void> => void (await fluxdns.stop());
    stops.push(stopFlux);
    await waitAuthoritative(fluxdns, fluxAddress, o.zones[0]!.name, stopFlux);

    const trustAnchor = rootZone.dnskey;
    const hints = join(dir, 'root.hints');
    writeFileSync(hints, `. 3600000 NS a.root-servers.net.\na.root-servers.net. 3600000 A ${rootAddress}\n`);
    // "NAME [TTL] IN DNSKEY 257 3 13 BASE64…" (the key may be split into several words).
    const words = trustAnchor.trim().split(/\s+/);
    const at = words.indexOf('DNSKEY');
    const anchorKey = [words[at + 1]!, words[at + 2]!, words[at + 3]!, words.slice(at + 4).join('')];
    const delvAnchors = join(dir, 'delv-anchors.conf');
    writeFileSync(delvAnchors, `trust-anchors { . static-key ${anchorKey[0]} ${anchorKey[1]} ${anchorKey[2]} "${anchorKey[3]}"; };\n`);

    const chain: DnssecChain = {
      dir,
      rootAddress,
      tldAddress,
      fluxAddress,
      trustAnchor,
      zones,
      tldZones,
      fluxdns,
      async resolver(kind, vo = {}) {
        const r = await startValidator(kind, dir, hints, trustAnchor, anchorKey, tld, vo);
        stops.push(r.stop);
        return r;
      },
      delv(resolverPort, name, type) {
        return new Promise((resolve) => {
          execFile('delv', ['@127.0.0.1', '-p', String(resolverPort), '-a', delvAnchors, '+root=.', '+nocrypto', name, type], { timeout: 20000 }, (_e, stdout, stderr) => {
            const text = `${stdout}${stderr}`;
            resolve({ fullyValidated: /fully validated/.test(text), text });
          });
        });
      },
      stop: stopAllHere,
    };
    return chain;
  } catch (e) {
    await stopAllHere();
    throw e;
  }
}

/** unbound, kresd or named as a validating resolver on 127.0.0.1:PORT, iterating from the fake root (NOTES.md). */
export interface ValidatorOptions {
  /** false: unbound sends full query names (`qname-minimisation: no`); only unbound is changed. Default: the resolver's own default (on). */
  qnameMinimisation?: boolean;
}

async function startValidator(kind: ValidatorKind, parent: string, hints: string, anchor: string, key: string[], tld: string, vo: ValidatorOptions): Promise<ValidatingResolver> {
  const dir = mkdtempSync(join(parent, `${kind}-`));
  const port = await freePort();
  let cmd: string;
  let args: string[];
  switch (kind) {
    case 'unbound': {
      writeFileSync(join(dir, 'anchor'), `${anchor}\n`);
      const conf = join(dir, 'unbound.conf');
      writeFileSync(
        conf,
        [
          'server:',
          `  interface: 127.0.0.1@${port}`,
          '  do-ip6: no',
          '  username: ""',
          '  chroot: ""',
          `  directory: "${dir}"`,
          `  pidfile: "${join(dir, 'unbound.pid')}"`,
          '  use-syslog: no',
          '  logfile: ""',
          '  do-daemonize: no',
          '  num-threads: 1',
          '  so-reuseport: no',
          `  root-hints: "${hints}"`,
          '  module-config: "validator iterator"',
          `  trust-anchor-file: "${join(dir, 'anchor')}"`,
          '  val-log-level: 2',
          // DNSSEC_CHAIN_VERBOSE=1: unbound logs each validation step (for debugging a failing proof).
          `  verbosity: ${process.env.DNSSEC_CHAIN_VERBOSE ? 4 : 1}`,
          '  do-not-query-localhost: no',
          vo.qnameMinimisation === false ? '  qname-minimisation: no' : '',
          '  access-control: 127.0.0.0/8 allow',
          'remote-control:',
          '  control-enable: no',
          '',
        ].join('\n'),
      );
      cmd = 'unbound';
      args = ['-d', '-c', conf];
      break;
    }
    case 'named': {
      const conf = join(dir, 'named.conf');
      writeFileSync(
        conf,
        [
          'options {',
          `  directory "${dir}";`,
          `  pid-file "${join(dir, 'named.pid')}";`,
          `  session-keyfile "${join(dir, 'session.key')}";`,
          `  managed-keys-directory "${dir}";`,
          `  listen-on port ${port} { 127.0.0.1; };`,
          '  listen-on-v6 { none; };',
          '  recursion yes;',
          '  allow-recursion { 127.0.0.0/8; };',
          '  allow-query { 127.0.0.0/8; };',
          '  dnssec-validation yes;',
          '  notify no;',
          '};',
          `trust-anchors { . static-key ${key[0]} ${key[1]} ${key[2]} "${key[3]}"; };`,
          'controls { };',
          `zone "." { type hint; file "${hints}"; };`,
          '',
        ].join('\n'),
      );
      cmd = 'named';
      args = ['-g', '-n', '1', '-4', '-c', conf];
      break;
    }
    case 'kresd': {
      const conf = join(dir, 'kresd.conf');
      const rootAddress = readFileSync(hints, 'utf8').split('\n')[1]!.split(/\s+/)[3]!;
      writeFileSync(
        conf,
        [
          `net.listen('127.0.0.1', ${port}, { kind = 'dns' })`,
          "trust_anchors.remove('.')",
          `trust_anchors.add('${anchor.replace(/\s+/g, ' ').trim()}')`,
          "for _, m in ipairs({'priming', 'detect_time_skew', 'ta_update', 'ta_signal_query', 'ta_sentinel'}) do pcall(modules.unload, m) end",
          "modules.load('hints > iterate')",
          `hints.root({['a.root-servers.net.'] = '${rootAddress}'})`,
          // kresd ignores glue in 127.0.0.0/8 below the first delegation unless queries may go to local addresses.
          "policy.add(policy.all(policy.FLAGS({'ALLOW_LOCAL'})))",
          'cache.size = 10 * MB',
          process.env.DNSSEC_CHAIN_VERBOSE ? "log_level('debug')" : '',
          '',
        ].join('\n'),
      );
      cmd = 'kresd';
      args = ['-n', '-c', conf, dir];
      break;
    }
  }
  const proc = startProcess(cmd, args, { name: `${kind}:${port}`, cwd: dir });
  const r: ValidatingResolver = {
    kind,
    port,
    proc,
    query: (name, type) => resolverQuery(port, name, type),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Ready once it validates the TLD's SOA (the chain from the trust anchor works).
  const deadline = Date.now() + 60000;
  let last = '';
  for (;;) {
    if (!proc.running) throw new Error(`${kind} exited during start-up\n${proc.describe()}`);
    try {
      const res = await r.query(tld, 'SOA');
      if (res.rcode === 'NOERROR' && res.flags.has('ad')) return r;
      last = res.raw;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      await r.stop();
      throw new Error(`${kind} on port ${port} did not validate ${tld} SOA\nlast: ${last}\n${proc.describe()}`);
    }
    await sleep(200);
  }
}

function resolverQuery(port: number, name: string, type: string): Promise<DigResult> {
  const args = ['@127.0.0.1', '-p', String(port), '+rec', '+dnssec', '+adflag', '+time=5', '+tries=1', '+nocookie', '-t', type, '-q', name];
  return new Promise((resolve, reject) => {
    execFile('dig', args, { timeout: 15000 }, (error, stdout) => {
      const parsed = parseDig(stdout);
      if (parsed.rcode === '') reject(new Error(`dig ${args.join(' ')}: no response${error ? ` (${error.message})` : ''}\n${stdout}`));
      else resolve(parsed);
    });
  });
}

/** Key files (basenames without .key/.private) dnssec-keygen made for `zone` in `dir`. */
export function keyFilesFor(dir: string, zone: string): string[] {
  const prefix = `K${zone === '.' ? '.' : zone}+`;
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.key'))
    .map((f) => join(dir, f.slice(0, -4)));
}
