// Loads the optional UDP batching addon (native/, built by scripts/build-native.mjs at install).
import { createRequire } from 'node:module';
import type { ReplayColumns, ReplayKey } from '../answer/replay.js';
import type { Nsec3ReplayArena } from '../dnssec/serve/nsec3-replay.js';

/** One batch socket as the addon returns it; the buffers are shared with C (layout in native/udp_batch.c). */
export interface NativeUdpSocket {
  readonly recv: ArrayBuffer;
  /** Int32 per datagram × 8: length, port, family (4|6), 0, then 16 address bytes. */
  readonly recvMeta: ArrayBuffer;
  /**
   * Int32 per reply × 8: index of the datagram answered, offset in `send`, length, replay (Engine.lastReplay),
   * then for a replay under rrl its bucket: kind-and-name hash a, b and rate (Engine.lastRrlA/B/Rate), 0.
   */
  readonly sendMeta: ArrayBuffer;
  readonly send: ArrayBuffer;
  readonly port: number;
  /** Bytes from one received datagram to the next in `recv` (each at most 4096 long; native/udp_batch.c STRIDE). */
  readonly slot: number;
  readonly sendSlot: number;
  /** Int32 words per reply in `sendMeta` (8; undefined from a build older than that layout). */
  readonly sendStride?: number;
}

export interface NativeUdpStats {
  received: number;
  sent: number;
  send_errors: number;
  truncated: number;
  recv_calls: number;
  send_calls: number;
  /** Datagrams answered from the addon's mirror of plain answer-cache hits, without JS (templates included). */
  replayed: number;
  /** Of those, replies made from an encloser template (a name under a closest encloser the addon had a reply for). */
  shaped: number;
  /** Times the templates were emptied at their cap, the exact entries kept (a build older than that: undefined). */
  tmpl_reopens?: number;
  /** Encloser templates held now (at most half the mirror, 32,768: the cap tmpl_reopens reopens). */
  tmpl_count?: number;
}

/**
 * A compiled zone as encloser replay reads it (src/zone/compiled.ts CompiledZoneBuffers, the arrays the engine
 * answers from, not copies): the addon places a name under its closest encloser by probing `index` as
 * CompiledStore.probe does. JS promises every name at or below `apex` is answered from these arrays alone
 * (native/README.md, encloser replay).
 */
export interface EncloserZone {
  /** The zone's name, lower-cased wire. */
  readonly apex: Uint8Array;
  readonly index: Int32Array;
  readonly nodeHash: Uint32Array;
  readonly nodeName: Int32Array;
  readonly names: Uint8Array;
  readonly nodeFlags: Uint8Array;
  /**
   * A signed NSEC3 zone's chain (dnssec/serve/nsec3-replay.ts nsec3ReplayArena): replies marked with send meta
   * word 7's bit 29 are learnt with a hole for the NSEC3 covering the next closer name, filled per replay.
   */
  readonly nsec3?: Nsec3ReplayArena;
}

export interface NativeUdp {
  /** onBatch(count, recv) returns how many replies it put in sendMeta; they go out in one sendmmsg. */
  /** `owner`: a uid the socket belongs to before it binds (SO_REUSEPORT groups sockets of one owner). */
  open(host: string, port: number, batchSize: number, reusePort: boolean, onBatch: (count: number, recv: ArrayBuffer) => number, owner?: number): NativeUdpSocket;
  sendTo(sock: NativeUdpSocket, bytes: Uint8Array, host: string, port: number): boolean;
  /**
   * Keeps the current receive buffer for JS (a reply is pending); the next batch is read into `next`
   * (a buffer from an earlier detach that JS no longer reads), or into a new one without it.
   */
  detach(sock: NativeUdpSocket, next?: ArrayBuffer): void;
  stats(sock: NativeUdpSocket): NativeUdpStats;
  /** Empties the mirror of replayable replies; `on`: keep and serve them from now on. */
  mirror(sock: NativeUdpSocket, on: boolean): void;
  /**
   * Replays are checked against rrl's bucket table from now on (`limit`: the table's columns, shared,
   * and how a client's key is made: answer/replay.ts ReplayLimit), or not at all (undefined).
   */
  rrl(sock: NativeUdpSocket, limit: NativeRrl | undefined): void;
  /**
   * The zones whose names below a closest encloser the addon answers from templates learnt from replies
   * JS marked (send meta word 7), at most 255; undefined: none. Each call empties the mirror and templates.
   */
  enclosers(sock: NativeUdpSocket, zones: readonly EncloserZone[] | undefined, udpPayload?: number): void;
  /** Test hook: where encloser replay places `nameWire` — [zone slot, closest encloser node, next-closer label offset], or null. */
  encloserProbe(sock: NativeUdpSocket, nameWire: Uint8Array): [number, number, number] | null;
  /** Test hook: the clock template reopening reads fixed at `ms` (its 1 s interval counted on it), or CLOCK_MONOTONIC again for ms < 0. */
  templateClock?(sock: NativeUdpSocket, ms: number): void;
  /** [without a cell, cell, hits, …]: replies the mirror sent since the last call (answer/replay.ts). */
  takeReplays(sock: NativeUdpSocket): Float64Array;
  close(sock: NativeUdpSocket): void;
  /** RFC 5155 §5's IH(salt, name, iterations) in C (native/nsec3.c), `name` canonical wire: what the encloser replay hashes with. */
  nsec3Hash?(name: Uint8Array, salt: Uint8Array, iterations: number): Uint8Array;
  /** The place covering `hash` in sorted 20-byte `digests` (the last strictly before it, wrapping; -1 when empty). */
  nsec3Cover?(digests: Uint8Array, hash: Uint8Array): number;
}

/** ReplayLimit as the addon takes it: the columns now, and the key. */
export interface NativeRrl extends ReplayColumns, ReplayKey {}

let loaded: { addon?: NativeUdp; error?: string } | undefined;

/** The addon, or why it is not available (not built, another platform). Tried once per process. */
export function loadNativeUdp(): { addon?: NativeUdp; error?: string } {
  if (loaded) return loaded;
  try {
    // Same relative path from src/transport/ (tsx) and dist/transport/ (built).
    const require = createRequire(import.meta.url);
    loaded = { addon: require('../../native/build/Release/fluxdns_udp.node') as NativeUdp };
  } catch (e) {
    loaded = { error: (e as Error).message.split('\n')[0] };
  }
  return loaded;
}
