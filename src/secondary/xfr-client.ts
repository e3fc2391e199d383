// The zone-transfer client: SOA query, IXFR (RFC 1995) and AXFR (RFC 5936) over TCP or TLS (XoT, RFC 9103), TSIG on every message.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { encodeMessage, queryMessage } from '../wire/message.js';
import { streamFrame } from '../wire/frame.js';
import { Reader } from '../wire/reader.js';
import { hasKnownCodec, rdataCodec } from '../wire/rdata/index.js';
import { expandRdata } from '../wire/rrtype/index.js';
import { namesEqual } from '../wire/name.js';
import { Opcode, receivedTtl, RRClass, RRType, rcodeName, WireError, type ResourceRecord, type SOARdata } from '../wire/types.js';
import type { TsigKey } from '../tsig/keys.js';
import { signRequest, TsigResponseVerifier } from './tsig-stream.js';

/** How to reach one primary. */
export interface PrimaryEndpoint {
  host: string;
  port: number;
  /** TSIG key for every request to it (and every response from it must verify). */
  key?: TsigKey;
  /** XoT: TLS 1.3 with the server certificate verified against `ca` (else the system store) and `serverName`. */
  tls?: { ca?: string; serverName?: string };
}

export interface XfrOptions {
  /** Seconds of clock difference accepted on TSIG (RFC 8945 §5.2.3). */
  fudge?: number;
  /** Gives up when nothing arrives for this long. */
  idleTimeoutMs?: number;
  /** Largest number of records accepted in one transfer (a guard against a runaway primary). */
  maxRecords?: number;
  /** A SOA query tries UDP before TCP (default true; never for an XoT primary). */
  udp?: boolean;
}

export class XfrError extends Error {
  constructor(message: string, readonly rcode?: number) {
    super(message);
    this.name = 'XfrError';
  }
}

/** A full zone (AXFR, or an IXFR answered AXFR-style), or the differences since our serial. */
export type XfrResult =
  | { kind: 'full'; soa: ResourceRecord<SOARdata>; records: ResourceRecord[]; messages: number; via: 'AXFR' | 'IXFR'; signedMessages?: number }
  | { kind: 'incremental'; soa: ResourceRecord<SOARdata>; diffs: IxfrDiff[]; messages: number }
  /** IXFR: the primary's serial is not newer than ours (RFC 1995 §4: a single SOA). */
  | { kind: 'current'; soa: ResourceRecord<SOARdata>; messages: number };

/** One version step of an IXFR: what to delete from `from` and add to reach `to` (SOAs not included). */
export interface IxfrDiff {
  from: number;
  to: number;
  deleted: ResourceRecord[];
  added: ResourceRecord[];
}

const DEFAULTS = { fudge: 300, idleTimeoutMs: 15000, maxRecords: 50_000_000, udp: true };

/** Opens a TCP or TLS connection to the primary; TLS verifies the certificate (RFC 9103 §9.3: strict). */
function connect(p: PrimaryEndpoint, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let sock: net.Socket;
    const fail = (e: Error) => {
      sock.destroy();
      reject(new XfrError(`cannot connect to ${p.host}:${p.port}${p.tls ? ' (TLS)' : ''}: ${e.message}`));
    };
    if (p.tls) {
      let ca: Buffer | undefined;
      try {
        ca = p.tls.ca ? readFileSync(p.tls.ca) : undefined;
      } catch (e) {
        reject(new XfrError(`cannot read the CA file ${p.tls.ca}: ${(e as Error).message}`));
        return;
      }
      const servername = p.tls.serverName ?? (net.isIP(p.host) ? undefined : p.host);
      sock = tls.connect({
        host: p.host,
        port: p.port,
        ca,
        servername,
        // Verified against the address when no name is given (the certificate must carry it as an IP SAN).
        checkServerIdentity: (host, cert) => tls.checkServerIdentity(p.tls!.serverName ?? host, cert),
        minVersion: 'TLSv1.3', // RFC 9103 §9: XoT requires TLS 1.3
        ALPNProtocols: ['dot'], // RFC 9103 §7.1
        rejectUnauthorized: true,
      });
      sock.once('secureConnect', () => {
        sock.removeListener('error', fail);
        resolve(sock);
      });
    } else {
      sock = net.connect({ host: p.host, port: p.port });
      sock.once('connect', () => {
        sock.removeListener('error', fail);
        resolve(sock);
      });
    }
    sock.setTimeout(timeoutMs, () => fail(new Error(`no connection within ${timeoutMs} ms`)));
    sock.once('error', fail);
  });
}

