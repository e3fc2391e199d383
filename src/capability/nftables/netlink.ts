// Set-element batches as raw nfnetlink messages (NFT_MSG_NEWSETELEM / DELSETELEM), sent by the addon's nlRun.
//
// The grant's hot path: libnftables parses text and, because every commit changes the ruleset
// generation, refreshes its cache of the namespace's tables and sets (≈ 10 netlink round trips)
// before each transaction. This encoder knows the types of the table's sets (ruleset.ts) and writes
// the elements' key, key end, data, timeout and expiration itself, in the layout nft 1.0.6 sends
// (checked against `strace -x nft` and by netlink.test.ts / capability-nft-netlink.test.ts):
// - each field of a concatenation takes a multiple of 4 bytes (NFT_REG32), zero padded;
// - interval sets of concatenations (pipapo) get NFTA_SET_ELEM_KEY (start) and KEY_END (end) always;
// - `mark` (ct mark, host byte order) is written big-endian in such keys, as nft does;
// - a verdict is NFTA_DATA_VERDICT { CODE, CHAIN }.
// Every message carries NLM_F_ACK: the batch counts as committed only once each one is acknowledged.
import { parseIPv4Into, parseIPv6Into } from '../../wire/rdata/ip.js';
import type { NftFamily } from './ruleset.js';

export class NlEncodeError extends Error {}

type Field = 'addr' | 'proto' | 'port' | 'mark';
interface Layout {
  key: Field[];
  data?: Field[] | 'verdict';
  interval: boolean;
}

const KEY = ['addr', 'proto', 'port'] as const satisfies Field[];
const LAYOUTS: Record<string, Layout> = {
  caps: { key: [...KEY, 'mark'], data: ['addr'], interval: true },
  caps_port: { key: [...KEY, 'mark'], data: ['addr', 'port'], interval: true },
  caps_src: { key: ['addr', ...KEY, 'mark'], data: ['addr'], interval: true },
  caps_src_port: { key: ['addr', ...KEY, 'mark'], data: ['addr', 'port'], interval: true },
  caps_live: { key: [...KEY], interval: true },
  caps_grace: { key: [...KEY], interval: true },
  hp: { key: [...KEY], interval: true },
  except: { key: ['addr', ...KEY], interval: true },
  hostlim: { key: [...KEY], data: 'verdict', interval: true },
  seen: { key: ['addr', 'addr'], interval: false },
  revoked: { key: ['addr'], interval: false },
  scanners: { key: ['addr'], interval: false },
  // The exact (hash) twins: no key end, no slot.
  caps_x: { key: [...KEY], data: ['addr'], interval: false },
  caps_port_x: { key: [...KEY], data: ['addr', 'port'], interval: false },
  caps_live_x: { key: [...KEY], interval: false },
  caps_grace_x: { key: [...KEY], interval: false },
};

/** The layout of a set of the table by its name (IPv6 twins have "6" after the first word; mc_N limit sets; caps_src_x_L maps). */
function layoutOf(set: string): { layout: Layout; fam: 4 | 6 } | undefined {
  const m = /^([a-z]+)(6?)((?:_[a-z0-9]+)*)$/.exec(set);
  if (!m) return undefined;
  const fam = m[2] ? 6 : 4;
  const base = m[1]! + m[3]!;
  if (/^mc_\d+$/.test(base)) return { layout: { key: [...KEY], interval: true }, fam };
  const x = /^caps_src(_port)?_x_\d+$/.exec(base);
  if (x) return { layout: { key: ['addr', ...KEY], data: x[1] ? ['addr', 'port'] : ['addr'], interval: false }, fam };
  const layout = LAYOUTS[base];
  return layout ? { layout, fam } : undefined;
}

/** True when elements of `set` can go through netlink (the table's lease and block sets). */
export function netlinkSet(set: string): boolean {
  return layoutOf(set) !== undefined;
}

export interface NlElement {
  /** The element's key as nft text (ruleset.ts leaseElements): fields joined by " . ". */
  key: string;
  data?: string;
  timeoutMs?: number;
  expiresMs?: number;
}

export interface NlOp {
  kind: 'add' | 'delete';
  set: string;
  elements: readonly NlElement[];
}

