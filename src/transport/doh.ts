// DoH request rules (RFC 8484) as pure functions: which requests carry a DNS query, the GET
// parameter's base64url, and the response's freshness lifetime.
import { scanName } from '../wire/reader.js';
import { RRType } from '../wire/types.js';

export const DOH_PATH = '/dns-query';
export const DNS_MESSAGE = 'application/dns-message';

export type DohRequest =
  | { ok: true; method: 'GET'; query: Uint8Array }
  | { ok: true; method: 'POST' }
  | { ok: false; status: number; message: string; headers?: Record<string, string> };

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** RFC 8484 §4.1 / RFC 4648 §5: base64url without padding; anything else is undefined. */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** The media type without parameters, lower-cased ("Application/DNS-Message; x=y" → "application/dns-message"). */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Classifies a request by method, target and headers. A GET's query is decoded here; a POST's body
 * is read by the caller (its size is capped there too). Statuses: 404 for another path, 405 for
 * another method, 415 for another content type, 400 for a missing or badly encoded `dns`
 * parameter, 413 for a query larger than `maxQuerySize`.
 */
export function classifyRequest(method: string | undefined, target: string | undefined, contentType: string | undefined, contentLength: string | undefined, maxQuerySize: number): DohRequest {
  let url: URL;
  try {
    url = new URL(target ?? '', 'https://doh.invalid');
  } catch {
    return { ok: false, status: 400, message: 'bad request target' };
  }
  if (url.pathname !== DOH_PATH) return { ok: false, status: 404, message: `DNS queries are served at ${DOH_PATH}` };
  if (method === 'GET') {
    const param = url.searchParams.get('dns');
    if (param === null) return { ok: false, status: 400, message: 'missing the dns parameter' };
    // Every 4 characters carry 3 bytes: refuse a huge parameter before decoding it.
    if (Math.floor((param.length * 3) / 4) > maxQuerySize) return { ok: false, status: 413, message: `query larger than ${maxQuerySize} bytes` };
    const query = decodeBase64Url(param);
    if (!query) return { ok: false, status: 400, message: 'the dns parameter is not base64url without padding (RFC 8484 §4.1)' };
    return { ok: true, method: 'GET', query };
  }
  if (method === 'POST') {
    if (mediaType(contentType) !== DNS_MESSAGE) return { ok: false, status: 415, message: `expected content-type ${DNS_MESSAGE}` };
    if (contentLength !== undefined && Number(contentLength) > maxQuerySize) return { ok: false, status: 413, message: `query larger than ${maxQuerySize} bytes` };
    return { ok: true, method: 'POST' };
  }
  return { ok: false, status: 405, message: 'only GET and POST carry DNS queries', headers: { allow: 'GET, POST' } };
}

/**
 * RFC 8484 §5.1: the HTTP freshness lifetime must not exceed the smallest TTL in the response, nor
 * (RFC 2308) a negative answer's SOA TTL, which is in the authority section. So: the smallest TTL of
 * every record except OPT, or 0 when there is none (an error, or an empty answer without SOA).
 */
export function freshnessOf(reply: Uint8Array): number {
  if (reply.length < 12) return 0;
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const qd = view.getUint16(4);
  const records = view.getUint16(6) + view.getUint16(8) + view.getUint16(10);
  let off = 12;
  for (let i = 0; i < qd; i++) {
    off = scanName(reply, off, false);
    if (off < 0 || off + 4 > reply.length) return 0;
    off += 4;
  }
  let min = Infinity;
  for (let i = 0; i < records; i++) {
    off = scanName(reply, off, false);
    if (off < 0 || off + 10 > reply.length) return 0;
    const type = view.getUint16(off);
    // OPT's TTL field holds EDNS flags, not a lifetime (RFC 6891 §6.1.3).
    if (type !== RRType.OPT) min = Math.min(min, view.getUint32(off + 4));
    off += 10 + view.getUint16(off + 8);
  }
  if (off > reply.length) return 0;
  return min === Infinity ? 0 : min;
}
