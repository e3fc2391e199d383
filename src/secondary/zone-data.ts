// A secondary zone's records: IXFR differences applied (RFC 1995 §4), checks before serving, the atomic write of its file.
import { closeSync, fsyncSync, openSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { nameKey } from '../wire/name.js';
import { RRType, typeName, type ResourceRecord } from '../wire/types.js';
import { formatRecord, rdataKey } from '../zone/format.js';
import { foldedRdataKey } from '../transfer/rdata-key.js';
import type { IxfrDiff } from './xfr-client.js';

/** A record's identity inside a zone: owner (case-folded), type and data (RFC 2181 §5: an RRset is a set). */
export function recordKey(rr: ResourceRecord): string {
  return `${nameKey(rr.name)} ${rr.type} ${foldedRdataKey(rr)}`;
}

export class DiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiffError';
  }
}

/**
 * Applies IXFR steps to `records` (which hold the `from` version of the first step, SOA included).
 * A deletion of a record we do not hold means our copy and the primary's history disagree: throws
 * DiffError, and the caller falls back to AXFR. The SOA is replaced by each step's new SOA.
 */
export function applyDiffs(records: readonly ResourceRecord[], diffs: readonly IxfrDiff[], newSoa: ResourceRecord): ResourceRecord[] {
  const byKey = new Map<string, ResourceRecord>();
  for (const rr of records) if (rr.type !== RRType.SOA) byKey.set(recordKey(rr), rr);
  for (const d of diffs) {
    for (const rr of d.deleted) {
      if (!byKey.delete(recordKey(rr))) throw new DiffError(`IXFR step ${d.from} → ${d.to} deletes ${rr.name} ${typeName(rr.type)} ${rdataKey(rr)}, which the zone does not hold`);
    }
    for (const rr of d.added) byKey.set(recordKey(rr), rr);
  }
  return [newSoa, ...byKey.values()];
}

/** The master file of a transferred zone: a header comment, then one record a line, names absolute. */
export function zoneFileText(zone: string, records: readonly ResourceRecord[], from: string): string {
  const soa = records.find((r) => r.type === RRType.SOA);
  const serial = soa ? (soa.data as { serial: number }).serial : 0;
  let s = `; ${zone} serial ${serial}, transferred from ${from} at ${new Date().toISOString()} by fluxdns (secondary)\n`;
  // The SOA first, so the file reads as a zone from its first line.
  if (soa) s += formatRecord(soa) + '\n';
  for (const rr of records) if (rr !== soa) s += formatRecord(rr) + '\n';
  return s;
}

/** Writes `text` to `path` so a reader sees the old file or the new one, never a part: temp file, fsync, rename. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // The rename itself is durable once the folder is synced.
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    /* some file systems cannot fsync a folder */
  }
}
