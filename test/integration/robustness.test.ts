// Property-based robustness test: malformed and random packets over UDP and TCP must never break fluxdns.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import { freePort } from '../helpers/ports.js';
import { stopAll } from '../helpers/proc.js';
import { dig } from '../helpers/dig.js';
import { startFluxdns, startKnot, startNsd, fluxdnsAvailable, repoRoot, type RunningServer, type ZoneSpec } from '../helpers/servers.js';

const RUNS = Math.max(20, Number(process.env['FLUXDNS_FUZZ_RUNS'] ?? '600') || 600);
/** fluxdns by default; nsd or knot to validate the harness against the reference servers. */
const TARGET = (process.env['FLUXDNS_FUZZ_TARGET'] ?? 'fluxdns') as 'fluxdns' | 'nsd' | 'knot';
const SEED = process.env['FLUXDNS_FUZZ_SEED'] ? Number(process.env['FLUXDNS_FUZZ_SEED']) : undefined;
const RSS_GROWTH_LIMIT_KB = 64 * 1024;

const fixtures = join(repoRoot, 'test', 'fixtures', 'diff');
const zones: ZoneSpec[] = [
  { name: 'diff.test.', file: join(fixtures, 'diff.test.zone') },
  { name: 'other.test.', file: join(fixtures, 'other.test.zone') },
];

// ---------------------------------------------------------------- packet building

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}

function header(id: number, flags: number, qd: number, an: number, ns: number, ar: number): Buffer {
  return Buffer.concat([u16(id), u16(flags), u16(qd), u16(an), u16(ns), u16(ar)]);
}

function wireName(name: string): Buffer {
  const parts = name.split('.').filter((l) => l.length > 0);
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

function opt(options: Buffer, rdlength?: number, udp = 1232, ttl = 0, owner: Buffer = Buffer.from([0])): Buffer {
  const ttlBuf = Buffer.alloc(4);
  ttlBuf.writeUInt32BE(ttl >>> 0);
  return Buffer.concat([owner, u16(41), u16(udp), ttlBuf, u16(rdlength ?? options.length), options]);
}

function ednsOption(code: number, data: Buffer, declaredLength?: number): Buffer {
  return Buffer.concat([u16(code), u16(declaredLength ?? data.length), data]);
}

/** A well-formed query from dns-packet (independent encoder). */
function validQuery(id: number, name: string, type: string, edns: boolean, rd = false): Buffer {
  const packet: dnsPacket.Packet = {
    type: 'query',
    id,
    flags: rd ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: type as dnsPacket.RecordType, name, class: 'IN' }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer] : [],
  };
  return dnsPacket.encode(packet);
}

const names = ['diff.test', 'host.diff.test', 'HoSt.DiFf.TeSt', 'foo.wild.diff.test', 'c1.diff.test', 'a.dn.diff.test', 'www.child.diff.test', 'nope.diff.test', 'huge.diff.test', 'www.example.net', '', 'unk.diff.test'];
const types = ['A', 'AAAA', 'NS', 'SOA', 'TXT', 'MX', 'CNAME', 'DNAME', 'ANY', 'AXFR', 'IXFR', 'SRV', 'DS', 'OPT', 'TSIG'];

const arbName = fc.oneof(
  fc.constantFrom(...names),
  fc.array(fc.stringMatching(/^[a-zA-Z0-9_*-]{1,20}$/), { minLength: 1, maxLength: 6 }).map((ls) => `${ls.join('.')}.diff.test`),
);
const arbValid = fc
  .record({ id: fc.integer({ min: 0, max: 0xffff }), name: arbName, type: fc.constantFrom(...types), edns: fc.boolean(), rd: fc.boolean() })
  .map((q) => validQuery(q.id, q.name, q.type, q.edns, q.rd));

