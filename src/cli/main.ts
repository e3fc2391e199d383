#!/usr/bin/env -S node --expose-gc
// fluxdns command line: one file per command, registered in the table below with its flags, help and example.
import { formatHelp, nearest, UsageError, usageLine, wantsHelp, type CommandSpec } from './args.js';
import { VERSION } from '../version.js';

/** What a command's own file provides: its flags (declared once there, used both to parse and for --help) and its runner. */
type CommandCode = Pick<CommandSpec, 'flags' | 'run'>;

/** A command as the table lists it; `load` imports its file. */
interface CommandEntry extends Omit<CommandSpec, 'flags' | 'run'> {
  load: () => Promise<CommandCode>;
}

/**
 * Every command: its words, positional arguments, one-line summary, an example, and where its flags
 * and runner are. A new command adds one entry; the CLI test runs `--help` on each. Each file is
 * imported only when its command runs: `serve` alone loads ≈ 300 modules, which every `fluxdns ctl …`
 * or `kv get …` paid for before (≈ 0.7 s of CPU per command through tsx).
 */
export const COMMANDS: readonly CommandEntry[] = [
  { words: ['serve'], summary: 'serve DNS (no --config: the built-in demo on 127.0.0.1:5353)', example: 'fluxdns serve --config /etc/fluxdns/fluxdns.yaml', load: async () => { const m = await import('./serve.js'); return { flags: m.SERVE_FLAGS, run: m.runServe }; } },
  { words: ['check'], summary: 'validate a configuration, its zones, listeners and certificates', example: 'fluxdns check --config /etc/fluxdns/fluxdns.yaml', load: async () => { const m = await import('./check.js'); return { flags: m.CHECK_FLAGS, run: m.runCheck }; } },
  { words: ['ctl'], args: 'COMMAND [ARGS]', summary: 'control a running server over its local control socket (fluxdns ctl --help lists the commands)', example: 'fluxdns ctl --socket /tmp/fluxdns-demo-5353.ctl status', load: async () => { const m = await import('./ctl.js'); return { flags: m.CTL_FLAGS, run: m.runCtl }; } },
  { words: ['zone', 'check'], args: 'FILE', summary: 'validate one master file (every error, then warnings)', example: 'fluxdns zone check demo/example.lab.zone --origin example.lab', load: async () => { const m = await import('./zone-check.js'); return { flags: m.ZONE_CHECK_FLAGS, run: m.runZoneCheck }; } },
  { words: ['zone', 'print'], args: 'FILE', summary: 'the zone in canonical form: one record a line, absolute names, sorted', example: 'fluxdns zone print demo/example.lab.zone --origin example.lab', load: async () => { const m = await import('./zone-check.js'); return { flags: m.ZONE_PRINT_FLAGS, run: m.runZonePrint }; } },
  { words: ['zone', 'flush'], args: 'ZONE', summary: "write ZONE as the running server serves it (dynamic updates included) to its file, over the control socket; comments and $INCLUDE are not kept; exit 1 refused, 3 no server", example: 'fluxdns zone flush example.lab --socket /tmp/fluxdns-demo-5353.ctl', load: async () => { const m = await import('./ctl.js'); return { flags: m.CTL_FLAGS, run: m.runZoneFlush }; } },
  { words: ['dnssec', 'keygen'], args: 'ZONE', summary: 'make a DNSSEC signing key (BIND key files, as dnssec-keygen writes them)', example: 'fluxdns dnssec keygen example.lab --ksk --algorithm ed25519 --dir /etc/fluxdns/keys', load: async () => { const m = await import('./dnssec.js'); return { flags: m.DNSSEC_KEYGEN_FLAGS, run: m.runDnssecKeygen }; } },
  { words: ['dnssec', 'ds'], args: 'ZONE', summary: "the DS records (SHA-256) the parent zone publishes for ZONE's key-signing keys", example: 'fluxdns dnssec ds example.lab --dir /etc/fluxdns/keys', load: async () => { const m = await import('./dnssec.js'); return { flags: m.DNSSEC_DS_FLAGS, run: m.runDnssecDs }; } },
  { words: ['explain'], summary: 'which policy matches a query, and the answer', example: 'fluxdns explain --qname www.cdn.lab --qtype AAAA --client 127.0.0.1', load: async () => { const m = await import('./explain.js'); return { flags: m.EXPLAIN_FLAGS, run: m.runExplain }; } },
  { words: ['gateway'], summary: 'run only the data plane (the gateway key): prefix listeners and relays', example: 'fluxdns gateway --config gateway.yaml', load: async () => { const m = await import('./gateway.js'); return { flags: m.GATEWAY_FLAGS, run: m.runGateway }; } },
  { words: ['caps', 'list'], summary: 'leases granted by DNS answers (capabilities), from the admin API', example: 'fluxdns caps list --admin 127.0.0.1:5383 --token demo-admin-token-not-secret', load: async () => { const m = await import('./caps.js'); return { flags: m.ADMIN_FLAGS, run: m.runCapsList }; } },
  { words: ['caps', 'revoke'], args: 'ADDRESS|RESOLVER', summary: 'end leases now and cut their flows', example: 'fluxdns caps revoke 127.0.0.1 --admin 127.0.0.1:5383 --token demo-admin-token-not-secret', load: async () => { const m = await import('./caps.js'); return { flags: m.ADMIN_FLAGS, run: m.runCapsRevoke }; } },
  { words: ['caps', 'scanners'], summary: 'sources blocklisted as scanners (seed 000 §4), from the admin API', example: 'fluxdns caps scanners --admin 127.0.0.1:5383 --token demo-admin-token-not-secret', load: async () => { const m = await import('./caps.js'); return { flags: m.ADMIN_FLAGS, run: m.runCapsScanners }; } },
  { words: ['caps', 'try'], args: 'NAME', summary: 'ask for a service, connect to the granted address, print the reply', example: 'fluxdns caps try app.example.lab --resolver 127.0.0.1:5353 --port 5382', load: async () => { const m = await import('./caps.js'); return { flags: m.CAPS_TRY_FLAGS, run: m.runCapsTry }; } },
  { words: ['snoop'], summary: 'TTL cache snooping: was a name used through this resolver?', example: 'fluxdns snoop --resolver 127.0.0.1:53 --name www.example.lab', load: async () => { const m = await import('./snoop.js'); return { flags: m.SNOOP_FLAGS, run: m.runSnoop }; } },
  { words: ['kv', 'put'], args: 'KEY VALUE', summary: 'store through a resolver (Stateless DNS); exit 1 when the resolver did not store it', example: 'fluxdns kv put color blue --resolver 127.0.0.1:53 --zone echo.lab --if-absent', load: async () => { const m = await import('./kv.js'); return { flags: m.KV_PUT_FLAGS, run: m.runKvPut }; } },
  { words: ['kv', 'get'], args: 'KEY', summary: 'read a stored value back', example: 'fluxdns kv get color --resolver 127.0.0.1:53 --zone echo.lab', load: async () => { const m = await import('./kv.js'); return { flags: m.KV_GET_FLAGS, run: m.runKvGet }; } },
  { words: ['discover', 'announce'], args: 'INSTANCE', summary: 'announce a service instance', example: 'fluxdns discover announce printer1 --service _ipp._tcp --port 631 --resolver 127.0.0.1:53 --zone echo.lab', load: async () => { const m = await import('./discover.js'); return { flags: m.DISCOVER_ANNOUNCE_FLAGS, run: m.runDiscoverAnnounce }; } },
  { words: ['discover', 'resolve'], args: 'INSTANCE', summary: 'SRV, address and TXT of an instance', example: 'fluxdns discover resolve printer1 --service _ipp._tcp --resolver 127.0.0.1:53 --zone echo.lab', load: async () => { const m = await import('./discover.js'); return { flags: m.DISCOVER_FLAGS, run: m.runDiscoverResolve }; } },
  { words: ['discover', 'browse'], args: '_t._tcp', summary: "list instances from the service's directory", example: 'fluxdns discover browse _ipp._tcp --resolver 127.0.0.1:53 --zone echo.lab', load: async () => { const m = await import('./discover.js'); return { flags: m.DISCOVER_FLAGS, run: m.runDiscoverBrowse }; } },
  { words: ['directory'], summary: 'public-discovery directory (NR, RFC 2136 UPDATE)', example: 'fluxdns directory --service _ipp._tcp --listen 127.0.0.2 --resolver 127.0.0.1:53 --zone echo.lab', load: async () => { const m = await import('./directory.js'); return { flags: m.DIRECTORY_FLAGS, run: m.runDirectory }; } },
  { words: ['probe'], summary: 'which Stateless DNS methods a resolver supports', example: 'fluxdns probe --resolver 127.0.0.1:53 --zone echo.lab', load: async () => { const m = await import('./probe.js'); return { flags: m.PROBE_FLAGS, run: m.runProbe }; } },
  { words: ['simulate'], summary: 'pool sizing: translation table size over time (seed 000 §3.3)', example: 'fluxdns simulate --log /tmp/fluxdns-demo-connections.csv --ttl 20 --pool-size 560', load: async () => { const m = await import('./simulate.js'); return { flags: m.SIMULATE_FLAGS, run: m.runSimulate }; } },
  { words: ['simulate', 'generate'], summary: 'write a synthetic connection log', example: 'fluxdns simulate generate --out /tmp/fluxdns-demo-connections.csv --seconds 600 --seed 1', load: async () => { const m = await import('./simulate.js'); return { flags: m.SIMULATE_GENERATE_FLAGS, run: m.runSimulateGenerate }; } },
];

