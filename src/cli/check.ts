// fluxdns check: validates a configuration, every zone it names, its listeners and certificates, as serve would load them.
import { demoConfig } from '../config/demo.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { checkListeners } from '../server/listen-check.js';
import { LoadError, loadZones } from '../server/runtime-load.js';
import { parseFlags } from './args.js';
import { ModuleSet } from '../answer/units.js';

export const CHECK_FLAGS = {
  config: { type: 'string', short: 'c', value: 'FILE', help: 'the configuration to check (default: the built-in demo)' },
} as const;

export function runCheck(args: string[]): number {
  const { values } = parseFlags(args, CHECK_FLAGS);
  try {
    const loaded = values.config ? loadConfigFile(values.config) : demoConfig();
    const listen = checkListeners(loaded.config);
    for (const i of listen) process.stderr.write(`${loaded.file}: ${i.path}: ${i.severity === 'warning' ? 'warning: ' : ''}${i.message}\n`);
    const { zones, report } = loadZones(loaded);
    // The modules' load phase, as serve runs it: compiled policies, keys, services (errors name file, line, key).
    new ModuleSet().load(loaded, zones);
    for (const z of report) {
      for (const w of z.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`zone ${z.name}: ${z.records} records, serial ${z.serial} (${z.file})${z.warnings.length ? `, ${z.warnings.length} warnings` : ''}\n`);
    }
    if (listen.some((i) => i.severity === 'error')) return 1;
    process.stdout.write(`${loaded.file}: OK\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof LoadError) {
      process.stderr.write(e.message + '\n');
      return 1;
    }
    throw e;
  }
}
