// fluxdns dnssec keygen|ds ZONE: makes BIND-compatible signing keys, and prints the DS records the parent zone publishes.
import { readdirSync } from 'node:fs';
import { parseName, NameError } from '../wire/name.js';
import { algorithmByName, dsText, generateKey, KeyFileError, keyStemsIn, readKeyFiles, writeKeyFiles, type DnssecKey } from '../dnssec/keys.js';
import { parseFlags, UsageError } from './args.js';

export const DNSSEC_KEYGEN_FLAGS = {
  algorithm: { type: 'string', short: 'a', value: 'ALG', default: 'ecdsap256sha256', help: 'ecdsap256sha256 (13, default) or ed25519 (15)' },
  ksk: { type: 'boolean', help: 'a key-signing key (flags 257, SEP): the one the parent\'s DS points at' },
  dir: { type: 'string', short: 'K', value: 'DIR', default: '.', help: 'where to write K<zone>+<alg>+<tag>.key and .private (mode 0600)' },
} as const;

export const DNSSEC_DS_FLAGS = {
  dir: { type: 'string', short: 'K', value: 'DIR', default: '.', help: 'the folder holding the zone\'s K<zone>+*.key/.private files' },
  key: { type: 'string', value: 'FILE', multiple: true, help: 'a key file (repeatable) instead of every key for ZONE in --dir' },
} as const;

function zoneArg(positionals: string[], command: string): string {
  const z = positionals[0];
  if (!z || positionals.length > 1) throw new UsageError(`usage: fluxdns dnssec ${command} ZONE`);
  try {
    return parseName(z.endsWith('.') ? z : z + '.').toLowerCase();
  } catch (e) {
    throw new UsageError(`expected a zone name: ${e instanceof NameError ? e.message : String(e)}`);
  }
}

export function runDnssecKeygen(args: string[]): number {
  const { values, positionals } = parseFlags(args, DNSSEC_KEYGEN_FLAGS, true);
  const zone = zoneArg(positionals, 'keygen');
  const algorithm = algorithmByName(values.algorithm);
  if (algorithm === undefined) throw new UsageError(`--algorithm: expected ecdsap256sha256 or ed25519, found ${JSON.stringify(values.algorithm)}`);
  const key = generateKey(zone, algorithm, values.ksk === true);
  const { keyFile, privateFile } = writeKeyFiles(values.dir, key);
  // Like dnssec-keygen: the stem on stdout, so scripts can capture it; the rest to stderr.
  process.stdout.write(keyFile.slice(0, -4).split('/').pop() + '\n');
  process.stderr.write(`wrote ${keyFile} and ${privateFile} (${key.flags & 1 ? 'KSK' : 'ZSK'}, key tag ${key.keyTag})\n`);
  return 0;
}

export function runDnssecDs(args: string[]): number {
  const { values, positionals } = parseFlags(args, DNSSEC_DS_FLAGS, true);
  const zone = zoneArg(positionals, 'ds');
  let stems: string[];
  if (values.key && values.key.length > 0) stems = values.key;
  else {
    let names: string[];
    try {
      names = readdirSync(values.dir);
    } catch (e) {
      process.stderr.write(`${values.dir}: cannot read the key folder (${(e as NodeJS.ErrnoException).code ?? 'error'})\n`);
      return 1;
    }
    stems = keyStemsIn(values.dir, names, zone);
  }
  const keys: DnssecKey[] = [];
  for (const s of stems) {
    try {
      keys.push(readKeyFiles(s));
    } catch (e) {
      if (e instanceof KeyFileError) {
        process.stderr.write(e.message + '\n');
        return 1;
      }
      throw e;
    }
  }
  const mine = keys.filter((k) => k.zone === zone);
  if (mine.length === 0) {
    process.stderr.write(`no key for ${zone} in ${values.dir} (fluxdns dnssec keygen ${zone} --ksk --dir ${values.dir} makes one)\n`);
    return 1;
  }
  // The parent points at the key-signing keys; with none (a single combined key), at every key.
  const ksks = mine.filter((k) => k.flags & 1);
  for (const k of ksks.length > 0 ? ksks : mine) process.stdout.write(dsText(k) + '\n');
  return 0;
}
