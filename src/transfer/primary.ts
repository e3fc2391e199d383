// The primary role across reloads: per zone its journal, the serial checks of a reload (`serial:`),
// NOTIFY after each new serial, replay of unflushed differences at start, and writing the zone file back.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import type { Config, ZoneConfig } from '../config/schema.js';
import type { Logger } from '../observe/log.js';
import { nameKey } from '../wire/name.js';
import { printZone } from '../zone/print.js';
import { ZoneSet, type Zone } from '../zone/tree.js';
import { applyDiff, rebuildWithSoa, sameData, withSerial, zoneDiff } from './diff.js';
import { Journal } from './journal.js';
import { Notifier, pendingKey, type NotifierOptions, type NotifyTarget } from './notify.js';
import { notifyTargetParts, parseTarget } from './schema.js';
import { keyRingOf } from '../tsig/keys.js';
import { allRecords } from './records.js';
import { nextSerial, serialGt } from './serial.js';
import { zoneConfigOf, type DiffSource, type ZoneDiff } from './unit.js';

interface ZoneState {
  journal: Journal | undefined;
  /** SHA-256 of the zone file as last read or written: an unchanged file is not compared again. */
  fileHash: string;
  /** The serial written in the zone file: replay at start begins there. */
  fileSerial: number;
  /** The served serial whose data the file holds; a served serial past it has updates not yet in the file. */
  base: number;
}

export interface PrimaryOptions {
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /**
   * This process writes journals and sends NOTIFY (workers: 1, or worker 1 of N). The other workers
   * read the journals for IXFR and replay them at start, but never write.
   */
  writer: boolean;
  /** NOTIFY resend settings and fudge; absent, they come from the configuration (`notify:`, `tsig.fudge`). */
  notify?: NotifierOptions;
  now?: () => number;
}

/** The configuration's NOTIFY settings in the Notifier's terms. */
function notifierOptions(config: Config): NotifierOptions {
  const n = config.notify;
  return { maxTries: n.tries, firstRetryMs: n.firstRetry * 1000, maxRetryMs: n.maxRetry * 1000, fudge: config.tsig.fudge };
}

/** A zone whose differences someone may ask for (IXFR) or whose updates must be journaled. */
function journalled(zc: ZoneConfig): boolean {
  return (zc.allowTransfer?.length ?? 0) > 0 || (zc.allowUpdate?.length ?? 0) > 0 || zc.notify.length > 0;
}

/** The zone's `notify` items with their addresses parsed and keys looked up (the schema checked both). */
function notifyTargets(zc: ZoneConfig, config: Config): NotifyTarget[] {
  const ring = keyRingOf(config.tsig);
  return zc.notify.flatMap((item) => {
    const { address, tsigKey } = notifyTargetParts(item);
    const hp = parseTarget(address);
    const key = tsigKey === undefined ? undefined : ring.get(tsigKey);
    return hp ? [{ target: address, host: hp.host, port: hp.port, ...(key ? { key } : {}) }] : [];
  });
}

export function journalPath(zc: ZoneConfig): string {
  return zc.journal.file ?? `${zc.file}.jnl`;
}

/** Modification time in ms, 0 when the file cannot be read. */
function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function hashFile(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return '';
  }
}

