// The metrics listener: Prometheus text at `path`, the live dashboard at /, its data at /dashboard.json.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { collectMetrics, CONTENT_TYPE } from './collect.js';
import type { MetricsConfig } from './config.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import { dashboardData } from './dashboard.js';

export interface MetricsListener {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export function startMetricsListener(config: MetricsConfig, logger: Logger): Promise<MetricsListener> {
  const m = /^\[?(.+?)\]?:(\d+)$/.exec(config.listen)!;
  const host = m[1]!;
  const port = Number(m[2]);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path === config.path) {
      collectMetrics().then(
        (s) => send(200, CONTENT_TYPE, s.text),
        (e: Error) => send(500, 'text/plain', `cannot collect metrics: ${e.message}\n`),
      );
    } else if (path === '/dashboard.json') {
      collectMetrics({ extras: true }).then(
        (s) => send(200, 'application/json', JSON.stringify(dashboardData(s))),
        (e: Error) => send(500, 'text/plain', `cannot collect metrics: ${e.message}\n`),
      );
    } else if (path === '/') {
      send(200, 'text/html; charset=utf-8', DASHBOARD_HTML);
    } else {
      send(404, 'text/plain', `not found; try ${config.path} or /\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (e) => logger.warn('metrics listener error', { err: e.message }));
      const a = server.address() as AddressInfo;
      resolve({
        address: a.address,
        port: a.port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