// Constants from linux/netfilter/nf_tables.h and nfnetlink.h.
const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFT_MSG_NEWSETELEM = 12;
const NFT_MSG_DELSETELEM = 14;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_CREATE = 0x400;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_DATA = 2;
const NFTA_SET_ELEM_TIMEOUT = 4;
const NFTA_SET_ELEM_EXPIRATION = 5;
const NFTA_SET_ELEM_KEY_END = 10;
const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;
const NLA_F_NESTED = 0x8000;
const NFPROTO = { inet: 1, ip: 2 } as const;
const VERDICTS: Record<string, number> = { accept: 1, drop: 0, return: -5, jump: -3, goto: -4 };
/** An attribute's length is 16 bits: a message's element list stays under this, more go in further messages. */
const MAX_LIST = 60000;

/**
 * The batch is written into one buffer kept across calls (grown when a batch needs more): a grant's
 * batch used to be built from ≈ 40 small Buffers (≈ 29 KB of heap per grant, ≈ 40 µs), which made the
 * serving thread's young generation fill, and V8 scavenge, every few hundred grants.
 */
let out = Buffer.allocUnsafe(4096);
let at = 0;

function ensure(n: number): void {
  if (at + n <= out.length) return;
  let size = out.length * 2;
  while (size < at + n) size *= 2;
  const b = Buffer.allocUnsafe(size);
  out.copy(b, 0, 0, at);
  out = b;
}

/** Opens an attribute: its header is written by close() once the payload's length is known. */
function open(): number {
  ensure(4);
  const start = at;
  at += 4;
  return start;
}

/** Closes the attribute opened at `start` and pads it to 4 bytes (NLA_ALIGN). */
function close(start: number, type: number): void {
  out.writeUInt16LE(at - start, start);
  out.writeUInt16LE(type, start + 2);
  ensure(3);
  while (at & 3) out[at++] = 0;
}

function bytesAttr(type: number, src: Uint8Array, len: number): void {
  const s = open();
  ensure(len);
  for (let i = 0; i < len; i++) out[at++] = src[i]!;
  close(s, type);
}

function strAttr(type: number, text: string): void {
  const s = open();
  ensure(text.length + 1);
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i) & 0xff;
  out[at++] = 0;
  close(s, type);
}

function u64Attr(type: number, ms: number): void {
  const s = open();
  ensure(8);
  const v = Math.max(0, Math.round(ms));
  out.writeUInt32BE(Math.floor(v / 0x100000000), at);
  out.writeUInt32BE(v >>> 0, at + 4);
  at += 8;
  close(s, type);
}

function u32beAttr(type: number, v: number): void {
  const s = open();
  ensure(4);
  out.writeInt32BE(v, at);
  at += 4;
  close(s, type);
}

/** A key's (or data's) start and end bytes, each field a multiple of 4 bytes; reused by every element. */
const keyStart = new Uint8Array(128);
const keyEnd = new Uint8Array(128);
const startView = new DataView(keyStart.buffer);
const endView = new DataView(keyEnd.buffer);
const v6 = new Uint8Array(16);

/** Parses an address (a prefix when `slash` >= 0) from text[from, to) into v6 (IPv4 in its first 4 bytes); returns its family and prefix length. */
function address(text: string, from: number, to: number, slash: number): { fam: 4 | 6; len: number } | undefined {
  const a = text.slice(from, slash >= 0 ? slash : to);
  let fam: 4 | 6;
  if (parseIPv4Into(a, v6, 0)) fam = 4;
  else if (parseIPv6Into(a, v6, 0)) {
    fam = 6;
    // parseAddress unmaps ::ffff:a.b.c.d; a prefix keeps its IPv6 form (parseCidr).
    let mapped = slash < 0 && v6[10] === 0xff && v6[11] === 0xff;
    for (let i = 0; mapped && i < 10; i++) mapped = v6[i] === 0;
    if (mapped) {
      v6.copyWithin(0, 12, 16);
      fam = 4;
    }
  } else return undefined;
  const max = fam === 4 ? 32 : 128;
  if (slash < 0) return { fam, len: max };
  const lenText = text.slice(slash + 1, to);
  if (!/^(0|[1-9]\d{0,2})$/.test(lenText) || Number(lenText) > max) return undefined;
  return { fam, len: Number(lenText) };
}

/** Thrown for a field that cannot be encoded (a function, not a closure per field: tsx names every closure it creates). */
function bad(f: Field, text: string, from: number, to: number): NlEncodeError {
  return new NlEncodeError(`cannot encode ${f} ${JSON.stringify(text.slice(from, to))}`);
}

