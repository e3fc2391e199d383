// Stream framing (RFC 1035 §4.2.2, RFC 7858 §3.3): a message over TCP or TLS follows its 2-byte length.

/** `wire` after its 2-byte length, in one new buffer. */
export function streamFrame(wire: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(2 + wire.length);
  frame[0] = wire.length >>> 8;
  frame[1] = wire.length & 0xff;
  frame.set(wire, 2);
  return frame;
}
