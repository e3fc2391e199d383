// fluxdns gateway: the data plane alone (the `gateway` key of a configuration), without DNS.
import { loadConfigFile } from '../config/load.js';
import { describeListeners, startGateway } from '../gateway/gateway.js';
import { createLogger } from '../observe/log.js';
import { loadOrReport, parseFlags, UsageError } from './args.js';

export async function runGateway(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { config: { type: 'string', short: 'c' } });
  const file = values.config;
  if (!file) throw new UsageError('gateway: --config FILE is required');
  const loaded = loadOrReport(() => loadConfigFile(file));
  if (!loaded) return 1;
  const logger = createLogger(loaded.config.log.level);
  if (!loaded.config.gateway) {
    process.stderr.write(`${file}: gateway: missing; expected a gateway section with listeners and dispatch\n`);
    return 1;
  }
  let gw;
  try {
    gw = await startGateway(loaded.config.gateway, { logger });
  } catch (e) {
    process.stderr.write(`cannot start the gateway: ${(e as Error).message}\n`);
    return 1;
  }
  const gateway = gw;
  process.on('SIGHUP', () => {
    try {
      const next = loadConfigFile(file).config.gateway;
      if (next && gateway.update(next)) logger.info('gateway reloaded');
    } catch (e) {
      logger.error('reload failed; the previous dispatch table stays', { errors: (e as Error).message.split('\n') });
    }
  });
  const stop = () => void gateway.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`fluxdns gateway ready: ${describeListeners(gateway.listeners)}\n`);
  return -1;
}