/** Writes one field of text[from, to) at `o` of keyStart and keyEnd; returns its width (a multiple of 4). */
function field(f: Field, text: string, from: number, to: number, fam: 4 | 6, interval: boolean, o: number): number {
  if (f === 'addr') {
    const slash = text.indexOf('/', from);
    const p = slash >= 0 && slash < to ? slash : -1;
    const a = address(text, from, to, p);
    if (!a || a.fam !== fam || (p >= 0 && !interval)) throw bad(f, text, from, to);
    const n = fam === 4 ? 4 : 16;
    for (let i = 0; i < n; i++) {
      const keep = Math.max(0, Math.min(8, a.len - i * 8));
      const mask = (0xff << (8 - keep)) & 0xff;
      keyStart[o + i] = v6[i]! & mask;
      keyEnd[o + i] = (v6[i]! & mask) | (~mask & 0xff);
    }
    return n;
  }
  if (f === 'proto') {
    const t = text.slice(from, to);
    const v = t === 'tcp' ? 6 : t === 'udp' ? 17 : /^\d{1,3}$/.test(t) && Number(t) < 256 ? Number(t) : -1;
    if (v < 0) throw bad(f, text, from, to);
    startView.setUint32(o, v * 0x1000000);
    endView.setUint32(o, v * 0x1000000);
    return 4;
  }
  // port or mark: N or N-M, decimal.
  let lo = -1;
  let hi = -1;
  let v = -1;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text.charCodeAt(i) : -1;
    if (c >= 0x30 && c <= 0x39) {
      v = (v < 0 ? 0 : v * 10) + (c - 0x30);
      if (v > 0xffffffff) throw bad(f, text, from, to);
    } else if ((c === 0x2d && lo < 0) || c === -1) {
      if (v < 0) throw bad(f, text, from, to);
      if (lo < 0) lo = v;
      else hi = v;
      v = -1;
    } else throw bad(f, text, from, to);
  }
  if (hi < 0) hi = lo;
  else if (!interval) throw bad(f, text, from, to);
  const max = f === 'port' ? 0xffff : 0xffffffff;
  if (lo > hi || hi > max) throw bad(f, text, from, to);
  if (f === 'port') {
    startView.setUint32(o, lo * 0x10000);
    endView.setUint32(o, hi * 0x10000);
  } else {
    // big-endian in interval concatenations, as nft writes it
    startView.setUint32(o, lo);
    endView.setUint32(o, hi);
  }
  return 4;
}

/** Encodes a concatenation ("a . b . c") into keyStart/keyEnd; returns its length in bytes. */
function fields(layout: Field[], text: string, fam: 4 | 6, interval: boolean): number {
  let o = 0;
  let from = 0;
  for (let i = 0; i < layout.length; i++) {
    const sep = text.indexOf(' . ', from);
    const last = i === layout.length - 1;
    if (last !== (sep < 0)) throw new NlEncodeError(`expected ${layout.length} fields in ${JSON.stringify(text)}`);
    const to = last ? text.length : sep;
    let a = from;
    let b = to;
    while (a < b && text.charCodeAt(a) === 0x20) a++;
    while (b > a && text.charCodeAt(b - 1) === 0x20) b--;
    o += field(layout[i]!, text, a, b, fam, interval, o);
    from = to + 3;
  }
  return o;
}

const layouts = new Map<string, { layout: Layout; fam: 4 | 6 } | undefined>();
function layoutCached(set: string): { layout: Layout; fam: 4 | 6 } | undefined {
  if (!layouts.has(set)) layouts.set(set, layoutOf(set));
  return layouts.get(set);
}