export class Primary implements DiffSource {
  private readonly states = new Map<string, ZoneState>();
  private readonly notifier: Notifier | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: PrimaryOptions) {
    this.notifier = opts.writer ? new Notifier(opts.logger as Logger, opts.notify) : undefined;
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** At start: opens each zone's journal and replays the differences the zone file does not hold yet. */
  start(zones: ZoneSet, config: Config): ZoneSet {
    this.configureNotifier(config);
    return new ZoneSet(zones.zones.map((z) => this.adopt(z, config)));
  }

  private adopt(zone: Zone, config: Config): Zone {
    const zc = zoneConfigOf(config, zone.originKey);
    if (!zc) return zone;
    const log = this.opts.logger;
    const file = journalPath(zc);
    let journal: Journal | undefined;
    try {
      const { journal: j, report } = Journal.open(file, zc.journal.maxSize, !this.opts.writer);
      journal = j;
      if (report.problem) log.warn('journal damaged: cut back to its last whole entry; IXFR from before falls back to AXFR', { zone: zone.origin, journal: file, problem: report.problem, bytesCut: report.cut });
    } catch (e) {
      log.error('journal cannot be opened: IXFR answers with full transfers and UPDATE is refused', { zone: zone.origin, journal: file, err: (e as Error).message });
    }
    const fileSerial = zone.serial;
    let served = zone;
    const last = journal?.lastSerial;
    if (journal && last !== undefined && last !== zone.serial) {
      const diffs = journal.diffs(zone.serial, last);
      if (diffs) {
        // The file changed after the journal's last entry while the journal held updates it lacks: an edit
        // made without `fluxdns zone flush` first. The replay puts the journal's additions back even where
        // the edit deleted them; say so (README, "Dynamic updates").
        const edited = mtimeOf(zc.file) > mtimeOf(file);
        if (edited) log.warn('zone file edited after its journal\'s last entry: the journal is replayed over the edit, so records the journal added come back even if the edit deleted them; run "fluxdns zone flush" before editing a zone that takes updates', { zone: zone.origin, file: zc.file, journal: file, fileSerial: zone.serial, journalTo: last });
        for (const d of diffs) served = applyDiff(served, d);
        log.info('journal replayed over the zone file', { zone: zone.origin, from: zone.serial, to: served.serial, differences: diffs.length });
      } else if (this.opts.writer) {
        log.warn('journal does not continue from the zone file: started afresh (IXFR from older serials falls back to AXFR)', { zone: zone.origin, fileSerial: zone.serial, journalFrom: journal.firstSerial, journalTo: last });
        journal.reset();
      }
    }
    // The load hashed the bytes it read (Zone.fileHash): no second read and hash of the file here.
    this.states.set(zone.originKey, { journal, fileHash: zone.fileHash ?? hashFile(zc.file), fileSerial, base: zone.serial });
    return served;
  }

  /**
   * After a reload read the files again: each zone whose data changed must have a raised serial (or
   * gets one under `serial: increment | unixtime`); a zone that breaks the rule keeps its old version.
   * Each new serial is journaled and notified. `only` limits the work to one zone (ctl reload ZONE).
   */
  reconcile(before: ZoneSet, after: ZoneSet, config: Config, only?: string): { zones: ZoneSet; errors: string[] } {
    this.configureNotifier(config);
    const errors: string[] = [];
    const out: Zone[] = [];
    for (const z of after.zones) {
      if (only !== undefined && z.originKey !== only) {
        out.push(z);
        continue;
      }
      const old = before.find(z.origin);
      const st = this.states.get(z.originKey);
      const zc = zoneConfigOf(config, z.originKey);
      if (!old || old.originKey !== z.originKey || !st || !zc) {
        out.push(zc ? this.adopt(z, config) : z);
        continue;
      }
      // The loader thread hashed the file it read (Zone.fileHash): no 30 MB read and hash here.
      const hash = z.fileHash ?? hashFile(zc.file);
      if (old.serial !== st.base) {
        // Updates are in memory and the journal but not in the file: the file cannot be the new truth.
        if (hash !== st.fileHash) {
          const msg = `zone ${z.origin}: has dynamic updates not yet written to ${zc.file}; run "fluxdns zone flush ${z.origin}" (or stop the server cleanly) before editing the file; still serving serial ${old.serial}`;
          errors.push(msg);
        }
        out.push(old);
        continue;
      }
      if (hash !== '' && hash === st.fileHash) {
        out.push(old);
        continue;
      }
      const fileSerial = z.serial;
      let next = z;
      if (!serialGt(z.serial, old.serial)) {
        // Comparing every record costs as much as the load itself for a large zone: done only when the
        // serial was not raised, where it decides between "unchanged" and "changed without a new serial".
        const same = sameData(old, z);
        if (z.serial === old.serial && same) {
          st.fileHash = hash;
          out.push(old);
          continue;
        }
        if (zc.serial === 'manual' || same) {
          const msg = same
            ? `zone ${z.origin}: serial ${z.serial} is not above the served ${old.serial} (RFC 1982); keeping serial ${old.serial}`
            : `zone ${z.origin}: the data changed but serial ${z.serial} was not raised above ${old.serial}; the new version is refused (raise the serial, or set serial: increment | unixtime); still serving serial ${old.serial}`;
          errors.push(msg);
          out.push(old);
          continue;
        }
        next = rebuildWithSoa(z, withSerial(z.soa, nextSerial(old.serial, zc.serial, this.now())));
        this.opts.logger.info('serial raised by policy', { zone: z.origin, policy: zc.serial, from: old.serial, to: next.serial });
      }
      this.record(st, zc, old, next, config);
      st.fileHash = hash;
      st.fileSerial = fileSerial;
      st.base = next.serial;
      out.push(next);
    }
    for (const e of errors) this.opts.logger.error('zone reload refused', { error: e });
    // NOTIFYs still being resent to targets the new configuration dropped stop here.
    this.notifier?.retain(new Set(config.zones.flatMap((zc) => notifyTargets(zc, config).map((t) => pendingKey(zc.name, t)))));
    return { zones: new ZoneSet(out), errors };
  }

  /** The configuration's NOTIFY settings, unless the options fixed them. */
  private configureNotifier(config: Config): void {
    if (!this.opts.notify) this.notifier?.configure(notifierOptions(config));
  }

  /** Journals the difference from `old` to `next` and notifies the secondaries. */
  private record(st: ZoneState, zc: ZoneConfig, old: Zone, next: Zone, config: Config): void {
    if (!this.opts.writer) return;
    // Nobody may transfer or update this zone: no IXFR will ask for the difference, and computing it
    // walks both versions on the serving thread (minutes for a million records). The next difference
    // then starts the journal afresh, which is what an IXFR from before would get anyway (AXFR).
    if (!journalled(zc)) return;
    const d: ZoneDiff = zoneDiff(old, next);
    try {
      st.journal?.append(d, st.fileSerial);
    } catch (e) {
      this.opts.logger.error('journal append failed: IXFR to this serial falls back to AXFR', { zone: next.origin, err: (e as Error).message });
    }
    this.notify(zc, next, config);
  }

  private notify(zc: ZoneConfig, zone: Zone, config: Config): void {
    if (zc.notify.length > 0) this.notifier?.notify(zone.origin, zone.soa, notifyTargets(zc, config));
  }

  /**
   * An UPDATE's new version (src/update): journaled and synced to disk before returning, so the caller
   * may acknowledge it; then notified. Throws when the journal cannot take it (the update is refused).
   */
  commitUpdate(old: Zone, next: Zone, diff: ZoneDiff, config: Config): void {
    const st = this.states.get(old.originKey);
    const zc = zoneConfigOf(config, old.originKey);
    if (!st?.journal || !zc || !this.opts.writer) throw new Error(`zone ${old.origin} has no writable journal`);
    st.journal.append(diff, st.fileSerial);
    this.notify(zc, next, config);
  }

  diffsSince(zone: Zone, serial: number): readonly ZoneDiff[] | undefined {
    const j = this.states.get(zone.originKey)?.journal;
    if (!j) return undefined;
    try {
      if (!this.opts.writer) j.refresh();
      return j.diffs(serial, zone.serial);
    } catch {
      return undefined;
    }
  }

  /** Zones with updates not yet in their file. */
  dirty(zones: ZoneSet): Zone[] {
    return zones.zones.filter((z) => {
      const st = this.states.get(z.originKey);
      return st !== undefined && st.base !== z.serial;
    });
  }

  /**
   * Writes the served version of `zone` to its file (temporary file, fsync, rename): every record in
   * canonical order, absolute names. Comments, $INCLUDE and the file's layout are lost.
   */
  flush(zone: Zone, config: Config): string {
    const zc = zoneConfigOf(config, zone.originKey);
    const st = this.states.get(zone.originKey);
    if (!zc || !st) throw new Error(`${zone.origin}: not a primary zone`);
    const text = `; ${zone.origin} serial ${zone.serial}, written by fluxdns from memory (comments and layout of the original are not kept)\n$ORIGIN ${zone.origin}\n${printZone([...allRecords(zone)]).join('\n')}\n`;
    const tmp = `${zc.file}.fluxdns-tmp`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, zc.file);
    st.fileHash = createHash('sha256').update(text).digest('hex');
    st.fileSerial = zone.serial;
    st.base = zone.serial;
    this.opts.logger.info('zone file written', { zone: zone.origin, file: zc.file, serial: zone.serial });
    return zc.file;
  }

  /** Clean shutdown: writes back every zone with updates not yet in its file, closes the journals. */
  close(zones: ZoneSet, config: Config): void {
    if (this.opts.writer) {
      for (const z of this.dirty(zones)) {
        try {
          this.flush(z, config);
        } catch (e) {
          this.opts.logger.error('zone file not written at shutdown (the journal still holds the updates)', { zone: z.origin, err: (e as Error).message });
        }
      }
    }
    for (const st of this.states.values()) st.journal?.close();
    this.notifier?.close();
  }

  /** The zone in `zones` with apex `name`, for `zone flush NAME`. */
  static zoneNamed(zones: ZoneSet, name: string): Zone | undefined {
    const key = nameKey(name.endsWith('.') ? name : name + '.');
    const z = zones.find(key);
    return z && z.originKey === key ? z : undefined;
  }
}
