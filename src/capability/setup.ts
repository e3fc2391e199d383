// Builds the process's capability core from the configuration: store, data plane, audit log, admin API.
import type { Config } from '../config/schema.js';
import { parseBackend } from '../gateway/schema.js';
import { parseCidr, cidrCovers } from '../net/cidr.js';
import type { Logger } from '../observe/log.js';
import { parseProtoPorts } from '../gateway/schema.js';
import { startAdmin, type AdminServer } from './admin.js';
import { fileAudit } from './audit.js';
import { Capabilities } from './core.js';
import { serviceTableOf } from './services.js';
import { UserspaceDataPlane } from './userspace.js';
import { nftablesPools, startNftables } from './nftables/setup.js';
import type { NftablesDataPlane } from './nftables/backend.js';
import { openStore } from '../state/open.js';

export interface CapabilitySetup {
  caps: Capabilities;
  /** The userspace data plane, whose hooks the gateway starts with (undefined for other backends). */
  userspace?: UserspaceDataPlane;
  /** The nftables data plane (undefined for other backends). */
  nftables?: NftablesDataPlane;
  admin?: AdminServer;
  /**
   * SIGHUP: the audit file is reopened (logrotate); with `config` (the reload succeeded) the pools
   * and honeypot now configured are applied to the kernel sets.
   */
  reload(config?: Config): Promise<void>;
  close(): Promise<void>;
}

/**
 * `config` is the configuration at start; `current` returns the one in force (a reload swaps it).
 * Call start() on the result's caps once the DNS server runs.
 */
export async function setupCapabilities(config: Config, current: () => Config, logger: Logger): Promise<CapabilitySetup> {
  const c = config.capabilities;
  const audit = c.audit ? fileAudit(c.audit.file, Date.now, (e) => logger.error('audit log write failed', { err: e.message })) : undefined;
  // Leases in this process's memory (optionally on disk) or in Redis, shared with other servers and gateways.
  const store = await openStore(config.state, logger);
  const caps = new Capabilities({ audit, logger, store });
  caps.bind(current);
  let userspace: UserspaceDataPlane | undefined;
  let nftables: NftablesDataPlane | undefined;
  if (c.backend === 'userspace') {
    userspace = new UserspaceDataPlane({
      store: caps.store,
      audit: caps.audit,
      now: caps.now,
      pools: () => serviceTableOf(current()).pools,
      honeypot: () => current().capabilities.honeypot,
      proxyProtocol: (key) => serviceTableOf(current()).byKey.get(key)?.config.proxyProtocol ?? false,
      scanners: {
        unproductive: (source) => void caps.unproductive(source).catch((e: Error) => logger.warn('scanner count failed', { source, err: e.message })),
        blocked: async (source) => current().capabilities.scanners !== undefined && (await caps.store.scanner(source)) !== undefined,
      },
    });
    caps.dataPlane = userspace;
    for (const w of uncovered(config)) logger.warn('capability service not reachable through the gateway', { detail: w });
  } else {
    nftables = await startNftables(config, logger, {
      onProbes: (source, n) => void caps.unproductive(source, n).catch((e: Error) => logger.warn('scanner count failed', { source, err: e.message })),
      scannersOn: () => current().capabilities.scanners !== undefined,
      onSeen: caps.store.shared ? (source, address) => void caps.sourceSeen(source, address).catch((e: Error) => logger.warn('recording a host in the shared store failed', { source, address, err: e.message })) : undefined,
    });
    caps.dataPlane = nftables;
  }
  let admin: AdminServer | undefined;
  if (c.admin) {
    const { host, port } = parseBackend(c.admin.listen.replace(/:0$/, ':1'))!;
    admin = await startAdmin(caps, host, c.admin.listen.endsWith(':0') ? 0 : port, c.admin.token);
  }
  return {
    caps,
    userspace,
    nftables,
    admin,
    async reload(next) {
      caps.audit.reopen?.();
      if (next && nftables) {
        try {
          await nftables.update(nftablesPools(next));
          logger.info('nftables pools updated', { pools: nftablesPools(next).pools });
        } catch (e) {
          logger.error('nftables: applying the reloaded pools failed; the previous ones stay', { err: (e as Error).message });
        }
      }
    },
    async close() {
      await admin?.close();
      await caps.close();
    },
  };
}

/**
 * With the userspace backend the operator lists the gateway listeners (they are sockets to open,
 * and a pool may be far larger than what should be bound); this says what a service needs and lacks.
 */
export function uncovered(config: Config): string[] {
  const out: string[] = [];
  const listeners = config.gateway?.listeners ?? [];
  for (const s of config.services) {
    const pool = config.pools.find((p) => p.name === s.pool);
    if (!pool) continue;
    for (const prefix of pool.prefixes) {
      const pc = parseCidr(prefix)!;
      for (const port of s.ports) {
        const want = parseProtoPorts(port)!;
        const ok = listeners.some((l) => l.prefixes.some((x) => cidrCovers(parseCidr(x)!, pc)) && l.ports.some((lp) => {
          const have = parseProtoPorts(lp)!;
          return have.proto === want.proto && have.range.from <= want.range.from && want.range.to <= have.range.to;
        }));
        if (!ok) out.push(`service ${s.name[0]}: pool ${s.pool} prefix ${prefix} ${port} is outside every gateway listener`);
      }
    }
  }
  return out;
}
