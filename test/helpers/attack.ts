// Attacks on a DNS server's stream transports and the legitimate client measured meanwhile (issue 16),
// shared by test/integration/attack*.test.ts, test/helpers/attack-driver.ts (run inside a network
// namespace) and bench/relief-gap.ts. Every query asks www.t.lab A; an answer counts when it carries
// 198.51.100.2.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import packet from 'dns-packet';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function query(id: number, name = 'www.t.lab'): Buffer {
  return packet.encode({ type: 'query', id, flags: 0, questions: [{ name, type: 'A', class: 'IN' }] });
}

export function framed(q: Buffer): Buffer {
  const f = Buffer.alloc(2 + q.length);
  f.writeUInt16BE(q.length, 0);
  q.copy(f, 2);
  return f;
}

/** True when the answer carries www.t.lab's address. */
export function answered(wire: Buffer): boolean {
  try {
    const m = packet.decode(wire);
    return (m.answers ?? []).some((a) => a.type === 'A' && a.data === '198.51.100.2');
  } catch {
    return false;
  }
}

/** Where the server listens: one host (IPv4 or IPv6) with its TCP, DoT and DoH ports. */
export interface Ports {
  host: string;
  dns: number;
  dot: number;
  doh: number;
}

/** One query on a fresh TCP or DoT connection, as a stub resolver would; false on any failure within 3 s. */
export function askStream(host: string, port: number, secure: boolean, localAddress?: string): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const raw = net.connect({ host, port, localAddress });
    const s = secure ? tls.connect({ socket: raw, rejectUnauthorized: false, ALPNProtocols: ['dot'] }) : raw;
    const timer = setTimeout(() => finish(false), 3000);
    let buf = Buffer.alloc(0);
    s.once(secure ? 'secureConnect' : 'connect', () => s.write(framed(query(4242))));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(answered(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
    s.on('error', () => finish(false));
    s.on('close', () => finish(false));
  });
}

/** https://HOST:PORT with IPv6 hosts in brackets. */
export function origin(host: string, port: number): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** One DoH POST on a fresh HTTP/2 connection; false on any failure within 3 s. */
export function askDoh(host: string, port: number, localAddress?: string): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const session = http2.connect(origin(host, port), { rejectUnauthorized: false, localAddress } as http2.SecureClientSessionOptions);
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), 3000);
    session.on('error', () => finish(false));
    session.on('close', () => finish(false));
    const req = session.request({ ':method': 'POST', ':path': '/dns-query', 'content-type': 'application/dns-message' });
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => finish(answered(Buffer.concat(chunks))));
    req.on('error', () => finish(false));
    req.end(query(0));
  });
}

export interface Score {
  asked: number;
  answered: number;
}

export type Scores = Record<string, Score>;

/**
 * The legitimate client: one query over each of TCP, DoT and DoH every `everyMs` on fresh connections,
 * from `localAddress` (each of `targets` in turn), until `stop` resolves. Keys are `tcp`, `dot`, `doh`,
 * suffixed with the target's label when there are several (`tcp/v6`).
 */
export async function legitimate(targets: Array<Ports & { label?: string; localAddress?: string }>, stop: Promise<void>, everyMs = 150): Promise<Scores> {
  const score: Scores = {};
  let stopped = false;
  void stop.then(() => (stopped = true));
  const pending: Promise<void>[] = [];
  const one = (k: string, p: Promise<boolean>) => {
    const s = (score[k] ??= { asked: 0, answered: 0 });
    s.asked++;
    pending.push(p.then((ok) => void (ok && s.answered++)));
  };
  while (!stopped) {
    for (const t of targets) {
      const sfx = t.label ? `/${t.label}` : '';
      one(`tcp${sfx}`, askStream(t.host, t.dns, false, t.localAddress));
      one(`dot${sfx}`, askStream(t.host, t.dot, true, t.localAddress));
      one(`doh${sfx}`, askDoh(t.host, t.doh, t.localAddress));
    }
    await sleep(everyMs);
  }
  await Promise.all(pending);
  return score;
}

