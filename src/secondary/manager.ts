// The secondary role (RFC 1034 §4.3.5, RFC 1996): per zone, SOA timers, NOTIFY-triggered checks, IXFR with AXFR fallback, expiry.
import { statSync, utimesSync } from 'node:fs';
import type { Config, ZoneConfig } from '../config/schema.js';
import type { Logger } from '../observe/log.js';
import { keyRingOf } from '../tsig/keys.js';
import { RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import { checkZoneReport, formatZoneIssue } from '../zone/check.js';
import { loadZoneFile } from '../zone/parser.js';
import { verifyZonemd } from '../zone/zonemd.js';
import { parsePrimaryAddress } from './schema.js';
import { serialGt } from '../transfer/serial.js';
import { applyDiffs, DiffError, writeFileAtomic, zoneFileText } from './zone-data.js';
import { axfr, ixfr, querySoaVia, XfrError, type PrimaryEndpoint, type XfrResult } from './xfr-client.js';

/** Where a transferred zone goes: the serving process(es). */
export interface ZoneSink {
  /** The zone's file was rewritten with a new version (records given): serve it now. */
  install(zone: ZoneConfig, records: ResourceRecord[]): void;
  /** The zone expired (RFC 1035 §3.3.13): stop serving it; its names get SERVFAIL. */
  expire(zone: ZoneConfig): void;
}


export type SecondaryState = 'loading' | 'fresh' | 'retrying' | 'expired';

export interface SecondaryStatus {
  zone: string;
  state: SecondaryState;
  serial?: number;
  /** When the primary last confirmed our copy (ISO 8601). */
  lastRefresh?: string;
  lastError?: string;
  /** How the last new version arrived. */
  lastTransfer?: { via: 'IXFR' | 'AXFR'; serial: number; at: string; primary: string; messages: number };
}

/** RFC 1035 §3.3.13 timers as used here; tiny values are allowed (tests), but at least 1 s. */
function timers(soa: SOARdata | undefined): { refresh: number; retry: number; expire: number } {
  // Before the first transfer: retry quickly (BIND and Knot start with their own defaults too).
  if (!soa) return { refresh: 5, retry: 5, expire: Infinity };
  return { refresh: Math.max(1, soa.refresh), retry: Math.max(1, soa.retry), expire: Math.max(1, soa.expire) };
}

class SecondaryZone {
  records: ResourceRecord[] | undefined;
  soa: ResourceRecord<SOARdata> | undefined;
  /** ms since the epoch; expiry counts from here. */
  lastRefresh = 0;
  state: SecondaryState = 'loading';
  lastError: string | undefined;
  lastTransfer: SecondaryStatus['lastTransfer'];
  private timer: NodeJS.Timeout | undefined;
  private expireTimer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    public cfg: ZoneConfig,
    public endpoints: PrimaryEndpoint[],
    private readonly sink: ZoneSink,
    private readonly log: Logger,
    private readonly fudge: number,
  ) {}

  /** Reads the kept file (if any): serve it when not expired, then check the primary at once. */
  start(): void {
    try {
      const st = statSync(this.cfg.file);
      const parsed = loadZoneFile(this.cfg.file, this.cfg.name);
      this.records = parsed.records;
      this.soa = parsed.records.find((r) => r.type === RRType.SOA) as ResourceRecord<SOARdata> | undefined;
      // The file's modification time is when the primary last confirmed it (we touch it on every check).
      this.lastRefresh = st.mtimeMs;
      this.state = 'fresh';
      const t = timers(this.soa?.data);
      if (Date.now() - this.lastRefresh >= t.expire * 1000) this.doExpire();
      else this.armExpire();
    } catch {
      // No file yet (or unreadable): nothing served until the first transfer.
      this.records = undefined;
    }
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.expireTimer);
  }

  /** A NOTIFY (RFC 1996 §3.7): check the primary now; if a check is running, once more after it. */
  notify(): void {
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  status(): SecondaryStatus {
    return {
      zone: this.cfg.name,
      state: this.state,
      serial: this.soa?.data.serial,
      lastRefresh: this.lastRefresh ? new Date(this.lastRefresh).toISOString() : undefined,
      lastError: this.lastError,
      lastTransfer: this.lastTransfer,
    };
  }

  private schedule(seconds: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), seconds * 1000);
    this.timer.unref?.();
  }

  private armExpire(): void {
    clearTimeout(this.expireTimer);
    const t = timers(this.soa?.data);
    if (!Number.isFinite(t.expire)) return;
    const left = this.lastRefresh + t.expire * 1000 - Date.now();
    this.expireTimer = setTimeout(() => this.doExpire(), Math.max(0, left));
    this.expireTimer.unref?.();
  }

  private doExpire(): void {
    if (this.stopped || this.state === 'expired') return;
    this.state = 'expired';
    this.log.error('secondary zone expired: answering SERVFAIL until a primary answers', { zone: this.cfg.name, serial: this.soa?.data.serial, lastRefresh: new Date(this.lastRefresh).toISOString() });
    this.sink.expire(this.cfg);
  }

  /** One refresh cycle: each primary in turn until one answers. */
  async refresh(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let ok = false;
    try {
      for (const p of this.endpoints) {
        try {
          await this.refreshFrom(p);
          ok = true;
          break;
        } catch (e) {
          this.lastError = (e as Error).message;
          this.log.warn('secondary refresh failed', { zone: this.cfg.name, primary: `${p.host}:${p.port}`, err: this.lastError });
        }
      }
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    const t = timers(this.soa?.data);
    if (ok) {
      this.lastError = undefined;
      this.schedule(this.again ? 0 : t.refresh);
    } else {
      if (this.state !== 'expired' && this.records) this.state = 'retrying';
      this.schedule(this.again ? 0 : t.retry);
    }
    this.again = false;
  }

  private async refreshFrom(p: PrimaryEndpoint): Promise<void> {
    const primary = `${p.host}:${p.port}`;
    const { soa: theirs, via: asked } = await querySoaVia(p, this.cfg.name, { fudge: this.fudge });
    this.log.info('primary SOA checked', { zone: this.cfg.name, primary, via: asked, serial: theirs.data.serial });
    if (this.soa && this.records && !serialGt(theirs.data.serial, this.soa.data.serial)) {
      if (theirs.data.serial !== this.soa.data.serial) this.log.warn('primary has an older serial than ours; keeping ours', { zone: this.cfg.name, primary, ours: this.soa.data.serial, theirs: theirs.data.serial });
      this.confirmed();
      return;
    }
    let result: XfrResult | undefined;
    let records: ResourceRecord[] | undefined;
    if (this.soa && this.records) {
      try {
        result = await ixfr(p, this.cfg.name, this.soa, { fudge: this.fudge });
        if (result.kind === 'current') {
          // RFC 1995 §2: a lone SOA says we are current. One newer than ours gives no data (the primary
          // cannot send this difference): confirming would keep the old version, refreshed and never expiring.
          if (serialGt(result.soa.data.serial, this.soa.data.serial)) throw new XfrError(`${this.cfg.name} IXFR from ${primary}: answered by its SOA alone, serial ${result.soa.data.serial}, newer than ours ${this.soa.data.serial}`);
          this.confirmed();
          return;
        }
        records = result.kind === 'full' ? result.records : applyDiffs(this.records, result.diffs, result.soa);
      } catch (e) {
        // RFC 1995 §4 and common practice: an IXFR the primary refuses or that does not apply is retried as AXFR.
        if (!(e instanceof DiffError) && !(e instanceof XfrError)) throw e;
        if (e instanceof XfrError && /TSIG/.test(e.message)) throw e;
        this.log.info('IXFR failed; falling back to AXFR', { zone: this.cfg.name, primary, err: e.message });
        result = undefined;
        records = undefined;
      }
    }
    if (!records) {
      result = await axfr(p, this.cfg.name, { fudge: this.fudge });
      records = (result as Extract<XfrResult, { kind: 'full' }>).records;
    }
    const r = result!;
    const via = r.kind === 'incremental' ? 'IXFR' : r.kind === 'full' ? r.via : 'IXFR';
    // The SOA query said newer; a transfer that is not (another server behind the address, a primary
    // restored from an old copy) would take the zone back in time: refused, as an older SOA is above.
    if (this.soa && this.records && !serialGt(r.soa.data.serial, this.soa.data.serial)) {
      throw new XfrError(`${this.cfg.name} ${via} from ${primary}: serial ${r.soa.data.serial} is not newer than ours; keeping serial ${this.soa.data.serial}`);
    }
    this.accept(records, r.soa, { via, primary, messages: r.messages });
  }

  /** Checks a received version; serves it and writes it to the zone's file, or keeps the old one. */
  private accept(records: ResourceRecord[], soa: ResourceRecord<SOARdata>, how: { via: 'IXFR' | 'AXFR'; primary: string; messages: number }): void {
    const name = this.cfg.name;
    const report = checkZoneReport({ records, sources: [], warnings: [] }, name);
    if (report.errors.length > 0) throw new XfrError(`${name} serial ${soa.data.serial} from ${how.primary} is not a valid zone; keeping serial ${this.soa?.data.serial ?? 'none'}: ${report.errors.map(formatZoneIssue).join('; ')}`);
    const zonemd = verifyZonemd(name, records);
    if (zonemd.status === 'invalid') throw new XfrError(`${name} serial ${soa.data.serial} from ${how.primary}: ${zonemd.reason}; keeping serial ${this.soa?.data.serial ?? 'none'} (RFC 8976 §4)`);
    writeFileAtomic(this.cfg.file, zoneFileText(name, records, how.primary));
    this.records = records;
    this.soa = soa;
    this.lastRefresh = Date.now();
    this.state = 'fresh';
    this.lastTransfer = { via: how.via, serial: soa.data.serial, at: new Date().toISOString(), primary: how.primary, messages: how.messages };
    this.sink.install(this.cfg, records);
    this.armExpire();
    this.log.info('secondary zone transferred', { zone: name, serial: soa.data.serial, via: how.via, primary: how.primary, records: records.length, messages: how.messages, zonemd: zonemd.status });
  }

  /** The primary holds our serial: the copy is fresh again (and an expired zone is served again). */
  private confirmed(): void {
    this.lastRefresh = Date.now();
    try {
      const now = new Date();
      utimesSync(this.cfg.file, now, now);
    } catch {
      /* the file's time only matters across a restart */
    }
    if (this.state === 'expired' && this.records) this.sink.install(this.cfg, this.records);
    this.state = 'fresh';
    this.armExpire();
  }
}