/** Reads RFC 1035 §4.2.2 length-prefixed messages from a stream, one at a time. */
class MessageReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private waiting: { resolve: (m: Uint8Array | null) => void; reject: (e: Error) => void } | undefined;
  private ended = false;
  private error: Error | undefined;

  constructor(private readonly sock: net.Socket, idleMs: number) {
    sock.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.have += d.length;
      this.pump();
    });
    sock.on('end', () => {
      this.ended = true;
      this.pump();
    });
    sock.on('error', (e) => {
      this.error = e;
      this.pump();
    });
    sock.setTimeout(idleMs, () => {
      this.error = new Error(`nothing received for ${idleMs} ms`);
      this.pump();
      sock.destroy();
    });
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.have = rest.length;
    return out;
  }

  private pump(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.have >= 2) {
      const head = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const len = (head[0]! << 8) | head[1]!;
      if (this.have >= 2 + len) {
        this.waiting = undefined;
        this.take(2);
        w.resolve(new Uint8Array(this.take(len)));
        return;
      }
    }
    if (this.error) {
      this.waiting = undefined;
      w.reject(this.error);
    } else if (this.ended) {
      this.waiting = undefined;
      if (this.have > 0) w.reject(new Error('the connection closed in the middle of a message'));
      else w.resolve(null);
    }
  }

  next(): Promise<Uint8Array | null> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.pump();
    });
  }
}

interface ParsedResponse {
  id: number;
  qr: boolean;
  opcode: number;
  rcode: number;
  answers: ResourceRecord[];
}

/** Reads a response's header and answer records; names inside rdata are decompressed (RFC 3597 §4). */
export function parseResponse(buf: Uint8Array): ParsedResponse {
  if (buf.length < 12) throw new WireError('response shorter than a header', 0);
  const r = new Reader(buf);
  const id = r.u16();
  const flags = r.u16();
  const qd = r.u16();
  const an = r.u16();
  r.u16();
  r.u16();
  for (let i = 0; i < qd; i++) {
    r.skipName();
    r.skip(4);
  }
  const answers: ResourceRecord[] = [];
  for (let i = 0; i < an; i++) answers.push(readRecord(r));
  return { id, qr: (flags & 0x8000) !== 0, opcode: (flags >>> 11) & 0xf, rcode: flags & 0xf, answers };
}

function readRecord(r: Reader): ResourceRecord {
  const name = r.readName();
  const type = r.u16();
  const klass = r.u16();
  // A primary may send what its zone file says (knotd serves 4294967295 as is); the copy holds, serves and
  // writes what the zone file reader makes of it, so a restart serves the same TTL.
  const ttl = receivedTtl(r.u32());
  const rdlength = r.u16();
  const end = r.pos + rdlength;
  if (end > r.buf.length) throw new WireError(`RDLENGTH ${rdlength} overruns the message`, r.pos - 2);
  let data: ResourceRecord['data'];
  if (hasKnownCodec(type)) {
    data = rdataCodec(type).decode(r, rdlength);
    if (r.pos !== end) throw new WireError('rdata does not match RDLENGTH', r.pos);
  } else {
    data = { raw: expandRdata(type, r.buf, r.pos, rdlength) };
  }
  r.pos = end;
  return { name, type, class: klass, ttl, data };
}

function isSoa(rr: ResourceRecord): rr is ResourceRecord<SOARdata> {
  return rr.type === RRType.SOA;
}

/** Builds the request: `zone` AXFR, or IXFR carrying our SOA in the authority section (RFC 1995 §3). */
function request(p: PrimaryEndpoint, fudge: number, zone: string, type: number, current?: ResourceRecord<SOARdata>): { id: number; wire: Uint8Array; verifier?: TsigResponseVerifier } {
  const id = randomInt(0, 65536);
  const msg = queryMessage(zone, type, { id });
  if (type === RRType.IXFR && current) msg.authorities.push({ ...current, name: zone, class: RRClass.IN });
  const wire = encodeMessage(msg);
  if (!p.key) return { id, wire };
  // Signed with the primary's key; the verifier checks every response message against the request's MAC.
  const signed = signRequest(wire, p.key, fudge);
  return { id, wire: signed.wire, verifier: new TsigResponseVerifier(p.key, signed.mac, fudge) };
}

