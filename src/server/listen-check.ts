// What `fluxdns check` finds wrong with the listeners before serve tries to bind them: two listeners
// on one socket, addresses this host does not have, certificates that do not load or have expired.
import { X509Certificate } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { Config } from '../config/schema.js';
import { parseHostPort } from '../config/schema.js';
import { formatAddress, parseAddress } from '../net/cidr.js';
import { readCertificate } from '../transport/tls.js';

export interface ListenIssue {
  severity: 'error' | 'warning';
  /** Key path: listen[2].address */
  path: string;
  message: string;
}

/** Days before expiry from which check warns. */
export const CERT_WARN_DAYS = 30;

/** The socket a listener binds: UDP or TCP (tls and https are TCP), address and port. */
const socketOf = (proto: string, host: string, port: number) => `${proto === 'udp' ? 'udp' : 'tcp'} ${formatAddress(parseAddress(host)!)}:${port}`;

/** Whether `host` can be bound here: a wildcard, any loopback address (127/8 is local on Linux), or an interface's address. */
export function isLocalAddress(host: string, local: ReadonlySet<string> = localAddresses()): boolean {
  const a = parseAddress(host);
  if (!a) return false;
  const text = formatAddress(a);
  if (text === '0.0.0.0' || text === '::') return true;
  if (a.family === 4 && text.startsWith('127.')) return true;
  return local.has(text);
}

export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) {
    const a = parseAddress(i.address.replace(/%.*$/, ''));
    if (a) out.add(formatAddress(a));
  }
  return out;
}

export function checkListeners(config: Config, now = Date.now(), local: ReadonlySet<string> = localAddresses()): ListenIssue[] {
  const issues: ListenIssue[] = [];
  const seen = new Map<string, number>();
  config.listen.forEach((l, i) => {
    const path = `listen[${i}]`;
    const hp = parseHostPort(l.address)!;
    const sock = socketOf(l.proto, hp.host, hp.port);
    const first = seen.get(sock);
    // Port 0 asks the kernel for a free port each time: never a clash.
    if (first !== undefined && hp.port !== 0) {
      const other = config.listen[first]!;
      issues.push({ severity: 'error', path: `${path}.address`, message: `${l.proto} ${l.address} needs the same ${sock.split(' ')[0]!.toUpperCase()} socket as listen[${first}] (${other.proto} ${other.address}); a port serves one protocol` });
    } else seen.set(sock, i);
    if (!isLocalAddress(hp.host, local)) issues.push({ severity: 'error', path: `${path}.address`, message: `${hp.host} is not an address of this host (interfaces have ${[...local].join(', ')}); binding it would fail` });
    if (l.cert && l.key) {
      try {
        const { cert } = readCertificate({ cert: l.cert, key: l.key });
        const x = new X509Certificate(cert);
        const until = Date.parse(x.validTo);
        const subject = x.subject.replace(/\n/g, ', ');
        if (until < now) issues.push({ severity: 'error', path: `${path}.cert`, message: `${l.cert}: certificate (${subject}) expired on ${new Date(until).toISOString()}` });
        else if (until - now < CERT_WARN_DAYS * 86400_000) issues.push({ severity: 'warning', path: `${path}.cert`, message: `${l.cert}: certificate (${subject}) expires on ${new Date(until).toISOString()}, in ${Math.floor((until - now) / 86400_000)} days` });
        if (Date.parse(x.validFrom) > now) issues.push({ severity: 'error', path: `${path}.cert`, message: `${l.cert}: certificate (${subject}) is not valid before ${new Date(Date.parse(x.validFrom)).toISOString()}` });
      } catch (e) {
        issues.push({ severity: 'error', path: `${path}.cert`, message: (e as Error).message });
      }
    }
  });
  return issues;
}
