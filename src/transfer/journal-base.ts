// The journal's base: a copy of the zone file whose version the journal's chain passes through, kept
// beside the journal (`<journal>.base`). At start it tells an edit made while the server was stopped
// from the file the server last knew, and rebuilds the journal's last version (base + the entries
// after it), so the edited file's difference can be journaled and secondaries still get IXFR.
//
// File: one header line `; fluxdns journal base serial=N hash=H check=C`, then the zone text. N is the
// serial of the version the text holds in the journal's chain (it differs from the text's own SOA serial
// when `serial: increment | unixtime` raised it); H is the identity of the zone file it copies (Zone.fileHash:
// SHA-256 of the file's bytes, or the built catalog's digest); C is the SHA-256 of the text after the header.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { compileZoneFile } from '../zone/load.js';
import { Zone } from '../zone/tree.js';
import { rebuildWithSoa, withSerial } from './diff.js';

export interface BaseInfo {
  /** The serial of this version in the journal's chain. */
  readonly serial: number;
  /** The identity of the zone file it is a copy of (Zone.fileHash). */
  readonly hash: string;
}

const HEADER = /^; fluxdns journal base serial=(\d+) hash=([0-9a-f]+) check=([0-9a-f]{64})\n/;

export function basePath(journalFile: string): string {
  return `${journalFile}.base`;
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The header of the base at `path`, or undefined when there is none (or it is not one). Reads one line. */
export function readBaseInfo(path: string): BaseInfo | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const m = HEADER.exec(buf.subarray(0, n).toString('latin1'));
    return m ? { serial: Number(m[1]) >>> 0, hash: m[2]! } : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes the base (temporary file, fsync, rename): a crash leaves the old base or the new one. */
export function writeBase(path: string, info: BaseInfo, text: Buffer | string): void {
  const body = typeof text === 'string' ? Buffer.from(text) : text;
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, `; fluxdns journal base serial=${info.serial >>> 0} hash=${info.hash} check=${sha256(body)}\n`);
    writeSync(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * The version the base holds, as a zone with the base's serial; throws with the reason when the base is
 * missing, fails its check or does not load. Relative `$INCLUDE`s resolve beside the base (the zone file's
 * directory unless `journal.file` puts the journal elsewhere).
 */
export function loadBase(path: string, origin: string): { zone: Zone; info: BaseInfo } {
  const bytes = readFileSync(path);
  const nl = bytes.indexOf(0x0a);
  const m = nl < 0 ? null : HEADER.exec(bytes.subarray(0, nl + 1).toString('latin1'));
  if (!m) throw new Error(`${path}: not a journal base (no header)`);
  if (sha256(bytes.subarray(nl + 1)) !== m[3]) throw new Error(`${path}: the copy fails its checksum`);
  const info = { serial: Number(m[1]) >>> 0, hash: m[2]! };
  const r = compileZoneFile(origin, path);
  if (!r.ok) throw new Error('problems' in r ? r.problems.join('; ') : r.unreadable.message);
  let zone = Zone.fromBuffers(r.buffers);
  if (zone.serial !== info.serial) zone = rebuildWithSoa(zone, withSerial(zone.soa, info.serial));
  return { zone, info };
}
