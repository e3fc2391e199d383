// Configuration of the state store (issue 14): the `state` key — where leases and their counters live.
import { z } from 'zod';
import { parseBackend } from '../gateway/schema.js';

const hostPort = z.string().refine((s) => parseBackend(s) !== undefined, { message: 'expected "HOST:PORT" ("[::1]:PORT" for IPv6)' });

export const stateSchema = z
  .object({
    /** memory: this process only (one server, workers: 1); redis: shared by every worker, server and gateway. */
    backend: z.enum(['memory', 'redis']).default('memory'),
    /** memory: keep the leases in this file (snapshot + FILE.journal) so a restart keeps them; relative to the configuration file. */
    file: z.string().min(1).optional(),
    /** redis: the server, redis://[user:password@]host:port[/db] (rediss:// for TLS). */
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
      .default('redis://127.0.0.1:6379'),
    /** redis: every key and channel starts with this (several deployments may share one Redis). */
    prefix: z.string().min(1).max(64).default('fluxdns:'),
    /** This process's name in the shared state (caps list shows where flows were admitted); default HOST:PID. */
    node: z.string().min(1).max(64).regex(/^[^#\s]+$/, 'expected a name without spaces or "#"').optional(),
    /** redis: milliseconds a store command may take; past it the grant fails (failOpen decides). */
    timeoutMs: z.number().int().min(10).max(10000).default(500),
    /**
     * redis: a grant is acknowledged only once this many replicas have it (Redis WAIT, within
     * `timeoutMs`); fewer → the claim is released and the grant fails (failOpen decides). With Sentinel,
     * 1 keeps every answered lease across a failover. 0: asynchronous replication, as Redis does.
     */
    waitReplicas: z.number().int().min(0).max(16).default(0),
    /** redis: ask these sentinels for the primary of `name` (Redis Sentinel failover). */
    sentinel: z.object({ sentinels: z.array(hostPort).min(1), name: z.string().min(1) }).strict().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.backend === 'memory' && s.waitReplicas > 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['waitReplicas'], message: 'expected backend: redis with waitReplicas' });
    if (s.backend === 'memory' && s.sentinel) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sentinel'], message: 'expected backend: redis with sentinel' });
    if (s.backend === 'redis' && s.file) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['file'], message: 'expected backend: memory with file (Redis keeps its own persistence: appendonly)' });
  })
  .default({});

export type StateConfig = z.output<typeof stateSchema>;
