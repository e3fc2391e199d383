// fluxdns check: validates a configuration and every zone it names, as serve would load them.
import { demoConfig } from '../config/demo.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { LoadError, loadZones } from '../server/runtime-load.js';
import { parseFlags } from './args.js';

export function runCheck(args: string[]): number {
  const { values } = parseFlags(args, { config: { type: 'string', short: 'c' } });
  try {
    const loaded = values.config ? loadConfigFile(values.config) : demoConfig();
    const { report } = loadZones(loaded);
    for (const z of report) {
      for (const w of z.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`zone ${z.name}: ${z.records} records, serial ${z.serial} (${z.file})${z.warnings.length ? `, ${z.warnings.length} warnings` : ''}\n`);
    }
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
