// fluxdns zone check FILE --origin NAME: parses and checks one master file.
import { parseName } from '../wire/name.js';
import { checkZone } from '../zone/check.js';
import { loadZoneFile, ZoneError } from '../zone/parser.js';
import { parseFlags, UsageError } from './args.js';

export function runZoneCheck(args: string[]): number {
  const { values, positionals } = parseFlags(args, { origin: { type: 'string', short: 'o' } }, true);
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('usage: fluxdns zone check FILE --origin NAME');
  if (!values.origin) throw new UsageError('zone check needs --origin NAME (the zone apex)');
  const origin = parseName(values.origin.endsWith('.') ? values.origin : values.origin + '.');
  try {
    const parsed = loadZoneFile(file, origin);
    const issues = checkZone(parsed, origin);
    for (const i of issues) process.stderr.write(`${i.file}${i.line ? `:${i.line}` : ''}: ${i.message}\n`);
    if (issues.length > 0) return 1;
    process.stdout.write(`zone ${origin}: ${parsed.records.length} records OK\n`);
    return 0;
  } catch (e) {
    if (e instanceof ZoneError) {
      process.stderr.write(e.message + '\n');
      return 1;
    }
    throw e;
  }
}