type Mutation = (p: Buffer) => Buffer;

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }).map(({ pos, bit }): Mutation => (p) => {
    if (p.length === 0) return p;
    const q = Buffer.from(p);
    const i = pos % q.length;
    q[i] = q[i]! ^ (1 << bit);
    return q;
  }),
  fc.nat().map((len): Mutation => (p) => p.subarray(0, p.length === 0 ? 0 : len % p.length)),
  fc.record({ which: fc.integer({ min: 0, max: 3 }), value: fc.oneof(fc.constantFrom(0, 1, 2, 0xffff), fc.integer({ min: 0, max: 0xffff })) }).map(
    ({ which, value }): Mutation => (p) => {
      if (p.length < 12) return p;
      const q = Buffer.from(p);
      q.writeUInt16BE(value, 4 + 2 * which);
      return q;
    },
  ),
  fc.record({ pos: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }).map(({ pos, byte }): Mutation => (p) => {
    if (p.length === 0) return p;
    const q = Buffer.from(p);
    q[pos % q.length] = byte;
    return q;
  }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra): Mutation => (p) => Buffer.concat([p, Buffer.from(extra)])),
  // flags word: opcode, QR, Z, rcode bits
  fc.integer({ min: 0, max: 0xffff }).map((flags): Mutation => (p) => {
    if (p.length < 4) return p;
    const q = Buffer.from(p);
    q.writeUInt16BE(flags, 2);
    return q;
  }),
);

const arbMutated = fc.tuple(arbValid, fc.array(arbMutation, { minLength: 1, maxLength: 4 })).map(([p, ms]) => ms.reduce((acc, m) => m(acc), p));

const question = (name: Buffer, type = 1, cls = 1): Buffer => Buffer.concat([name, u16(type), u16(cls)]);
const longLabelName = Buffer.concat([Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0])]);
const overlongName = Buffer.concat([...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x62)])), Buffer.from([0])]);

