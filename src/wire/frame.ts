// Stream framing (RFC 1035 §4.2.2, RFC 7858 §3.3): a message over TCP or TLS follows its 2-byte length.

/** The largest message a 2-byte length can frame. */
export const MAX_STREAM_MESSAGE = 0xffff;

/** `wire` after its 2-byte length, in one new buffer; a RangeError for a message longer than that can say. */
export function streamFrame(wire: Uint8Array): Buffer {
  // Written as two bytes, 65,536 bytes and more would wrap into a short length and desynchronize the stream.
  if (wire.length > MAX_STREAM_MESSAGE) throw new RangeError(`a ${wire.length}-byte message does not fit a 2-byte stream frame`);
  const frame = Buffer.allocUnsafe(2 + wire.length);
  frame[0] = wire.length >>> 8;
  frame[1] = wire.length & 0xff;
  frame.set(wire, 2);
  return frame;
}

/**
 * The later messages of a multi-message response (a zone transfer), already framed, from a writer that
 * reuses its buffers: the transport hands each frame back with `recycle` once the socket no longer needs
 * its bytes. A transfer of a million records is 35 MB of 64-KiB buffers otherwise, and V8 answers that
 * much external memory with a full garbage collection or two per transfer.
 */
export interface RecyclingFrames extends Iterator<Uint8Array> {
  /** `frame`, one this iterator returned, has been written out: its memory may carry a later message. */
  recycle(frame: Uint8Array): void;
}

/** The iterator's `recycle`, bound, when it has one. */
export function recyclerOf(it: Iterator<Uint8Array>): ((frame: Uint8Array) => void) | undefined {
  const r = (it as Partial<RecyclingFrames>).recycle;
  return typeof r === 'function' ? r.bind(it) : undefined;
}
