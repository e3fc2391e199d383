// Loads one zone file into a compiled zone: parse (RFC 1035 §5), check, compile. Runs in the serving
// thread at start and in the zone-loader thread (load-worker.ts) on a reload.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { checkZoneReport, formatZoneIssue } from './check.js';
import { ZoneCompiler, type CompiledZoneBuffers } from './compiled.js';
import { parseZone, parseZoneInto, ZoneError } from './parser.js';
import { zoneFileText } from './file-text.js';
import { RRType, type SOARdata } from '../wire/types.js';
import { verifyZonemd, withZonemd, zonemdHashCode } from './zonemd.js';

/** What a load may add to the file's data. */
export interface CompileOptions {
  /** Compute a ZONEMD record of this digest at the apex (zones[].zonemd). */
  zonemd?: 'sha384' | 'sha512';
}

/** A compiled zone and what to report about it, or why it cannot be served. */
export type CompiledZoneFile =
  | {
      ok: true; buffers: CompiledZoneBuffers; records: number; serial: number; warnings: string[];
      /** SHA-256 (hex) of the file's bytes as read for this load (the primary role's "file unchanged" test). */
      fileHash?: string;
    }
  | { ok: false; problems: string[] }
  /** The file itself could not be read: the caller words it (it knows the configuration line). */
  | { ok: false; unreadable: { message: string; code?: string } };

/** Parses, checks and compiles the master file of zone `name`; never throws for a bad or missing file. */
export function compileZoneFile(name: string, file: string, opts: CompileOptions = {}): CompiledZoneFile {
  // A computed ZONEMD needs every record; otherwise the streaming path first, reading the file in
  // pieces and hashing the same bytes (never the whole file as bytes and as a string: 60 MB less
  // at the peak of a million records).
  if (!opts.zonemd) {
    const streamed = streamZone(name, file);
    if (streamed) return streamed;
  }
  // The file is read once here, hashed from the same bytes (no second read of a 30 MB file for the hash).
  let text: string, fileHash: string;
  const includes = new IncludeHashes();
  try {
    ({ text, fileHash } = readZoneText(file));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, unreadable: { message: err.message, code: err.code } };
  }
  let parsed;
  try {
    parsed = parseZone(text, { origin: name, file, readInclude: includes.read });
  } catch (e) {
    if (e instanceof ZoneError) return { ok: false, problems: [e.message] };
    const err = e as NodeJS.ErrnoException;
    return { ok: false, unreadable: { message: err.message, code: err.code } };
  }
  const { errors, warnings } = checkZoneReport(parsed, name, file);
  if (errors.length > 0) return { ok: false, problems: errors.map(formatZoneIssue) };
  // RFC 8976 §4: a zone whose ZONEMD does not verify is not served (the old version keeps serving on reload).
  const zonemd = verifyZonemd(name, parsed.records);
  if (zonemd.status === 'invalid') return { ok: false, problems: [`${file}: ${zonemd.reason}`] };
  // zonemd: sha384|sha512 on a primary zone: the digest is computed at every load (RFC 8976 §3).
  const records = opts.zonemd ? withZonemd(name, parsed.records, zonemdHashCode(opts.zonemd)) : parsed.records;
  const c = new ZoneCompiler(name);
  const count = records.length;
  let serial = 0;
  // Each record is dropped from the parse as it is compiled, so the two are not both held whole.
  for (let i = 0; i < count; i++) {
    const rr = records[i]!;
    if (rr.type === RRType.SOA) serial = (rr.data as SOARdata).serial;
    c.addRecord(rr);
    (records as unknown[])[i] = undefined;
  }
  return { ok: true, buffers: c.finish(), records: count, serial, warnings: warnings.map(formatZoneIssue), fileHash: includes.fold(fileHash) };
}

/**
 * The $INCLUDEd files' part of a zone's hash: a reload that finds only an included file edited must see
 * a changed zone (the primary role skips a zone whose hash is unchanged). A zone without includes keeps
 * the SHA-256 of its file's bytes (the journal's base checks a copy of the file against it).
 */
class IncludeHashes {
  private readonly parts: string[] = [];
  readonly read = (path: string): string => {
    const text = zoneFileText(readFileSync(path));
    this.parts.push(`${path}\u0000${createHash('sha256').update(text).digest('hex')}`);
    return text;
  };

