// The audit log (JSON lines): every grant, admitted flow, denial with its reason, revocation and expiry.
import { createWriteStream, type WriteStream } from 'node:fs';

export type AuditEvent =
  | { event: 'grant'; resolver: string; ecs?: string; service: string; address: string; ttl: number; scope: string; lease: string; reused: boolean; honeypot?: boolean; exceptions?: string[]; shared?: boolean; unrecorded?: string }
  | { event: 'deny'; resolver: string; ecs?: string; service: string; reason: string; onDeny: string }
  | { event: 'flow'; source: string; address: string; port: number; proto: string; lease: string; service: string; phase: string; honeypot: boolean }
  | { event: 'flow-denied'; source: string; address: string; port: number; proto: string; reason: string; lease?: string }
  | { event: 'revoke'; lease: string; service: string; address: string; resolver: string; cut: number; by: string }
  | { event: 'expire'; lease: string; service: string; address: string; hosts: number }
  | { event: 'exhausted'; service: string; pool: string; rule: string }
  | { event: 'scanner'; source: string; attempts: number; since: number; until: number };

export interface AuditLog {
  write(e: AuditEvent): void;
  /** Reopens the file (SIGHUP after logrotate moved it); nothing for a log without a file. */
  reopen?(): void;
  close(): Promise<void>;
}

/**
 * Appends to a buffered stream: the answer never waits for the disk (a grant costs one string
 * concatenation and a buffered write). Lines carry the time as ISO 8601 and as ms since the epoch.
 */
export function fileAudit(path: string, now: () => number = Date.now, onError: (err: Error) => void = () => {}): AuditLog {
  const open = (): WriteStream => {
    const s = createWriteStream(path, { flags: 'a' });
    s.on('error', onError);
    return s;
  };
  let out = open();
  return {
    write(e) {
      const t = now();
      out.write(JSON.stringify({ time: new Date(t).toISOString(), ms: t, ...e }) + '\n');
    },
    // Lines buffered for the old file are flushed to it (end); new ones go to a file at `path` again.
    reopen() {
      const old = out;
      out = open();
      old.end();
    },
    close: () => new Promise((r) => out.end(() => r())),
  };
}

/** Keeps events in memory (tests, `fluxdns explain`), or discards them without a file. */
export class MemoryAudit implements AuditLog {
  readonly events: AuditEvent[] = [];
  constructor(private readonly keep = true) {}
  write(e: AuditEvent): void {
    if (this.keep) this.events.push(e);
  }
  async close(): Promise<void> {}
}
