#!/usr/bin/env -S node --expose-gc
// fluxdns command line: one file per command, registered in the table below with its flags, help and example.
import { formatHelp, nearest, UsageError, usageLine, wantsHelp, type CommandSpec } from './args.js';
import { ADMIN_FLAGS, CAPS_TRY_FLAGS, runCapsList, runCapsRevoke, runCapsScanners, runCapsTry } from './caps.js';
import { CHECK_FLAGS, runCheck } from './check.js';
import { CTL_FLAGS, ctlOverview, runCtl, runZoneFlush } from './ctl.js';
import { DIRECTORY_FLAGS, runDirectory } from './directory.js';
import { DNSSEC_DS_FLAGS, DNSSEC_KEYGEN_FLAGS, runDnssecDs, runDnssecKeygen } from './dnssec.js';
import { DISCOVER_ANNOUNCE_FLAGS, DISCOVER_FLAGS, runDiscoverAnnounce, runDiscoverBrowse, runDiscoverResolve } from './discover.js';
import { EXPLAIN_FLAGS, runExplain } from './explain.js';
import { GATEWAY_FLAGS, runGateway } from './gateway.js';
import { KV_GET_FLAGS, KV_PUT_FLAGS, runKvGet, runKvPut } from './kv.js';
import { PROBE_FLAGS, runProbe } from './probe.js';
import { runServe, SERVE_FLAGS } from './serve.js';
import { runSimulate, runSimulateGenerate, SIMULATE_FLAGS, SIMULATE_GENERATE_FLAGS } from './simulate.js';
import { runSnoop, SNOOP_FLAGS } from './snoop.js';
import { runZoneCheck, runZonePrint, ZONE_CHECK_FLAGS, ZONE_PRINT_FLAGS } from './zone-check.js';
import { VERSION } from '../version.js';

/**
 * Every command: its words, positional arguments, one-line summary, flags (declared once, in the
 * command's file, and used both to parse and for --help), an example, and its runner. A new
 * command adds one entry; the CLI test runs `--help` on each.
 */
