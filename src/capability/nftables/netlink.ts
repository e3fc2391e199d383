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
import { parseAddress, parseCidr } from '../../net/cidr.js';
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

const pad4 = (n: number) => (n + 3) & ~3;

function attr(type: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(pad4(4 + payload.length));
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}
const nest = (type: number, parts: Buffer[]) => attr(type | NLA_F_NESTED, Buffer.concat(parts));
const str = (s: string) => Buffer.from(`${s}\0`, 'latin1');
function u64(ms: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.round(ms))));
  return b;
}

/** One field's [start, end] bytes (each a multiple of 4). */
function field(f: Field, text: string, fam: 4 | 6, interval: boolean): [Buffer, Buffer] {
  const bad = () => new NlEncodeError(`cannot encode ${f} ${JSON.stringify(text)}`);
  if (f === 'addr') {
    const c = text.includes('/') ? parseCidr(text, false) : undefined;
    const a = c ? { family: c.family, bytes: c.bytes } : parseAddress(text);
    if (!a || a.family !== fam || (c && !interval)) throw bad();
    const len = c ? c.length : fam === 4 ? 32 : 128;
    const start = Buffer.from(a.bytes);
    const end = Buffer.from(a.bytes);
    for (let i = 0; i < start.length; i++) {
      const keep = Math.max(0, Math.min(8, len - i * 8));
      const mask = (0xff << (8 - keep)) & 0xff;
      start[i]! &= mask;
      end[i] = (end[i]! & mask) | (~mask & 0xff);
    }
    return [start, end];
  }
  if (f === 'proto') {
    const v = text === 'tcp' ? 6 : text === 'udp' ? 17 : /^\d{1,3}$/.test(text) && Number(text) < 256 ? Number(text) : -1;
    if (v < 0) throw bad();
    const b = Buffer.alloc(4);
    b[0] = v;
    return [b, Buffer.from(b)];
  }
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m || (m[2] !== undefined && !interval)) throw bad();
  const lo = Number(m[1]);
  const hi = Number(m[2] ?? m[1]);
  const max = f === 'port' ? 0xffff : 0xffffffff;
  if (lo > hi || hi > max) throw bad();
  const enc = (v: number) => {
    const b = Buffer.alloc(4);
    if (f === 'port') b.writeUInt16BE(v, 0);
    else b.writeUInt32BE(v, 0); // big-endian in interval concatenations, as nft writes it
    return b;
  };
  return [enc(lo), enc(hi)];
}

function fields(layout: Field[], text: string, fam: 4 | 6, interval: boolean): [Buffer, Buffer] {
  const parts = text.split(' . ');
  if (parts.length !== layout.length) throw new NlEncodeError(`expected ${layout.length} fields in ${JSON.stringify(text)}`);
  const s: Buffer[] = [];
  const e: Buffer[] = [];
  layout.forEach((f, i) => {
    const [a, b] = field(f, parts[i]!.trim(), fam, interval);
    s.push(a);
    e.push(b);
  });
  return [Buffer.concat(s), Buffer.concat(e)];
}

