// The client side of the control socket: one request, one reply.
import net from 'node:net';
import type { ControlReply, ControlRequest } from './protocol.js';

/** Thrown when nothing answers on the socket (no server, wrong path, no permission). */
export class ControlUnreachable extends Error {}

/**
 * `timeoutMs` is of silence: the server writes a newline every few seconds while a command runs (see
 * CONTROL_KEEPALIVE_MS), so a long reload is waited for and a server that stopped answering is not.
 */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 30000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path);
    let buf = '';
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`control socket ${path}: the server went ${timeoutMs / 1000} s without replying or showing it is still working`)));
    s.on('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (d: string) => (buf += d));
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES' || e.code === 'ENOTSOCK') {
        const why = e.code === 'EACCES' ? 'permission denied (the socket is mode 0600: run as its owner)' : e.code === 'ENOENT' ? 'no such socket (is fluxdns running with control.socket?)' : 'nothing is listening';
        reject(new ControlUnreachable(`cannot reach fluxdns on the control socket ${path}: ${why}`));
      } else reject(e);
    });
    s.on('close', () => {
      if (s.errored) return;
      try {
        resolve(JSON.parse(buf) as ControlReply);
      } catch {
        reject(new Error(`control socket ${path}: not a fluxdns reply: ${JSON.stringify(buf.slice(0, 200))}`));
      }
    });
  });
}
