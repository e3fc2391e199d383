// Canonical DNS name order and form (RFC 4034 §6.1, §6.2): the order NSEC chains and proofs are sorted in.
import { nameToWire, parseLabels } from '../wire/name.js';

/** ASCII lower case of one label's bytes (RFC 4034 §6.2: only A–Z are folded). */
function lowerLabel(label: Uint8Array): Uint8Array {
  let out: Uint8Array | undefined;
  for (let i = 0; i < label.length; i++) {
    const c = label[i]!;
    if (c >= 0x41 && c <= 0x5a) {
      out ??= Uint8Array.from(label);
      out[i] = c + 0x20;
    }
  }
  return out ?? label;
}

/** The labels of a name, lower-cased, most significant (rightmost) first: the sort key of RFC 4034 §6.1. */
export function canonicalLabels(name: string): Uint8Array[] {
  return parseLabels(name).map(lowerLabel).reverse();
}

/** Compares two label lists made by canonicalLabels. */
export function compareLabels(a: readonly Uint8Array[], b: readonly Uint8Array[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    // Octet strings compare byte by byte; a label that is a prefix of the other sorts first (§6.1).
    const m = Math.min(x.length, y.length);
    for (let k = 0; k < m; k++) if (x[k] !== y[k]) return x[k]! - y[k]!;
    if (x.length !== y.length) return x.length - y.length;
  }
  // Fewer labels (an ancestor) sorts first.
  return a.length - b.length;
}

/** RFC 4034 §6.1 canonical order of two presentation names: negative, zero or positive. */
export function compareCanonical(a: string, b: string): number {
  return compareLabels(canonicalLabels(a), canonicalLabels(b));
}

/**
 * The canonical wire form of an absolute name in printable ASCII without escapes, written straight from the
 * text (an NSEC3 hash of a question's name runs this per answer); undefined for anything else.
 */
function plainWire(name: string): Uint8Array | undefined {
  const n = name.length;
  if (n < 2 || n > 254 || name.charCodeAt(n - 1) !== 0x2e) return undefined;
  const w = new Uint8Array(n + 1);
  let lenAt = 0;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      const len = i - lenAt;
      if (len === 0 || len > 63) return undefined;
      w[lenAt] = len;
      lenAt = i + 1;
    } else if (c <= 0x20 || c >= 0x7f || c === 0x5c) return undefined;
    else w[i + 1] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  }
  // w[n] stays 0: the root label.
  return w;
}

/** RFC 4034 §6.2 canonical wire form of a name: uncompressed, lower case (only A–Z are folded). */
export function canonicalNameWire(name: string): Uint8Array {
  const plain = plainWire(name);
  if (plain) return plain;
  const w = nameToWire(name);
  for (let i = 0; i < w.length; i++) {
    const c = w[i]!;
    // Length bytes are below 64, so only label bytes can be A–Z.
    if (c >= 0x41 && c <= 0x5a) w[i] = c + 0x20;
  }
  return w;
}

/** Scratch for canonicalKey: a name is at most 255 bytes, so its key at most 255 code units. */
const keyScratch = new Uint16Array(512);

/**
 * A string whose plain `<` order is the canonical order of RFC 4034 §6.1, for names at or below a common
 * ancestor `skipLabels` labels long (the zone's origin: leaving it out keeps keys short and their first
 * code units telling). Labels go most significant first, each byte b as code unit b + 1 and a 0 after
 * each label, so a label sorts before the labels it is a prefix of. Binary searches compare these (one
 * string per chain entry) instead of label arrays.
 */
export function canonicalKey(name: string, skipLabels = 0): string {
  let n = 0;
  let plain = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) {
    // Printable ASCII without escapes (nearly every name): read the labels straight from the text.
    let end = name.endsWith('.') ? name.length - 1 : name.length;
    let skip = skipLabels;
    while (end > 0) {
      const dot = name.lastIndexOf('.', end - 1);
      if (skip > 0) skip--;
      else {
        for (let i = dot + 1; i < end; i++) {
          const c = name.charCodeAt(i);
          keyScratch[n++] = (c >= 0x41 && c <= 0x5a ? c + 0x20 : c) + 1;
        }
        keyScratch[n++] = 0;
      }
      end = dot;
    }
  } else {
    const labels = canonicalLabels(name);
    for (let l = skipLabels; l < labels.length; l++) {
      for (const b of labels[l]!) keyScratch[n++] = b + 1;
      keyScratch[n++] = 0;
    }
  }
  return String.fromCharCode.apply(null, keyScratch.subarray(0, n) as unknown as number[]);
}

/**
 * canonicalKey's code units for a lower-cased wire name (its labels start at wire[offs[i]]), written into
 * `out`; returns how many. For names already in wire form (a query's question): no text, no string.
 */
export function canonicalKeyUnits(wire: Uint8Array, offs: ArrayLike<number>, skipLabels: number, out: Uint16Array): number {
  let n = 0;
  for (let l = offs.length - 1 - skipLabels; l >= 0; l--) {
    const p = offs[l]!;
    const len = wire[p]!;
    for (let k = 1; k <= len; k++) out[n++] = wire[p + k]! + 1;
    out[n++] = 0;
  }
  return n;
}

/** Compares a canonicalKey string with key units (canonicalKeyUnits): negative, 0 or positive as `<`, `=`, `>`. */
export function compareKeyUnits(key: string, units: Uint16Array, n: number): number {
  const m = Math.min(key.length, n);
  for (let i = 0; i < m; i++) {
    const d = key.charCodeAt(i) - units[i]!;
    if (d !== 0) return d;
  }
  return key.length - n;
}

/**
 * The first six code units of a canonicalKey as a number (base 257, missing units 0): a smaller number
 * means an earlier key; equal numbers say nothing (compare the strings).
 */
export function canonicalKeyPrefix(key: string): number {
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 257 + (i < key.length ? key.charCodeAt(i) : 0);
  return v;
}
