// Opens the configured state store: memory (optionally on disk) or Redis (optionally via Sentinel).
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { parseBackend } from '../gateway/schema.js';
import type { Logger } from '../observe/log.js';
import { MemoryStore } from './memory.js';
import type { StateConfig } from './schema.js';
import type { StateStore } from './store.js';

/** The node name: state.node, else HOST:PID (cluster workers of one server differ by PID). */
export function nodeName(c: StateConfig): string {
  return c.node ?? `${hostname()}:${process.pid}`;
}

export async function openStore(c: StateConfig, logger?: Logger, now: () => number = Date.now, baseDir = process.cwd()): Promise<StateStore> {
  const node = nodeName(c);
  if (c.backend === 'memory') {
    if (!c.file) return new MemoryStore(now, node);
    const file = isAbsolute(c.file) ? c.file : resolve(baseDir, c.file);
    const s = await MemoryStore.open(file, now, node);
    logger?.info('state store: memory, kept on disk', { file, leases: s.size });
    return s;
  }
  // Loaded only when configured: the redis client costs every fluxdns command seconds of start-up on a loaded machine.
  const { RedisStore } = await import('./redis.js');
  let last = '';
  const s = await RedisStore.connect({
    url: c.url,
    prefix: c.prefix,
    node,
    timeoutMs: c.timeoutMs,
    waitReplicas: c.waitReplicas,
    now,
    sentinel: c.sentinel ? { name: c.sentinel.name, sentinels: c.sentinel.sentinels.map((x) => parseBackend(x)!) } : undefined,
    onStatus: (status, detail) => {
      // One line per change of state, not per reconnect attempt.
      if (status === last && status === 'disconnected') return;
      last = status;
      if (status === 'disconnected') logger?.warn('state store unreachable; grants fail until it is back', { err: detail });
      else logger?.info(`state store ${status}`, { detail });
    },
  });
  logger?.info('state store: redis', { url: c.sentinel ? `sentinel ${c.sentinel.name}` : c.url.replace(/\/\/[^@/]*@/, '//***@'), prefix: c.prefix, node, waitReplicas: c.waitReplicas });
  return s;
}