/** Hand-crafted malformations with a random ID. */
const arbCrafted: fc.Arbitrary<Buffer> = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    kind: fc.integer({ min: 0, max: 27 }),
    n: fc.integer({ min: 0, max: 0xffff }),
    len: fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 40, 41, 0xffff),
  })
  .map(({ id, kind, n, len }) => {
    const h = (qd = 1, an = 0, ns = 0, ar = 0, flags = 0): Buffer => header(id, flags, qd, an, ns, ar);
    const q = question(wireName('host.diff.test'));
    switch (kind) {
      case 0: // compression pointer at itself
        return Buffer.concat([h(), Buffer.from([0xc0, 12]), u16(1), u16(1)]);
      case 1: // forward pointer to the end of the packet
        return Buffer.concat([h(), Buffer.from([0xc0, 18]), u16(1), u16(1), wireName('diff.test')]);
      case 2: // label then pointer back to the start of the name: loop
        return Buffer.concat([h(), Buffer.from([1, 0x61, 0xc0, 12]), u16(1), u16(1)]);
      case 3: // two pointers pointing at each other
        return Buffer.concat([h(), Buffer.from([0xc0, 14, 0xc0, 12]), u16(1), u16(1)]);
      case 4: // pointer beyond the end
        return Buffer.concat([h(), Buffer.from([0xc0 | ((n >> 8) & 0x3f), n & 0xff]), u16(1), u16(1)]);
      case 5: // label longer than 63
        return Buffer.concat([h(), question(longLabelName)]);
      case 6: // name longer than 255 octets
        return Buffer.concat([h(), question(overlongName)]);
      case 7: // reserved label types 0x40 and 0x80
        return Buffer.concat([h(), Buffer.from([(n & 1 ? 0x40 : 0x80) | 3, 0x61, 0x62, 0x63, 0]), u16(1), u16(1)]);
      case 8: // OPT duplicated
        return Buffer.concat([h(1, 0, 0, 2), q, opt(Buffer.alloc(0)), opt(Buffer.alloc(0))]);
      case 9: // ECS with a bad length
        return Buffer.concat([h(1, 0, 0, 1), q, opt(ednsOption(8, Buffer.concat([u16(1), Buffer.from([24, 0]), Buffer.alloc(Math.min(len, 64), 0xc6)])))]);
      case 10: // ECS: prefix longer than the address family allows
        return Buffer.concat([h(1, 0, 0, 1), q, opt(ednsOption(8, Buffer.concat([u16(n & 1 ? 1 : 2), Buffer.from([n & 0xff, 0]), Buffer.alloc(4, 0xc6)])))]);
      case 11: // ECS with unknown family / declared length past the end
        return Buffer.concat([h(1, 0, 0, 1), q, opt(ednsOption(8, Buffer.concat([u16(n), Buffer.from([8, 0, 0xc6])]), len))]);
      case 12: // cookie with a bad length
        return Buffer.concat([h(1, 0, 0, 1), q, opt(ednsOption(10, Buffer.alloc(Math.min(len, 64), 0x11)))]);
      case 13: // cookie whose declared length exceeds the data
        return Buffer.concat([h(1, 0, 0, 1), q, opt(ednsOption(10, Buffer.alloc(8, 0x22), len))]);
      case 14: // huge OPT rdlength with no data
        return Buffer.concat([h(1, 0, 0, 1), q, opt(Buffer.alloc(0), 0xffff)]);
      case 15: // OPT rdlength shorter than its options
        return Buffer.concat([h(1, 0, 0, 1), q, opt(ednsOption(3, Buffer.alloc(0)), 1)]);
      case 16: // OPT with a non-root owner
        return Buffer.concat([h(1, 0, 0, 1), q, opt(Buffer.alloc(0), undefined, 1232, 0, wireName('diff.test'))]);
      case 17: // OPT in the answer section
        return Buffer.concat([h(1, 1, 0, 0), q, opt(Buffer.alloc(0))]);
      case 18: // EDNS version 1..255 / DO and unknown flags
        return Buffer.concat([h(1, 0, 0, 1), q, opt(Buffer.alloc(0), undefined, n & 0xffff, ((n & 0xff) << 16) | 0x8000 | (n >> 8))]);
      case 19: // EDNS UDP size below 512 and 0
        return Buffer.concat([h(1, 0, 0, 1), question(wireName('huge.diff.test'), 16), opt(Buffer.alloc(0), undefined, n % 600)]);
      case 20: // qdcount mismatches
        return Buffer.concat([h(n % 4 === 0 ? 0 : n % 4 === 1 ? 2 : 0xffff), q]);
      case 21: // no question but a count of one
        return h(1);
      case 22: // other opcodes (IQUERY, STATUS, 3, NOTIFY, UPDATE, 15)
        return Buffer.concat([h(1, 0, 0, 0, [1, 2, 3, 4, 5, 15][n % 6]! << 11), q]);
      case 23: // class CH/HS/NONE/ANY/0 and type 0
        return Buffer.concat([h(), question(wireName('diff.test'), n % 3 === 0 ? 0 : 6, [3, 4, 254, 255, 0][n % 5]!)]);
      case 24: // zone transfer / meta types over any transport
        return Buffer.concat([h(), question(wireName('diff.test'), [252, 251, 250, 249, 41, 253, 254][n % 7]!)]);
      case 25: // an answer record with a huge rdlength in a query
        return Buffer.concat([h(1, 1), q, wireName('diff.test'), u16(1), u16(1), Buffer.alloc(4), u16(0xffff), Buffer.alloc(4)]);
      case 26: // unknown EDNS options, many of them
        return Buffer.concat([h(1, 0, 0, 1), q, opt(Buffer.concat(Array.from({ length: 1 + (n % 40) }, (_, i) => ednsOption(65001 + i, Buffer.alloc(i % 5)))))]);
      default: // pointer inside the question pointing into the header
        return Buffer.concat([h(), Buffer.from([1, 0x61, 0xc0, n % 12]), u16(1), u16(1)]);
    }
  });

const arbPacket: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 600 }).map((a) => Buffer.from(a)) },
  { weight: 4, arbitrary: arbMutated },
  { weight: 4, arbitrary: arbCrafted },
  { weight: 1, arbitrary: arbValid },
);

