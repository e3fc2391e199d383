// Loads zone files in a worker thread (load-compile.ts, through the relay load-worker.ts), so a reload
// never stops the serving thread: the compiled arrays come back as transferred ArrayBuffers, one
// buffer per event-loop turn (zone-parts.ts says why), and become a Zone in O(1).
import type { Worker } from 'node:worker_threads';
import { Zone } from './tree.js';
import type { CompiledZoneFile, CompileOptions } from './load.js';
import { startModuleThread } from './thread.js';
import { joinZone, type ZoneHead, type ZonePart } from './zone-parts.js';

export interface LoaderRequest {
  id: number;
  name: string;
  file: string;
  opts: CompileOptions;
}

/** The serving thread asks the relay for the next part of the zone being handed over. */
export interface LoaderPull {
  pull: true;
}

/** What the relay thread takes from the serving thread. */
export type ToLoader = LoaderRequest | LoaderPull;

type CompiledOk = Extract<CompiledZoneFile, { ok: true }>;

export interface LoaderReply {
  id: number;
  /** A failure as compileZoneFile gives it, or a compiled zone's head: its `parts` parts follow, one per LoaderPull. */
  result: Exclude<CompiledZoneFile, { ok: true }> | (Omit<CompiledOk, 'buffers' | 'fileHash'> & { head: ZoneHead; parts: number });
  /** SHA-256 (hex) of the file read, for Zone.fileHash. */
  fileHash?: string;
}

/** Some arrays of zone request `id`; id -1 without a part when the relay had none (a part was lost). */
export interface LoaderPart {
  id: number;
  part?: ZonePart;
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
  /** Compiled zones whose parts are being handed over, in the order of their replies (the first one is). */
  private readonly handover: { reply: LoaderReply; parts: number; got: ZonePart[] }[] = [];

  private start(): Worker {
    if (this.worker) return this.worker;
    // The relay thread (load-worker.ts), which starts the compiling thread.
    const w = startModuleThread(import.meta.url, 'load-worker');
    w.unref();
    w.on('message', (m: LoaderReply | LoaderPart) => ('result' in m ? this.onReply(m) : this.onPart(m)));
    const fail = (e: Error) => {
      this.worker = undefined;
      this.handover.length = 0;
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
    this.handover.push({ reply: m, parts: r.parts, got: [] });
    if (this.handover.length === 1) this.pull();
  }

  /**
   * One part of the zone being handed over. The next is asked for from setImmediate: it then arrives
   * in a later turn of the event loop, after the queries that came meanwhile (each arrival may do a
   * step of garbage collection, zone-parts.ts).
   */
  private onPart(m: LoaderPart): void {
    const h = this.handover[0];
    if (h === undefined) return;
    if (m.part === undefined || m.id !== h.reply.id) {
      this.handover.shift();
      this.settle(h.reply.id, { ok: false, problems: ['the zone loader thread lost part of the compiled zone'] });
    } else {
      h.got.push(m.part);
      if (h.got.length < h.parts) return void setImmediate(() => this.pull());
      this.handover.shift();
      this.complete(h.reply, h.got);
    }
    if (this.handover.length > 0) setImmediate(() => this.pull());
  }

  private pull(): void {
    this.worker?.postMessage({ pull: true } satisfies LoaderPull);
  }

  private complete(m: LoaderReply, parts: readonly ZonePart[]): void {
    const r = m.result;
    if (!r.ok) return;
    const { head, parts: _, ...rest } = r;
    let buffers;
    try {
      buffers = joinZone(head, parts);
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
    this.handover.length = 0;
    if (w) await w.terminate();
  }
}

/** The process's loader. */
export const zoneLoader = new ZoneLoader();
