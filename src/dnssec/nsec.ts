// NSEC rdata: the type bitmap (RFC 4034 §4.1.2) and the records compact denial of existence answers with (RFC 9824).
import { nameToWire } from '../wire/name.js';
import { RRType, type OpaqueRdata, type ResourceRecord } from '../wire/types.js';

/** RFC 9824 §2: NXNAME, a meta type only ever set in an NSEC bitmap, saying the name does not exist. */
export const NXNAME = 128;

/** The windowed type bitmap of RFC 4034 §4.1.2 (types sorted, duplicates ignored). */
export function typeBitmap(types: Iterable<number>): Uint8Array {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const out: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const win = sorted[i]! >> 8;
    const bits = new Uint8Array(32);
    let len = 0;
    for (; i < sorted.length && sorted[i]! >> 8 === win; i++) {
      const low = sorted[i]! & 0xff;
      bits[low >> 3]! |= 0x80 >> (low & 7);
      len = (low >> 3) + 1;
    }
    out.push(win, len, ...bits.subarray(0, len));
  }
  return Uint8Array.from(out);
}

/** The types set in a bitmap (for tests and checks). */
export function bitmapTypes(b: Uint8Array): number[] {
  const types: number[] = [];
  for (let p = 0; p + 2 <= b.length; ) {
    const win = b[p]!;
    const len = b[p + 1]!;
    for (let i = 0; i < len; i++) for (let bit = 0; bit < 8; bit++) if (b[p + 2 + i]! & (0x80 >> bit)) types.push(win * 256 + i * 8 + bit);
    p += 2 + len;
  }
  return types;
}

/**
 * An NSEC record. Its next name is written in lower case: an online answer's comes from the question, in the
 * case it was asked in, and RFC 4034 §6.2 lowered that name in the canonical form signed while RFC 6840
 * §5.1 keeps it; in lower case both forms are the same bytes, so a validator of either rule accepts it.
 */
export function nsecRecord(owner: string, next: string, types: Iterable<number>, ttl: number): ResourceRecord<OpaqueRdata> {
  const n = nameToWire(next);
  // Length bytes are at most 63, below 'A' (65): every byte in A–Z is a letter.
  for (let i = 0; i < n.length; i++) if (n[i]! >= 0x41 && n[i]! <= 0x5a) n[i] = n[i]! | 0x20;
  const bm = typeBitmap(types);
  const raw = new Uint8Array(n.length + bm.length);
  raw.set(n);
  raw.set(bm, n.length);
  return { name: owner, type: RRType.NSEC, class: 1, ttl, data: { raw } };
}

/**
 * The immediate successor of a name in canonical order (RFC 4034 §6.1, RFC 4470 §3.1.2): the name with
 * a `\000` label prepended. When that is too long (over 255 bytes), the last label's byte is raised
 * instead; RFC 9824 §3 uses this as the NSEC "next" of a compact answer.
 */
export function immediateSuccessor(name: string): string {
  const candidate = name === '.' ? '\\000.' : `\\000.${name}`;
  if (nameToWire(name).length + 2 <= 255) return candidate;
  // Rare: a name at the length limit. Appending \000 to the first label, when it has room, still sorts
  // after the name and before every name below it is impossible here (there are none): good enough.
  const dot = name.indexOf('.');
  const first = name.slice(0, dot);
  return first.length < 63 ? `${first}\\000${name.slice(dot)}` : name;
}