/** "tcp 28/28, dot 27/28, …" for the test's output and the README. */
export function formatScores(score: Scores): string {
  return Object.entries(score)
    .map(([k, s]) => `${k} ${s.answered}/${s.asked}`)
    .join(', ');
}

/**
 * Connections that hold slots: each sends a query every `everyMs` (so it is never idle long) and
 * reconnects `reconnectMs` after the server closes it, `perSource` from each source address, until `stop`.
 */
export function holdSlots(host: string, port: number, sources: string[], perSource: number, everyMs: number, stop: Promise<void>, reconnectMs = 1000): { opened: () => number; live: () => number } {
  let stopped = false;
  let opened = 0;
  const live = new Set<net.Socket>();
  void stop.then(() => {
    stopped = true;
    for (const s of live) s.destroy();
  });
  const hold = (src: string) => {
    if (stopped) return;
    const s = net.connect({ host, port, localAddress: src });
    live.add(s);
    let timer: NodeJS.Timeout | undefined;
    s.on('connect', () => {
      opened++;
      s.write(framed(query(1)));
      timer = setInterval(() => s.write(framed(query(2))), everyMs);
    });
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      live.delete(s);
      // Come back, as an attacker holding slots would.
      setTimeout(() => hold(src), reconnectMs);
    });
  };
  for (const src of sources) for (let i = 0; i < perSource; i++) hold(src);
  return { opened: () => opened, live: () => live.size };
}

/**
 * A reconnect flood: `loops` concurrent loops, each connecting, sending one query, closing and starting
 * again at once, from the source addresses in turn, until `stop`. Counts attempts in `tally` as it goes;
 * resolves with their number.
 */
export async function reconnectFlood(host: string, port: number, sources: string[], loops: number, stop: Promise<void>, tally = { attempts: 0 }): Promise<number> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const loop = async (first: number) => {
    for (let i = first; !stopped; i += loops) {
      const src = sources[i % sources.length];
      await new Promise<void>((resolve) => {
        const s = net.connect({ host, port, localAddress: src });
        tally.attempts++;
        s.on('connect', () => s.end(framed(query(3))));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.on('data', () => s.destroy());
      });
    }
  };
  await Promise.all(Array.from({ length: loops }, (_, i) => loop(i)));
  return tally.attempts;
}

/**
 * The HTTP/2 stream attack on DoH: for `ms`, new sessions every 20 ms each opening 100 streams with
 * 8 KB headers and half-sent 64 KB bodies, half of them reset, at most 100 sessions kept. Returns the
 * streams opened.
 */
export async function dohStreamAttack(host: string, port: number, localAddress: string | undefined, ms: number): Promise<number> {
  let streams = 0;
  const end = Date.now() + ms;
  const sessions: http2.ClientHttp2Session[] = [];
  while (Date.now() < end) {
    const sess = http2.connect(origin(host, port), { rejectUnauthorized: false, localAddress } as http2.SecureClientSessionOptions);
    sess.on('error', () => {});
    sessions.push(sess);
    for (let i = 0; i < 100; i++) {
      try {
        const r = sess.request({ ':method': 'POST', ':path': '/dns-query', 'content-type': 'application/dns-message', 'content-length': '65535', 'x-pad': 'a'.repeat(8000) });
        r.on('error', () => {});
        r.on('data', () => {});
        r.write(Buffer.alloc(30000));
        if (i % 2) r.close(http2.constants.NGHTTP2_CANCEL);
        streams++;
      } catch {
        break;
      }
    }
    await sleep(20);
    if (sessions.length > 100) sessions.shift()!.destroy();
  }
  for (const x of sessions) x.destroy();
  return streams;
}

/** Source addresses: `n` IPv4 addresses, one in each /24 of BASE.0.0/16 from BASE.FIRST.0 (`198.18`, …). */
export function v4Sources(base: string, n: number, host = 1, first = 0): string[] {
  return Array.from({ length: n }, (_, i) => `${base}.${first + i}.${host}`);
}

/** Source addresses: `n` IPv6 addresses, one in each /56 of PREFIX::/48 (`2001:db8:1000`): PREFIX:ii00::1. */
export function v6Sources(prefix48: string, n: number, host = '1'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix48}:${(i << 8).toString(16)}::${host}`);
}
