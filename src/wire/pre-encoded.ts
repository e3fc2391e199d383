// Pre-encoded RDATA: a typed rdata object that came from wire bytes (a compiled zone's arena) carries
// those bytes, so the encoder copies them instead of encoding the object field by field again.
import type { Rdata } from './types.js';
import type { Writer } from './writer.js';
import { RRType } from './types.js';

/**
 * The hidden key of the uncompressed wire RDATA on a data object. Not enumerable: records compare
 * (deepStrictEqual), print and serialize as before.
 */
export const RDATA_WIRE: unique symbol = Symbol('rdata.wire');

type WithWire = { [RDATA_WIRE]?: Uint8Array };

/**
 * Attaches `wire` (uncompressed RDATA, as the type's codec writes it with names in full) to `data`.
 * The caller vouches that encoding `data` with its codec gives exactly these bytes (a compiled zone
 * decoded `data` from them). Returns `data`.
 */
export function withWire<T extends Rdata>(data: T, wire: Uint8Array): T {
  Object.defineProperty(data, RDATA_WIRE, { value: wire, enumerable: false, writable: false, configurable: false });
  return data;
}

/** The wire RDATA attached to `data`, if any. */
export function wireOf(data: Rdata): Uint8Array | undefined {
  return (data as WithWire)[RDATA_WIRE];
}

/** End of the uncompressed wire name at `b[at]`. */
function nameEnd(b: Uint8Array, at: number): number {
  while (b[at] !== 0) at += b[at]! + 1;
  return at + 1;
}

/**
 * Writes pre-encoded RDATA as the type's codec would: the names RFC 1035 lets a server compress (NS,
 * CNAME, PTR, MX, SOA; §4.1.4, RFC 3597 §4) go through the writer's compression table with their case
 * kept, as the codecs write them; every other type is copied as it is.
 */
export function writeWireRdata(w: Writer, type: number, b: Uint8Array): void {
  switch (type) {
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR:
      w.writeNameWire(b, 0, true, true);
      return;
    case RRType.MX:
      w.bytesFrom(b, 0, 2);
      w.writeNameWire(b, 2, true, true);
      return;
    case RRType.SOA: {
      const second = nameEnd(b, 0);
      w.writeNameWire(b, 0, true, true);
      w.writeNameWire(b, second, true, true);
      w.bytesFrom(b, nameEnd(b, second), b.length);
      return;
    }
    default:
      w.bytes(b);
  }
}
