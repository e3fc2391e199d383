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
import { basePath, loadBase, readBaseInfo, writeBase, type BaseInfo } from './journal-base.js';
import { isCatalogZone } from '../catalog/catalog.js';
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
  /** The served serial whose data the file holds; a served serial past it has updates not yet in the file. */
  base: number;
  /** What the journal's base on disk holds (journal-base.ts), undefined when there is none. */
  baseInfo: BaseInfo | undefined;
}

export interface PrimaryOptions {
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /**
   * This process writes journals, applies UPDATEs and sends NOTIFY (workers: 1, or the owner of updates
   * of workers: N, src/update/cluster.ts). The other workers read the journals for IXFR, replay them at
   * start and catch up with them after each UPDATE (catchUp), but never write.
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

/** The zone as a master file: one record a line, canonical order, absolute names (flush, the catalog's base). */
function zoneText(zone: Zone): string {
  return `; ${zone.origin} serial ${zone.serial}, written by fluxdns from memory (comments and layout of the original are not kept)\n$ORIGIN ${zone.origin}\n${printZone([...allRecords(zone)]).join('\n')}\n`;
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
    // The load hashed the bytes it read (Zone.fileHash): no second read and hash of the file here.
    const fileHash = zone.fileHash ?? hashFile(zc.file);
    const st: ZoneState = { journal, fileHash, base: zone.serial, baseInfo: readBaseInfo(basePath(file)) };
    this.states.set(zone.originKey, st);
    const last = journal?.lastSerial;
    if (!journal || last === undefined) return zone;
    const served = st.baseInfo ? this.resume(zone, zc, st, st.baseInfo, last, config) : this.resumeWithoutBase(zone, zc, journal, last);
    // The file now holds the version st.base of the chain (the start decided so): the base says so from now on.
    if (this.opts.writer && journalled(zc) && journal.lastSerial !== undefined) this.ensureBase(st, zc, zone, config);
    return served;
  }

  /**
   * Start with a journal and its base: the file unchanged since the server last knew it continues from the
   * base's serial; a file edited while the server was stopped is told apart by its hash and, with a serial
   * past the journal's end, wins: its difference from the journal's last version is journaled (IXFR).
   */
  private resume(zone: Zone, zc: ZoneConfig, st: ZoneState, base: BaseInfo, last: number, config: Config): Zone {
    const log = this.opts.logger;
    const journal = st.journal!;
    const file = journalPath(zc);
    if (base.hash === st.fileHash) {
      // The file the server last wrote or read: its data is the base's version (its own serial may be
      // lower when `serial:` raised it); the entries after it were not in the file.
      st.base = base.serial;
      const known = base.serial === zone.serial ? zone : rebuildWithSoa(zone, withSerial(zone.soa, base.serial));
      return this.replay(known, zc, journal, base.serial, last);
    }
    // Edited while the server was stopped.
    const F = zone.serial;
    if (serialGt(F, last)) {
      // BIND removes such a journal ("journal file is out of date"); with the base the server rebuilds the
      // journal's last version instead and journals the edit as one more difference.
      const lastVersion = this.reconstruct(zone.origin, zc, journal, last);
      if (lastVersion && this.opts.writer) {
        const d = zoneDiff(lastVersion, zone);
        try {
          journal.append(d, F);
          log.info('zone file edited while the server was stopped: its difference from the journal\'s last serial is journaled (IXFR)', { zone: zone.origin, file: zc.file, from: last, to: F, removed: d.removed.length, added: d.added.length });
          if (base.serial !== last) log.warn('zone file edited while the journal held updates it lacks: the edited file wins, updates it does not hold are gone', { zone: zone.origin, file: zc.file, fileSerial: F, updatesFrom: base.serial, updatesTo: last });
          this.notify(zc, zone, config);
          return zone;
        } catch (e) {
          log.error('journal append failed: IXFR to this serial falls back to AXFR', { zone: zone.origin, err: (e as Error).message });
        }
      }
      if (lastVersion || !this.opts.writer) return zone;
      this.startAfresh(zone, zc, journal, `the zone file's serial ${F} is past the journal's ${last} and the journal's last version cannot be rebuilt`);
      return zone;
    }
    if (F === last || journal.covers(F)) {
      // The same serial as a journal point, other bytes. Only the layout changed when the data equals the base's.
      const same = base.serial === F ? this.sameAsBase(zone, zc) : false;
      if (!same) log.warn('zone file edited without raising its serial: secondaries at that serial keep the old data (raise the serial after an edit)', { zone: zone.origin, file: zc.file, serial: F, journal: file, journalTo: last });
      if (F === last) {
        // BIND: the journal ends at the file's serial, nothing to roll forward: the file is served as it is.
        // Its entries lead to other data than the file's now: IXFR from them would be wrong.
        if (!same && this.opts.writer) this.startAfresh(zone, zc, journal, `the zone file was edited at the journal's last serial ${F}`);
        return zone;
      }
      // BIND rolls the journal forward from the file's serial, over the edit.
      return this.replay(zone, zc, journal, F, last);
    }
    if (this.opts.writer) this.startAfresh(zone, zc, journal, `the zone file's serial ${F} is not in the journal (${journal.firstSerial} … ${last})`);
    return zone;
  }