type Framing = 'correct' | 'split' | 'short-length' | 'long-length' | 'abort' | 'zero-then-valid' | 'pipelined';
const arbFraming = fc.constantFrom<Framing>('correct', 'split', 'short-length', 'long-length', 'abort', 'zero-then-valid', 'pipelined');

// ---------------------------------------------------------------- response checks

const ALLOWED_RCODES = new Set([0, 1, 2, 3, 4, 5]);
/** EDNS extended rcodes a server may legitimately send: BADVERS (RFC 6891), BADCOOKIE (RFC 7873). */
const ALLOWED_EXTENDED = new Set([16, 23]);

function hex(b: Buffer, max = 96): string {
  return b.subarray(0, max).toString('hex') + (b.length > max ? `…(${b.length} bytes)` : '');
}

/** Returns a problem description, or null when the response is acceptable. */
function checkResponse(resp: Buffer, allowedIds: ReadonlySet<number>, sent: Buffer): string | null {
  const ctx = `\n  response: ${hex(resp)}\n  sent: ${hex(sent)}`;
  if (resp.length < 12) return `response shorter than a header${ctx}`;
  const id = resp.readUInt16BE(0);
  if (!allowedIds.has(id)) return `response ID ${id} matches no query sent (expected one of ${[...allowedIds].join(',')})${ctx}`;
  if ((resp[2]! & 0x80) === 0) return `response without QR${ctx}`;
  let decoded: dnsPacket.DecodedPacket;
  try {
    decoded = dnsPacket.decode(resp);
  } catch (e) {
    return `response does not parse: ${e instanceof Error ? e.message : String(e)}${ctx}`;
  }
  const rcode = resp[3]! & 0x0f;
  const optRec = (decoded.additionals ?? []).find((a) => a.type === 'OPT') as { extendedRcode?: number } | undefined;
  const ext = optRec?.extendedRcode ?? 0;
  const full = (ext << 4) | rcode;
  // NOTAUTH is what NSD and Knot answer to zone transfers that no ACL allows (RFC 5936 §2.2.1 lists it).
  // Both also answer NOTAUTH to NOTIFY (opcode 4) and UPDATE (opcode 5) from unknown sources.
  const xfr = (decoded.questions ?? []).some((q) => (q.type as string) === 'AXFR' || (q.type as string) === 'IXFR');
  const opcode = (resp[2]! >> 3) & 0x0f;
  const notauthOk = xfr || opcode === 4 || opcode === 5;
  if (!ALLOWED_RCODES.has(full) && !ALLOWED_EXTENDED.has(full) && !(notauthOk && full === 9)) return `rcode ${full} not allowed${ctx}`;
  return null;
}

function isQrSet(p: Buffer): boolean {
  return p.length >= 3 && (p[2]! & 0x80) !== 0;
}

// ---------------------------------------------------------------- clients

const PROBE_NAME = 'host.diff.test';

function checkProbe(resp: Buffer): string | null {
  let d: dnsPacket.DecodedPacket;
  try {
    d = dnsPacket.decode(resp);
  } catch (e) {
    return `probe response does not parse: ${String(e)}`;
  }
  const addrs = (d.answers ?? []).filter((a) => a.type === 'A').map((a) => String((a as { data?: unknown }).data)).sort();
  if ((resp[3]! & 0x0f) !== 0 || (resp[2]! & 0x04) === 0 || addrs.join(',') !== '203.0.113.10,203.0.113.11') {
    return `probe answered wrongly: rcode=${resp[3]! & 0x0f} aa=${(resp[2]! & 0x04) !== 0} A=${addrs.join(',')} response=${hex(resp, 400)}`;
  }
  return null;
}

function pickProbeId(avoid: ReadonlySet<number>): number {
  for (;;) {
    const id = Math.floor(Math.random() * 0x10000);
    if (!avoid.has(id)) return id;
  }
}

