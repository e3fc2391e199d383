// The on-disk journal of a zone's differences (what IXFR answers from, RFC 1995 §4, and where an UPDATE is
// made durable before it is acknowledged): append-only entries with a checksum, bounded in size.
//
// File: "FLUXJNL1" (8 bytes), then entries: u32 payload length, u32 CRC-32 of the payload, payload.
// Payload: u32 from serial, u32 to serial, then DNS messages each framed by a u32 length, whose answer
// sections together hold the IXFR sequence of one difference: old SOA, removed…, new SOA, added….
// A torn or corrupt tail (a crash mid-append, a truncated copy) is cut off when the journal is opened;
// IXFR from a serial it no longer covers falls back to a full transfer.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, statSync, writeSync, existsSync, readFileSync, ftruncateSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { dirname } from 'node:path';
import { decodeMessage, encodeMessage } from '../wire/message.js';
import { RRType, type ResourceRecord, type SOARdata } from '../wire/types.js';
import type { ZoneDiff } from './unit.js';

const MAGIC = Buffer.from('FLUXJNL1');
const HEADER = 8;
/** Records per framed message (the 16-bit ANCOUNT). */
const PER_MESSAGE = 60000;

interface Entry {
  readonly from: number;
  readonly to: number;
  readonly offset: number;
  readonly length: number;
}

export interface OpenReport {
  /** Bytes cut off the end because they did not form whole, valid entries. */
  readonly cut: number;
  /** Why, when something was cut or the file was not a journal. */
  readonly problem?: string;
}

export function encodeDiff(d: ZoneDiff): Buffer {
  const records: ResourceRecord[] = [d.from, ...d.removed, d.to, ...d.added];
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head.writeUInt32BE(d.from.data.serial >>> 0, 0);
  head.writeUInt32BE(d.to.data.serial >>> 0, 4);
  parts.push(head);
  for (let i = 0; i < records.length; i += PER_MESSAGE) {
    const msg = encodeMessage({
      id: 0,
      flags: { qr: true, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 },
      questions: [],
      answers: records.slice(i, i + PER_MESSAGE),
      authorities: [],
      additionals: [],
    });
    const len = Buffer.alloc(4);
    len.writeUInt32BE(msg.length, 0);
    parts.push(len, Buffer.from(msg.buffer, msg.byteOffset, msg.length));
  }
  return Buffer.concat(parts);
}

export function decodeDiff(payload: Buffer): ZoneDiff {
  const records: ResourceRecord[] = [];
  let p = 8;
  while (p < payload.length) {
    const len = payload.readUInt32BE(p);
    p += 4;
    if (p + len > payload.length) throw new Error('journal entry: message overruns the entry');
    records.push(...decodeMessage(payload.subarray(p, p + len)).answers);
    p += len;
  }
  const second = records.findIndex((r, i) => i > 0 && r.type === RRType.SOA);
  if (records[0]?.type !== RRType.SOA || second < 0) throw new Error('journal entry: not two SOAs');
  return {
    from: records[0] as ResourceRecord<SOARdata>,
    removed: records.slice(1, second),
    to: records[second] as ResourceRecord<SOARdata>,
    added: records.slice(second + 1),
  };
}

export class Journal {
  private fd: number;
  private entries: Entry[] = [];
  private size = HEADER;

  private constructor(
    readonly file: string,
    readonly maxSize: number,
    /** A reader (another worker's journal) never creates, cuts or writes the file. */
    readonly readOnly: boolean,
  ) {
    this.fd = -1;
  }

  /**
   * Opens the journal and cuts off a torn or corrupt tail. A journal that does not exist is created by
   * the first append, not here: a zone that never changes leaves no file beside it (read-only
   * directories, the demo's and the tests' fixtures).
   */
  static open(file: string, maxSize: number, readOnly = false): { journal: Journal; report: OpenReport } {
    const j = new Journal(file, maxSize, readOnly);
    const report = j.load();
    return { journal: j, report };
  }

  private load(): OpenReport {
    if (this.readOnly) {
      this.entries = [];
      this.size = HEADER;
      if (!existsSync(this.file)) return { cut: 0 };
      this.fd = openSync(this.file, 'r');
      const buf = readFileSync(this.file);
      if (buf.length < HEADER || !buf.subarray(0, HEADER).equals(MAGIC)) return { cut: 0, problem: 'not a fluxdns journal (bad header)' };
      return this.parse(buf);
    }
    if (!existsSync(this.file)) return { cut: 0 };
    this.fd = openSync(this.file, 'r+');
    const buf = readFileSync(this.file);
    if (buf.length < HEADER || !buf.subarray(0, HEADER).equals(MAGIC)) {
      this.reset();
      return { cut: buf.length, problem: 'not a fluxdns journal (bad header): started afresh' };
    }
    const r = this.parse(buf);
    if (r.cut > 0) {
      ftruncateSync(this.fd, this.size);
      fsyncSync(this.fd);
    }
    return r;
  }

