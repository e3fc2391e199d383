// The server secret used when the configuration names none: one per server, shared by its workers.
import { randomBytes } from 'node:crypto';

/**
 * Cluster workers inherit the primary's environment, and the primary imports the pipeline before it
 * forks, so a secret made here at import time is the same in every worker: a cookie issued by one
 * worker validates in another (they share the UDP socket). It lives for the process: a reload keeps it.
 */
const ENV = 'FLUXDNS_COOKIE_SECRET';

function inheritedOrNew(): string {
  const inherited = process.env[ENV];
  if (inherited !== undefined && /^[0-9a-f]{32}$/i.test(inherited)) return inherited;
  const made = randomBytes(16).toString('hex');
  process.env[ENV] = made;
  return made;
}

export const PROCESS_SECRET: string = inheritedOrNew();