function element(set: string, el: NlElement, withData: boolean): void {
  const l = layoutCached(set);
  if (!l) throw new NlEncodeError(`set ${set} has no netlink layout`);
  const { layout, fam } = l;
  const item = open();
  if (el.timeoutMs !== undefined) u64Attr(NFTA_SET_ELEM_TIMEOUT, el.timeoutMs);
  if (el.expiresMs !== undefined) u64Attr(NFTA_SET_ELEM_EXPIRATION, el.expiresMs);
  const n = fields(layout.key, el.key, fam, layout.interval);
  let s = open();
  bytesAttr(NFTA_DATA_VALUE, keyStart, n);
  close(s, NFTA_SET_ELEM_KEY | NLA_F_NESTED);
  if (layout.interval) {
    s = open();
    bytesAttr(NFTA_DATA_VALUE, keyEnd, n);
    close(s, NFTA_SET_ELEM_KEY_END | NLA_F_NESTED);
  }
  if (withData && layout.data !== undefined) {
    if (el.data === undefined) throw new NlEncodeError(`set ${set}: element ${el.key} needs data`);
    s = open();
    if (layout.data === 'verdict') {
      const m = /^(accept|drop|return|jump|goto)(?: ([A-Za-z0-9_]{1,64}))?$/.exec(el.data);
      if (!m || (m[2] === undefined) !== (m[1] !== 'jump' && m[1] !== 'goto')) throw new NlEncodeError(`cannot encode verdict ${JSON.stringify(el.data)}`);
      const v = open();
      u32beAttr(NFTA_VERDICT_CODE, VERDICTS[m[1]!]!);
      if (m[2]) strAttr(NFTA_VERDICT_CHAIN, m[2]);
      close(v, NFTA_DATA_VERDICT | NLA_F_NESTED);
    } else {
      bytesAttr(NFTA_DATA_VALUE, keyStart, fields(layout.data, el.data, fam, false));
    }
    close(s, NFTA_SET_ELEM_DATA | NLA_F_NESTED);
  } else if (withData && el.data !== undefined) {
    throw new NlEncodeError(`set ${set} holds no data (${el.data})`);
  }
  close(item, NFTA_LIST_ELEM | NLA_F_NESTED);
}

/** A message header at `start` (its length patched once the body is written). */
function header(start: number, type: number, flags: number, seq: number, family: number, resId: number): void {
  out.writeUInt32LE(at - start, start);
  out.writeUInt16LE(type, start + 4);
  out.writeUInt16LE(flags, start + 6);
  out.writeUInt32LE(seq, start + 8);
  out.writeUInt32LE(0, start + 12);
  out[start + 16] = family;
  out[start + 17] = 0; // NFNETLINK_V0
  out.writeUInt16BE(resId, start + 18);
}

function control(type: number, seq: number): void {
  ensure(20);
  const start = at;
  at += 20;
  header(start, type, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES);
}

export interface NlBatch {
  /** The encoded batch: a view of the encoder's buffer, valid until the next encodeBatch (send or copy it first). */
  bytes: Buffer;
  seq0: number;
  /** Sequence numbers used: seq0 … seq0 + count - 1 (batch begin and end included). */
  count: number;
  /** Messages sent with NLM_F_ACK (each must be acknowledged). */
  acks: number;
  /** The op of each element message, in sequence order from seq0 + 1. */
  msgOps: readonly NlOp[];
}

/** What the message with sequence number `seq` of `b` did, for error text ("add element inet fluxdns caps_src"). */
export function batchMessage(b: NlBatch, family: NftFamily, table: string, seq: number): string | undefined {
  const op = b.msgOps[seq - b.seq0 - 1];
  return op && `${op.kind} element ${family} ${table} ${op.set}`;
}

/** Encodes `ops` as one nfnetlink batch (one transaction); throws NlEncodeError for what it cannot express. */
export function encodeBatch(family: NftFamily, table: string, ops: readonly NlOp[], seq0: number): NlBatch {
  at = 0;
  const msgOps: NlOp[] = [];
  let seq = seq0;
  control(NFNL_MSG_BATCH_BEGIN, seq++);
  for (const op of ops) {
    const add = op.kind === 'add';
    const type = (NFNL_SUBSYS_NFTABLES << 8) | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
    const flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE : 0);
    for (let i = 0; i < op.elements.length; ) {
      ensure(20);
      const msg = at;
      at += 20;
      strAttr(NFTA_SET_ELEM_LIST_TABLE, table);
      strAttr(NFTA_SET_ELEM_LIST_SET, op.set);
      const list = open();
      // At least one element per message; more while the list stays under MAX_LIST bytes.
      do {
        const before = at;
        element(op.set, op.elements[i]!, add);
        if (at - list > MAX_LIST && before > list + 4) {
          at = before;
          break;
        }
        i++;
      } while (i < op.elements.length);
      if (at - list > 0xffff) throw new NlEncodeError(`set ${op.set}: one element is too large`);
      close(list, NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED);
      header(msg, type, flags, seq++, NFPROTO[family], 0);
      msgOps.push(op);
    }
  }
  control(NFNL_MSG_BATCH_END, seq++);
  return {
    bytes: out.subarray(0, at),
    seq0,
    count: seq - seq0,
    acks: msgOps.length,
    msgOps,
  };
}
