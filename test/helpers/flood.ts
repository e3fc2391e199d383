// Generated-packet flood against a running server over UDP, TCP, DoT and DoH (issue 16's `npm run fuzz`):
// mutated and random DNS messages as fast as the transports take them, with the server's liveness and
// memory checked as it goes. Used by bench/fuzz.ts (millions) and test/integration/fuzz-flood.test.ts (a few thousand).
import dgram from 'node:dgram';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import packet from 'dns-packet';

export interface FloodTarget {
  host: string;
  udpPort: number;
  tcpPort: number;
  dotPort?: number;
  dohPort?: number;
  /** Process whose RSS is sampled (Linux /proc). */
  pid: number;
  alive: () => boolean;
}

export interface FloodResult {
  sent: { udp: number; tcp: number; dot: number; doh: number };
  total: number;
  seconds: number;
  /** VmRSS in kB: after the first tenth, then the largest seen, and at the end. */
  rss: { warm: number; max: number; end: number };
  problems: string[];
}

/** xorshift32: fast, seeded, reproducible. */
export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
}

const NAMES = ['www.t.lab', 't.lab', 'nx.t.lab', 'a.b.c.d.e.t.lab', 'example.com', '.', 'xn--bcher-kva.t.lab'];
const TYPES = ['A', 'AAAA', 'NS', 'SOA', 'MX', 'TXT', 'ANY', 'AXFR', 'DNSKEY', 'CAA', 'NAPTR', 'SRV'] as packet.RecordType[];

/** A pool of valid queries (some with EDNS options, cookies, padding) to mutate from. */
function seeds(rng: Rng): Buffer[] {
  const out: Buffer[] = [];
  for (const name of NAMES)
    for (const type of TYPES) {
      out.push(packet.encode({ type: 'query', id: rng.int(65536), flags: rng.int(2) ? packet.RECURSION_DESIRED : 0, questions: [{ name, type, class: 'IN' }] }));
      out.push(
        packet.encode({
          type: 'query',
          id: rng.int(65536),
          questions: [{ name, type, class: 'IN' }],
          additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: packet.DNSSEC_OK, options: [{ code: 10, data: Buffer.alloc(8, rng.int(256)) }, { code: 12, data: Buffer.alloc(rng.int(64)) }] } as packet.Answer],
        }),
      );
    }
  return out;
}

/** One generated message: a mutated seed (bit flips, truncation, extension, header counts) or random bytes. */
export function generator(seed: number): () => Buffer {
  const rng = new Rng(seed);
  const pool = seeds(rng);
  return () => {
    const kind = rng.int(10);
    if (kind === 0) {
      const b = Buffer.allocUnsafe(rng.int(600));
      for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
      return b;
    }
    const b = Buffer.from(pool[rng.int(pool.length)]!);
    const flips = 1 + rng.int(8);
    for (let i = 0; i < flips && b.length > 0; i++) {
      const at = rng.int(b.length);
      switch (rng.int(5)) {
        case 0:
          b[at] = rng.int(256);
          break;
        case 1:
          b[at]! ^= 1 << rng.int(8);
          break;
        case 2:
          // A header count (QD/AN/NS/AR) set to something large.
          if (b.length >= 12) b.writeUInt16BE(rng.int(4) === 0 ? 0xffff : rng.int(8), 4 + 2 * rng.int(4));
          break;
        case 3:
          // A compression pointer somewhere (loops, forward pointers, out of range).
          if (at + 1 < b.length) b.writeUInt16BE(0xc000 | rng.int(b.length + 16), at);
          break;
        default:
          b[at] = 0xc0 | rng.int(64);
      }
    }
    if (rng.int(4) === 0) return b.subarray(0, rng.int(b.length + 1));
    if (rng.int(8) === 0) return Buffer.concat([b, Buffer.alloc(rng.int(300), rng.int(256))]);
    return b;
  };
}

