// UDP listener over the native batching addon: recvmmsg a batch, answer it, sendmmsg the replies.
// Falls back to node:dgram (udp.ts) when batching is off or the addon is missing.
import type { TransportInfo } from '../answer/context.js';
import type { Engine } from '../answer/engine.js';
import { addReplaySource, removeReplaySource, type ReplayLimit, type ReplaySource } from '../answer/replay.js';
import { encloserZones } from './encloser-zones.js';
import { listenUdp, type UdpListener } from './udp.js';
import type { UdpConfig } from './udp-config.js';
import { loadNativeUdp, type NativeUdp, type NativeUdpSocket, type NativeUdpStats } from './udp-native.js';

export interface BatchUdpListener extends UdpListener {
  /** 'recvmmsg' when the addon serves this socket, 'dgram' otherwise. */
  readonly mode: 'recvmmsg' | 'dgram';
  stats?(): NativeUdpStats;
}

export interface UdpListenOptions {
  udp: UdpConfig;
  /** Several worker processes each bind their own socket (SO_REUSEPORT); the kernel spreads the flows. */
  reusePort: boolean;
  /** The uid the socket belongs to (`user:` of a root-started worker), so later workers can join its SO_REUSEPORT group. */
  socketOwner?: number;
  onError: (err: Error) => void;
  /** Told once per process which UDP path is in use. */
  onMode?: (mode: 'recvmmsg' | 'dgram', detail: string) => void;
}

let announced = false;

/** Binds one UDP listener the way `udp.batching` asks. */
export async function listenUdpAuto(engine: Engine, host: string, port: number, opts: UdpListenOptions): Promise<BatchUdpListener> {
  const native = opts.udp.batching === 'auto' ? loadNativeUdp() : { error: 'udp.batching is off' };
  const tell = (mode: 'recvmmsg' | 'dgram', detail: string) => {
    if (announced) return;
    announced = true;
    opts.onMode?.(mode, detail);
  };
  if (native.addon) {
    const l = listenUdpBatch(native.addon, engine, host, port, opts);
    tell('recvmmsg', `native batching, up to ${opts.udp.batchSize} datagrams per system call${opts.reusePort ? ', SO_REUSEPORT per worker' : ''}`);
    return l;
  }
  const l = await listenUdp(engine, host, port, opts.onError);
  tell('dgram', `node:dgram (${native.error})`);
  return { ...l, mode: 'dgram' };
}

/** Int32 per reply in the send meta (native/udp_batch.c SEND_STRIDE). */
const SEND_STRIDE = 8;

/** Receive buffers (batchSize × 4 KiB each) kept for reuse after their pending replies went out. */
const MAX_SPARE_BUFFERS = 8;

/** IPv4 peers repeat (resolvers): their text form is kept instead of being rebuilt per datagram. */
const V4_CACHE_MAX = 4096;

/**
 * TransportInfo objects for recent IPv4 peers (address, port), direct-mapped: a resolver's few source
 * ports repeat, and one object per query was a third of what a cache hit allocated. The objects are
 * read-only, so a query that outlives its batch may keep the one it got.
 */
const INFO_SLOTS = 1024;

/**
 * Query views kept per (slot, length) of the current receive buffer: lengths repeat, and a view made
 * per datagram was another allocation per hit. Dropped with the buffer (detach) and when this many
 * lengths were seen (odd sizes from a fuzzer or a flood).
 */
const MAX_VIEWS = 16384;
/** Above any slot size (4096): i * SLOT_KEY + length names one (slot, length) pair. */
const SLOT_KEY = 1 << 16;

