// The control socket: a unix stream socket, mode 0600, that `fluxdns ctl` talks to. Never on the network.
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { CONTROL_IDLE_MS, CONTROL_KEEPALIVE_MS, parseRequest, type ControlHandler, type ControlReply } from './protocol.js';

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Longest request line; the requests are a few dozen bytes. */
const MAX_REQUEST = 4096;

/** Whether something accepts connections on `path` (a live server, not a stale socket file). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Timeouts (tests shorten them): silence while reading the request, and the keep-alive interval while a command runs. */
export interface ControlTimings {
  idleMs?: number;
  keepAliveMs?: number;
}

export async function startControl(path: string, handler: ControlHandler, timings: ControlTimings = {}): Promise<ControlServer> {
  const idleMs = timings.idleMs ?? CONTROL_IDLE_MS;
  const keepAliveMs = timings.keepAliveMs ?? CONTROL_KEEPALIVE_MS;
  if (existsSync(path)) {
    if (await answers(path)) throw new Error(`control socket ${path}: another process is serving it`);
    // A socket file left by a process that was killed: nothing listens on it any more.
    unlinkSync(path);
  }
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.setTimeout(idleMs, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_REQUEST) reply(sock, { ok: false, error: 'request too long' });
        return;
      }
      sock.removeAllListeners('data');
      let req: ReturnType<typeof parseRequest>;
      try {
        req = parseRequest(JSON.parse(buf.slice(0, nl)));
      } catch {
        req = 'expected one JSON object on one line';
      }
      if (typeof req === 'string') return reply(sock, { ok: false, error: `bad request: ${req}` });
      // The request is in: the command may run long (a large zone's reload); a newline now and then
      // tells the client it is still running (its timeout is on silence), and the server waits for it.
      sock.setTimeout(0);
      const alive = setInterval(() => {
        if (!sock.destroyed) sock.write('\n');
      }, keepAliveMs);
      handler(req)
        .then(
          (r) => reply(sock, r),
          (e: unknown) => reply(sock, { ok: false, error: e instanceof Error ? e.message : String(e) }),
        )
        .finally(() => clearInterval(alive));
    });
  });
  // The socket is created with mode 0600 (umask), not chmod-ed after: no moment where others may connect.
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(old);
  }
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A process that dropped root may not remove a file in a root-owned folder; the next start does.
        try {
          unlinkSync(path);
        } catch {
          /* left for the next start, which removes a socket nothing answers on */
        }
      }),
  };
}

function reply(sock: net.Socket, r: ControlReply): void {
  if (!sock.destroyed) sock.end(JSON.stringify(r) + '\n');
}
