// Loads zone files in a worker thread (load-compile.ts, through the relay load-worker.ts), so a reload
// never stops the serving thread: the compiled arrays come back in shared memory (shared-zone.ts says
// why), waiting in a port that arrives with the reply, and become a Zone in O(1).
import { receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { Zone } from './tree.js';
import type { CompiledZoneBuffers } from './compiled.js';
import type { CompiledZoneFile, CompileOptions } from './load.js';
import { checkZoneArrays } from './shared-zone.js';
import { startModuleThread } from './thread.js';

export interface LoaderRequest {
  id: number;
  name: string;
  file: string;
  opts: CompileOptions;
}

type CompiledOk = Extract<CompiledZoneFile, { ok: true }>;

export interface LoaderReply {
  id: number;
  /** A failure as compileZoneFile gives it, or a compiled zone: its arrays are the one message waiting in `zone`. */
  result: Exclude<CompiledZoneFile, { ok: true }> | (Omit<CompiledOk, 'buffers' | 'fileHash'> & { zone: MessagePort });
  /** SHA-256 (hex) of the file read, for Zone.fileHash. */
  fileHash?: string;
}

/** What `load` resolves to: the zone ready to swap in, or the same failures compileZoneFile gives. */
export type LoadedZoneFile = Exclude<CompiledZoneFile, { ok: true }> | { ok: true; zone: Zone; records: number; serial: number; warnings: string[] };

interface Pending {
  resolve: (r: LoadedZoneFile) => void;
  reject: (e: Error) => void;
  raw?: (r: CompiledZoneFile) => void;
}

/**
 * One loader per process (a relay thread and the compiling thread it starts), started at the first
 * load and kept (unref'd) for the next: a thread start reads the parser's modules again, which costs
 * more than a small zone's load.
 * Requests run one at a time in the thread, in order.
 */
export class ZoneLoader {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private start(): Worker {
    if (this.worker) return this.worker;
    // The relay thread (load-worker.ts), which starts the compiling thread.
    const w = startModuleThread(import.meta.url, 'load-worker');
    w.unref();
    w.on('message', (m: LoaderReply) => this.onReply(m));
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

  private onReply(m: LoaderReply): void {
    const r = m.result;
    if (!r.ok) return this.settle(m.id, r);
    const { zone: port, ...rest } = r;
    // The zone's arrays: one message, already in the port's queue (no wait, no wake-up of the compiler).
    const buffers = receiveMessageOnPort(port)?.message as CompiledZoneBuffers | undefined;
    port.close();
    try {
      if (buffers === undefined) throw new Error('the zone loader thread lost the compiled zone');
      checkZoneArrays(buffers);
    } catch (e) {
      return this.settle(m.id, { ok: false, problems: [(e as Error).message] });
    }
    this.settle(m.id, { ...rest, buffers, fileHash: m.fileHash }, m.fileHash);
  }

  private settle(id: number, r: CompiledZoneFile, fileHash?: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.raw) return p.raw(r);
    if (!r.ok) return p.resolve(r);
    try {
      const zone = Zone.fromBuffers(r.buffers);
      zone.fileHash = fileHash;
      p.resolve({ ok: true, zone, records: r.records, serial: r.serial, warnings: r.warnings });
    } catch (e) {
      p.resolve({ ok: false, problems: [(e as Error).message] });
    }
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
