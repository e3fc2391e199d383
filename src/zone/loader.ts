// Loads zone files in a worker thread (load-compile.ts, through the relay load-worker.ts), so a reload
// never stops the serving thread: the compiled arrays come back as transferred ArrayBuffers and become
// a Zone in O(1).
import type { Worker } from 'node:worker_threads';
import { Zone } from './tree.js';
import type { CompiledZoneFile, CompileOptions } from './load.js';
import { startModuleThread } from './thread.js';

export interface LoaderRequest {
  id: number;
  name: string;
  file: string;
  opts: CompileOptions;
}

export interface LoaderReply {
  id: number;
  result: CompiledZoneFile;
  /** SHA-256 (hex) of the file read, for Zone.fileHash. */
  fileHash?: string;
}

/** What `load` resolves to: the zone ready to swap in, or the same failures compileZoneFile gives. */
export type LoadedZoneFile = Exclude<CompiledZoneFile, { ok: true }> | { ok: true; zone: Zone; records: number; serial: number; warnings: string[] };

/**
 * One loader per process (a relay thread and the compiling thread it starts), started at the first
 * load and kept (unref'd) for the next: a thread start reads the parser's modules again, which costs
 * more than a small zone's load.
 * Requests run one at a time in the thread, in order.
 */
export class ZoneLoader {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: LoadedZoneFile) => void; reject: (e: Error) => void; raw?: (r: CompiledZoneFile) => void }>();

  private start(): Worker {
    if (this.worker) return this.worker;
    // The relay thread (load-worker.ts), which starts the compiling thread.
    const w = startModuleThread(import.meta.url, 'load-worker');
    w.unref();
    w.on('message', (m: LoaderReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      const r = m.result;
      if (p.raw) return p.raw(r);
      if (!r.ok) return p.resolve(r);
      try {
        const zone = Zone.fromBuffers(r.buffers);
        zone.fileHash = m.fileHash;
        p.resolve({ ok: true, zone, records: r.records, serial: r.serial, warnings: r.warnings });
      } catch (e) {
        p.resolve({ ok: false, problems: [(e as Error).message] });
      }
    });
    const fail = (e: Error) => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the zone loader thread exited (code ${code})`)));
    this.worker = w;
    return w;
  }

  /** Parses, checks and compiles one zone file in the loader thread. */
  load(name: string, file: string, opts: CompileOptions = {}): Promise<LoadedZoneFile> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, name, file, opts } satisfies LoaderRequest);
    });
  }

  /**
   * Like load, but the compiled arrays themselves (CompiledZoneBuffers), not a Zone: for a process that
   * hands them on (the primary of workers: N compiles a `ctl reload ZONE` once for every worker).
   */
  compile(name: string, file: string, opts: CompileOptions = {}): Promise<CompiledZoneFile> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: () => {}, reject, raw: resolve });
      w.postMessage({ id, name, file, opts } satisfies LoaderRequest);
    });
  }

  /** Stops the thread (tests; a server keeps it until it exits). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

/** The process's loader. */
export const zoneLoader = new ZoneLoader();