  /** A journal from before bases were kept: the serials alone decide (the edit cannot be told apart). */
  private resumeWithoutBase(zone: Zone, zc: ZoneConfig, journal: Journal, last: number): Zone {
    if (last === zone.serial) return zone;
    if (journal.covers(zone.serial)) {
      // The replay puts the journal's additions back even where an edit deleted them; say so when the file is newer.
      if (mtimeOf(zc.file) > mtimeOf(journalPath(zc))) this.opts.logger.warn('zone file edited after its journal\'s last entry: the journal is replayed over the edit, so records the journal added come back even if the edit deleted them; run "fluxdns zone flush" before editing a zone that takes updates', { zone: zone.origin, file: zc.file, journal: journalPath(zc), fileSerial: zone.serial, journalTo: last });
      return this.replay(zone, zc, journal, zone.serial, last);
    }
    if (this.opts.writer) this.startAfresh(zone, zc, journal, `the zone file's serial ${zone.serial} is not in the journal (${journal.firstSerial} … ${last})`);
    return zone;
  }

  /** `zone` (at serial `from`) with the journal's entries from `from` to `last` applied. */
  private replay(zone: Zone, zc: ZoneConfig, journal: Journal, from: number, last: number): Zone {
    if (from === last) return zone;
    const diffs = journal.diffs(from, last);
    if (!diffs) {
      if (this.opts.writer) this.startAfresh(zone, zc, journal, `the journal does not continue from serial ${from}`);
      return zone;
    }
    let served = zone;
    for (const d of diffs) served = applyDiff(served, d);
    this.opts.logger.info('journal replayed over the zone file', { zone: zone.origin, from, to: served.serial, differences: diffs.length });
    return served;
  }

  private startAfresh(zone: Zone, zc: ZoneConfig, journal: Journal, why: string): void {
    this.opts.logger.warn('journal out of date: started afresh (IXFR from older serials falls back to AXFR)', { zone: zone.origin, file: zc.file, journal: journal.file, reason: why, fileSerial: zone.serial, journalFrom: journal.firstSerial, journalTo: journal.lastSerial });
    journal.reset();
  }

  /** The journal's last version: the base plus the entries after it; undefined (logged) when it cannot be rebuilt. */
  private reconstruct(origin: string, zc: ZoneConfig, journal: Journal, last: number): Zone | undefined {
    try {
      const { zone: base, info } = loadBase(basePath(journalPath(zc)), origin);
      if (info.serial === last) return base;
      const diffs = journal.diffs(info.serial, last);
      if (!diffs) throw new Error(`the journal does not continue from the base's serial ${info.serial}`);
      let z = base;
      for (const d of diffs) z = applyDiff(z, d);
      return z;
    } catch (e) {
      this.opts.logger.warn('the journal\'s last version cannot be rebuilt from its base', { zone: origin, base: basePath(journalPath(zc)), err: (e as Error).message });
      return undefined;
    }
  }

  /** True when the base holds the same records as `zone` (an edit of comments or layout only). */
  private sameAsBase(zone: Zone, zc: ZoneConfig): boolean {
    try {
      return sameData(loadBase(basePath(journalPath(zc)), zone.origin).zone, zone);
    } catch {
      return false;
    }
  }

  /**
   * Makes the base the copy of the zone file at version st.base (with hash st.fileHash) before the journal
   * relies on it. A built zone (the catalog) has no file: its printed records are the copy. A file edited
   * since it was read gives a base that fails its check when needed (then the journal starts afresh).
   */
  private ensureBase(st: ZoneState, zc: ZoneConfig, zone: Zone, config: Config): void {
    const want = { serial: st.base, hash: st.fileHash };
    if (st.baseInfo && st.baseInfo.serial === want.serial && st.baseInfo.hash === want.hash) return;
    const path = basePath(journalPath(zc));
    try {
      writeBase(path, want, isCatalogZone(config, zc) ? { text: zoneText(zone) } : { file: zc.file });
      st.baseInfo = want;
    } catch (e) {
      this.opts.logger.warn('journal base not written: an edit made while the server is stopped will start the journal afresh', { zone: zone.origin, base: path, err: (e as Error).message });
    }
  }

