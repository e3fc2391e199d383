// The UDP addon with some of its functions replaced, for tests that watch or break what a listener calls.
import type { NativeUdp } from '../../src/transport/udp-native.js';

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
