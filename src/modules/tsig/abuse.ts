// TSIG abuse limits: BADSIG/BADKEY/BADTIME answers rate-limited per client prefix (a MAC-guessing
// flood gets a few answers, then silence), and a replay cache of (key, MAC) pairs seen within the
// fudge window, so one captured signed query cannot be sent again from another address.
import type { Config } from '../../config/schema.js';
import { perConfig } from '../../config/per-config.js';
import type { TsigAbuseCounters } from '../../observe/attack-counters.js';
import { prefixKey } from '../../transport/conn.js';

/** Prefixes whose error budget is tracked at most; the oldest go first (bounded memory under spoofing). */
const MAX_BUCKETS = 50_000;
/** Signed queries remembered at most; beyond, the oldest are forgotten first. */
const MAX_SEEN = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

interface Seen {
  /** The address that sent it first: the same address sending it again is a retransmission. */
  from: string;
  /** Seconds since the epoch after which the query is outside every window (time signed + fudge). */
  until: number;
}

/**
 * Whether replays are refused: `refuse`, `allow`, or `auto` — refused when something grants on a
 * valid TSIG (a service with `require: tsig`, a policy matching `tsig` or `tsigKey`), since only
 * then does a replayed signature buy the replayer something.
 */
export const replayRefused = perConfig((config: Config): boolean => {
  const mode = config.tsig.replay;
  if (mode !== 'auto') return mode === 'refuse';
  if (config.services.some((s) => s.require === 'tsig')) return true;
  return config.policies.some((p) => JSON.stringify(p).includes('"tsig'));
});

export class TsigAbuse {
  private readonly buckets = new Map<string, Bucket>();
  private readonly seen = new Map<string, Seen>();

  constructor(readonly counters: TsigAbuseCounters = { errorsAnswered: 0, errorsDropped: 0, replaysRefused: 0 }) {}

  /** One TSIG error answer to `remoteAddress` at `rate` per second per prefix (one second's burst): true to send it. */
  allowError(remoteAddress: string, rate: number, nowMs: number): boolean {
    const prefix = prefixKey(remoteAddress);
    let b = this.buckets.get(prefix);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: rate, at: nowMs };
      this.buckets.set(prefix, b);
    } else {
      b.tokens = Math.min(rate, b.tokens + (Math.max(0, nowMs - b.at) * rate) / 1000);
      b.at = nowMs;
    }
    if (b.tokens < 1) {
      this.counters.errorsDropped++;
      return false;
    }
    b.tokens -= 1;
    this.counters.errorsAnswered++;
    return true;
  }

  /**
   * Records a verified signed query; true when it is a replay: the same key and MAC seen from another
   * address while the signature is still within its window. The same address sending it again (a
   * UDP retransmission, as dig and nsupdate do) is not a replay: the answer goes back to the sender.
   */
  isReplay(keyName: string, mac: Uint8Array, remoteAddress: string, timeSigned: number, fudge: number, now: number): boolean {
    const id = `${keyName} ${Buffer.from(mac.buffer, mac.byteOffset, mac.byteLength).toString('base64')}`;
    const prior = this.seen.get(id);
    if (prior && prior.until >= now) {
      if (prior.from === remoteAddress) return false;
      this.counters.replaysRefused++;
      return true;
    }
    this.expire(now);
    if (this.seen.size >= MAX_SEEN) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(id, { from: remoteAddress, until: timeSigned + fudge });
    return false;
  }

  get remembered(): number {
    return this.seen.size;
  }

  /** Drops a few expired entries from the front (insertion order is roughly arrival order). */
  private expire(now: number): void {
    let n = 0;
    for (const [k, v] of this.seen) {
      if (n++ >= 8 || v.until >= now) break;
      this.seen.delete(k);
    }
  }
}
