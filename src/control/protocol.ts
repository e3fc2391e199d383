// The control protocol: one JSON request line, one JSON reply line, over the local control socket.

/** What `fluxdns ctl` can ask a running server. */
export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'reload'; zone?: string }
  | { cmd: 'zone-status'; zone?: string }
  | { cmd: 'cache-flush'; name?: string }
  /** Write a primary zone's served version (with its UPDATEs) to its file. */
  | { cmd: 'zone-flush'; zone: string }
  | { cmd: 'stats' }
  /** Where the capability admin API listens (and its token), for `ctl caps …`. */
  | { cmd: 'admin' };

export type ControlReply = { ok: true; data: unknown } | { ok: false; error: string; data?: unknown };

export type ControlHandler = (req: ControlRequest) => Promise<ControlReply>;

/**
 * Timeouts are on silence, not on the whole command: a reload of a large zone may take longer than
 * any fixed bound. While a command runs the server writes a newline every CONTROL_KEEPALIVE_MS (JSON
 * allows whitespace before the reply), and a worker reports progress to the primary every
 * WORKER_PROGRESS_MS; a side silent for CONTROL_IDLE_MS is taken as gone.
 */
export const CONTROL_IDLE_MS = 10_000;
export const CONTROL_KEEPALIVE_MS = 2_000;
export const WORKER_PROGRESS_MS = 2_000;

/**
 * Exit codes of `fluxdns ctl`, which scripts may rely on (README "Operating fluxdns"):
 * 0 done; 1 the server refused or failed the command (a zone that does not load, an unknown zone,
 * nothing to revoke); 2 a usage error; 3 no server answers on the control socket.
 */
export const CTL_EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

const CMDS = new Set(['status', 'reload', 'zone-status', 'zone-flush', 'cache-flush', 'stats', 'admin']);

/** Validates a decoded request line; a string says what was wrong with it. */
export function parseRequest(value: unknown): ControlRequest | string {
  if (typeof value !== 'object' || value === null) return 'expected a JSON object';
  const v = value as Record<string, unknown>;
  if (typeof v['cmd'] !== 'string' || !CMDS.has(v['cmd'])) return `expected "cmd" to be one of ${[...CMDS].join(', ')}`;
  for (const k of ['zone', 'name']) if (v[k] !== undefined && typeof v[k] !== 'string') return `expected "${k}" to be a string`;
  if (v['cmd'] === 'zone-flush' && typeof v['zone'] !== 'string') return 'expected "zone" for zone-flush';
  return v as ControlRequest;
}
