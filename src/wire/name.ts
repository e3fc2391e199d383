// Domain names in presentation format: the one representation every module passes around.
//
// A name is an absolute string ending in "." (the root is "."). It is canonical when every label byte
// outside the printable ASCII range is written \DDD and the characters that have a meaning in master
// files (. \ " ( ) ; @ $ and space) are written \X; nothing else is escaped. Case is preserved, so
// `nameKey` (ASCII lower case) is the comparison key: escapes never contain letters, so lower-casing
// the text lower-cases exactly the label bytes (RFC 4343).

export const MAX_LABEL = 63;
export const MAX_NAME_WIRE = 255;

export class NameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NameError';
  }
}

const SPECIAL = new Set([0x2e, 0x5c, 0x22, 0x28, 0x29, 0x3b, 0x40, 0x24, 0x20]);

/** One label's bytes in canonical presentation form. */
export function labelToText(label: Uint8Array): string {
  let s = '';
  for (let i = 0; i < label.length; i++) {
    const b = label[i]!;
    if (b <= 0x20 || b >= 0x7f) s += '\\' + String(b).padStart(3, '0');
    else if (SPECIAL.has(b)) s += '\\' + String.fromCharCode(b);
    else s += String.fromCharCode(b);
  }
  return s;
}

/** Canonical text for a list of labels (the root label is implied, never listed). */
export function nameFromLabels(labels: readonly Uint8Array[]): string {
  if (labels.length === 0) return '.';
  let s = '';
  for (const l of labels) s += labelToText(l) + '.';
  return s;
}

/**
 * Parses presentation text into label bytes. `text` is absolute when it ends in an unescaped dot;
 * a relative name gets `origin`'s labels appended, and without an origin it is an error.
 */
export function parseLabels(text: string, origin?: readonly Uint8Array[]): Uint8Array[] {
  if (text === '.') return [];
  if (text.length === 0) throw new NameError('empty name');
  const labels: Uint8Array[] = [];
  let cur: number[] = [];
  let absolute = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (cur.length === 0) throw new NameError(`empty label in "${text}"`);
      labels.push(Uint8Array.from(cur));
      cur = [];
      if (i === text.length - 1) absolute = true;
      continue;
    }
    if (c === 0x5c) {
      const d = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(d)) {
        const v = Number(d);
        if (v > 255) throw new NameError(`escape \\${d} is above 255 in "${text}"`);
        cur.push(v);
        i += 3;
      } else if (i + 1 < text.length) {
        const n = text.charCodeAt(i + 1);
        if (n >= 0x30 && n <= 0x39) throw new NameError(`escape \\DDD needs three digits in "${text}"`);
        if (n > 0xff) throw new NameError(`character outside Latin-1 in "${text}"`);
        cur.push(n);
        i += 1;
      } else {
        throw new NameError(`name ends in a lone backslash: "${text}"`);
      }
    } else {
      if (c > 0x7e || c < 0x21) throw new NameError(`character ${JSON.stringify(text[i])} must be escaped in "${text}"`);
      cur.push(c);
    }
    if (cur.length > MAX_LABEL) throw new NameError(`label longer than ${MAX_LABEL} bytes in "${text}"`);
  }
  if (cur.length > 0) labels.push(Uint8Array.from(cur));
  if (!absolute) {
    if (!origin) throw new NameError(`relative name "${text}" without an origin`);
    labels.push(...origin);
  }
  let wire = 1;
  for (const l of labels) wire += l.length + 1;
  if (wire > MAX_NAME_WIRE) throw new NameError(`name longer than ${MAX_NAME_WIRE} bytes in wire form: "${text}"`);
  return labels;
}

/** Canonicalizes a presentation name (relative names need an origin). Throws NameError. */
export function parseName(text: string, origin?: string): string {
  return nameFromLabels(parseLabels(text, origin === undefined ? undefined : parseLabels(origin)));
}

/** The comparison key of a canonical name: ASCII lower case. */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

/**
 * `name` with its ASCII capitals lower-cased (RFC 4343: the only letters whose case DNS ignores; an escape,
 * \\DDD or \\., holds none): for names an answer synthesizes from the question's, so that they compress
 * into the question whatever its case and an answer's bytes do not depend on it (the answer cache keeps one
 * answer for every case of a question and patches only the question's bytes).
 */
export function lowerAscii(name: string): string {
  return /[A-Z]/.test(name) ? name.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : name;
}

/**
 * Names equal as nameKey compares them. Compared character by character, nothing allocated: callers ask it
 * for names of one length that differ early (consecutive NSEC3 owners, hashed labels of one length, where
 * two toLowerCase copies per pair were 6 % of a signed NSEC3 NXDOMAIN's CPU). A difference in a character
 * above ASCII takes toLowerCase, so the result is always nameKey(a) === nameKey(b).
 */
export function namesEqual(a: string, b: string): boolean {
  if (a === b) return true;
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0x80 || cb >= 0x80) return a.toLowerCase() === b.toLowerCase();
    const la = ca | 0x20;
    if (la !== (cb | 0x20) || la < 0x61 || la > 0x7a) return false;
  }
  return true;
}

/** Splits a canonical name into presentation labels (escapes kept). The root has none. */
export function splitLabels(name: string): string[] {
  if (name === '.') return [];
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) {
      i += /[0-9]/.test(name[i + 1] ?? '') ? 3 : 1;
    } else if (c === 0x2e) {
      out.push(name.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

export function labelCount(name: string): number {
  return splitLabels(name).length;
}

/** The name with its first label removed; the root's parent is the root. */
export function parentName(name: string): string {
  if (name === '.') return '.';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) i += /[0-9]/.test(name[i + 1] ?? '') ? 3 : 1;
    else if (c === 0x2e) return i === name.length - 1 ? '.' : name.slice(i + 1);
  }
  return '.';
}

/** True when `name` is `zone` or below it (case-insensitive). */
export function isSubdomain(name: string, zone: string): boolean {
  if (zone === '.') return true;
  const n = name.toLowerCase();
  const z = zone.toLowerCase();
  if (n === z) return true;
  if (n.length <= z.length || !n.endsWith(z)) return false;
  const p = n.length - z.length - 1;
  if (n.charCodeAt(p) !== 0x2e) return false;
  // The dot before the zone must not be escaped: count the backslashes in front of it. A \DDD
  // escape ends in a digit, so only literal backslash runs matter here.
  let backslashes = 0;
  for (let i = p - 1; i >= 0 && n.charCodeAt(i) === 0x5c; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** `name` with the trailing `zone` labels removed, or "@" for the apex (for display). */
export function relativeName(name: string, zone: string): string {
  if (namesEqual(name, zone)) return '@';
  if (zone === '.') return name.slice(0, -1);
  return name.slice(0, name.length - zone.length - 1);
}

/** Uncompressed wire form. */
export function nameToWire(name: string): Uint8Array {
  const labels = parseLabels(name);
  let len = 1;
  for (const l of labels) len += l.length + 1;
  const out = new Uint8Array(len);
  let o = 0;
  for (const l of labels) {
    out[o++] = l.length;
    out.set(l, o);
    o += l.length;
  }
  out[o] = 0;
  return out;
}

/** Wire length of a canonical name without compression. */
export function nameWireLength(name: string): number {
  let len = 1;
  for (const l of parseLabels(name)) len += l.length + 1;
  return len;
}
