// The UDP addon with some of its functions replaced, for tests that watch or break what a listener calls.
import assert from 'node:assert/strict';
import type { EncloserZone, NativeUdp, NativeUdpSocket } from '../../src/transport/udp-native.js';

/**
 * `n` with `over` in place of some of its functions, the others forwarded by name: the addon's functions
 * are not enumerable, so a spread of it would copy none.
 */
export function addonWith(n: NativeUdp, over: Partial<NativeUdp>): NativeUdp {
  return {
    open: (host, port, batchSize, reusePort, onBatch, owner) => n.open(host, port, batchSize, reusePort, onBatch, owner),
    sendTo: (s, bytes, host, port) => n.sendTo(s, bytes, host, port),
    detach: (s, next) => n.detach(s, next),
    stats: (s) => n.stats(s),
    mirror: (s, on) => n.mirror(s, on),
    rrl: (s, limit) => n.rrl(s, limit),
    enclosers: (s, zones, udpPayload) => n.enclosers(s, zones, udpPayload),
    encloserProbe: (s, name) => n.encloserProbe(s, name),
    takeReplays: (s) => n.takeReplays(s),
    close: (s) => n.close(s),
    ...over,
  };
}

/**
 * `n` marking every reply a listener sends with `mark` in word 7 (as the engine marks encloser-determined
 * ones), `zones()` registered as encloser zones whenever the mirror is reset (as the listener does on each
 * swap). `register()` registers them now: the listener resets the mirror as it starts only when replays change.
 */
export function markingAddon(n: NativeUdp, mark: number, zones: () => EncloserZone[], udpPayload?: number): { addon: NativeUdp; socket(): NativeUdpSocket; register(): void } {
  let meta = new Int32Array(0);
  let sock: NativeUdpSocket | undefined;
  const addon = addonWith(n, {
    open: (h, p, b, r, cb, owner) => {
      const s = n.open(h, p, b, r, (count, recv) => {
        const k = cb(count, recv);
        for (let i = 0; i < k; i++) meta[i * 8 + 7] = mark;
        return k;
      }, owner);
      meta = new Int32Array(s.sendMeta);
      sock = s;
      return s;
    },
    mirror: (s, on) => {
      n.mirror(s, on);
      n.enclosers(s, on ? zones() : undefined, udpPayload);
    },
  });
  const socket = () => sock ?? assert.fail('the listener has not opened its socket');
  return { addon, socket, register: () => n.enclosers(socket(), zones(), udpPayload) };
}
