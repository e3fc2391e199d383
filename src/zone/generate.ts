// BIND's $GENERATE (BIND 9 ARM "The $GENERATE Directive"; lib/dns/master.c genname/nibbles): ranges and name templates.

/** A $GENERATE range: start-stop[/step], all non-negative, stop >= start, step >= 1. */
export interface GenerateRange {
  start: number;
  stop: number;
  step: number;
}

/** At most this many records from one $GENERATE line: a typo like 0-4294967295 must not fill memory. */
export const MAX_GENERATE_RECORDS = 1 << 20;

/** BIND keeps the iterator in a C int. */
const INT_MAX = 0x7fffffff;

/** Parses `start-stop[/step]`; returns a message (what was expected) instead when the text is not one. */
export function parseGenerateRange(text: string): GenerateRange | string {
  const m = /^(\d+)-(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) return 'a $GENERATE range start-stop[/step] (decimal numbers)';
  const start = Number(m[1]);
  const stop = Number(m[2]);
  const step = m[3] === undefined ? 1 : Number(m[3]);
  if (start > INT_MAX || stop > INT_MAX || step > INT_MAX) return `a $GENERATE range with numbers of at most ${INT_MAX}`;
  if (stop < start) return 'a $GENERATE range whose stop is not below its start';
  if (step < 1) return 'a $GENERATE step of at least 1';
  const count = Math.floor((stop - start) / step) + 1;
  if (count > MAX_GENERATE_RECORDS) return `a $GENERATE range of at most ${MAX_GENERATE_RECORDS} records (this one makes ${count})`;
  return { start, stop, step };
}

/** One piece of a template: literal text, or the iterator formatted as `${offset,width,base}` says. */
type Part = string | { offset: number; width: number; base: string };

/** A parsed lhs or rhs template; `expand` fills in one iterator value. */
export interface Template {
  parts: Part[];
}

/**
 * Parses a template: `$` is the iterator, `${offset[,width[,base]]}` with base d, o, x, X, n or N,
 * `$$` a literal `$`; `\X` is copied as is (two characters, so `\$` stays an escaped `$` for the
 * name or rdata parser after it, as BIND does). Returns an error text instead for a bad modifier.
 */
export function parseTemplate(text: string): Template | string {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      lit += text.slice(i, i + 2);
      i++;
      continue;
    }
    if (ch !== '$') {
      lit += ch;
      continue;
    }
    if (text[i + 1] === '$') {
      lit += '$';
      i++;
      continue;
    }
    if (lit) parts.push(lit);
    lit = '';
    if (text[i + 1] !== '{') {
      parts.push({ offset: 0, width: 0, base: 'd' });
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close < 0) return `a "}" to close the "\${" modifier at offset ${i + 1}`;
    const body = text.slice(i + 2, close);
    // BIND reads the numbers with sscanf's %d and %u, which take a sign: ${+1} and ${0,+3} load there too.
    const m = /^([+-]?\d+)(?:,\+?(\d+)(?:,([doxXnN]))?)?$/.exec(body);
    if (!m) return `a $GENERATE modifier \${offset[,width[,base]]} with base d, o, x, X, n or N, not "\${${body}}"`;
    const offset = Number(m[1]);
    const width = m[2] === undefined ? 0 : Number(m[2]);
    if (Math.abs(offset) > INT_MAX || width > 255) return `a $GENERATE modifier with |offset| at most ${INT_MAX} and width at most 255, not "\${${body}}"`;
    parts.push({ offset, width, base: m[3] ?? 'd' });
    i = close;
  }
  if (lit) parts.push(lit);
  return { parts };
}

/**
 * BIND's nibble form: the value's hex digits from least to most significant, separated by dots,
 * padded with zero nibbles until `width` characters (dots included) are written.
 */
function nibbles(value: number, width: number, upper: boolean): string {
  const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  let out = '';
  let v = value >>> 0;
  let w = width;
  do {
    out += digits[v & 0x0f];
    v >>>= 4;
    if (w > 0) w--;
    if (w > 0 || v !== 0) {
      out += '.';
      if (w > 0) w--;
    }
  } while (v !== 0 || w > 0);
  return out;
}

function formatValue(value: number, width: number, base: string): string {
  if (base === 'n' || base === 'N') return nibbles(value, width, base === 'N');
  // printf's %o/%x read a negative int as unsigned.
  const v = value < 0 && base !== 'd' ? value >>> 0 : value;
  const neg = v < 0;
  let s = Math.abs(v).toString(base === 'o' ? 8 : base === 'd' ? 10 : 16);
  if (base === 'X') s = s.toUpperCase();
  // printf("%0*d"): the sign counts toward the width.
  const pad = width - s.length - (neg ? 1 : 0);
  if (pad > 0) s = '0'.repeat(pad) + s;
  return neg ? '-' + s : s;
}

/** The template's text for iterator value `it`; null when offset + it leaves BIND's int range. */
export function expandTemplate(t: Template, it: number): string | null {
  let s = '';
  for (const p of t.parts) {
    if (typeof p === 'string') s += p;
    else {
      const v = it + p.offset;
      if (v > INT_MAX) return null;
      s += formatValue(v, p.width, p.base);
    }
  }
  return s;
}
