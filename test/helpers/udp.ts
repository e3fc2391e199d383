// One datagram to a server and the first reply: the UDP exchange many integration tests need.
import dgram from 'node:dgram';
import packet from 'dns-packet';

export interface UdpExchangeOptions {
  host?: string;
  /** Local address to send from (a resolver or client address an ACL lists). */
  from?: string;
  timeoutMs?: number;
  /** Only a reply for which this returns true ends the exchange (e.g. a matching message ID). */
  accept?: (reply: Buffer) => boolean;
}

/** Sends `msg` to `port` and resolves with the reply, or undefined when none comes within the timeout. */
export function udpExchange(msg: Uint8Array, port: number, opts: UdpExchangeOptions = {}): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const finish = (reply: Buffer | undefined, err?: Error) => {
      clearTimeout(timer);
      s.close();
      if (err) reject(err);
      else resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), opts.timeoutMs ?? 5000);
    s.on('error', (e) => finish(undefined, e));
    s.on('message', (m) => {
      if (!opts.accept || opts.accept(m)) finish(m);
    });
    const send = () => s.send(msg, port, opts.host ?? '127.0.0.1');
    if (opts.from) s.bind(0, opts.from, send);
    else send();
  });
}

/** The rcode of a reply (header byte 3, low four bits), or undefined for no reply. */
export const rcodeOf = (reply: Buffer | undefined): number | undefined => (reply ? reply[3]! & 15 : undefined);

/**
 * An A query for `name` sent from the resolver address `src` (a loopback address the test chose):
 * the rcode name and the answered address, or rcode TIMEOUT when no reply with the query's ID comes.
 */
export async function askA(port: number, src: string, name: string, timeoutMs = 4000): Promise<{ rcode: string; address?: string }> {
  const id = Math.floor(Math.random() * 65535);
  const query = packet.encode({ type: 'query', id, flags: 0, questions: [{ type: 'A', name }] });
  const reply = await udpExchange(query, port, { from: src, timeoutMs, accept: (m) => m.readUInt16BE(0) === id });
  if (!reply) return { rcode: 'TIMEOUT' };
  const p = packet.decode(reply);
  const a = p.answers?.find((r) => r.type === 'A') as { data: string } | undefined;
  return { rcode: (p as { rcode?: string }).rcode ?? 'NOERROR', address: a ? String(a.data) : undefined };
}

/** A bound UDP socket that asks one query at a time and resolves with the next datagram (3 s, else an error). */
export interface UdpAsker {
  sock: dgram.Socket;
  ask(port: number, q: Uint8Array): Promise<Uint8Array>;
  /** Sends every query at once and resolves with the replies by message ID once each ID has one (5 s, else an error). */
  askAll(port: number, queries: Map<number, Uint8Array>): Promise<Map<number, Uint8Array>>;
}

/** A UdpAsker on 127.0.0.1 (an ephemeral port): the tests of the UDP listener ask several queries from one source. */
export async function udpAsker(): Promise<UdpAsker> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return {
    sock,
    ask: (port, q) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no reply')), 3000);
        sock.once('message', (m) => {
          clearTimeout(t);
          resolve(new Uint8Array(m));
        });
        sock.send(q, port, '127.0.0.1');
      }),
    askAll: async (port, queries) => {
      const replies = new Map<number, Uint8Array>();
      let onMessage: ((m: Buffer) => void) | undefined;
      let t: NodeJS.Timeout | undefined;
      const done = new Promise<void>((resolve, reject) => {
        t = setTimeout(() => reject(new Error(`${replies.size} of ${queries.size} replies`)), 5000);
        onMessage = (m) => {
          replies.set(m[0]! * 256 + m[1]!, new Uint8Array(m));
          if (replies.size === queries.size) resolve();
        };
        sock.on('message', onMessage);
      });
      try {
        for (const q of queries.values()) sock.send(q, port, '127.0.0.1');
        await done;
        return replies;
      } finally {
        clearTimeout(t);
        sock.off('message', onMessage!);
      }
    },
  };
}
