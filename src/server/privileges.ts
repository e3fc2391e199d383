// Dropping root after the listeners are bound (the `user:` key): supplementary groups, group, then user.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** What dropPrivileges did: the account, and for a worker that gave up the bind capability, the threads still holding it. */
export interface Dropped extends Account {
  /**
   * Threads left with a capability after clearCapabilities (0 normally): only one that blocks every
   * signal can stay — Node 20's debug-signal thread, which only waits for SIGUSR1 (handled by fluxdns,
   * so it never wakes) — see native/README.md. Undefined when nothing was cleared.
   */
  threadsKeepingCaps?: number;
}

/** Looks a user up by name or uid through getent (NSS), or /etc/passwd where getent is missing. */
export function lookupUser(user: string | number): Account {
  const key = String(user);
  let line: string | undefined;
  try {
    line = execFileSync('getent', ['passwd', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
  } catch (e) {
    // getent exits 2 for an unknown user; anything else (not installed) falls back to the file.
    if ((e as { status?: number }).status !== 2) {
      line = readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => {
          const f = l.split(':');
          return f[0] === key || f[2] === key;
        });
    }
  }
  const f = line?.split(':');
  if (!f || f.length < 4 || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) throw new Error(`user: no such user ${JSON.stringify(user)}`);
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) };
}

/**
 * Becomes `user` for good (setgroups, setgid, setuid: root can no longer be regained). A process
 * already running as that user is left alone; any other non-root process cannot switch and fails.
 */
export function dropPrivileges(user: string | number): Dropped {
  const a = lookupUser(user);
  const uid = process.getuid?.();
  if (uid === a.uid) {
    // A worker forked by a primary that kept the bind capability (dropKeepingBind): its sockets are
    // bound, so it gives that up too, in every thread (it came as an ambient capability, which every
    // thread Node started inherited).
    const left = uid !== 0 ? capabilityHelpers()?.clearCapabilities?.() : undefined;
    return typeof left === 'number' ? { ...a, threadsKeepingCaps: left } : a;
  }
  if (uid !== 0) throw new Error(`user: cannot become ${a.name} (uid ${a.uid}): fluxdns runs as uid ${uid}, and only root can switch users`);
  process.setgroups?.([a.gid]);
  process.setgid?.(a.gid);
  process.setuid?.(a.uid);
  return a;
}

interface CapabilityHelpers {
  becomeKeepingBind?: (uid: number, gid: number) => boolean;
  /** Clears every thread's sets; returns how many threads still hold a capability (native/udp_batch.c). */
  clearCapabilities?: () => number | boolean;
}

let helpers: CapabilityHelpers | null | undefined;

/** The addon's capability helpers (native/udp_batch.c), or null when it is not built. */
function capabilityHelpers(): CapabilityHelpers | null {
  if (helpers === undefined) {
    try {
      // Same relative path from src/server/ (tsx) and dist/server/ (built).
      helpers = createRequire(import.meta.url)('../../native/build/Release/fluxdns_udp.node') as CapabilityHelpers;
    } catch {
      helpers = null;
    }
  }
  return helpers;
}

/**
 * The primary of `workers: N` gives up root once its workers serve, like a single process does, but
 * keeps CAP_NET_BIND_SERVICE (and only that, also as an ambient capability): a worker it starts again
 * after one died binds its own sockets, on port 53 too, then drops it (dropPrivileges above).
 * `keptBind` is false when the addon is missing: root is dropped all the same, and a restarted worker
 * can then not bind a port below 1024.
 */
export function dropKeepingBind(user: string | number): { account: Account; keptBind: boolean } {
  const a = lookupUser(user);
  const uid = process.getuid?.();
  if (uid === a.uid) return { account: a, keptBind: false };
  const become = capabilityHelpers()?.becomeKeepingBind;
  if (uid !== 0 || become === undefined) return { account: dropPrivileges(user), keptBind: false };
  become(a.uid, a.gid);
  return { account: a, keptBind: true };
}
