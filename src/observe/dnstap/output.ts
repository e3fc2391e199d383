// dnstap output: the hot path copies a query and its reply into a bounded queue; a drain off the hot
// path encodes them and writes Frame Streams to a file or a socket. A full queue drops, never waits.
import cluster from 'node:cluster';
import { createWriteStream, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createConnection, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { QueryContext, TransportInfo } from '../../answer/context.js';
import type { EngineReply } from '../../answer/engine.js';
import type { Logger } from '../log.js';
import { counter } from '../metrics/family.js';
import type { DnstapConfig } from './config.js';
import { Control, ControlReader, controlFrame, dataFrame } from './fstrm.js';
import { encodeDnstap, MessageType, SocketProtocol } from './protobuf.js';

const framesTotal = counter('fluxdns_dnstap_frames_total', 'dnstap frames written');
const droppedTotal = counter('fluxdns_dnstap_dropped_total', 'Queries not written to dnstap because the queue was full (a slow or absent reader)');

interface Entry {
  t: TransportInfo;
  query: Uint8Array | undefined;
  reply: Uint8Array | undefined;
  /** ms since the epoch, with a fraction. */
  queryTime: number;
  responseTime: number;
}

/** Most entries one write carries: the drain yields to the event loop between writes. */
const BATCH = 256;
const RECONNECT_MS = 1000;

export class DnstapOutput {
  private queue: (Entry | undefined)[];
  private head = 0;
  private size = 0;
  private scheduled = false;
  private sink: Writable | undefined;
  /** False while a socket handshake is under way or the stream is full: the drain waits for 'drain'. */
  private writable = false;
  private closed = false;
  private readonly wantQuery: boolean;
  private readonly wantResponse: boolean;
  private readonly identity: Uint8Array;
  private readonly version: Uint8Array;
  private reconnect: NodeJS.Timeout | undefined;
  private finish: (() => void) | undefined;

  constructor(
    private readonly cfg: DnstapConfig,
    private readonly logger: Logger,
  ) {
    this.queue = new Array<Entry | undefined>(cfg.queueSize);
    this.wantQuery = cfg.messages.includes('auth_query');
    this.wantResponse = cfg.messages.includes('auth_response');
    this.identity = new TextEncoder().encode(cfg.identity ?? hostname());
    this.version = new TextEncoder().encode(cfg.version ?? `fluxdns ${packageVersion()}`);
    if (cfg.file !== undefined) this.openFile(cluster.isWorker ? `${cfg.file}.${cluster.worker!.id}` : cfg.file);
    else this.connect(cfg.socket!);
  }

  /** The engine's observer (hot path): copy what is needed, queue it, return. */
  readonly observe = (ctx: QueryContext, reply: EngineReply, seconds: number): void => {
    if (this.size === this.queue.length) {
      droppedTotal.value++;
      return;
    }
    const now = performance.timeOrigin + performance.now();
    // The transport reuses its buffers for the next datagrams: keep copies.
    const e: Entry = {
      t: ctx.transport,
      query: this.wantQuery ? ctx.raw.slice() : undefined,
      reply: this.wantResponse && reply !== null ? reply.slice() : undefined,
      queryTime: seconds < 0 ? now : now - seconds * 1000,
      responseTime: now,
    };
    this.queue[(this.head + this.size) % this.queue.length] = e;
    this.size++;
    if (!this.scheduled && this.writable) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  };

  private readonly drain = (): void => {
    this.scheduled = false;
    while (this.writable && this.size > 0) {
      const frames: Uint8Array[] = [];
      for (let n = 0; n < BATCH && this.size > 0; n++) {
        const e = this.queue[this.head]!;
        this.queue[this.head] = undefined;
        this.head = (this.head + 1) % this.queue.length;
        this.size--;
        frames.push(...this.encode(e));
      }
      framesTotal.value += frames.length;
      if (!this.sink!.write(Buffer.concat(frames))) {
        // The reader is slower than the queries: wait for it; the queue takes the rest, then drops.
        this.writable = false;
        this.sink!.once('drain', () => this.resume());
      }
    }
  };

  private resume(): void {
    if (this.closed) return;
    this.writable = true;
    if (this.size > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  private encode(e: Entry): Uint8Array[] {
    const base = {
      queryAddress: e.t.remoteAddress,
      queryPort: e.t.remotePort,
      responseAddress: e.t.localAddress,
      responsePort: e.t.localPort,
      protocol: SocketProtocol[e.t.proto],
      queryTime: e.queryTime,
    };
    const out: Uint8Array[] = [];
    if (e.query) out.push(dataFrame(encodeDnstap(this.identity, this.version, { ...base, type: MessageType.AUTH_QUERY, queryMessage: e.query })));
    if (e.reply) out.push(dataFrame(encodeDnstap(this.identity, this.version, { ...base, type: MessageType.AUTH_RESPONSE, responseTime: e.responseTime, responseMessage: e.reply })));
    return out;
  }

  private openFile(path: string): void {
    const s = createWriteStream(path, { flags: 'w' });
    s.on('error', (err) => {
      this.writable = false;
      this.logger.error('dnstap file cannot be written; queries are no longer logged to it', { file: path, err: err.message });
    });
    this.sink = s;
    // Unidirectional: START with the content type, then data frames (fstrm §"Unidirectional").
    s.write(controlFrame(Control.START));
    this.resume();
  }

  private connect(path: string): void {
    if (this.closed) return;
    const sock: Socket = createConnection(path);
    const reader = new ControlReader();
    let accepted = false;
    sock.on('connect', () => sock.write(controlFrame(Control.READY)));
    sock.on('data', (chunk: Buffer) => {
      for (const type of reader.push(chunk)) {
        if (type === Control.ACCEPT && !accepted) {
          accepted = true;
          sock.write(controlFrame(Control.START));
          this.sink = sock;
          this.logger.info('dnstap connected', { socket: path });
          this.resume();
        } else if (type === Control.FINISH) {
          this.finish?.();
        }
      }
    });
    sock.on('error', (err) => {
      if (!this.closed) this.logger.warn('dnstap socket error; retrying', { socket: path, err: err.message });
    });
    sock.on('close', () => {
      this.writable = false;
      this.sink = undefined;
      this.finish?.();
      if (!this.closed) this.reconnect = setTimeout(() => this.connect(path), RECONNECT_MS);
    });
  }

  /** Writes what is queued (as far as the reader takes it), STOP, and closes; a socket waits for FINISH up to a second. */
  async close(): Promise<void> {
    if (this.writable) this.drain();
    this.closed = true;
    clearTimeout(this.reconnect);
    const sink = this.sink;
    if (!sink) return;
    // Unidirectional streams end with STOP; bidirectional ones too, and the reader answers FINISH.
    sink.write(controlFrame(Control.STOP, null));
    if (this.cfg.socket !== undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.finish = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // A reader that stopped reading never takes the rest: give it a second, then let go.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      sink.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    sink.destroy();
  }
}

/** package.json sits two folders up from both src/observe/dnstap and dist/observe/dnstap. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
