// Stub resolver: UDP with TCP fallback on TC, per-try timeouts, retries with exponential backoff across
// alternate servers (seed 004 "Reliability"), EDNS(0) with FORMERR fallback; transport and IDs injectable.
import { decodeMessage, encodeMessage, getRcode, queryMessage } from '../wire/message.js';
import { namesEqual } from '../wire/name.js';
import { Rcode, type Message, type Question } from '../wire/types.js';
import { udpTransport, tcpTransport } from './socket.js';
import type { Exchange, ServerAddress } from './exchange.js';

/** A server to ask: a literal IPv4/IPv6 address and a port. */
export type { Exchange, ServerAddress } from './exchange.js';

/** Parses `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address; throws with what was expected. */
export function parseServer(text: string, defaultPort = 53): ServerAddress {
  const bracket = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(text);
  let host: string | undefined;
  let port = defaultPort;
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (v4) {
    host = v4[1]!;
    if (v4[2] !== undefined) port = Number(v4[2]);
  } else if (/^[0-9a-fA-F:]+$/.test(text) && text.includes(':')) {
    host = text;
  }
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`expected a server as IP, IP:PORT or [IPv6]:PORT, found ${JSON.stringify(text)}`);
  }
  return { host, port };
}

export function formatServer(s: ServerAddress): string {
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

/**
 * Sends one packet and resolves with the first reply `accept` takes, or null when `timeoutMs` passes
 * (or the connection fails). Replies `accept` rejects (wrong ID or question: RFC 5452 §9.1) are
 * ignored, not returned, so a stray datagram cannot end the wait.
 */

export interface Transport {
  udp: Exchange;
  tcp: Exchange;
}

export interface StubOptions {
  servers: ServerAddress[];
  /** First try's timeout; each round doubles it (exponential backoff). Default 1000 ms. */
  timeoutMs?: number;
  /** Rounds over the server list after the first one. Default 2 (three tries per server). */
  retries?: number;
  /** EDNS(0) UDP payload size to advertise; false sends no OPT. Default 1232 (the DNS flag day value). */
  edns?: number | false;
  /** Ask for recursion (RD). Default true: a stub talks to a recursive resolver. */
  recursion?: boolean;
  transport?: Transport;
  /** Query ID source (0..65535); default `crypto.getRandomValues` (RFC 5452 §9.2: IDs must be unpredictable). */
  randomId?: () => number;
}

export interface StubAnswer {
  message: Message;
  server: ServerAddress;
  via: 'udp' | 'tcp';
  /** Packets sent for this answer, retries and TCP included. */
  tries: number;
}

export class StubTimeoutError extends Error {
  constructor(what: string, servers: ServerAddress[], tries: number) {
    super(`no answer for ${what} from ${servers.map(formatServer).join(', ')} after ${tries} tries`);
    this.name = 'StubTimeoutError';
  }
}

function cryptoId(): number {
  const b = new Uint16Array(1);
  globalThis.crypto.getRandomValues(b);
  return b[0]!;
}

/** Rcodes after which another server may do better (RFC 1035 §7.2 / RFC 8906: treat as server failure). */
const TRY_NEXT = new Set<number>([Rcode.SERVFAIL, Rcode.REFUSED, Rcode.NOTIMP]);

export class Stub {
  readonly servers: ServerAddress[];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly edns: number | false;
  private readonly recursion: boolean;
  private readonly transport: Transport;
  private readonly randomId: () => number;

  constructor(opts: StubOptions) {
    if (opts.servers.length === 0) throw new Error('a stub resolver needs at least one server');
    this.servers = opts.servers;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.retries = opts.retries ?? 2;
    this.edns = opts.edns ?? 1232;
    this.recursion = opts.recursion ?? true;
    this.transport = opts.transport ?? { udp: udpTransport, tcp: tcpTransport };
    this.randomId = opts.randomId ?? cryptoId;
  }

  /** Builds a standard query for (name, type); EDNS unless disabled. */
  buildQuery(name: string, type: number, edns: number | false = this.edns): Message {
    return queryMessage(name, type, { id: this.randomId() & 0xffff, rd: this.recursion, edns });
  }

  /** Asks (name, type). Resolves with the response (any rcode); rejects only when nothing answered. */
  async query(name: string, type: number): Promise<StubAnswer> {
    const first = await this.exchange(this.buildQuery(name, type));
    // RFC 6891 §7: a responder that does not understand EDNS answers FORMERR; retry without the OPT.
    if (this.edns !== false && getRcode(first.message) === Rcode.FORMERR && !first.message.edns) {
      const again = await this.exchange(this.buildQuery(name, type, false));
      return { ...again, tries: again.tries + first.tries };
    }
    return first;
  }

  /**
   * Sends `msg` (a query or an RFC 2136 UPDATE) with the reliability rules of seed 004: the same ID
   * for every try, alternate servers on timeout, the timeout doubled each round, TCP when TC is set.
   */
  async exchange(msg: Message): Promise<StubAnswer> {
    const packet = encodeMessage(msg);
    const accept = (reply: Uint8Array): boolean => matches(msg, reply);
    let tries = 0;
    let lastError: StubAnswer | undefined;
    for (let round = 0; round <= this.retries; round++) {
      const timeout = this.timeoutMs * 2 ** round;
      let errors = 0;
      for (const server of this.servers) {
        tries++;
        let answer: StubAnswer | undefined;
        // RFC 1035 §4.2.1: UDP carries at most 512 octets without EDNS; a larger query goes over TCP.
        const viaTcp = packet.length > 512 && !msg.edns;
        const udp = viaTcp ? null : await this.transport.udp(server, packet, timeout, accept);
        if (udp) answer = { message: decodeMessage(udp), server, via: 'udp', tries };
        // RFC 7766 §5: a truncated UDP answer is repeated over TCP.
        if (viaTcp || answer?.message.flags.tc) {
          if (!viaTcp) tries++;
          const tcp = await this.transport.tcp(server, packet, timeout, accept);
          answer = tcp ? { message: decodeMessage(tcp), server, via: 'tcp', tries } : undefined;
        }
        if (!answer) continue;
        if (!TRY_NEXT.has(getRcode(answer.message))) return answer;
        lastError = { ...answer, tries };
        errors++;
      }
      // Every server answered with an error: asking them again will not change their minds.
      if (errors === this.servers.length && lastError) return lastError;
    }
    if (lastError) return { ...lastError, tries };
    const q = msg.questions[0];
    throw new StubTimeoutError(q ? `${q.name} type ${q.type}` : `message ${msg.id}`, this.servers, tries);
  }
}

/** A reply belongs to the query when it is a response with the same ID and the same question. */
export function matches(query: Message, reply: Uint8Array): boolean {
  if (reply.length < 12) return false;
  const id = (reply[0]! << 8) | reply[1]!;
  if (id !== query.id || (reply[2]! & 0x80) === 0) return false;
  let m: Message;
  try {
    m = decodeMessage(reply);
  } catch {
    return false;
  }
  const q: Question | undefined = query.questions[0];
  const r: Question | undefined = m.questions[0];
  // FORMERR/NOTIMP replies may omit the question (RFC 6891 §7, RFC 1035 §4.1.1).
  if (!r) return q === undefined || getRcode(m) !== Rcode.NOERROR;
  return q !== undefined && r.type === q.type && r.class === q.class && namesEqual(r.name, q.name);
}