export const COMMANDS: readonly CommandSpec[] = [
  { words: ['serve'], summary: 'serve DNS (no --config: the built-in demo on 127.0.0.1:5353)', flags: SERVE_FLAGS, example: 'fluxdns serve --config /etc/fluxdns/fluxdns.yaml', run: runServe },
  { words: ['check'], summary: 'validate a configuration, its zones, listeners and certificates', flags: CHECK_FLAGS, example: 'fluxdns check --config /etc/fluxdns/fluxdns.yaml', run: runCheck },
  { words: ['ctl'], args: 'COMMAND [ARGS]', summary: 'control a running server over its local control socket (fluxdns ctl --help lists the commands)', flags: CTL_FLAGS, example: 'fluxdns ctl --socket /tmp/fluxdns-demo-5353.ctl status', run: runCtl },
  { words: ['zone', 'check'], args: 'FILE', summary: 'validate one master file (every error, then warnings)', flags: ZONE_CHECK_FLAGS, example: 'fluxdns zone check demo/example.lab.zone --origin example.lab', run: runZoneCheck },
  { words: ['zone', 'print'], args: 'FILE', summary: 'the zone in canonical form: one record a line, absolute names, sorted', flags: ZONE_PRINT_FLAGS, example: 'fluxdns zone print demo/example.lab.zone --origin example.lab', run: runZonePrint },
  { words: ['zone', 'flush'], args: 'ZONE', summary: "write ZONE as the running server serves it (dynamic updates included) to its file, over the control socket; comments and $INCLUDE are not kept; exit 1 refused, 3 no server", flags: CTL_FLAGS, example: 'fluxdns zone flush example.lab --socket /tmp/fluxdns-demo-5353.ctl', run: runZoneFlush },
  { words: ['dnssec', 'keygen'], args: 'ZONE', summary: 'make a DNSSEC signing key (BIND key files, as dnssec-keygen writes them)', flags: DNSSEC_KEYGEN_FLAGS, example: 'fluxdns dnssec keygen example.lab --ksk --algorithm ed25519 --dir /etc/fluxdns/keys', run: runDnssecKeygen },
  { words: ['dnssec', 'ds'], args: 'ZONE', summary: "the DS records (SHA-256) the parent zone publishes for ZONE's key-signing keys", flags: DNSSEC_DS_FLAGS, example: 'fluxdns dnssec ds example.lab --dir /etc/fluxdns/keys', run: runDnssecDs },
  { words: ['explain'], summary: 'which policy matches a query, and the answer', flags: EXPLAIN_FLAGS, example: 'fluxdns explain --qname www.cdn.lab --qtype AAAA --client 127.0.0.1', run: runExplain },
  { words: ['gateway'], summary: 'run only the data plane (the gateway key): prefix listeners and relays', flags: GATEWAY_FLAGS, example: 'fluxdns gateway --config gateway.yaml', run: runGateway },
  { words: ['caps', 'list'], summary: 'leases granted by DNS answers (capabilities), from the admin API', flags: ADMIN_FLAGS, example: 'fluxdns caps list --admin 127.0.0.1:5383 --token demo-admin-token-not-secret', run: runCapsList },
  { words: ['caps', 'revoke'], args: 'ADDRESS|RESOLVER', summary: 'end leases now and cut their flows', flags: ADMIN_FLAGS, example: 'fluxdns caps revoke 127.0.0.1 --admin 127.0.0.1:5383 --token demo-admin-token-not-secret', run: runCapsRevoke },
  { words: ['caps', 'scanners'], summary: 'sources blocklisted as scanners (seed 000 §4), from the admin API', flags: ADMIN_FLAGS, example: 'fluxdns caps scanners --admin 127.0.0.1:5383 --token demo-admin-token-not-secret', run: runCapsScanners },
  { words: ['caps', 'try'], args: 'NAME', summary: 'ask for a service, connect to the granted address, print the reply', flags: CAPS_TRY_FLAGS, example: 'fluxdns caps try app.example.lab --resolver 127.0.0.1:5353 --port 5382', run: runCapsTry },
  { words: ['snoop'], summary: 'TTL cache snooping: was a name used through this resolver?', flags: SNOOP_FLAGS, example: 'fluxdns snoop --resolver 127.0.0.1:53 --name www.example.lab', run: runSnoop },
  { words: ['kv', 'put'], args: 'KEY VALUE', summary: 'store through a resolver (Stateless DNS); exit 1 when the resolver did not store it', flags: KV_PUT_FLAGS, example: 'fluxdns kv put color blue --resolver 127.0.0.1:53 --zone echo.lab --if-absent', run: runKvPut },
  { words: ['kv', 'get'], args: 'KEY', summary: 'read a stored value back', flags: KV_GET_FLAGS, example: 'fluxdns kv get color --resolver 127.0.0.1:53 --zone echo.lab', run: runKvGet },
  { words: ['discover', 'announce'], args: 'INSTANCE', summary: 'announce a service instance', flags: DISCOVER_ANNOUNCE_FLAGS, example: 'fluxdns discover announce printer1 --service _ipp._tcp --port 631 --resolver 127.0.0.1:53 --zone echo.lab', run: runDiscoverAnnounce },
  { words: ['discover', 'resolve'], args: 'INSTANCE', summary: 'SRV, address and TXT of an instance', flags: DISCOVER_FLAGS, example: 'fluxdns discover resolve printer1 --service _ipp._tcp --resolver 127.0.0.1:53 --zone echo.lab', run: runDiscoverResolve },
  { words: ['discover', 'browse'], args: '_t._tcp', summary: "list instances from the service's directory", flags: DISCOVER_FLAGS, example: 'fluxdns discover browse _ipp._tcp --resolver 127.0.0.1:53 --zone echo.lab', run: runDiscoverBrowse },
  { words: ['directory'], summary: 'public-discovery directory (NR, RFC 2136 UPDATE)', flags: DIRECTORY_FLAGS, example: 'fluxdns directory --service _ipp._tcp --listen 127.0.0.2 --resolver 127.0.0.1:53 --zone echo.lab', run: runDirectory },
  { words: ['probe'], summary: 'which Stateless DNS methods a resolver supports', flags: PROBE_FLAGS, example: 'fluxdns probe --resolver 127.0.0.1:53 --zone echo.lab', run: runProbe },
  { words: ['simulate'], summary: 'pool sizing: translation table size over time (seed 000 §3.3)', flags: SIMULATE_FLAGS, example: 'fluxdns simulate --log /tmp/fluxdns-demo-connections.csv --ttl 20 --pool-size 560', run: runSimulate },
  { words: ['simulate', 'generate'], summary: 'write a synthetic connection log', flags: SIMULATE_GENERATE_FLAGS, example: 'fluxdns simulate generate --out /tmp/fluxdns-demo-connections.csv --seconds 600 --seed 1', run: runSimulateGenerate },
];