  /** Reads the index of whole, valid, chained entries; `size` ends after the last one. */
  private parse(buf: Buffer): OpenReport {
    let p = HEADER;
    let problem: string | undefined;
    const entries: Entry[] = [];
    while (p < buf.length) {
      if (p + 8 > buf.length) {
        problem = 'torn entry header at the end';
        break;
      }
      const len = buf.readUInt32BE(p);
      const sum = buf.readUInt32BE(p + 4);
      if (len < 8 || p + 8 + len > buf.length) {
        problem = `entry at byte ${p} runs past the end`;
        break;
      }
      const payload = buf.subarray(p + 8, p + 8 + len);
      if (crc32(payload) >>> 0 !== sum) {
        problem = `entry at byte ${p} fails its checksum`;
        break;
      }
      const from = payload.readUInt32BE(0);
      const to = payload.readUInt32BE(4);
      // Entries chain: each starts where the one before ended.
      const prev = entries[entries.length - 1];
      if (prev && prev.to !== from) {
        problem = `entry at byte ${p} starts at serial ${from}, not ${prev.to}`;
        break;
      }
      entries.push({ from, to, offset: p + 8, length: len });
      p += 8 + len;
    }
    this.entries = entries;
    this.size = p;
    return { cut: buf.length - p, problem };
  }

  /** The serial the last entry ends at, or undefined when empty. */
  get lastSerial(): number | undefined {
    return this.entries[this.entries.length - 1]?.to;
  }

  get firstSerial(): number | undefined {
    return this.entries[0]?.from;
  }

  /** True when an entry starts at `serial` or the last one ends there: a version in the journal's chain. */
  covers(serial: number): boolean {
    return this.lastSerial === serial || this.entries.some((e) => e.from === serial);
  }

  get bytes(): number {
    return this.size;
  }

  get count(): number {
    return this.entries.length;
  }

  /**
   * Another process (a worker) may have appended: re-read the index when the file grew or shrank, or was
   * replaced (compaction renames a new file over it: the open descriptor still reads the old one).
   */
  refresh(): void {
    if (this.fd >= 0 && fstatSync(this.fd).size === this.size && sameFile(this.fd, this.file)) return;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.load();
  }

  /** The differences from `serial` to `to`, in order, or undefined when the journal does not cover them. */
  diffs(serial: number, to: number): ZoneDiff[] | undefined {
    const start = this.entries.findIndex((e) => e.from === serial);
    if (start < 0) return undefined;
    const out: ZoneDiff[] = [];
    for (let i = start; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      const payload = Buffer.alloc(e.length);
      readSync(this.fd, payload, 0, e.length, e.offset);
      out.push(decodeDiff(payload));
      if (e.to === to) return out;
    }
    return undefined;
  }

  /**
   * Appends one difference and waits for the disk (fsync) before returning: an UPDATE is acknowledged
   * only after this. A difference that does not start at the last serial starts the journal afresh.
   * Beyond maxSize the oldest entries go, but never those after `keepFrom` (not yet in the zone file).
   */
  append(d: ZoneDiff, keepFrom?: number): void {
    if (this.readOnly) throw new Error(`journal ${this.file} is read-only in this process`);
    const payload = encodeDiff(d);
    if (this.fd < 0 || (this.lastSerial !== undefined && this.lastSerial !== d.from.data.serial)) this.reset();
    const head = Buffer.alloc(8);
    head.writeUInt32BE(payload.length, 0);
    head.writeUInt32BE(crc32(payload) >>> 0, 4);
    const frame = Buffer.concat([head, payload]);
    writeSync(this.fd, frame, 0, frame.length, this.size);
    fsyncSync(this.fd);
    this.entries.push({ from: d.from.data.serial, to: d.to.data.serial, offset: this.size + 8, length: payload.length });
    this.size += frame.length;
    if (this.size > this.maxSize) this.compact(keepFrom);
  }

  /** Forgets every entry (the zone changed in a way the journal cannot describe). */
  reset(): void {
    if (this.readOnly) return;
    const created = this.fd < 0 && !existsSync(this.file);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = openSync(this.file, 'w+', 0o640);
    writeSync(this.fd, MAGIC);
    fsyncSync(this.fd);
    if (created) syncDir(this.file);
    this.entries = [];
    this.size = HEADER;
  }

  /**
   * Rewrites the journal with the newest entries that fit in half of maxSize (so compaction is rare),
   * keeping every entry from serial `keepFrom` on; written to a temporary file, synced, then renamed.
   */
  private compact(keepFrom: number | undefined): void {
    const budget = this.maxSize / 2;
    let firstKept = this.entries.length;
    let total = HEADER;
    const mustFrom = keepFrom === undefined ? this.entries.length : this.entries.findIndex((e) => e.from === keepFrom);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (total + 8 + e.length > budget && (mustFrom < 0 || i < mustFrom)) break;
      total += 8 + e.length;
      firstKept = i;
    }
    const kept = this.entries.slice(firstKept);
    const tmp = `${this.file}.tmp`;
    const out = openSync(tmp, 'w', 0o640);
    writeSync(out, MAGIC);
    let pos = HEADER;
    const entries: Entry[] = [];
    for (const e of kept) {
      const buf = Buffer.alloc(8 + e.length);
      readSync(this.fd, buf, 8, e.length, e.offset);
      const payload = buf.subarray(8);
      buf.writeUInt32BE(e.length, 0);
      buf.writeUInt32BE(crc32(payload) >>> 0, 4);
      writeSync(out, buf, 0, buf.length, pos);
      entries.push({ ...e, offset: pos + 8 });
      pos += buf.length;
    }
    fsyncSync(out);
    closeSync(out);
    renameSync(tmp, this.file);
    syncDir(this.file);
    closeSync(this.fd);
    this.fd = openSync(this.file, 'r+');
    this.entries = entries;
    this.size = pos;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** True while `path` still names the file open on `fd`. */
function sameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** A rename or a new file is durable only once its directory is synced. */
function syncDir(file: string): void {
  try {
    const fd = openSync(dirname(file), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the data itself was synced.
  }
}
