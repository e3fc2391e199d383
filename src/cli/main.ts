#!/usr/bin/env node
// fluxdns command line: one file per command, registered in the table below.
import { UsageError } from './args.js';
import { runCheck } from './check.js';
import { runExplain } from './explain.js';
import { runGateway } from './gateway.js';
import { runServe } from './serve.js';
import { runSnoop } from './snoop.js';
import { runZoneCheck } from './zone-check.js';

type Command = (args: string[]) => number | Promise<number>;

/** Each command: its words, a usage line, and its runner (a return of -1 means "keep running"). */
const COMMANDS: { words: string[]; usage: string; run: Command }[] = [
  { words: ['serve'], usage: 'serve [--config FILE] [--port N]   serve DNS (no --config: the built-in demo on 127.0.0.1:5353)', run: runServe },
  { words: ['check'], usage: 'check [--config FILE]              validate a configuration and its zones', run: runCheck },
  { words: ['explain'], usage: 'explain --qname N [--qtype T] [--client IP] [--ecs CIDR] [--config FILE] [--transport P] [--cookie S] [--time ISO]   which policy matches, and the answer', run: runExplain },
  { words: ['gateway'], usage: 'gateway --config FILE              run only the data plane (the gateway key): prefix listeners and relays', run: runGateway },
  { words: ['snoop'], usage: 'snoop --resolver IP:PORT --name N [--type T] [--auth IP:PORT [--auth-samples N]] [--samples N] [--interval S] [--mode auto|norec|rec] [--json]   TTL cache snooping: was N used through this resolver?', run: runSnoop },
  { words: ['zone', 'check'], usage: 'zone check FILE --origin NAME      validate one master file', run: runZoneCheck },
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