class UdpFuzzClient {
  private sock!: UdpSocket;
  private inbox: Buffer[] = [];
  private waiter: (() => void) | null = null;
  /** IDs of recent fuzz packets (late answers are attributed to any of them). */
  private recent: number[] = [];

  constructor(private readonly port: number) {}

  async open(): Promise<void> {
    this.sock = createSocket('udp4');
    this.sock.on('message', (m) => {
      this.inbox.push(m);
      this.waiter?.();
    });
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
  }

  close(): void {
    this.sock.close();
  }

  private send(b: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.sock.send(b, this.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }

  /** Sends one fuzz packet, then a probe; returns problems seen until the probe is answered. */
  async exchange(pkt: Buffer): Promise<string[]> {
    const problems: string[] = [];
    const fuzzId = pkt.length >= 2 ? pkt.readUInt16BE(0) : -1;
    if (fuzzId >= 0 && !isQrSet(pkt)) this.recent.push(fuzzId);
    if (this.recent.length > 16) this.recent.shift();
    const probeId = pickProbeId(new Set([...this.recent, fuzzId]));
    if (pkt.length > 0) await this.send(pkt);
    const probe = validQuery(probeId, PROBE_NAME, 'A', false);
    await this.send(probe);
    // UDP on loopback can still drop under load: resend the probe every second, 3 tries in all.
    let deadline = Date.now() + 1000;
    let tries = 1;
    let probeSeen = false;
    while (!probeSeen) {
      while (this.inbox.length > 0) {
        const m = this.inbox.shift()!;
        if (m.length >= 2 && m.readUInt16BE(0) === probeId) {
          probeSeen = true;
          const p = checkProbe(m);
          if (p) problems.push(`after ${hex(pkt)}: ${p}`);
          continue;
        }
        const bad = checkResponse(m, new Set(this.recent), pkt);
        if (bad) problems.push(bad);
        else if (isQrSet(pkt) && m.length >= 2 && m.readUInt16BE(0) === fuzzId) problems.push(`answered a packet with QR set: ${hex(pkt)}`);
      }
      if (probeSeen) break;
      let left = deadline - Date.now();
      if (left <= 0 && tries < 3) {
        tries++;
        await this.send(probe);
        deadline = Date.now() + 1000;
        left = 1000;
      }
      if (left <= 0) {
        problems.push(`UDP probe not answered within 3 s (3 tries) after ${hex(pkt)}`);
        break;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = null;
          resolve();
        }, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
    return problems;
  }
}

function frame(b: Buffer): Buffer {
  return Buffer.concat([u16(b.length), b]);
}

interface TcpOutcome {
  messages: Buffer[];
  leftover: Buffer;
  closedByServer: boolean;
}

/** One TCP connection: writes `chunks`, then ends or aborts, collecting framed responses. */
function tcpSession(port: number, chunks: Buffer[], opts: { stopWhen?: (m: Buffer) => boolean; finish: 'wait' | 'end' | 'abort'; timeoutMs: number }): Promise<TcpOutcome> {
  return new Promise((resolve) => {
    const sock: TcpSocket = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const messages: Buffer[] = [];
    let done = false;
    let closedByServer = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ messages, leftover: buf, closedByServer });
    };
    const timer = setTimeout(finish, opts.timeoutMs);
    // Any end of the connection not caused by us (FIN, RST) counts as closed by the server.
    const serverEnded = (): void => {
      if (!done) closedByServer = true;
      finish();
    };
    sock.on('error', serverEnded);
    sock.on('end', serverEnded);
    sock.on('close', serverEnded);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const m = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        messages.push(m);
        if (opts.stopWhen?.(m)) finish();
      }
    });
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (done) return;
        sock.write(c);
        if (chunks.length > 1) await new Promise((r) => setImmediate(r));
      }
      if (opts.finish === 'abort') finish();
      else if (opts.finish === 'end') sock.end();
    });
  });
}

