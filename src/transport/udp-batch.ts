// UDP listener over the native batching addon: recvmmsg a batch, answer it, sendmmsg the replies.
// Falls back to node:dgram (udp.ts) when batching is off or the addon is missing.
import type { TransportInfo } from '../answer/context.js';
import type { Engine } from '../answer/engine.js';
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

/** Receive buffers (batchSize × 4 KiB each) kept for reuse after their pending replies went out. */
const MAX_SPARE_BUFFERS = 8;

/** IPv4 peers repeat (resolvers): their text form is kept instead of being rebuilt per datagram. */
const V4_CACHE_MAX = 4096;

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
    }
    let replies = 0;
    let off = 0;
    let pending = false;
    for (let i = 0; i < count; i++) {
      const m = i * 8;
      const start = i * slot;
      const raw = recvBytes.subarray(start, start + meta[m]!);
      const info: TransportInfo = { proto: 'udp', remoteAddress: peerAddress(i), remotePort: meta[m + 1]!, localAddress: local.address, localPort: local.port };
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
      const s = replies * 3;
      sendMeta[s] = i;
      sendMeta[s + 1] = off;
      sendMeta[s + 2] = reply.length;
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

