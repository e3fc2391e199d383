// encodeBatch against the bytes nft 1.0.6 itself sends for the same elements (captured with
// `strace -x -s 4000 -e sendmsg nft -f FILE` against a table made by tableCommands; the element list
// attribute's payload is compared), plus the batch framing and what cannot be encoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchMessage, encodeBatch, NlEncodeError, netlinkSet, type NlOp } from './netlink.js';

interface Msg {
  type: number;
  flags: number;
  seq: number;
  family: number;
  attrs: Map<number, Buffer>;
}

function parse(buf: Buffer): Msg[] {
  const out: Msg[] = [];
  for (let o = 0; o < buf.length; ) {
    const len = buf.readUInt32LE(o);
    const attrs = new Map<number, Buffer>();
    for (let a = o + 20; a < o + len; ) {
      const alen = buf.readUInt16LE(a);
      attrs.set(buf.readUInt16LE(a + 2) & 0x3fff, buf.subarray(a + 4, a + alen));
      a += (alen + 3) & ~3;
    }
    out.push({ type: buf.readUInt16LE(o + 4), flags: buf.readUInt16LE(o + 6), seq: buf.readUInt32LE(o + 8), family: buf[o + 16]!, attrs });
    o += len;
  }
  return out;
}

/** The element-list payload of the batch's only element message. */
function elements(op: NlOp): string {
  const msgs = parse(encodeBatch('inet', 'fxq', [op], 7).bytes);
  assert.equal(msgs.length, 3);
  return msgs[1]!.attrs.get(3)!.toString('hex');
}

test('elements are encoded byte for byte as nft 1.0.6 sends them', () => {
  // add element inet fxq caps_src { 100.64.0.0/24 . 198.18.0.5 . tcp . 443 . 0-59 timeout 85000ms expires 85000ms : 198.51.100.10 }
  assert.equal(
    elements({ kind: 'add', set: 'caps_src', elements: [{ key: '100.64.0.0/24 . 198.18.0.5 . tcp . 443 . 0-59', data: '198.51.100.10', timeoutMs: 85000, expiresMs: 85000 }] }),
    '600001800c0004000000000000014c080c0005000000000000014c081c0001801800010064400000c61200050600000001bb0000000000001c000a8018000100644000ffc61200050600000001bb00000000003b0c00028008000100c633640a',
  );
  // add element inet fxq caps_port { 198.18.0.5 . udp . 1000-2000 . 7 timeout 5s : 198.51.100.10 . 8443 }
  assert.equal(
    elements({ kind: 'add', set: 'caps_port', elements: [{ key: '198.18.0.5 . udp . 1000-2000 . 7', data: '198.51.100.10 . 8443', timeoutMs: 5000 }] }),
    '500001800c00040000000000000013881800018014000100c61200051100000003e800000000000718000a8014000100c61200051100000007d0000000000007100002800c000100c633640a20fb0000',
  );
  // add element inet fxq hostlim { 198.18.0.5 . tcp . 443 timeout 5s : jump limits }
  assert.equal(
    elements({ kind: 'add', set: 'hostlim', elements: [{ key: '198.18.0.5 . tcp . 443', data: 'jump limits', timeoutMs: 5000 }] }),
    '540001800c00040000000000000013881400018010000100c61200050600000001bb000014000a8010000100c61200050600000001bb00001c0002801800028008000100fffffffd0b0002006c696d6974730000',
  );
  // add element inet fxq seen { 100.64.0.1 . 198.18.0.5 timeout 90s }: no key end (not an interval set)
  assert.equal(elements({ kind: 'add', set: 'seen', elements: [{ key: '100.64.0.1 . 198.18.0.5', timeoutMs: 90000 }] }), '200001800c0004000000000000015f90100001800c00010064400001c6120005');
  // add element inet fxq revoked6 { 2001:db8::5 timeout 3000ms expires 3000ms }
  assert.equal(
    elements({ kind: 'add', set: 'revoked6', elements: [{ key: '2001:db8::5', timeoutMs: 3000, expiresMs: 3000 }] }),
    '340001800c0004000000000000000bb80c0005000000000000000bb8180001801400010020010db8000000000000000000000005',
  );
  // delete element inet fxq caps_src { 100.64.0.0/24 . 198.18.0.5 . tcp . 443 . 0-59 }: key and key end only
  assert.equal(
    elements({ kind: 'delete', set: 'caps_src', elements: [{ key: '100.64.0.0/24 . 198.18.0.5 . tcp . 443 . 0-59', data: '198.51.100.10' }] }),
    '3c0001801c0001801800010064400000c61200050600000001bb0000000000001c000a8018000100644000ffc61200050600000001bb00000000003b',
  );
});