/**
 * Runs one exchange over a fresh connection and feeds each response message to `onMessage` until it
 * returns true (the transfer is complete). Every message is checked against the request (ID, QR,
 * opcode, rcode) and, with a key, its TSIG.
 */
async function exchange(p: PrimaryEndpoint, zone: string, type: number, current: ResourceRecord<SOARdata> | undefined, o: Required<XfrOptions>, onMessage: (m: ParsedResponse, n: number) => boolean, stats?: { signed: number }): Promise<number> {
  const sock = await connect(p, o.idleTimeoutMs);
  try {
    const req = request(p, o.fudge, zone, type, current);
    const { wire, verifier } = req;
    const reader = new MessageReader(sock, o.idleTimeoutMs);
    sock.write(streamFrame(wire));
    const what = `${zone} ${type === RRType.AXFR ? 'AXFR' : type === RRType.IXFR ? 'IXFR' : 'SOA'} from ${p.host}:${p.port}`;
    for (let n = 1; ; n++) {
      let raw: Uint8Array | null;
      try {
        raw = await reader.next();
      } catch (e) {
        throw new XfrError(`${what}: ${(e as Error).message}`);
      }
      if (raw === null) throw new XfrError(`${what}: the primary closed the connection before the transfer was complete (${n - 1} messages)`);
      let m: ParsedResponse;
      try {
        m = parseResponse(raw);
      } catch (e) {
        throw new XfrError(`${what}: malformed message ${n}: ${(e as Error).message}`);
      }
      if (m.id !== req.id || !m.qr || m.opcode !== Opcode.QUERY) throw new XfrError(`${what}: message ${n} does not answer our request (ID, QR or opcode)`);
      if (verifier) {
        try {
          verifier.add(raw);
        } catch (e) {
          throw new XfrError(`${what}: TSIG: ${(e as Error).message}`);
        }
      }
      if (m.rcode !== 0) throw new XfrError(`${what}: ${rcodeName(m.rcode)}`, m.rcode);
      if (onMessage(m, n)) {
        if (verifier) {
          try {
            verifier.finish();
          } catch (e) {
            throw new XfrError(`${what}: TSIG: ${(e as Error).message}`);
          }
          if (stats) stats.signed = verifier.signed;
        }
        return n;
      }
    }
  } finally {
    sock.destroy();
  }
}

/** UDP tries of a refresh SOA query before it goes over TCP, and the wait for each. */
const UDP_TRIES = 2;
const UDP_WAIT_MS = 1500;

/**
 * One SOA query over UDP (signed with the primary's key, the answer's TSIG verified): the answer, or
 * undefined when it was truncated or none came (the caller then asks over TCP).
 */
