// The demo's backend: a tiny HTTP "hello" behind the gateway that reads the PROXY v2 header to say who dialled what.
import net from 'node:net';
import { decodeProxyV2 } from './proxy-v2.js';

export interface HelloBackend {
  port: number;
  close(): Promise<void>;
}

/**
 * Answers any HTTP request with one line; a connection that does not start with a PROXY v2 header is
 * closed. `trusted(address, port)` says whether a connection comes from the gateway: a PROXY v2
 * header from anyone else (any local process can connect) is refused, not believed.
 */
export function startHelloBackend(host: string, port: number, trusted: (address: string, port: number) => boolean): Promise<HelloBackend> {
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('error', () => s.destroy());
    s.setTimeout(5000, () => s.destroy());
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const h = decodeProxyV2(buf);
      if (h === 'incomplete') return;
      if (h instanceof Error) return void s.destroy();
      if (!trusted(s.remoteAddress ?? '', s.remotePort ?? 0)) {
        const body = 'PROXY v2 header refused: this connection does not come from the fluxdns gateway\n';
        return void s.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
      if (!buf.subarray(h.length).includes('\r\n\r\n')) return;
      const body = `hello from behind the fluxdns gateway: client ${h.src ?? '?'} dialled ${h.dst ?? '?'}:${h.dstPort ?? '?'}\n`;
      s.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address();
      resolve({ port: typeof a === 'object' && a ? a.port : port, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
