// IPv4/IPv6 text <-> bytes without allocation-heavy helpers; IPv6 text is RFC 5952 canonical.

/** Parses a dotted quad into `out` at `at`; returns false unless it is exactly four decimal octets. */
export function parseIPv4Into(text: string, out: Uint8Array, at: number): boolean {
  const n = text.length;
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      // No empty octets, no leading zeros ("01" is octal to some parsers).
      if (digits === 0 || part > 3 || (digits > 1 && text.charCodeAt(i - digits) === 0x30)) return false;
      out[at + part++] = val;
      val = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      val = val * 10 + (c - 0x30);
      if (++digits > 3 || val > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

export function parseIPv4(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return parseIPv4Into(text, out, 0) ? out : undefined;
}

export function formatIPv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** Parses any RFC 4291 §2.2 text form (including "::" and a trailing dotted quad) into 16 bytes. */
export function parseIPv6Into(text: string, out: Uint8Array, at: number): boolean {
  const n = text.length;
  if (n < 2) return false;
  const groups = new Array<number>(8);
  let count = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      out.fill(0, at, at + 16);
      return true;
    }
  }
  while (i < n) {
    if (count === 8) return false;
    let val = 0;
    let digits = 0;
    const start = i;
    while (i < n) {
      const h = hexVal(text.charCodeAt(i));
      if (h < 0) break;
      val = (val << 4) | h;
      if (++digits > 4) return false;
      i++;
    }
    if (i < n && text.charCodeAt(i) === 0x2e) {
      // Embedded IPv4 (RFC 4291 §2.2 form 3) takes the last two groups.
      if (count > 6) return false;
      const v4 = new Uint8Array(4);
      if (!parseIPv4Into(text.slice(start), v4, 0)) return false;
      groups[count++] = (v4[0]! << 8) | v4[1]!;
      groups[count++] = (v4[2]! << 8) | v4[3]!;
      i = n;
      break;
    }
    if (digits === 0) return false;
    groups[count++] = val;
    if (i === n) break;
    if (text.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < n && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === n) {
      return false;
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  out.fill(0, at, at + 16);
  const tail = gap < 0 ? 0 : count - gap;
  for (let g = 0; g < count; g++) {
    const slot = gap >= 0 && g >= gap ? 8 - tail + (g - gap) : g;
    out[at + slot * 2] = groups[g]! >>> 8;
    out[at + slot * 2 + 1] = groups[g]! & 0xff;
  }
  return true;
}

export function parseIPv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  return parseIPv6Into(text, out, 0) ? out : undefined;
}

/**
 * RFC 5952 §4: lower-case hex without leading zeros, the longest run (first on ties) of two or
 * more zero groups as "::", and §5's mixed notation for IPv4-mapped addresses (::ffff:a.b.c.d).
 */
export function formatIPv6(b: Uint8Array, at = 0): string {
  let mapped = true;
  for (let i = 0; i < 10; i++) if (b[at + i] !== 0) { mapped = false; break; }
  if (mapped && b[at + 10] === 0xff && b[at + 11] === 0xff) return '::ffff:' + formatIPv4(b, at + 12);
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && b[at + g * 2] === 0 && b[at + g * 2 + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLen) {
        bestStart = runStart;
        bestLen = g - runStart;
      }
      runStart = -1;
    }
  }
  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += g === 0 ? '::' : ':';
      g += bestLen - 1;
      continue;
    }
    s += ((b[at + g * 2]! << 8) | b[at + g * 2 + 1]!).toString(16);
    if (g < 7) s += ':';
  }
  return s;
}