/** Endpoints of a zone's primaries, keys looked up in the configuration's key ring. */
export function endpointsOf(zc: ZoneConfig, config: Config): PrimaryEndpoint[] {
  const ring = keyRingOf(config.tsig);
  return (zc.primaries ?? []).map((p) => {
    const spec = typeof p === 'string' ? { address: p } : p;
    const { host, port } = parsePrimaryAddress(spec.address)!;
    const e: PrimaryEndpoint = { host, port };
    if ('tsigKey' in spec && spec.tsigKey) e.key = ring.get(spec.tsigKey);
    if ('tls' in spec && spec.tls) e.tls = spec.tls === true ? {} : { ca: spec.tls.ca, serverName: spec.tls.serverName };
    return e;
  });
}

/** Every secondary zone of one configuration. Runs in one process only (the primary of workers: N). */
export class SecondaryManager {
  private readonly zones = new Map<string, SecondaryZone>();

  constructor(
    private readonly sink: ZoneSink,
    private readonly log: Logger,
  ) {}

  /** Starts (or, on reload, reconciles) the secondary zones of `config`. */
  configure(config: Config): void {
    const wanted = new Map(config.zones.filter((z) => z.primaries).map((z) => [z.name.toLowerCase(), z]));
    for (const [k, z] of this.zones) {
      if (!wanted.has(k)) {
        z.stop();
        this.zones.delete(k);
      }
    }
    for (const [k, zc] of wanted) {
      const existing = this.zones.get(k);
      if (existing) {
        existing.cfg = zc;
        existing.endpoints = endpointsOf(zc, config);
        // A reload re-read the file; an expired zone stays unserved until a primary answers.
        if (existing.state === 'expired') this.sink.expire(zc);
        continue;
      }
      const z = new SecondaryZone(zc, endpointsOf(zc, config), this.sink, this.log, config.tsig.fudge);
      this.zones.set(k, z);
      z.start();
    }
  }

  /** A NOTIFY for `zone` arrived (already checked against the zone's primaries or allowNotify). */
  notify(zone: string): boolean {
    const z = this.zones.get(zone.toLowerCase());
    if (!z) return false;
    this.log.info('NOTIFY received; checking the primary', { zone: z.cfg.name });
    z.notify();
    return true;
  }

  status(): SecondaryStatus[] {
    return [...this.zones.values()].map((z) => z.status());
  }

  /** What a worker that just started must apply: load every transferred zone, drop every expired one. */
  catchUp(): { type: 'secondary'; op: 'load' | 'expire'; zone: string }[] {
    return [...this.zones.values()]
      .filter((z) => z.records !== undefined || z.state === 'expired')
      .map((z) => ({ type: 'secondary' as const, op: z.state === 'expired' ? ('expire' as const) : ('load' as const), zone: z.cfg.name }));
  }

  stop(): void {
    for (const z of this.zones.values()) z.stop();
    this.zones.clear();
  }
}
