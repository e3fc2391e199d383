// A compiled zone in one file, for the workers of `workers: N`: the primary compiles a `ctl reload ZONE`
// once, writes its arrays here, and each worker reads them back (one read, views on it; no parsing).
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledZoneBuffers } from '../zone/compiled.js';
import type { CompiledZoneFile } from '../zone/load.js';

type Compiled = Extract<CompiledZoneFile, { ok: true }>;

/** A zone compiled by the primary of workers: N: its file (as configured) and the compiled arrays' file. */
export interface CompiledZoneRef {
  file: string;
  path: string;
}

/** The zones the primary compiled for a whole reload (SIGHUP, `ctl reload`), by lower-cased zone name. */
export type CompiledZoneRefs = Record<string, CompiledZoneRef>;

const MAGIC = 'fluxdns-compiled-zone-1';
const ARRAY_TYPES = { Uint8Array, Uint16Array, Uint32Array, Int32Array } as const;
type ArrayType = keyof typeof ARRAY_TYPES;

interface Header {
  magic: string;
  origin: string;
  nodeCount: number;
  setCount: number;
  rrCount: number;
  records: number;
  serial: number;
  warnings: string[];
  /** SHA-256 of the zone file's bytes compiled (the primary role's "unchanged file" test). */
  fileHash?: string;
  /** [field, array type, byte offset from the data start, element count] */
  arrays: [string, ArrayType, number, number][];
}

/** Writes `c` to a new file in a private (0700) directory; returns its path. `remove` deletes both. */
export function writeCompiledZone(c: Compiled): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-zone-'));
  const path = join(dir, 'zone.bin');
  const b = c.buffers;
  const arrays: Header['arrays'] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [key, v] of Object.entries(b)) {
    if (!ArrayBuffer.isView(v)) continue;
    const type = v.constructor.name as ArrayType;
    if (!(type in ARRAY_TYPES)) throw new Error(`compiled zone field ${key}: unexpected ${type}`);
    arrays.push([key, type, offset, (v as Uint8Array).length]);
    parts.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    // Every array starts on 8 bytes, so the reader's views need no copy.
    offset += (v.byteLength + 7) & ~7;
  }
  const header: Header = { magic: MAGIC, origin: b.origin, nodeCount: b.nodeCount, setCount: b.setCount, rrCount: b.rrCount, records: c.records, serial: c.serial, warnings: c.warnings, fileHash: c.fileHash, arrays };
  const json = Buffer.from(JSON.stringify(header));
  const lead = Buffer.alloc(8);
  lead.writeUInt32LE(json.length, 0);
  const pad = (n: number) => Buffer.alloc(((n + 7) & ~7) - n);
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, lead);
    writeSync(fd, json);
    writeSync(fd, pad(json.length));
    for (const p of parts) {
      writeSync(fd, p);
      writeSync(fd, pad(p.byteLength));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Reads a file writeCompiledZone wrote: the arrays are views on the one buffer read. */
export function readCompiledZone(path: string): Compiled {
  const raw = readFileSync(path);
  // A fresh ArrayBuffer of its own (Buffer's pool could offset it unaligned).
  const all = new Uint8Array(raw.length);
  all.set(raw);
  const jsonLength = new DataView(all.buffer).getUint32(0, true);
  const header = JSON.parse(Buffer.from(all.buffer, 8, jsonLength).toString('utf8')) as Header;
  if (header.magic !== MAGIC) throw new Error(`${path}: not a compiled zone`);
  const start = 8 + ((jsonLength + 7) & ~7);
  const buffers: Record<string, unknown> = { origin: header.origin, nodeCount: header.nodeCount, setCount: header.setCount, rrCount: header.rrCount };
  for (const [key, type, off, count] of header.arrays) {
    const T = ARRAY_TYPES[type];
    if (T === undefined || start + off + count * T.BYTES_PER_ELEMENT > all.length) throw new Error(`${path}: compiled zone field ${key} is cut short`);
    buffers[key] = new T(all.buffer, start + off, count);
  }
  return { ok: true, buffers: buffers as unknown as CompiledZoneBuffers, records: header.records, serial: header.serial, warnings: header.warnings, fileHash: header.fileHash };
}
