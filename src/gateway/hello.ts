// The demo's backend: a tiny HTTP "hello" behind the gateway that reads the PROXY v2 header to say who dialled what.
import net from 'node:net';
import { decodeProxyV2 } from './proxy-v2.js';

export interface HelloBackend {
  port: number;
  close(): Promise<void>;
}

/** Answers any HTTP request with one line; a connection that does not start with a PROXY v2 header is closed. */
export function startHelloBackend(host: string, port: number): Promise<HelloBackend> {
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('error', () => s.destroy());
    s.setTimeout(5000, () => s.destroy());
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const h = decodeProxyV2(buf);
      if (h === 'incomplete') return;
      if (h instanceof Error) return void s.destroy();
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