  /**
   * After a reload read the files again: each zone whose data changed must have a raised serial (or
   * gets one under `serial: increment | unixtime`); a zone that breaks the rule keeps its old version.
   * Each new serial is journaled and notified. `only` limits the work to one zone (ctl reload ZONE).
   */
  reconcile(before: ZoneSet, after: ZoneSet, config: Config, only?: string): { zones: ZoneSet; errors: string[]; refused: Set<string> } {
    this.configureNotifier(config);
    const errors: string[] = [];
    /** The zones (origin keys) whose new version was refused: each keeps serving its old one. */
    const refused = new Set<string>();
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
          refused.add(z.originKey);
        }
        out.push(old);
        continue;
      }
      if (hash !== '' && hash === st.fileHash) {
        out.push(old);
        continue;
      }
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
            : `zone ${z.origin}: the data changed but serial ${z.serial} was not raised above ${old.serial}; the new version is refused (raise the serial, or set serial: increment | unixtime | auto); still serving serial ${old.serial}`;
          errors.push(msg);
          refused.add(z.originKey);
          out.push(old);
          continue;
        }
        next = rebuildWithSoa(z, withSerial(z.soa, nextSerial(old.serial, zc.serial, this.now())));
        this.opts.logger.info('serial raised by policy', { zone: z.origin, policy: zc.serial, from: old.serial, to: next.serial });
      }
      // The file holds `next` now (the base written after the journal entry copies it).
      st.fileHash = hash;
      st.base = next.serial;
      this.record(st, zc, old, next, config);
      out.push(next);
    }
    for (const e of errors) this.opts.logger.error('zone reload refused', { error: e });
    // NOTIFYs still being resent to targets the new configuration dropped stop here.
    this.notifier?.retain(new Set(config.zones.flatMap((zc) => notifyTargets(zc, config).map((t) => pendingKey(zc.name, t)))));
    return { zones: new ZoneSet(out), errors, refused };
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
      st.journal?.append(d, st.base);
      if (st.journal) this.ensureBase(st, zc, next, config);
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
    // The first update after a start without a base: the file (version st.base) is copied before the journal leaves it behind.
    this.ensureBase(st, zc, old, config);
    st.journal.append(diff, st.base);
    this.notify(zc, next, config);
  }

  /**
   * In a process that reads the journals (a worker that does not own updates): `zone` brought up to the
   * journal's last entry, as the owner wrote it (the same replay as at start); `zone` itself when current.
   * Throws when the journal does not continue from the served serial.
   */
  catchUp(zone: Zone): Zone {
    const j = this.states.get(zone.originKey)?.journal;
    if (!j || this.opts.writer) return zone;
    j.refresh();
    const last = j.lastSerial;
    if (last === undefined || last === zone.serial) return zone;
    const diffs = j.diffs(zone.serial, last);
    if (!diffs) throw new Error(`the journal (serials ${j.firstSerial}..${last}) does not continue from the served serial ${zone.serial}`);
    let served = zone;
    for (const d of diffs) served = applyDiff(served, d);
    return served;
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
   * canonical order, absolute names. Comments, $INCLUDE and the file's layout are lost. A process that
   * does not write journals (a worker of workers: N that does not own updates) writes nothing: the owner
   * writes the same text; this one only notes that the file now holds its version.
   */
  flush(zone: Zone, config: Config): string {
    const zc = zoneConfigOf(config, zone.originKey);
    const st = this.states.get(zone.originKey);
    if (!zc || !st) throw new Error(`${zone.origin}: not a primary zone`);
    const text = zoneText(zone);
    if (this.opts.writer) {
      const tmp = `${zc.file}.fluxdns-tmp`;
      const fd = openSync(tmp, 'w', 0o644);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, zc.file);
    }
    st.fileHash = createHash('sha256').update(text).digest('hex');
    st.base = zone.serial;
    // The owner writes the file and its base; another worker only notes that the file holds its version.
    if (this.opts.writer) {
      if (st.journal && journalled(zc)) this.ensureBase(st, zc, zone, config);
      this.opts.logger.info('zone file written', { zone: zone.origin, file: zc.file, serial: zone.serial });
    }
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