function element(set: string, el: NlElement, withData: boolean): Buffer {
  const l = layoutOf(set);
  if (!l) throw new NlEncodeError(`set ${set} has no netlink layout`);
  const { layout, fam } = l;
  const parts: Buffer[] = [];
  if (el.timeoutMs !== undefined) parts.push(attr(NFTA_SET_ELEM_TIMEOUT, u64(el.timeoutMs)));
  if (el.expiresMs !== undefined) parts.push(attr(NFTA_SET_ELEM_EXPIRATION, u64(el.expiresMs)));
  const [start, end] = fields(layout.key, el.key, fam, layout.interval);
  parts.push(nest(NFTA_SET_ELEM_KEY, [attr(NFTA_DATA_VALUE, start)]));
  if (layout.interval) parts.push(nest(NFTA_SET_ELEM_KEY_END, [attr(NFTA_DATA_VALUE, end)]));
  if (withData && layout.data !== undefined) {
    if (el.data === undefined) throw new NlEncodeError(`set ${set}: element ${el.key} needs data`);
    if (layout.data === 'verdict') {
      const m = /^(accept|drop|return|jump|goto)(?: ([A-Za-z0-9_]{1,64}))?$/.exec(el.data);
      if (!m || (m[2] === undefined) !== (m[1] !== 'jump' && m[1] !== 'goto')) throw new NlEncodeError(`cannot encode verdict ${JSON.stringify(el.data)}`);
      const code = Buffer.alloc(4);
      code.writeInt32BE(VERDICTS[m[1]!]!);
      const v = [attr(NFTA_VERDICT_CODE, code), ...(m[2] ? [attr(NFTA_VERDICT_CHAIN, str(m[2]))] : [])];
      parts.push(nest(NFTA_SET_ELEM_DATA, [nest(NFTA_DATA_VERDICT, v)]));
    } else {
      parts.push(nest(NFTA_SET_ELEM_DATA, [attr(NFTA_DATA_VALUE, fields(layout.data, el.data, fam, false)[0])]));
    }
  } else if (withData && el.data !== undefined) {
    throw new NlEncodeError(`set ${set} holds no data (${el.data})`);
  }
  return nest(NFTA_LIST_ELEM, parts);
}

function header(len: number, type: number, flags: number, seq: number, family: number, resId: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  b.writeUInt32LE(0, 12);
  b[16] = family;
  b[17] = 0; // NFNETLINK_V0
  b.writeUInt16BE(resId, 18);
  return b;
}

export interface NlBatch {
  bytes: Buffer;
  seq0: number;
  /** Sequence numbers used: seq0 … seq0 + count - 1 (batch begin and end included). */
  count: number;
  /** Messages sent with NLM_F_ACK (each must be acknowledged). */
  acks: number;
  /** seq → what the message did, for error text ("add element inet fluxdns caps_src"). */
  what: Map<number, string>;
}

/** Encodes `ops` as one nfnetlink batch (one transaction); throws NlEncodeError for what it cannot express. */
export function encodeBatch(family: NftFamily, table: string, ops: readonly NlOp[], seq0: number): NlBatch {
  const msgs: Buffer[] = [];
  const what = new Map<number, string>();
  let seq = seq0;
  msgs.push(header(20, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq++, 0, NFNL_SUBSYS_NFTABLES));
  const tbl = attr(NFTA_SET_ELEM_LIST_TABLE, str(table));
  for (const op of ops) {
    const els = op.elements.map((e) => element(op.set, e, op.kind === 'add'));
    const name = attr(NFTA_SET_ELEM_LIST_SET, str(op.set));
    for (let i = 0; i < els.length; ) {
      const chunk: Buffer[] = [];
      let size = 4;
      while (i < els.length && (chunk.length === 0 || size + els[i]!.length <= MAX_LIST)) {
        size += els[i]!.length;
        chunk.push(els[i++]!);
      }
      if (size > 0xffff) throw new NlEncodeError(`set ${op.set}: one element is too large`);
      const body = Buffer.concat([tbl, name, nest(NFTA_SET_ELEM_LIST_ELEMENTS, chunk)]);
      const type = (NFNL_SUBSYS_NFTABLES << 8) | (op.kind === 'add' ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
      const flags = NLM_F_REQUEST | NLM_F_ACK | (op.kind === 'add' ? NLM_F_CREATE : 0);
      what.set(seq, `${op.kind} element ${family} ${table} ${op.set}`);
      msgs.push(header(20 + body.length, type, flags, seq++, NFPROTO[family], 0), body);
    }
  }
  msgs.push(header(20, NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq++, 0, NFNL_SUBSYS_NFTABLES));
  return { bytes: Buffer.concat(msgs), seq0, count: seq - seq0, acks: what.size, what };
}
