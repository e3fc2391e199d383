// The capability admin API: HTTP on loopback with a bearer token — GET /caps lists leases,
// POST /caps/revoke {"target": ADDRESS|RESOLVER} revokes them (and cuts their flows), GET /caps/scanners
// lists the sources blocklisted as scanners (seed 000 §4).
import http from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { leasePhase, type Lease, type ScannerEntry } from '../state/store.js';
import type { Capabilities } from './core.js';

export interface LeaseView extends Lease {
  phase: string;
  /** Seconds of DNS TTL left (0 once it ran out). */
  remaining: number;
  hosts: string[];
  flows: number;
  /** Where the lease is used: open flows by node (state.node) that admitted any (shared store: every gateway). */
  nodes: Record<string, number>;
}

export interface CapsListing {
  backend: string;
  /** The state store: "memory" or "redis", and this node's name in it. */
  store: { shared: boolean; node: string };
  now: number;
  leases: LeaseView[];
  counters: Capabilities['counters'];
}

export interface ScannerListing {
  now: number;
  /** capabilities.scanners, or null when scanner detection is off. */
  config: { threshold: number; window: number; blockFor: number } | null;
  scanners: ScannerEntry[];
}

export async function scannerListing(caps: Capabilities): Promise<ScannerListing> {
  let config: ScannerListing['config'] = null;
  try {
    config = caps.config().capabilities.scanners ?? null;
  } catch {
    // no configuration bound (a bare core): detection off
  }
  return { now: caps.now(), config, scanners: await caps.store.scanners() };
}

export interface AdminServer {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export async function listing(caps: Capabilities): Promise<CapsListing> {
  const t = caps.now();
  const leases: LeaseView[] = [];
  for (const l of await caps.store.list()) {
    const nodes = await caps.store.flowsByNode(l.id);
    const flows = Object.values(nodes).reduce((a, b) => a + b, 0);
    leases.push({ ...l, phase: leasePhase(l, t), remaining: Math.max(0, Math.floor((l.ttlUntil - t) / 1000)), hosts: await caps.store.sources(l.id), flows, nodes });
  }
  return { backend: caps.dataPlane.name, store: { shared: caps.store.shared, node: caps.store.node }, now: t, leases, counters: caps.counters };
}

export function startAdmin(caps: Capabilities, host: string, port: number, token: string): Promise<AdminServer> {
  const want = digest(token);
  const server = http.createServer((req, res) => {
    const send = (code: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const auth = req.headers.authorization ?? '';
    const given = /^Bearer (.+)$/.exec(auth)?.[1] ?? '';
    // Compare digests: equal lengths for timingSafeEqual, and no early exit on the first wrong byte.
    if (!timingSafeEqual(digest(given), want)) return send(401, { error: 'expected Authorization: Bearer TOKEN (capabilities.admin.token)' });
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method === 'GET' && url.pathname === '/caps') {
      listing(caps).then((l) => send(200, l), (e: Error) => send(500, { error: e.message }));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/caps/scanners') {
      scannerListing(caps).then((l) => send(200, l), (e: Error) => send(500, { error: e.message }));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/caps/revoke') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        body += d;
        if (body.length > 4096) req.destroy();
      });
      req.on('end', () => {
        let target: unknown;
        try {
          const j = JSON.parse(body) as Record<string, unknown>;
          target = j['target'] ?? j['address'] ?? j['resolver'];
        } catch {
          return send(400, { error: 'expected a JSON body {"target": "ADDRESS or RESOLVER"}' });
        }
        if (typeof target !== 'string') return send(400, { error: 'expected a JSON body {"target": "ADDRESS or RESOLVER"}' });
        caps.revoke(target, 'admin').then(
          (r) => send(200, { revoked: r.leases.map((l) => ({ id: l.id, service: l.service, address: l.address, resolver: l.resolver })), cut: r.cut, where: r.where }),
          (e: Error) => send(400, { error: e.message }),
        );
      });
      return;
    }
    send(404, { error: 'expected GET /caps, GET /caps/scanners or POST /caps/revoke' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address();
      const p = typeof a === 'object' && a ? a.port : port;
      resolve({ port: p, address: host, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
