// fluxdns gateway: the data plane alone (the `gateway` key of a configuration), without DNS. With
// `services` it enforces capabilities: the leases come from the state store (Redis: granted by any
// fluxdns serve sharing it), revocations and expiries from its announcements.
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { setupCapabilities, type CapabilitySetup } from '../capability/setup.js';
import { describeListeners, startGateway, type Gateway } from '../gateway/gateway.js';
import { createLogger } from '../observe/log.js';
import { loadOrReport, parseFlags, UsageError } from './args.js';

export const GATEWAY_FLAGS = {
  config: { type: 'string', short: 'c', value: 'FILE', help: 'a configuration with a gateway section (required)' },
} as const;

export async function runGateway(args: string[]): Promise<number> {
  const { values } = parseFlags(args, GATEWAY_FLAGS);
  const file = values.config;
  if (!file) throw new UsageError('gateway: --config FILE is required');
  const loaded = loadOrReport(() => loadConfigFile(file));
  if (!loaded) return 1;
  const logger = createLogger(loaded.config.log.level);
  // The nftables backend enforces leases in the kernel: such a gateway needs no listeners of its own.
  const kernelOnly = !loaded.config.gateway && loaded.config.services.length > 0 && loaded.config.capabilities.backend === 'nftables';
  if (!loaded.config.gateway && !kernelOnly) {
    process.stderr.write(`${file}: gateway: missing; expected a gateway section with listeners and dispatch (or services with capabilities.backend: nftables)\n`);
    return 1;
  }
  let current: Config = loaded.config;
  let caps: CapabilitySetup | undefined;
  if (loaded.config.services.length > 0) {
    if (loaded.config.state.backend === 'memory') logger.warn('gateway with services and the memory state store: it admits only leases granted in this process (none); use state: { backend: redis }');
    try {
      caps = await setupCapabilities(loaded.config, () => current, logger);
    } catch (e) {
      process.stderr.write(`cannot start capabilities: ${(e as Error).message}\n`);
      return 1;
    }
  }
  let gateway: Gateway | undefined;
  if (loaded.config.gateway) {
    try {
      gateway = await startGateway(loaded.config.gateway, { logger, hooks: caps?.userspace?.hooks() });
    } catch (e) {
      await caps?.close();
      process.stderr.write(`cannot start the gateway: ${(e as Error).message}\n`);
      return 1;
    }
  }
  if (caps) {
    if (gateway) caps.userspace?.attach(gateway);
    await caps.caps.start();
    if (caps.admin) logger.info('capability admin API', { listen: `${caps.admin.address}:${caps.admin.port}` });
  }
  process.on('SIGHUP', () => {
    try {
      const next = loadConfigFile(file).config;
      if (next.gateway && gateway?.update(next.gateway)) logger.info('gateway reloaded');
      current = next;
    } catch (e) {
      logger.error('reload failed; the previous dispatch table stays', { errors: (e as Error).message.split('\n') });
    }
  });
  const stop = () => void Promise.all([gateway?.close(), caps?.close()]).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`fluxdns gateway ready: ${gateway ? describeListeners(gateway.listeners) : 'no listeners'}${caps ? ` (capabilities: ${caps.caps.dataPlane.name}, store ${caps.caps.store.shared ? 'shared' : 'memory'})` : ''}\n`);
  return -1;
}