export function rssKb(pid: number, read: (p: string) => string): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(read(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

function framed(q: Buffer): Buffer {
  const f = Buffer.allocUnsafe(2 + q.length);
  f.writeUInt16BE(q.length, 0);
  q.copy(f, 2);
  return f;
}

/**
 * Sends `total` generated messages: about 70 % over UDP (fire and forget, many source ports), 15 % over
 * TCP, 10 % over DoT (pipelined on connections it reopens when the server closes them) and 5 % over DoH
 * (POST streams on HTTP/2 sessions). `onProgress` is called about every second.
 */
export async function flood(target: FloodTarget, total: number, o: { seed: number; read: (p: string) => string; onProgress?: (r: FloodResult) => void }): Promise<FloodResult> {
  const gen = generator(o.seed);
  const started = Date.now();
  const res: FloodResult = { sent: { udp: 0, tcp: 0, dot: 0, doh: 0 }, total: 0, seconds: 0, rss: { warm: 0, max: 0, end: 0 }, problems: [] };
  const sample = () => {
    const r = rssKb(target.pid, o.read);
    res.rss.max = Math.max(res.rss.max, r);
    return r;
  };
  const share = { udp: Math.floor(total * 0.7), tcp: Math.floor(total * 0.15), dot: target.dotPort ? Math.floor(total * 0.1) : 0, doh: 0 };
  share.doh = target.dohPort ? total - share.udp - share.tcp - share.dot : 0;
  if (!target.dohPort) share.tcp += total - share.udp - share.tcp - share.dot;

  // UDP: a few sockets, bursts of 256 then a yield, so the loop never runs away from the kernel buffer.
  const udp = async () => {
    const socks = await Promise.all(
      Array.from({ length: 8 }, () => {
        const s = dgram.createSocket('udp4');
        s.on('message', () => {});
        s.on('error', () => {});
        return new Promise<dgram.Socket>((r) => s.bind(0, '127.0.0.1', () => r(s)));
      }),
    );
    let inFlight = 0;
    while (res.sent.udp < share.udp && target.alive()) {
      for (let i = 0; i < 256 && res.sent.udp < share.udp; i++) {
        inFlight++;
        socks[res.sent.udp % socks.length]!.send(gen(), target.udpPort, target.host, () => inFlight--);
        res.sent.udp++;
      }
      while (inFlight > 2048) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    }
    for (const s of socks) s.close();
  };

  const stream = async (key: 'tcp' | 'dot', port: number) => {
    const connect = () => {
      const raw = net.connect({ host: target.host, port });
      const s = key === 'dot' ? tls.connect({ socket: raw, rejectUnauthorized: false, ALPNProtocols: ['dot'] }) : raw;
      s.on('error', () => {});
      s.on('data', () => {});
      return new Promise<net.Socket | undefined>((resolve) => {
        s.once(key === 'dot' ? 'secureConnect' : 'connect', () => resolve(s));
        s.once('close', () => resolve(undefined));
      });
    };
    // Four connections at a time; a broken frame makes the server close one, and it is reopened.
    const worker = async () => {
      while (res.sent[key] < share[key] && target.alive()) {
        const s = await connect();
        if (!s) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        while (!s.destroyed && res.sent[key] < share[key]) {
          const batch: Buffer[] = [];
          for (let i = 0; i < 32 && res.sent[key] < share[key]; i++, res.sent[key]++) batch.push(framed(gen()));
          if (!s.write(Buffer.concat(batch))) await new Promise((r) => (s.once('drain', r), s.once('close', r)));
          await new Promise((r) => setImmediate(r));
        }
        s.destroy();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };

  const doh = async () => {
    // Up to 64 streams outstanding per session (the server's SETTINGS_MAX_CONCURRENT_STREAMS), four sessions.
    const worker = async () => {
      while (res.sent.doh < share.doh && target.alive()) {
        const session = http2.connect(`https://${target.host}:${target.dohPort}`, { rejectUnauthorized: false });
        session.on('error', () => {});
        let broken = false;
        session.on('close', () => (broken = true));
        await new Promise<void>((r) => {
          session.once('connect', () => r());
          session.once('close', () => r());
        });
        let outstanding = 0;
        let wake: (() => void) | undefined;
        while (!broken && res.sent.doh < share.doh) {
          if (outstanding >= 64) {
            await new Promise<void>((r) => (wake = r));
            continue;
          }
          res.sent.doh++;
          outstanding++;
          const done = () => {
            outstanding--;
            const w = wake;
            wake = undefined;
            w?.();
          };
          try {
            const req = session.request({ ':method': 'POST', ':path': '/dns-query', 'content-type': 'application/dns-message' });
            req.on('data', () => {});
            req.once('close', done);
            req.on('error', () => {});
            req.end(gen());
          } catch {
            broken = true;
            done();
          }
          if (res.sent.doh % 64 === 0) await new Promise((r) => setImmediate(r));
        }
        const t = setTimeout(() => session.destroy(), 2000);
        while (outstanding > 0 && !broken) await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
        clearTimeout(t);
        session.destroy();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };

  let warmed = false;
  const ticker = setInterval(() => {
    res.total = res.sent.udp + res.sent.tcp + res.sent.dot + res.sent.doh;
    res.seconds = (Date.now() - started) / 1000;
    const r = sample();
    if (!warmed && res.total >= total / 10) {
      warmed = true;
      res.rss.warm = r;
    }
    if (!target.alive()) res.problems.push('server exited');
    o.onProgress?.(res);
  }, 1000);
  await Promise.all([udp(), stream('tcp', target.tcpPort), target.dotPort ? stream('dot', target.dotPort) : Promise.resolve(), target.dohPort ? doh() : Promise.resolve()]);
  clearInterval(ticker);
  res.total = res.sent.udp + res.sent.tcp + res.sent.dot + res.sent.doh;
  res.seconds = (Date.now() - started) / 1000;
  res.rss.end = sample();
  if (!res.rss.warm) res.rss.warm = res.rss.end;
  if (!target.alive()) res.problems.push('server exited');
  return res;
}
