#!/usr/bin/env node
// fluxdns command line: dispatches to one file per command.
import { UsageError } from './args.js';
import { runCheck } from './check.js';
import { runServe } from './serve.js';
import { runZoneCheck } from './zone-check.js';

const USAGE = `usage:
  fluxdns serve [--config FILE] [--port N]  serve DNS (no --config: the built-in demo on 127.0.0.1:5353)
  fluxdns check [--config FILE]          validate a configuration and its zones
  fluxdns zone check FILE --origin NAME  validate one master file
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return runServe(rest);
    case 'check':
      return runCheck(rest);
    case 'zone':
      if (rest[0] === 'check') return runZoneCheck(rest.slice(1));
      break;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
  }
  process.stderr.write(`fluxdns: unknown command ${cmd === undefined ? '(none)' : JSON.stringify([cmd, ...rest].slice(0, 2).join(' '))}\n${USAGE}`);
  return 2;
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
