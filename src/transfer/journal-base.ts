// The journal's base: a copy of the zone file whose version the journal's chain passes through, kept
// beside the journal (`<journal>.base`). At start it tells an edit made while the server was stopped
// from the file the server last knew, and rebuilds the journal's last version (base + the entries
// after it), so the edited file's difference can be journaled and secondaries still get IXFR.
//
// File: the zone text, then one trailer line `; fluxdns journal base serial=N hash=H check=C`. N is the
// serial of the version the text holds in the journal's chain (it differs from the text's own SOA serial
// when `serial: increment | unixtime` raised it); H is the identity of the zone file it copies (Zone.fileHash:
// SHA-256 of the file's bytes, or the built catalog's digest); C is the SHA-256 of the text before the
// trailer. A trailer, not a header: a zone file is copied by the kernel (copyFileSync) and the line appended,
// never read and hashed on the serving thread (a 40 MB file: ~0.1 s copied, ~1.3 s read and hashed).
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { compileZoneFile } from '../zone/load.js';
import { Zone } from '../zone/tree.js';
import { rebuildWithSoa, withSerial } from './diff.js';

export interface BaseInfo {
  /** The serial of this version in the journal's chain. */
  readonly serial: number;
  /** The identity of the zone file it is a copy of (Zone.fileHash). */
  readonly hash: string;
}

const TRAILER = /\n; fluxdns journal base serial=(\d+) hash=([0-9a-f]+) check=([0-9a-f]{64})\n$/;
/** The trailer's longest form fits in this many bytes (the catalog's hash is a SHA-256 too). */
const TRAILER_MAX = 256;

export function basePath(journalFile: string): string {
  return `${journalFile}.base`;
}

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** The trailer of the base at `path`, or undefined when there is none (or it is not one). Reads its last bytes. */
export function readBaseInfo(path: string): BaseInfo | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, TRAILER_MAX);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    const m = TRAILER.exec(buf.toString('latin1'));
    return m ? { serial: Number(m[1]) >>> 0, hash: m[2]! } : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the base (temporary file, fsync, rename): a crash leaves the old base or the new one. A zone file
 * is copied as it is on disk now and taken to be the bytes `info.hash` names (the loader's hash): if it
 * changed since it was read, the base fails its check when it is needed and the journal starts afresh then.
 */
export function writeBase(path: string, info: BaseInfo, source: { file: string } | { text: string }): void {
  const tmp = `${path}.${process.pid}.tmp`;
  let check: string;
  if ('file' in source) {
    copyFileSync(source.file, tmp);
    check = info.hash;
  } else {
    writeFileSync(tmp, source.text, { mode: 0o640 });
    check = sha256(source.text);
  }
  const fd = openSync(tmp, 'r+');
  try {
    writeSync(fd, `\n; fluxdns journal base serial=${info.serial >>> 0} hash=${info.hash} check=${check}\n`, fstatSync(fd).size);
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
  const tail = bytes.subarray(Math.max(0, bytes.length - TRAILER_MAX)).toString('latin1');
  const m = TRAILER.exec(tail);
  if (!m) throw new Error(`${path}: not a journal base (no trailer)`);
  const contentEnd = bytes.length - Buffer.byteLength(m[0], 'latin1');
  if (sha256(bytes.subarray(0, contentEnd)) !== m[3]) throw new Error(`${path}: the copy fails its checksum (the zone file changed while it was copied, or the base was damaged)`);
  const info = { serial: Number(m[1]) >>> 0, hash: m[2]! };
  const r = compileZoneFile(origin, path);
  if (!r.ok) throw new Error('problems' in r ? r.problems.join('; ') : r.unreadable.message);
  let zone = Zone.fromBuffers(r.buffers);
  if (zone.serial !== info.serial) zone = rebuildWithSoa(zone, withSerial(zone.soa, info.serial));
  return { zone, info };
}