async function soaOverUdp(p: PrimaryEndpoint, zone: string, o: Required<XfrOptions>): Promise<ParsedResponse | undefined> {
  const sock = dgram.createSocket(net.isIPv6(p.host) ? 'udp6' : 'udp4');
  // Connected, so only the primary's address and port can answer, and a closed port (ICMP unreachable)
  // fails at once instead of after the wait.
  let failed = false;
  const refused = new Promise<undefined>((resolve) =>
    sock.on('error', () => {
      failed = true;
      resolve(undefined);
    }),
  );
  const connected = await Promise.race([new Promise<boolean>((resolve) => sock.connect(p.port, p.host, () => resolve(true))), refused]);
  try {
    if (!connected) return undefined;
    for (let attempt = 0; attempt < UDP_TRIES; attempt++) {
      const req = request(p, o.fudge, zone, RRType.SOA);
      const { wire, verifier } = req;
      const answer = new Promise<Uint8Array | undefined>((resolve) => {
        const timer = setTimeout(() => done(undefined), UDP_WAIT_MS);
        const onMessage = (m: Buffer) => {
          // Our ID only (RFC 5452 §9.1); anything else is ignored.
          if (m.length < 12 || m.readUInt16BE(0) !== req.id) return;
          done(new Uint8Array(m));
        };
        const done = (v: Uint8Array | undefined) => {
          clearTimeout(timer);
          sock.off('message', onMessage);
          resolve(v);
        };
        sock.on('message', onMessage);
        sock.send(wire, (err) => err && done(undefined));
      });
      const raw = await Promise.race([answer, refused]);
      if (failed) return undefined;
      if (!raw) continue;
      const what = `${zone} SOA from ${p.host}:${p.port} over UDP`;
      // RFC 1035 §4.2.1: a truncated answer is asked again over TCP.
      if ((raw[2]! & 0x02) !== 0) return undefined;
      let m: ParsedResponse;
      try {
        m = parseResponse(raw);
      } catch (e) {
        throw new XfrError(`${what}: malformed answer: ${(e as Error).message}`);
      }
      if (!m.qr || m.opcode !== Opcode.QUERY) throw new XfrError(`${what}: the answer does not answer our query (QR or opcode)`);
      if (verifier) {
        try {
          verifier.add(raw);
          verifier.finish();
        } catch (e) {
          throw new XfrError(`${what}: TSIG: ${(e as Error).message}`);
        }
      }
      if (m.rcode !== 0) throw new XfrError(`${what}: ${rcodeName(m.rcode)}`, m.rcode);
      return m;
    }
    return undefined;
  } finally {
    try {
      sock.close();
    } catch {
      // already closed
    }
  }
}

/**
 * The primary's SOA for `zone`, signed when a key is given. A refresh check asks over UDP first, as
 * secondaries do (RFC 1035 §4.2, RFC 1996 §3.11), and over TCP when the answer is truncated or none
 * comes; an XoT primary is asked over TLS only (a UDP query would bypass the protection asked for).
 */
export async function querySoa(p: PrimaryEndpoint, zone: string, opts: XfrOptions = {}): Promise<ResourceRecord<SOARdata>> {
  return (await querySoaVia(p, zone, opts)).soa;
}

/** querySoa, and the transport that answered. */
export async function querySoaVia(p: PrimaryEndpoint, zone: string, opts: XfrOptions = {}): Promise<{ soa: ResourceRecord<SOARdata>; via: 'udp' | 'tcp' | 'tls' }> {
  const o = { ...DEFAULTS, ...opts };
  const pick = (m: ParsedResponse) => m.answers.find((a): a is ResourceRecord<SOARdata> => isSoa(a) && namesEqual(a.name, zone));
  let soa: ResourceRecord<SOARdata> | undefined;
  let via: 'udp' | 'tcp' | 'tls' = p.tls ? 'tls' : 'tcp';
  const udp = p.tls || !o.udp ? undefined : await soaOverUdp(p, zone, o);
  if (udp) {
    soa = pick(udp);
    via = 'udp';
  } else {
    await exchange(p, zone, RRType.SOA, undefined, o, (m) => {
      soa = pick(m);
      return true;
    });
  }
  if (!soa) throw new XfrError(`${zone} SOA from ${p.host}:${p.port}: no SOA in the answer (is it authoritative for the zone?)`);
  return { soa, via };
}

/** AXFR (RFC 5936 §2.2): the first and last records are the zone's SOA; every record in between is the zone. */
export async function axfr(p: PrimaryEndpoint, zone: string, opts: XfrOptions = {}): Promise<XfrResult> {
  const o = { ...DEFAULTS, ...opts };
  let soa: ResourceRecord<SOARdata> | undefined;
  const records: ResourceRecord[] = [];
  const stats = { signed: 0 };
  const messages = await exchange(p, zone, RRType.AXFR, undefined, o, (m, n) => {
    for (const rr of m.answers) {
      if (!soa) {
        if (!isSoa(rr) || !namesEqual(rr.name, zone)) throw new XfrError(`${zone} AXFR: the first record is not the zone's SOA`);
        soa = rr;
        records.push(rr);
        continue;
      }
      if (isSoa(rr) && namesEqual(rr.name, zone)) {
        if (rr.data.serial !== soa.data.serial) throw new XfrError(`${zone} AXFR: closing SOA serial ${rr.data.serial} differs from the opening ${soa.data.serial}`);
        if (rr !== m.answers[m.answers.length - 1]) throw new XfrError(`${zone} AXFR: records after the closing SOA`);
        return true;
      }
      records.push(rr);
      if (records.length > o.maxRecords) throw new XfrError(`${zone} AXFR: more than ${o.maxRecords} records`);
    }
    if (n === 1 && !soa) throw new XfrError(`${zone} AXFR: empty answer`);
    return false;
  }, stats);
  return { kind: 'full', soa: soa!, records, messages, via: 'AXFR', ...(p.key ? { signedMessages: stats.signed } : {}) };
}

