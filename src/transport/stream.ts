// DNS over a byte stream, shared by TCP and DoT: 2-byte length framing (RFC 1035 §4.2.2, RFC 7858
// §3.3), several queries per connection answered as each completes (RFC 7766 §6.2.1.1), a cap on
// queries in flight, a cap on the query size, and backpressure when the client does not read.
import type { Duplex } from 'node:stream';
import type { TransportInfo } from '../answer/context.js';
import type { Engine } from '../answer/engine.js';
import type { Conn } from './conn.js';
import { MAX_STREAM_MESSAGE, recyclerOf, streamFrame } from '../wire/frame.js';

export interface StreamSocket extends Duplex {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

export function transportInfo(proto: TransportInfo['proto'], socket: StreamSocket): TransportInfo {
  return {
    proto,
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
}

/**
 * Bytes of a zone transfer queued in the socket before it waits for 'drain' (above the high-water mark,
 * so a write has returned false and 'drain' will come): four 64-KiB messages.
 */
const TRANSFER_AHEAD = 256 * 1024;

/** Serves DNS messages on an admitted connection until either side closes it or a limit cuts it. */
export function serveStream(engine: Engine, socket: StreamSocket, info: TransportInfo, conn: Conn, onError: (err: Error) => void): void {
  const { maxInFlight, maxQuerySize } = conn.limits;
  let buffered: Buffer = Buffer.alloc(0);
  /** Token of the message whose first bytes arrived but not yet all of it. */
  let partial: number | undefined;
  let closed = false;
  let waitingForDrain = false;
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    closed = true;
    conn.release();
  });

  /** Further messages of multi-message responses (zone transfers), each written after its first message, already framed. */
  const streams: { it: Iterator<Uint8Array>; recycle: ((frame: Uint8Array) => void) | undefined }[] = [];

  /**
   * Writes a frame whose buffer its writer reuses: handed back as soon as the socket is done with it —
   * at once when the kernel took it whole (nothing left queued), else when its write completes.
   */
  const writeRecycled = (frame: Uint8Array, recycle: (frame: Uint8Array) => void) => {
    let back = false;
    socket.write(frame, (err?: Error | null) => {
      if (!err && !back) {
        back = true;
        recycle(frame);
      }
    });
    if (socket.writableLength === 0 && !back) {
      back = true;
      recycle(frame);
    }
  };

  /** Writes queued transfer messages until the socket pushes back; the query stays in flight until its last one. */
  const pump = () => {
    while (!closed && !waitingForDrain && streams.length > 0) {
      const { it, recycle } = streams[0]!;
      let next: IteratorResult<Uint8Array>;
      try {
        next = it.next();
      } catch (err) {
        // A transfer cannot be answered halfway: the client sees the connection close (RFC 5936 §2.2).
        onError(err as Error);
        socket.destroy();
        return;
      }
      if (next.done) {
        streams.shift();
        conn.replied();
        continue;
      }
      // Past the socket's high-water mark, but a few messages ahead: when the kernel takes more, libuv
      // has the next message queued instead of waiting for this loop to write it.
      if (recycle) writeRecycled(next.value, recycle);
      else socket.write(next.value);
      if (socket.writableLength >= TRANSFER_AHEAD) waitingForDrain = true;
    }
  };

  const send = (reply: Uint8Array | null, following?: Iterable<Uint8Array>) => {
    if (closed) {
      conn.replied();
      return;
    }
    if (reply !== null) {
      if (reply.length > MAX_STREAM_MESSAGE) {
        // The encoder keeps stream replies within 65,535 bytes; should one be longer, the connection ends
        // rather than the stream losing its framing.
        socket.destroy();
        conn.replied();
        return;
      }
      // A client that sends queries but never reads the answers stops being read from (below).
      if (!socket.write(streamFrame(reply))) waitingForDrain = true;
    }
    if (reply !== null && following !== undefined) {
      const it = following[Symbol.iterator]();
      streams.push({ it, recycle: recyclerOf(it) });
      pump();
    } else conn.replied();
    resumeIfPossible();
  };

  const resumeIfPossible = () => {
    if (socket.isPaused() && conn.inFlight < maxInFlight && !waitingForDrain) {
      socket.resume();
      drain();
    }
  };

  socket.on('drain', () => {
    waitingForDrain = false;
    pump();
    resumeIfPossible();
  });

  const drain = () => {
    while (!closed && buffered.length >= 2 && conn.inFlight < maxInFlight && !waitingForDrain) {
      const len = buffered.readUInt16BE(0);
      if (len > maxQuerySize) {
        // No message ID has been read, so there is nobody to answer with FORMERR: close.
        conn.reject('too-large');
        socket.destroy();
        return;
      }
      if (buffered.length < 2 + len) break;
      const msg = buffered.subarray(2, 2 + len);
      buffered = buffered.subarray(2 + len);
      conn.messageReceived(partial ?? conn.messageStarted());
      partial = undefined;
      let reply;
      let following: Iterable<Uint8Array> | undefined;
      try {
        reply = engine.handle(msg, info, (m) => (following = m));
      } catch (err) {
        onError(err as Error);
        reply = null;
      }
      if (reply instanceof Promise)
        reply.then(
          (r) => send(r, following),
          (err: Error) => {
            onError(err);
            send(null);
          },
        );
      else send(reply, following);
    }
    // Only a message the client has not finished sending runs the query timer; complete ones held
    // back by the in-flight cap wait on us, not on the client.
    const complete = buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0);
    if (buffered.length > 0 && !complete && partial === undefined && !closed) partial = conn.messageStarted();
    if (conn.inFlight >= maxInFlight || waitingForDrain) socket.pause();
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    drain();
  });
}
