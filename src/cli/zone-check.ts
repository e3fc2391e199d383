// fluxdns zone check|print FILE --origin NAME: parses and checks one master file, or prints it in canonical form.
import { parseName } from '../wire/name.js';
import { checkZoneReport, formatZoneIssue } from '../zone/check.js';
import { loadZoneFile, ZoneError, type ParsedZone } from '../zone/parser.js';
import { printZone } from '../zone/print.js';
import { parseFlags, UsageError } from './args.js';

export const ZONE_CHECK_FLAGS = {
  origin: { type: 'string', short: 'o', value: 'NAME', help: "the zone's origin (required)" },
} as const;

export const ZONE_PRINT_FLAGS = {
  ...ZONE_CHECK_FLAGS,
  generic: { type: 'boolean', help: 'every rdata as RFC 3597 TYPEnnn \\# len hex (as ldns-read-zone -U), for byte-exact diffs' },
} as const;

/** Reads FILE as zone --origin; null (after printing every error) when it does not load. */
function loadForCli(args: string[], command: string, strict: boolean): { origin: string; parsed: ParsedZone; errors: number; generic: boolean } | null {
  const { values, positionals } = parseFlags(args, command === 'print' ? ZONE_PRINT_FLAGS : ZONE_CHECK_FLAGS, true);
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError(`usage: fluxdns zone ${command} FILE --origin NAME`);
  if (!values.origin) throw new UsageError(`zone ${command} needs --origin NAME (the zone apex)`);
  const origin = parseName(values.origin.endsWith('.') ? values.origin : values.origin + '.');
  let parsed: ParsedZone;
  try {
    parsed = loadZoneFile(file, origin);
  } catch (e) {
    if (e instanceof ZoneError) {
      process.stderr.write(e.message + '\n');
      return null;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      process.stderr.write(`${file}: cannot read the zone file (${(e as Error).message})\n`);
      return null;
    }
    throw e;
  }
  const { errors, warnings } = checkZoneReport(parsed, origin, file);
  for (const w of warnings) process.stderr.write(`warning: ${formatZoneIssue(w)}\n`);
  for (const i of errors) process.stderr.write(`${formatZoneIssue(i)}\n`);
  if (strict && errors.length > 0) return null;
  return { origin, parsed, errors: errors.length, generic: (values as { generic?: boolean }).generic === true };
}

export function runZoneCheck(args: string[]): number {
  const r = loadForCli(args, 'check', true);
  if (!r) return 1;
  process.stdout.write(`zone ${r.origin}: ${r.parsed.records.length} records OK\n`);
  return 0;
}

/** Prints the records even when the semantic check fails (so a refused zone can be inspected), exit 1 then. */
export function runZonePrint(args: string[]): number {
  const r = loadForCli(args, 'print', false);
  if (!r) return 1;
  process.stdout.write(printZone(r.parsed.records, { generic: r.generic }).map((l) => l + '\n').join(''));
  return r.errors > 0 ? 1 : 0;
}
