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

/** RFC 4034 §6.2 canonical wire form of a name: uncompressed, lower case (only A–Z are folded). */
export function canonicalNameWire(name: string): Uint8Array {
  const w = nameToWire(name);
  for (let i = 0; i < w.length; i++) {
    const c = w[i]!;
    // Length bytes are below 64, so only label bytes can be A–Z.
    if (c >= 0x41 && c <= 0x5a) w[i] = c + 0x20;
  }
  return w;
}