test('a batch: begin and end framing, one acknowledged message per set, NEWSETELEM with CREATE, DELSETELEM without', () => {
  const b = encodeBatch('ip', 'fluxdns', [
    { kind: 'add', set: 'caps_live', elements: [{ key: '198.18.0.5 . tcp . 443', timeoutMs: 1000 }] },
    { kind: 'delete', set: 'caps_grace', elements: [{ key: '198.18.0.5 . tcp . 443' }] },
  ], 100);
  const m = parse(b.bytes);
  assert.deepEqual(m.map((x) => [x.type, x.seq]), [[0x10, 100], [0x0a0c, 101], [0x0a0e, 102], [0x11, 103]]);
  assert.equal(b.count, 4);
  assert.equal(b.acks, 2);
  assert.equal(m[1]!.flags, 0x1 | 0x4 | 0x400);
  assert.equal(m[2]!.flags, 0x1 | 0x4);
  assert.equal(m[1]!.family, 2); // NFPROTO_IPV4 for an ip table
  assert.equal(m[0]!.attrs.size, 0);
  assert.equal(m[1]!.attrs.get(1)!.toString('latin1'), 'fluxdns\0');
  assert.equal(m[1]!.attrs.get(2)!.toString('latin1'), 'caps_live\0');
  assert.equal(batchMessage(b, 'ip', 'fluxdns', 102), 'delete element ip fluxdns caps_grace');
});

test('many elements are split over messages whose element list fits a 16-bit attribute length', () => {
  const els = Array.from({ length: 2000 }, (_, i) => ({ key: `198.18.${i >> 8}.${i & 255} . tcp . 443`, timeoutMs: 5000, expiresMs: 5000 }));
  const b = encodeBatch('inet', 'fluxdns', [{ kind: 'add', set: 'caps_live', elements: els }], 1);
  const m = parse(b.bytes);
  assert.ok(m.length > 3, `${m.length} messages`);
  let n = 0;
  for (const x of m.slice(1, -1)) {
    const list = x.attrs.get(3)!;
    assert.ok(list.length + 4 <= 0xffff);
    for (let a = 0; a < list.length; a += list.readUInt16LE(a)) n++;
  }
  assert.equal(n, 2000);
  assert.equal(b.acks, m.length - 2);
});

test('what the encoder cannot express is refused before anything is sent', () => {
  const bad: NlOp[] = [
    { kind: 'add', set: 'caps_live', elements: [{ key: '198.18.0.5 . tcp' }] },
    { kind: 'add', set: 'caps_live', elements: [{ key: '198.18.0.5 . sctp . 443' }] },
    { kind: 'add', set: 'caps_live', elements: [{ key: '2001:db8::1 . tcp . 443' }] }, // IPv6 in an IPv4 set
    { kind: 'add', set: 'caps_live', elements: [{ key: 'example.com . tcp . 443' }] },
    { kind: 'add', set: 'caps_live', elements: [{ key: '198.18.0.5 . tcp . 70000' }] },
    { kind: 'add', set: 'caps', elements: [{ key: '198.18.0.5 . tcp . 443 . 0-59' }] }, // a map element without data
    { kind: 'add', set: 'hostlim', elements: [{ key: '198.18.0.5 . tcp . 443', data: 'jump' }] },
    { kind: 'add', set: 'seen', elements: [{ key: '100.64.0.0/24 . 198.18.0.5' }] }, // a prefix in a set without intervals
    { kind: 'add', set: 'pool', elements: [{ key: '198.18.0.0/15' }] },
  ];
  for (const op of bad) assert.throws(() => encodeBatch('inet', 'fluxdns', [op], 1), NlEncodeError, JSON.stringify(op));
  assert.equal(netlinkSet('caps6_src_port'), true);
  assert.equal(netlinkSet('mc6_3'), true);
  assert.equal(netlinkSet('pool'), false);
  assert.equal(netlinkSet('h_abc'), false);
});

test('the encoder reuses its buffer: a batch after a larger one (or one that failed half way) has the same bytes as alone', () => {
  const small: NlOp[] = [
    { kind: 'add', set: 'caps_src_x_24', elements: [{ key: '10.1.2.0 . 198.18.0.5 . tcp . 443', data: '198.51.100.10', timeoutMs: 80000, expiresMs: 80000 }] },
    { kind: 'add', set: 'caps_live_x', elements: [{ key: '198.18.0.5 . tcp . 443', timeoutMs: 20000, expiresMs: 20000 }] },
    { kind: 'add', set: 'hostlim', elements: [{ key: '198.18.0.5 . tcp . 443', data: 'jump hl_ab', timeoutMs: 5000 }] },
  ];
  const alone = Buffer.from(encodeBatch('inet', 'fx', small, 3).bytes);
  // Larger than the initial buffer, with other content at every offset the small batch uses.
  const big = Array.from({ length: 3000 }, (_, i) => ({ key: `2001:db8::${i.toString(16)} . udp . ${1 + i}-${2 + i}`, timeoutMs: 0xffffffff * 3, expiresMs: 7 }));
  encodeBatch('inet', 'fx', [{ kind: 'add', set: 'caps6_live', elements: big }], 3);
  assert.deepEqual(encodeBatch('inet', 'fx', small, 3).bytes, alone);
  assert.throws(() => encodeBatch('inet', 'fx', [...small, { kind: 'add', set: 'caps_live', elements: [{ key: '198.18.0.5 . tcp . 70000' }] }], 3), NlEncodeError);
  assert.deepEqual(encodeBatch('inet', 'fx', small, 3).bytes, alone);
  // A timeout over 32 bits is written as the whole 64-bit big-endian number.
  const m = parse(encodeBatch('inet', 'fx', [{ kind: 'add', set: 'seen', elements: [{ key: '100.64.0.1 . 198.18.0.5', timeoutMs: 0x123456789 }] }], 1).bytes);
  assert.equal(m[1]!.attrs.get(3)!.subarray(8, 16).toString('hex'), '0000000123456789');
});
