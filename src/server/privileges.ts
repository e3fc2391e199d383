// Dropping root after the listeners are bound (the `user:` key): supplementary groups, group, then user.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Account {
  name: string;
  uid: number;
  gid: number;
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
export function dropPrivileges(user: string | number): Account {
  const a = lookupUser(user);
  const uid = process.getuid?.();
  if (uid === a.uid) return a;
  if (uid !== 0) throw new Error(`user: cannot become ${a.name} (uid ${a.uid}): fluxdns runs as uid ${uid}, and only root can switch users`);
  process.setgroups?.([a.gid]);
  process.setgid?.(a.gid);
  process.setuid?.(a.uid);
  return a;
}