  fold(fileHash: string): string {
    return this.parts.length === 0 ? fileHash : createHash('sha256').update([fileHash, ...this.parts].join('\n')).digest('hex');
  }
}

/** A zone file's text and the SHA-256 of its bytes, from one read. Throws what readFileSync throws. */
function readZoneText(file: string): { text: string; fileHash: string } {
  const bytes = readFileSync(file);
  return { fileHash: createHash('sha256').update(bytes).digest('hex'), text: zoneFileText(bytes) };
}

/**
 * The streaming path: the parser hands each record's wire bytes straight to the compiler (no record
 * objects, no line kept per record), and the checks run on the compiled nodes' RRset types. When
 * those find anything to report, or the zone has DNSSEC or ZONEMD records, this returns undefined
 * and compileZoneFile takes the full path, which words every problem with its file and line exactly
 * as before (so a zone with warnings is read twice). The file is read in pieces (lineChunks) and
 * its SHA-256 taken from the bytes read (compileZoneFile's `fileHash`; not in this result).
 */
export function streamZoneFile(name: string, file: string): CompiledZoneFile | undefined {
  const r = streamZone(name, file);
  if (!r?.ok) return r;
  const { fileHash: _, ...rest } = r;
  return rest;
}

/** streamZoneFile with the file's hash. */
function streamZone(name: string, file: string): CompiledZoneFile | undefined {
  let fd: number;
  let size: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, unreadable: { message: err.message, code: err.code } };
  }
  try {
    size = fstatSync(fd).size;
    const hash = createHash('sha256');
    const includes = new IncludeHashes();
    let warnings;
    let c: ZoneCompiler;
    try {
      // A record line is rarely shorter than 24 bytes: the compiler's columns start that large.
      c = new ZoneCompiler(name, { dedupe: true, sizeHint: Math.ceil(size / 24) });
      warnings = parseZoneInto(lineChunks(fd, hash), { origin: name, file, readInclude: includes.read }, c);
    } catch (e) {
      if (e instanceof ZoneError) return { ok: false, problems: [e.message] };
      const err = e as NodeJS.ErrnoException;
      return { ok: false, unreadable: { message: err.message, code: err.code } };
    }
    if (c.quickCheck() !== undefined) return undefined;
    const buffers = c.finish();
    return { ok: true, buffers, records: buffers.rrCount, serial: soaSerial(buffers), warnings: warnings.map(formatZoneIssue), fileHash: includes.fold(hash.digest('hex')) };
  } finally {
    closeSync(fd);
  }
}

/** Bytes read at a time; a piece of text under V8's large-object size is made in the young generation. */
const CHUNK = 64 * 1024;

/**
 * The text of `fd` from its current position as pieces that end at a line end (the last one at the
 * end of the file), every byte read also going into `hash`. A newline byte is never inside a UTF-8
 * sequence, so the pieces decode as the whole file would. One buffer, reused (grown for a longer line).
 */
function lineChunks(fd: number, hash: Hash): () => string | undefined {
  let buf = Buffer.allocUnsafe(CHUNK);
  let have = 0;
  let eof = false;
  return () => {
    for (;;) {
      if (!eof) {
        if (have === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, have);
          buf = bigger;
        }
        const got = readSync(fd, buf, have, buf.length - have, null);
        if (got === 0) eof = true;
        else {
          hash.update(buf.subarray(have, have + got));
          have += got;
        }
      }
      // Nothing left only at the end of the file (a read that got bytes leaves some).
      if (have === 0) return undefined;
      const end = eof ? have : buf.lastIndexOf(0x0a, have - 1) + 1;
      if (end === 0) continue;
      const text = zoneFileText(buf, 0, end);
      buf.copy(buf, 0, end, have);
      have -= end;
      return text;
    }
  };
}

/** The SOA serial of a compiled zone that passed the checks (RFC 1035 §3.3.13: 20 bytes before the end of the RDATA). */
function soaSerial(b: CompiledZoneBuffers): number {
  for (let s = b.nodeFirstSet[0]!, end = s + b.nodeSets[0]!; s < end; s++) {
    if (b.setType[s] !== RRType.SOA) continue;
    const r = b.setFirstRr[s]!;
    const at = b.rrOff[r]! + b.rrLen[r]! - 20;
    return ((b.rdata[at]! << 24) | (b.rdata[at + 1]! << 16) | (b.rdata[at + 2]! << 8) | b.rdata[at + 3]!) >>> 0;
  }
  return 0;
}