function overview(): string {
  const rows = COMMANDS.map((c) => [usageLine(c).replace(' [options]', ''), c.summary]);
  const w = Math.max(...rows.map((r) => r[0]!.length));
  return [
    `fluxdns ${VERSION}: a programmable authoritative DNS server`,
    '',
    'usage:',
    ...rows.map(([u, s]) => `  ${u!.padEnd(w)}  ${s}`),
    '',
    'fluxdns COMMAND --help shows a command\'s options and an example; fluxdns --version its version.',
    '',
  ].join('\n');
}

/** The command `argv` selects: the longest matching word sequence ("simulate generate" before "simulate"). */
export function findCommand(argv: readonly string[]): CommandSpec | undefined {
  return COMMANDS.filter((c) => c.words.every((w, i) => argv[i] === w)).sort((a, b) => b.words.length - a.words.length)[0];
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
    process.stdout.write(`fluxdns ${VERSION}\n`);
    return 0;
  }
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0]!)) {
    (argv.length === 0 ? process.stderr : process.stdout).write(overview());
    return argv.length === 0 ? 2 : 0;
  }
  const match = findCommand(argv);
  if (!match) {
    // A group word alone ("caps", "zone"): list its commands; a typo: the nearest command.
    const group = COMMANDS.filter((c) => c.words.length > 1 && c.words[0] === argv[0]);
    const given = argv.slice(0, 2).filter((a) => !a.startsWith('-')).join(' ');
    const near = group.length > 0 ? undefined : nearest(argv[0]!, [...new Set(COMMANDS.map((c) => c.words[0]!))]);
    const sub = group.length > 0 && argv[1] !== undefined && !argv[1].startsWith('-') ? nearest(argv[1], group.map((c) => c.words[1]!)) : undefined;
    const hint =
      group.length > 0
        ? `${sub ? `; did you mean "fluxdns ${argv[0]} ${sub}"?` : ''}; ${argv[0]} commands: ${group.map((c) => c.words.join(' ')).join(', ')}`
        : near
          ? `; did you mean "fluxdns ${near}"?`
          : '';
    if (group.length > 0 && wantsHelp(argv)) {
      process.stdout.write(group.map((c) => `  ${usageLine(c).padEnd(40)}  ${c.summary}`).join('\n') + '\n');
      return 0;
    }
    process.stderr.write(`fluxdns: unknown command ${JSON.stringify(given)}${hint} (fluxdns --help lists the commands)\n`);
    return 2;
  }
  const rest = argv.slice(match.words.length);
  // ctl has subcommands of its own and answers --help for each.
  if (wantsHelp(rest) && match.run !== runCtl) {
    process.stdout.write(formatHelp(match));
    return 0;
  }
  if (match.run === runCtl && rest.length === 0) {
    process.stderr.write(ctlOverview());
    return 2;
  }
  return match.run(rest);
}

// SIGUSR1 would open Node's inspector (a debugger anyone on the host could attach to) unless a
// handler is installed; serve's handler reopens the log file, every other command ignores it.
process.on('SIGUSR1', () => {});

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fluxdns: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