function overview(): string {
  // Without its flags the usage line has no " [options]", as this overview wants.
  const rows = COMMANDS.map((c) => [usageLine({ ...c, flags: {} }), c.summary]);
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
export function findCommand(argv: readonly string[]): CommandEntry | undefined {
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
      const flags = await Promise.all(group.map(async (c) => (await c.load()).flags));
      process.stdout.write(group.map((c, i) => `  ${usageLine({ ...c, flags: flags[i]! }).padEnd(40)}  ${c.summary}`).join('\n') + '\n');
      return 0;
    }
    process.stderr.write(`fluxdns: unknown command ${JSON.stringify(given)}${hint} (fluxdns --help lists the commands)\n`);
    return 2;
  }
  const rest = argv.slice(match.words.length);
  const spec: CommandSpec = { ...match, ...(await match.load()) };
  const isCtl = match.words.length === 1 && match.words[0] === 'ctl';
  // ctl has subcommands of its own and answers --help for each.
  if (wantsHelp(rest) && !isCtl) {
    process.stdout.write(formatHelp(spec));
    return 0;
  }
  if (isCtl && rest.length === 0) {
    const { ctlOverview } = await import('./ctl.js');
    process.stderr.write(ctlOverview());
    return 2;
  }
  return spec.run(rest);
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
