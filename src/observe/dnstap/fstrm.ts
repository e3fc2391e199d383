// Frame Streams (github.com/farsightsec/fstrm, fstrm/control.h): length-prefixed data frames and the
// control frames that open and close a stream — unidirectional (a file: START … STOP) or
// bidirectional (a socket: READY → ACCEPT, START … STOP → FINISH).

export const CONTENT_TYPE = 'protobuf:dnstap.Dnstap';

export const Control = { ACCEPT: 1, START: 2, STOP: 3, READY: 4, FINISH: 5 } as const;
const FIELD_CONTENT_TYPE = 1;

/**
 * A control frame: the escape (a zero length), the control frame's length, its type, its fields.
 * READY, ACCEPT and START carry the content type; STOP and FINISH carry none (null).
 */
export function controlFrame(type: number, contentType: string | null = CONTENT_TYPE): Uint8Array {
  const ct = contentType === null ? new Uint8Array(0) : new TextEncoder().encode(contentType);
  const fields = contentType === null ? 0 : 8 + ct.length;
  const out = new Uint8Array(12 + fields);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0);
  v.setUint32(4, 4 + fields);
  v.setUint32(8, type);
  if (contentType !== null) {
    v.setUint32(12, FIELD_CONTENT_TYPE);
    v.setUint32(16, ct.length);
    out.set(ct, 20);
  }
  return out;
}

/** A data frame: its length (32 bits, big-endian), then the payload. */
export function dataFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/** Reads control frames from a byte stream (what the collector sends back on a socket: ACCEPT, FINISH). */
export class ControlReader {
  private buf = new Uint8Array(0);

  /** Feeds bytes; returns the control types completed by them. Data frames are not expected and are skipped. */
  push(chunk: Uint8Array): number[] {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    this.buf = joined;
    const types: number[] = [];
    for (;;) {
      if (this.buf.length < 4) break;
      const v = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      const first = v.getUint32(0);
      if (first !== 0) {
        if (this.buf.length < 4 + first) break;
        this.buf = this.buf.subarray(4 + first);
        continue;
      }
      if (this.buf.length < 8) break;
      const len = v.getUint32(4);
      if (this.buf.length < 8 + len) break;
      if (len >= 4) types.push(v.getUint32(8));
      this.buf = this.buf.subarray(8 + len);
    }
    return types;
  }
}
