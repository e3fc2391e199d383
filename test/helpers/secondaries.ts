// Starts knotd, nsd and named as secondaries of a primary on loopback (TSIG-signed transfers, NOTIFY
// accepted from the primary), each in its own temporary directory, stopped by PID.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type Proc } from './proc.js';

export interface SecondarySpec {
  zone: string;
  /** The primary's address and port. */
  primary: { host: string; port: number };
  /** The TSIG key transfers are signed with (hmac-sha256). */
  key: { name: string; secret: string };
  /** The address the secondary makes its transfers from (a 127.0.0.x of its own, so the primary's log tells them apart). */
  address: string;
  /** It listens on 127.0.0.1:port (where NOTIFY goes). */
  port: number;
  /**
   * Knot only: `zone` is a catalog (RFC 9432) to interpret; each member is transferred from the same
   * primary with the same key, and the catalog's SOA is checked every `refreshSeconds` (default 2).
   */
  catalog?: { refreshSeconds?: number };
  /** Accept NOTIFY only signed with `key` (Knot: the acl's key; BIND: allow-notify { key }; NSD: allow-notify … KEY). */
  notifySigned?: boolean;
  /** Let 127.0.0.1 transfer the zone from the secondary without a key (to compare its copy by AXFR). */
  transferOut?: boolean;
}

export interface Secondary {
  kind: 'knot' | 'nsd' | 'named';
  address: string;
  port: number;
  proc: Proc;
  dir: string;
  /** Everything it logged so far. */
  log(): string;
  stop(): Promise<void>;
}

function made(kind: Secondary['kind'], s: SecondarySpec, proc: Proc, dir: string): Secondary {
  return {
    kind,
    address: s.address,
    port: s.port,
    proc,
    dir,
    log: () => proc.stdout + proc.stderr,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Knot 3.2 (`master:` names the primary; `acl` lets its NOTIFY in). */
export function startKnotSecondary(s: SecondarySpec): Secondary {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-knot2-'));
  mkdirSync(join(dir, 'db'));
  const conf = `server:
  rundir: "${dir}"
  pidfile: "${join(dir, 'knot.pid')}"
  listen: 127.0.0.1@${s.port}
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
log:
  - target: stderr
    any: info
database:
  storage: "${join(dir, 'db')}"
control:
  listen: "${join(dir, 'knot.sock')}"
key:
  - id: ${s.key.name}
    algorithm: hmac-sha256
    secret: ${s.key.secret}
remote:
  - id: primary
    address: ${s.primary.host}@${s.primary.port}
    via: ${s.address}
    key: ${s.key.name}
acl:
  - id: notify-in
    address: ${s.primary.host}
    action: notify
${s.notifySigned ? `    key: ${s.key.name}\n` : ''}${s.transferOut ? '  - id: transfer-out\n    address: 127.0.0.1\n    action: transfer\n' : ''}${s.catalog ? catalogTemplate(dir, s.catalog.refreshSeconds ?? 2) : ''}zone:
  - domain: ${s.zone}
    storage: "${dir}"
    file: "secondary.zone"
    master: primary
    acl: ${s.transferOut ? '[notify-in, transfer-out]' : 'notify-in'}
    zonefile-sync: -1
${s.catalog ? catalogZoneLines(s.catalog.refreshSeconds ?? 2) : ''}`;
  writeFileSync(join(dir, 'knot.conf'), conf);
  const proc = startProcess('knotd', ['-c', join(dir, 'knot.conf')], { name: `knotd-secondary:${s.port}`, cwd: dir });
  return made('knot', s, proc, dir);
}

/** Knot 3.2 catalog consumer: the catalog zone's lines, and (before zone:) the template its members get. */
function catalogZoneLines(refresh: number): string {
  return `    catalog-role: interpret
    catalog-template: member
    refresh-min-interval: 2
    refresh-max-interval: ${refresh}
`;
}

function catalogTemplate(dir: string, refresh: number): string {
  return `template:
  - id: member
    storage: "${dir}"
    master: primary
    acl: notify-in
    zonefile-sync: -1
    refresh-min-interval: 2
    refresh-max-interval: ${refresh}
`;
}

/** NSD 4 (`request-xfr` with the key; `allow-notify` from the primary's address). */
export function startNsdSecondary(s: SecondarySpec): Secondary {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-nsd2-'));
  const conf = `server:
  ip-address: 127.0.0.1
  port: ${s.port}
  do-ip4: yes
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  pidfile: "${join(dir, 'nsd.pid')}"
  database: ""
  zonelistfile: "${join(dir, 'zone.list')}"
  xfrdfile: "${join(dir, 'xfrd.state')}"
  xfrdir: "${dir}"
  server-count: 1
  verbosity: 2
  rrl-ratelimit: 0
  reuseport: no
remote-control:
  control-enable: no
key:
  name: ${s.key.name}
  algorithm: hmac-sha256
  secret: "${s.key.secret}"
zone:
  name: ${s.zone}
  zonefile: "secondary.zone"
  request-xfr: ${s.primary.host}@${s.primary.port} ${s.key.name}
  allow-notify: ${s.primary.host} ${s.notifySigned ? s.key.name : 'NOKEY'}
  outgoing-interface: ${s.address}
${s.transferOut ? '  provide-xfr: 127.0.0.1 NOKEY\n' : ''}`;
  writeFileSync(join(dir, 'nsd.conf'), conf);
  const proc = startProcess('nsd', ['-d', '-c', join(dir, 'nsd.conf'), '-P', join(dir, 'nsd.pid')], { name: `nsd-secondary:${s.port}`, cwd: dir });
  return made('nsd', s, proc, dir);
}

/** BIND 9.18 (`primaries` with the key; `tls NAME` for XoT when `tls` is given). */
export function startNamedSecondary(s: SecondarySpec & { tls?: boolean }): Secondary {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-named2-'));
  const conf = `options {
  directory "${dir}";
  pid-file "${join(dir, 'named.pid')}";
  session-keyfile "${join(dir, 'session.key')}";
  managed-keys-directory "${dir}";
  listen-on port ${s.port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  transfer-source ${s.address};
};
controls { };
key "${s.key.name}" { algorithm hmac-sha256; secret "${s.key.secret}"; };
${s.tls ? 'tls xot { };' : ''}
zone "${s.zone}" {
  type secondary;
  file "secondary.zone";
  primaries port ${s.primary.port} { ${s.primary.host} key "${s.key.name}"${s.tls ? ' tls xot' : ''}; };
  allow-notify { ${s.notifySigned ? `key "${s.key.name}"` : s.primary.host}; };
  check-names ignore;
${s.transferOut ? '  allow-transfer { 127.0.0.1; };\n' : ''}};
`;
  writeFileSync(join(dir, 'named.conf'), conf);
  const proc = startProcess('named', ['-g', '-n', '1', '-4', '-c', join(dir, 'named.conf')], { name: `named-secondary:${s.port}`, cwd: dir });
  return made('named', s, proc, dir);
}
