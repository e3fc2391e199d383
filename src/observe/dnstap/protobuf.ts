// The dnstap protobuf schema (github.com/dnstap/dnstap.pb, dnstap.proto), hand-encoded: two messages, a dozen fields.
import { isIPv4 } from 'node:net';

/** Message.Type values fluxdns writes (an authoritative server's two). */
export const MessageType = { AUTH_QUERY: 1, AUTH_RESPONSE: 2 } as const;
/** SocketProtocol: UDP 1, TCP 2, DOT 3, DOH 4 (dnstap.proto). */
export const SocketProtocol = { udp: 1, tcp: 2, tls: 3, https: 4 } as const;

export interface DnstapMessage {
  type: number;
  /** The client's address and port (dnstap's query_address: the initiator), the server's (response_address). */
  queryAddress: string;
  queryPort: number;
  responseAddress: string;
  responsePort: number;
  protocol: number;
  /** Milliseconds since the epoch, with a fraction (performance.timeOrigin + performance.now()). */
  queryTime: number;
  queryMessage?: Uint8Array;
  responseTime?: number;
  responseMessage?: Uint8Array;
}

/** Encodes one Dnstap { identity, version, type: MESSAGE, message }. */
export function encodeDnstap(identity: Uint8Array | undefined, version: Uint8Array | undefined, m: DnstapMessage): Uint8Array {
  const w = new ProtoWriter();
  w.uint(1, m.type); // Message.type
  const v4 = isIPv4(m.queryAddress);
  w.uint(2, v4 ? 1 : 2); // socket_family: INET 1, INET6 2
  w.uint(3, m.protocol); // socket_protocol
  w.bytes(4, addressBytes(m.queryAddress, v4));
  w.bytes(5, addressBytes(m.responseAddress, isIPv4(m.responseAddress)));
  w.uint(6, m.queryPort);
  w.uint(7, m.responsePort);
  w.uint(8, Math.floor(m.queryTime / 1000)); // query_time_sec
  w.fixed32(9, nanos(m.queryTime)); // query_time_nsec
  if (m.queryMessage) w.bytes(10, m.queryMessage);
  if (m.responseTime !== undefined) {
    w.uint(12, Math.floor(m.responseTime / 1000));
    w.fixed32(13, nanos(m.responseTime));
  }
  if (m.responseMessage) w.bytes(14, m.responseMessage);
  const message = w.finish();
  const top = new ProtoWriter();
  if (identity) top.bytes(1, identity);
  if (version) top.bytes(2, version);
  top.bytes(14, message); // Dnstap.message
  top.uint(15, 1); // Dnstap.type: MESSAGE
  return top.finish();
}

function nanos(ms: number): number {
  return Math.floor((ms % 1000) * 1e6) >>> 0;
}

function addressBytes(text: string, v4: boolean): Uint8Array {
  if (v4) return Uint8Array.from(text.split('.').map(Number));
  // IPv4-mapped IPv6 and scoped addresses: strip the zone; expand '::'.
  const t = text.replace(/%.*$/, '');
  const [head, tail] = t.includes('::') ? t.split('::') : [t, undefined];
  const parse = (s: string | undefined): number[] => {
    if (!s) return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const b = g.split('.').map(Number);
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = parse(head);
  const tl = parse(tail);
  const groups = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - tl.length).fill(0), ...tl];
  const b = new Uint8Array(16);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return b;
}

/** A growable buffer of protobuf fields (proto2 wire format: varint, length-delimited, fixed32). */
class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private varint(v: number): void {
    this.ensure(10);
    // Numbers up to 2^53: split off seven bits at a time without 32-bit operators.
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  uint(field: number, v: number): void {
    this.varint(field << 3);
    this.varint(v);
  }

  fixed32(field: number, v: number): void {
    this.varint((field << 3) | 5);
    this.ensure(4);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 24) & 0xff;
  }

  bytes(field: number, b: Uint8Array): void {
    this.varint((field << 3) | 2);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
