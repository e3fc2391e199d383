// The stream-transport abuse limits: their config keys (spread into the `limits` block of the
// schema) and the StreamLimits every TCP, DoT and DoH connection is held to.
import { z } from 'zod';
import type { StreamLimits } from './conn.js';

/** Keys added to `limits`; tcpMaxConnections, tcpIdleTimeout and tcpMaxInFlight already exist there. */
export const streamLimitKeys = {
  /** Concurrent connections from one IPv4 address or IPv6 /64 over TCP, DoT and DoH together. */
  tcpMaxConnectionsPerClient: z.number().int().min(1).max(1_000_000).default(64),
  /** Concurrent connections from one IPv4 /24 or IPv6 /56 over TCP, DoT and DoH together. */
  tcpMaxConnectionsPerPrefix: z.number().int().min(1).max(1_000_000).default(512),
  /** New TCP/DoT/DoH connections per second from one IPv4 /24 or IPv6 /56 (against reconnect floods); more are closed at accept. */
  tcpAcceptRatePerPrefix: z.number().int().min(1).max(1_000_000).default(200),
  /** Seconds the idle and handshake timeouts shrink to as the connection table fills from half to full. */
  tcpBusyTimeout: z.number().positive().max(3600).default(2),
  /** Seconds from accept until the first query starts arriving (TLS handshake, HTTP/2 preface included). */
  tcpHandshakeTimeout: z.number().positive().max(3600).default(5),
  /** Seconds from a query's first byte (a DoH request's headers) until its last. */
  tcpQueryTimeout: z.number().positive().max(3600).default(5),
  /** Largest query in bytes: a longer TCP/DoT frame closes the connection, a longer DoH query gets 413. */
  maxQuerySize: z.number().int().min(12).max(65535).default(65535),
};

/** The `limits` keys a stream connection reads (a structural type: config/schema.ts imports this file). */
type StreamLimitConfig = z.output<z.ZodObject<typeof streamLimitKeys>> & { readonly tcpMaxConnections: number; readonly tcpIdleTimeout: number; readonly tcpMaxInFlight: number };

export function streamLimitsOf(config: { readonly limits: StreamLimitConfig }): StreamLimits {
  const l = config.limits;
  return {
    maxConnections: l.tcpMaxConnections,
    maxPerClient: l.tcpMaxConnectionsPerClient,
    maxPerPrefix: l.tcpMaxConnectionsPerPrefix,
    acceptRatePerPrefix: l.tcpAcceptRatePerPrefix,
    busyTimeoutMs: l.tcpBusyTimeout * 1000,
    handshakeTimeoutMs: l.tcpHandshakeTimeout * 1000,
    idleTimeoutMs: l.tcpIdleTimeout * 1000,
    queryTimeoutMs: l.tcpQueryTimeout * 1000,
    maxInFlight: l.tcpMaxInFlight,
    maxQuerySize: l.maxQuerySize,
  };
}