/**
 * IXFR (RFC 1995 §4) from our `current` SOA. The answer is a single SOA (we are current), the whole
 * zone AXFR-style, or version steps: SOA(new), then for each step SOA(from) deletions SOA(to) additions,
 * then SOA(new) again. Parsed as a state machine over the records, whatever the message boundaries.
 */
export async function ixfr(p: PrimaryEndpoint, zone: string, current: ResourceRecord<SOARdata>, opts: XfrOptions = {}): Promise<XfrResult> {
  const o = { ...DEFAULTS, ...opts };
  let first: ResourceRecord<SOARdata> | undefined;
  let mode: 'start' | 'full' | 'del' | 'add' | 'current' = 'start';
  const full: ResourceRecord[] = [];
  const diffs: IxfrDiff[] = [];
  let diff: IxfrDiff | undefined;
  let count = 0;
  const messages = await exchange(p, zone, RRType.IXFR, current, o, (m, n) => {
    const rrs = m.answers;
    for (let i = 0; i < rrs.length; i++) {
      const rr = rrs[i]!;
      if (++count > o.maxRecords) throw new XfrError(`${zone} IXFR: more than ${o.maxRecords} records`);
      const soaHere = isSoa(rr) && namesEqual(rr.name, zone);
      if (!first) {
        if (!soaHere) throw new XfrError(`${zone} IXFR: the first record is not the zone's SOA`);
        first = rr as ResourceRecord<SOARdata>;
        continue;
      }
      if (mode === 'start') {
        // The second record decides the form: SOA(our serial) starts differences; anything else is a full zone.
        if (soaHere && (rr as ResourceRecord<SOARdata>).data.serial === current.data.serial && (rr as ResourceRecord<SOARdata>).data.serial !== first.data.serial) {
          mode = 'del';
          diff = { from: current.data.serial, to: 0, deleted: [], added: [] };
          continue;
        }
        mode = 'full';
        full.push(first);
      }
      if (mode === 'full') {
        if (soaHere) {
          if ((rr as ResourceRecord<SOARdata>).data.serial !== first.data.serial) throw new XfrError(`${zone} IXFR: closing SOA serial differs from the opening one`);
          return true;
        }
        full.push(rr);
        continue;
      }
      if (mode === 'del') {
        if (soaHere) {
          diff!.to = (rr as ResourceRecord<SOARdata>).data.serial;
          mode = 'add';
          continue;
        }
        diff!.deleted.push(rr);
        continue;
      }
      // mode === 'add'
      if (soaHere) {
        diffs.push(diff!);
        const s = (rr as ResourceRecord<SOARdata>).data.serial;
        if (s === first.data.serial && diff!.to === first.data.serial) return true;
        if (s !== diff!.to) throw new XfrError(`${zone} IXFR: a step starts at serial ${s}, the previous ended at ${diff!.to}`);
        diff = { from: s, to: 0, deleted: [], added: [] };
        mode = 'del';
        continue;
      }
      diff!.added.push(rr);
    }
    // RFC 1995 §4: a lone SOA in the first message means we are current (or the server has no newer version).
    if (n === 1 && mode === 'start' && first && rrs.length === 1) {
      mode = 'current';
      return true;
    }
    return false;
  });
  const form = mode as 'start' | 'full' | 'del' | 'add' | 'current';
  if (form === 'current') return { kind: 'current', soa: first!, messages };
  if (form === 'full') return { kind: 'full', soa: first!, records: full, messages, via: 'IXFR' };
  return { kind: 'incremental', soa: first!, diffs, messages };
}