export function listenUdpBatch(addon: NativeUdp, engine: Engine, host: string, port: number, opts: Omit<UdpListenOptions, 'udp'> & { udp: Pick<UdpConfig, 'batchSize'> }): BatchUdpListener {
  const v4names = new Map<number, string>();
  let sock: NativeUdpSocket | undefined;
  let closed = false;
  let local = { address: host, port };
  let recvBuf: ArrayBuffer | undefined;
  let recvBytes = new Uint8Array(0);
  let meta = new Int32Array(0);
  let metaBytes = new Uint8Array(0);
  let sendMeta = new Int32Array(0);
  let sendBytes = new Uint8Array(0);
  let slot = 0;

  const infoKeys = new Int32Array(INFO_SLOTS);
  const infoPorts = new Int32Array(INFO_SLOTS).fill(-1);
  const infos: (TransportInfo | undefined)[] = new Array<TransportInfo | undefined>(INFO_SLOTS).fill(undefined);
  /** The TransportInfo of datagram `i`: a kept one for an IPv4 peer seen recently, else a new one. */
  const infoOf = (i: number): TransportInfo => {
    const m = i * 8;
    const port = meta[m + 1]!;
    if (meta[m + 2] !== 4) return { proto: 'udp', remoteAddress: formatV6(metaBytes, m * 4 + 16), remotePort: port, localAddress: local.address, localPort: local.port };
    const key = meta[m + 4]!;
    const at = (Math.imul(key ^ Math.imul(port, 0x9e3779b1), 0x85ebca6b) >>> 22) & (INFO_SLOTS - 1);
    if (infoKeys[at] === key && infoPorts[at] === port) return infos[at]!;
    const info: TransportInfo = { proto: 'udp', remoteAddress: peerAddress(i), remotePort: port, localAddress: local.address, localPort: local.port };
    infoKeys[at] = key;
    infoPorts[at] = port;
    infos[at] = info;
    return info;
  };
  let views = new Map<number, Uint8Array>();
  /** Bytes of datagram `i` (`length` long) as a view of the receive buffer, kept for the next datagram of that slot and length. */
  const viewOf = (i: number, length: number): Uint8Array => {
    const key = i * SLOT_KEY + length;
    let v = views.get(key);
    if (v === undefined) {
      if (views.size >= MAX_VIEWS) views.clear();
      const start = i * slot;
      v = recvBytes.subarray(start, start + length);
      views.set(key, v);
    }
    return v;
  };

  const peerAddress = (i: number): string => {
    const m = i * 8;
    if (meta[m + 2] === 4) {
      const key = meta[m + 4]!;
      let name = v4names.get(key);
      if (name === undefined) {
        const b = m * 4 + 16;
        name = `${metaBytes[b]}.${metaBytes[b + 1]}.${metaBytes[b + 2]}.${metaBytes[b + 3]}`;
        if (v4names.size >= V4_CACHE_MAX) v4names.clear();
        v4names.set(key, name);
      }
      return name;
    }
    return formatV6(metaBytes, m * 4 + 16);
  };

  // A batch with a reply still pending keeps its receive buffer (the query's bytes are views into it),
  // and the addon reads the next batch elsewhere. Buffers whose pending replies have all gone out are
  // handed back to the addon instead of it allocating batchSize × 4 KiB per asynchronous answer (every
  // capability grant): that allocation drove the GC pauses in the grant latency tail (issue 14).
  const pendingOn = new Map<ArrayBuffer, number>();
  const detached = new Set<ArrayBuffer>();
  const spares: ArrayBuffer[] = [];
  const settled = (buf: ArrayBuffer) => {
    const n = (pendingOn.get(buf) ?? 1) - 1;
    if (n > 0) {
      pendingOn.set(buf, n);
      return;
    }
    pendingOn.delete(buf);
    if (detached.delete(buf) && spares.length < MAX_SPARE_BUFFERS) spares.push(buf);
  };
  const sendLater = (reply: Promise<Uint8Array | null>, address: string, peerPort: number, buf: ArrayBuffer) => {
    pendingOn.set(buf, (pendingOn.get(buf) ?? 0) + 1);
    reply.then(
      (r) => {
        settled(buf);
        if (r && !closed && sock) addon.sendTo(sock, r, address, peerPort);
      },
      (e: Error) => {
        settled(buf);
        opts.onError(e);
      },
    );
  };

  const onBatch = (count: number, recv: ArrayBuffer): number => {
    if (recv !== recvBuf) {
      recvBuf = recv;
      recvBytes = new Uint8Array(recv);
      // Views of the old buffer stay with the queries still pending on it.
      if (views.size > 0) views = new Map();
    }
    let replies = 0;
    let off = 0;
    let pending = false;
    for (let i = 0; i < count; i++) {
      const raw = viewOf(i, meta[i * 8]!);
      const info = infoOf(i);
      let reply;
      try {
        reply = engine.handle(raw, info);
      } catch (e) {
        opts.onError(e as Error);
        continue;
      }
      if (reply === null) continue;
      if (reply instanceof Promise) {
        // The query's bytes stay referenced until the reply is made: the addon reads the next batch elsewhere.
        pending = true;
        sendLater(reply, info.remoteAddress, info.remotePort, recvBuf!);
        continue;
      }
      if (off + reply.length > sendBytes.length) {
        addon.sendTo(sock!, reply, info.remoteAddress, info.remotePort);
        continue;
      }
      sendBytes.set(reply, off);
      const s = replies * SEND_STRIDE;
      sendMeta[s] = i;
      sendMeta[s + 1] = off;
      sendMeta[s + 2] = reply.length;
      // A plain answer-cache hit: the addon keeps it and answers the same query bytes itself from now on,
      // under rrl after checking the bucket it was let through on.
      sendMeta[s + 3] = engine.lastReplay;
      sendMeta[s + 4] = engine.lastRrlA;
      sendMeta[s + 5] = engine.lastRrlB;
      sendMeta[s + 6] = engine.lastRrlRate;
      // A reply that holds for any name below the same closest encloser: the addon learns it as a template.
      sendMeta[s + 7] = engine.lastShape;
      off += reply.length;
      replies++;
    }
    if (pending) {
      detached.add(recvBuf!);
      addon.detach(sock!, spares.pop());
    }
    return replies;
  };

  sock = addon.open(host, port, opts.udp.batchSize, opts.reusePort, onBatch, opts.socketOwner);
  const replaying = sock;
  const replays: ReplaySource = () => addon.takeReplays(replaying);
  // rrl's table, shared with the addon, is handed over again whenever it grows (new columns).
  let limitNow: ReplayLimit | undefined;
  let unwatch: (() => void) | undefined;
  const shareLimit = () => {
    const l = limitNow;
    if (!closed) addon.rrl(replaying, l === undefined ? undefined : { ...l.columns(), ...l.key });
  };
  let unlisten: () => void;
  try {
    // The send meta's layout is the addon's: a build older than this code reads replies at other offsets.
    if (sock.sendStride !== SEND_STRIDE) throw new Error(`the UDP addon (native/build) is older than this code (send meta of ${sock.sendStride ?? 4} words a reply, not ${SEND_STRIDE}): run node scripts/build-native.mjs`);
    // Every reset empties the addon's mirror: it holds answers of the runtime the engine just left.
    unlisten = engine.replay.listen((on, limit) => {
      if (limit !== limitNow) {
        unwatch?.();
        limitNow = limit;
        unwatch = limit?.onResize(shareLimit);
        shareLimit();
      }
      addon.mirror(replaying, on);
      // The zones the addon may search for a name's closest encloser: the new runtime's (a swap resets).
      addon.enclosers(replaying, on ? encloserZones(engine.runtime) : undefined, engine.runtime.config.limits.udpPayload);
    });
  } catch (e) {
    // An addon older than this code (a stale native build) fails here: the bound socket must not stay
    // open behind the error, or `serve` reports "cannot start" and keeps running.
    unwatch?.();
    addon.close(replaying);
    throw e;
  }
  addReplaySource(replays, () => {
    const st = addon.stats(replaying);
    return { shaped: st.shaped, reopens: st.tmpl_reopens ?? 0, held: st.tmpl_count ?? 0 };
  });
  meta = new Int32Array(sock.recvMeta);
  metaBytes = new Uint8Array(sock.recvMeta);
  sendMeta = new Int32Array(sock.sendMeta);
  sendBytes = new Uint8Array(sock.send);
  slot = sock.slot;
  local = { address: host, port: sock.port };
  const opened = sock;
  return {
    mode: 'recvmmsg',
    address: host,
    port: sock.port,
    stats: () => addon.stats(opened),
    close: () => {
      if (!closed) {
        closed = true;
        unlisten();
        unwatch?.();
        removeReplaySource(replays);
        addon.close(opened);
      }
      return Promise.resolve();
    },
  };
}

/** RFC 5952 text form (lower case, the longest run of two or more zero groups as ::). */
export function formatV6(b: Uint8Array, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

