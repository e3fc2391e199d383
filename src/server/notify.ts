// Service-manager readiness (sd_notify(3)): READY=1 on $NOTIFY_SOCKET, sent by the main process itself.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

type SdNotify = (path: string, message: string) => boolean;

let sdNotify: SdNotify | null | undefined;

/** The addon's sender (native/udp_batch.c), or null when the addon is not built. */
function nativeNotify(): SdNotify | null {
  if (sdNotify === undefined) {
    try {
      // Same relative path from src/server/ (tsx) and dist/server/ (built).
      const require = createRequire(import.meta.url);
      sdNotify = (require('../../native/build/Release/fluxdns_udp.node') as { sdNotify?: SdNotify }).sdNotify ?? null;
    } catch {
      sdNotify = null;
    }
  }
  return sdNotify;
}

export type NotifyResult = { how: 'socket' | 'systemd-notify' | 'none'; error?: string };

/**
 * Tells the service manager the server is ready (Type=notify). systemd attributes a notification to a
 * unit by the sender's PID, read from the datagram's credentials: sent by this process (the unit's main
 * PID) it is accepted with the default NotifyAccess=main. `systemd-notify` as a child sends from its own
 * PID and exits at once; systemd 252 then often cannot find its cgroup and drops the message (the race
 * `--pid=` does not close). Node's dgram has no unix datagram sockets, so the native addon sends it; only
 * without the addon does this fall back to `systemd-notify --pid=` (the unit's NotifyAccess=all allows it).
 */
export function notifyReady(status: string, done: (r: NotifyResult) => void = () => {}, env: NodeJS.ProcessEnv = process.env): void {
  const socket = env['NOTIFY_SOCKET'];
  if (!socket) return done({ how: 'none' });
  const message = `READY=1\nSTATUS=${status.replace(/\n/g, ' ')}\nMAINPID=${process.pid}`;
  const send = nativeNotify();
  if (send) {
    try {
      send(socket, message);
      return done({ how: 'socket' });
    } catch (e) {
      return done({ how: 'socket', error: (e as Error).message });
    }
  }
  execFile('systemd-notify', ['--ready', `--pid=${process.pid}`, `--status=${status}`], { env: { ...process.env, NOTIFY_SOCKET: socket } }, (err) =>
    done({ how: 'systemd-notify', ...(err ? { error: err.message } : {}) }),
  );
}