async function tcpExchange(port: number, pkt: Buffer, framing: Framing): Promise<string[]> {
  const problems: string[] = [];
  const fuzzId = pkt.length >= 2 ? pkt.readUInt16BE(0) : -1;
  const probeId = pickProbeId(new Set([fuzzId]));
  const probe = validQuery(probeId, PROBE_NAME, 'A', false);
  const isProbe = (m: Buffer): boolean => m.length >= 2 && m.readUInt16BE(0) === probeId;
  let chunks: Buffer[];
  let finish: 'wait' | 'end' | 'abort' = 'wait';
  const withProbe = framing === 'correct' || framing === 'split' || framing === 'zero-then-valid' || framing === 'pipelined';
  switch (framing) {
    case 'correct':
      chunks = [Buffer.concat([frame(pkt), frame(probe)])];
      break;
    case 'split': {
      const all = Buffer.concat([frame(pkt), frame(probe)]);
      chunks = [];
      for (let i = 0; i < all.length; i += 1 + (i % 7)) chunks.push(all.subarray(i, i + 1 + (i % 7)));
      break;
    }
    case 'pipelined':
      chunks = [Buffer.concat([frame(pkt), frame(pkt), frame(probe)])];
      break;
    case 'zero-then-valid':
      chunks = [Buffer.concat([u16(0), frame(probe)])];
      break;
    case 'short-length':
      chunks = [Buffer.concat([u16(Math.max(0, pkt.length - 1 - (pkt.length >> 2))), pkt])];
      finish = 'end';
      break;
    case 'long-length':
      chunks = [Buffer.concat([u16(pkt.length + 1 + (pkt.length >> 1)), pkt])];
      finish = 'end';
      break;
    case 'abort':
      chunks = [Buffer.concat([frame(pkt).subarray(0, Math.max(1, pkt.length >> 1))])];
      finish = 'abort';
      break;
  }
  const out = await tcpSession(port, chunks, { stopWhen: withProbe ? isProbe : undefined, finish, timeoutMs: 3000 });
  // The IDs a server may answer: those of every complete frame in the byte stream as the server
  // sees it (wrong length prefixes make later bytes look like further messages), unless QR is set.
  const allowed = new Set<number>();
  const stream = Buffer.concat(chunks);
  for (let off = 0; off + 2 <= stream.length; ) {
    const len = stream.readUInt16BE(off);
    const msg = stream.subarray(off + 2, off + 2 + len);
    if (msg.length < len) break;
    if (msg.length >= 2 && !isQrSet(msg)) allowed.add(msg.readUInt16BE(0));
    off += 2 + len;
  }
  let probeSeen = false;
  for (const m of out.messages) {
    if (isProbe(m)) {
      probeSeen = true;
      const p = checkProbe(m);
      if (p) problems.push(`TCP/${framing} after ${hex(pkt)}: ${p}`);
      continue;
    }
    const bad = checkResponse(m, allowed, pkt);
    if (bad) problems.push(`TCP/${framing}: ${bad}`);
  }
  if (out.leftover.length > 0) problems.push(`TCP/${framing}: incomplete response frame ${hex(out.leftover)} after ${hex(pkt)}`);
  // With correct framing the server may close the connection after a malformed message (RFC 7766
  // allows it), but then a new connection must be served.
  if (withProbe && !probeSeen) {
    if (!out.closedByServer && framing !== 'pipelined') problems.push(`TCP/${framing}: probe not answered and connection not closed within 3 s after ${hex(pkt)}`);
    const again = await tcpSession(port, [frame(probe)], { stopWhen: isProbe, finish: 'wait', timeoutMs: 3000 });
    const ans = again.messages.find(isProbe);
    if (!ans) problems.push(`TCP: fresh connection not answered after ${framing} ${hex(pkt)}`);
    else {
      const p = checkProbe(ans);
      if (p) problems.push(`TCP fresh connection: ${p}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- the test

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

describe(`robustness: malformed packets against ${TARGET} (${RUNS} runs)`, () => {
  let server: RunningServer | undefined;
  let udp: UdpFuzzClient | undefined;

  before(async () => {
    const port = await freePort();
    if (TARGET === 'nsd') server = await startNsd(zones, port);
    else if (TARGET === 'knot') server = await startKnot(zones, port);
    else if (fluxdnsAvailable()) server = await startFluxdns(zones, port);
    if (server) {
      udp = new UdpFuzzClient(server.port);
      await udp.open();
    }
  });

  after(async () => {
    udp?.close();
    await server?.stop();
    await stopAll();
  });

  async function healthCheck(label: string): Promise<void> {
    assert.ok(server!.proc.running, `${label}: server exited\n${server!.proc.describe()}`);
    for (const tcp of [false, true]) {
      const r = await dig(server!.port, 'HoSt.diff.test.', 'A', { tcp, preserveCase: true });
      assert.equal(r.rcode, 'NOERROR', `${label}: health query over ${tcp ? 'TCP' : 'UDP'}\n${r.raw}`);
      assert.ok(r.flags.has('aa'), `${label}: AA missing\n${r.raw}`);
      assert.equal(r.question?.name, 'HoSt.diff.test.', `${label}: question case\n${r.raw}`);
      assert.deepEqual(r.answer.map((a) => a.data).sort(), ['203.0.113.10', '203.0.113.11'], `${label}: answer\n${r.raw}`);
    }
  }

  async function batch(label: string, runs: number, seedOffset: number): Promise<void> {
    const udpRuns = Math.ceil(runs / 2);
    const tcpRuns = runs - udpRuns;
    const params = (n: number): fc.Parameters<[Buffer]> | fc.Parameters<[Buffer, Framing]> => ({
      numRuns: n,
      endOnFailure: true,
      includeErrorInReport: true,
      ...(SEED !== undefined ? { seed: SEED + seedOffset } : {}),
    });
    await fc.assert(
      fc.asyncProperty(arbPacket, async (pkt) => {
        const problems = await udp!.exchange(pkt);
        if (!server!.proc.running) problems.push(`server exited after UDP ${hex(pkt)}\n${server!.proc.describe()}`);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      params(udpRuns) as fc.Parameters<[Buffer]>,
    );
    await healthCheck(`${label} (after UDP)`);
    await fc.assert(
      fc.asyncProperty(arbPacket, arbFraming, async (pkt, framing) => {
        const problems = await tcpExchange(server!.port, pkt, framing);
        if (!server!.proc.running) problems.push(`server exited after TCP/${framing} ${hex(pkt)}\n${server!.proc.describe()}`);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      params(tcpRuns) as fc.Parameters<[Buffer, Framing]>,
    );
    await healthCheck(`${label} (after TCP)`);
  }

  it('survives malformed packets, answers correctly afterwards, keeps memory flat', async (t) => {
    if (!server) {
      t.skip('src/cli/main.ts does not exist yet');
      return;
    }
    await healthCheck('before fuzzing');
    const warmup = Math.max(10, Math.floor(RUNS / 10));
    await batch('warm-up', warmup, 0);
    const rssAfterWarmup = rssKb(server.proc.pid);
    const rest = RUNS - warmup;
    const batches = Math.max(1, Math.ceil(rest / 2000));
    for (let i = 0; i < batches; i++) {
      const n = Math.min(2000, rest - i * 2000);
      if (n > 0) await batch(`batch ${i + 1}/${batches}`, n, i + 1);
    }
    const rssEnd = rssKb(server.proc.pid);
    t.diagnostic(`VmRSS of pid ${server.proc.pid}: ${rssAfterWarmup} kB after warm-up, ${rssEnd} kB at the end`);
    assert.ok(rssEnd - rssAfterWarmup < RSS_GROWTH_LIMIT_KB, `VmRSS grew by ${rssEnd - rssAfterWarmup} kB (limit ${RSS_GROWTH_LIMIT_KB} kB)`);
    assert.ok(server.proc.running, 'server exited');
  });
});
