// Shared argument parsing: every command reports a bad flag the same way.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, type LoadedConfig } from '../config/load.js';

export class UsageError extends Error {}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * Loads a configuration for a command; a ConfigError (file, line, key path) goes to stderr and
 * the result is undefined, so the command can exit 1. Anything else is a bug and propagates.
 */
export function loadOrReport(load: () => LoadedConfig): LoadedConfig | undefined {
  try {
    return load();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(e.message + '\n');
    return undefined;
  }
}
