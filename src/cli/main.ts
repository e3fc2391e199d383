#!/usr/bin/env node
// fluxdns command line: one file per command, registered in the table below.
import { UsageError } from './args.js';
import { runCapsList, runCapsRevoke, runCapsScanners, runCapsTry } from './caps.js';
import { runCheck } from './check.js';
import { runDirectory } from './directory.js';
import { runDiscoverAnnounce, runDiscoverBrowse, runDiscoverResolve } from './discover.js';
import { runExplain } from './explain.js';
import { runGateway } from './gateway.js';
import { runKvGet, runKvPut } from './kv.js';
import { runProbe } from './probe.js';
import { runServe } from './serve.js';
import { runSimulate, runSimulateGenerate } from './simulate.js';
import { runSnoop } from './snoop.js';
import { runZoneCheck, runZonePrint } from './zone-check.js';

type Command = (args: string[]) => number | Promise<number>;

/** Each command: its words, a usage line, and its runner (a return of -1 means "keep running"). */
const COMMANDS: { words: string[]; usage: string; run: Command }[] = [
  { words: ['serve'], usage: 'serve [--config FILE] [--port N]   serve DNS (no --config: the built-in demo on 127.0.0.1:5353)', run: runServe },
  { words: ['caps', 'list'], usage: 'caps list [--admin IP:PORT --token T | --config FILE] [--json]   leases granted by DNS answers (capabilities)', run: runCapsList },
  { words: ['caps', 'revoke'], usage: 'caps revoke ADDRESS|RESOLVER [--admin IP:PORT --token T | --config FILE]   end leases now and cut their flows', run: runCapsRevoke },
  { words: ['caps', 'scanners'], usage: 'caps scanners [--admin IP:PORT --token T | --config FILE] [--json]   sources blocklisted as scanners (seed 000 §4)', run: runCapsScanners },
  { words: ['caps', 'try'], usage: 'caps try NAME --port P [--resolver IP:PORT] [--type A|AAAA]   ask for a service, connect to the granted address, print the reply', run: runCapsTry },
  { words: ['check'], usage: 'check [--config FILE]              validate a configuration and its zones', run: runCheck },
  { words: ['explain'], usage: 'explain --qname N [--qtype T] [--client IP] [--ecs CIDR] [--config FILE] [--transport P] [--cookie S] [--time ISO]   which policy matches, and the answer', run: runExplain },
  { words: ['gateway'], usage: 'gateway --config FILE              run only the data plane (the gateway key): prefix listeners and relays', run: runGateway },
  { words: ['snoop'], usage: 'snoop --resolver IP:PORT --name N [--type T] [--auth IP:PORT [--auth-samples N]] [--samples N] [--interval S] [--mode auto|norec|rec] [--json]   TTL cache snooping: was N used through this resolver?', run: runSnoop },
  { words: ['kv', 'put'], usage: 'kv put KEY VALUE --resolver IP[:PORT] --zone Z [--method auto|a|ca|cu|cca|ccx|ccu|da|dx|du|na|nu|nr] [--type A|AAAA|TXT|SRV] [--if-absent]   store through a resolver (Stateless DNS)', run: runKvPut },
  { words: ['kv', 'get'], usage: 'kv get KEY --resolver IP[:PORT] --zone Z [--method M] [--type T]   read a stored value back', run: runKvGet },
  { words: ['discover', 'announce'], usage: 'discover announce INSTANCE --service _t._tcp --port P [--txt k=v]... [--public] --resolver IP[:PORT] --zone Z   announce a service instance', run: runDiscoverAnnounce },
  { words: ['discover', 'resolve'], usage: 'discover resolve INSTANCE --service _t._tcp [--public] --resolver IP[:PORT] --zone Z   SRV, address and TXT of an instance', run: runDiscoverResolve },
  { words: ['discover', 'browse'], usage: 'discover browse _t._tcp --resolver IP[:PORT] --zone Z   list instances from the service\'s directory', run: runDiscoverBrowse },
  { words: ['directory'], usage: 'directory --service _t._tcp --listen IP --resolver IP[:PORT] --zone Z [--instance N --port P]   public-discovery directory (NR, RFC 2136 UPDATE)', run: runDirectory },
  { words: ['probe'], usage: 'probe --resolver IP[:PORT] --zone Z [--json FILE] [--retention-max S] [--max-group N] [--nr-address IP1,IP2] [--na-address IP1,IP2]   which Stateless DNS methods a resolver supports', run: runProbe },
  { words: ['simulate'], usage: 'simulate --log FILE.csv [--ttl S] [--grace S] [--scope resolver|subnet24] [--pool-size N] [--plot FILE.svg] [--json]   pool sizing: translation table size over time (seed 000 §3.3)', run: runSimulate },
  { words: ['simulate', 'generate'], usage: 'simulate generate --out FILE.csv [--seconds N] [--servers S] [--resolvers R] [--clients C] [--per-subnet K] [--rate R] [--zipf X] [--seed N] [--diurnal]   synthetic connection log', run: runSimulateGenerate },
  { words: ['zone', 'check'], usage: 'zone check FILE --origin NAME      validate one master file (every error, then warnings)', run: runZoneCheck },
  { words: ['zone', 'print'], usage: 'zone print FILE --origin NAME      the zone in canonical form: one record a line, absolute names, sorted', run: runZonePrint },
];

const USAGE = `usage:\n${COMMANDS.map((c) => `  fluxdns ${c.usage}`).join('\n')}\n`;

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0]!)) {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  // The longest matching word sequence wins ("zone check" before a hypothetical "zone").
  const match = COMMANDS.filter((c) => c.words.every((w, i) => argv[i] === w)).sort((a, b) => b.words.length - a.words.length)[0];
  if (!match) {
    process.stderr.write(`fluxdns: unknown command ${JSON.stringify(argv.slice(0, 2).join(' '))}\n${USAGE}`);
    return 2;
  }
  return match.run(argv.slice(match.words.length));
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fluxdns: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
