// The `metrics:` key: where the Prometheus endpoint and the dashboard listen.
import { z } from 'zod';
import { isIP } from 'node:net';

export const metricsSchema = z
  .object({
    /** Address of the HTTP listener: /metrics (Prometheus text), / (the dashboard), /dashboard.json. */
    listen: z
      .string()
      .refine((s) => /^(\[[^\]]+\]|[^:]+):\d{1,5}$/.test(s) && isIP(s.replace(/^\[?([^\]]+?)\]?:\d+$/, '$1')) !== 0 && Number(s.replace(/.*:/, '')) <= 65535, {
        message: 'expected "IP:PORT" (IPv6 as "[::1]:PORT") with a literal address and a port from 0 to 65535',
      })
      .default('127.0.0.1:9153'),
    /** Path of the Prometheus text endpoint. */
    path: z.string().regex(/^\/[^?#\s]*$/, 'expected an absolute URL path such as /metrics').default('/metrics'),
  })
  .strict();

export type MetricsConfig = z.output<typeof metricsSchema>;
