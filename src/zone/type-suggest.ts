// The error for a record type the parser does not know, with a near-miss suggestion ("did you mean NAPTR?").
import { META_TYPES, typeCode } from '../wire/types.js';
import { typeMnemonics } from '../wire/rrtype/mnemonic.js';
import { ZoneError, type Token } from './lexer.js';

let known: string[] | undefined;
/** Every data type mnemonic (IANA's list, rrtype/mnemonic.ts), meta and query types left out (RFC 6895 §3.1). */
function knownTypes(): string[] {
  known ??= [...typeMnemonics()].filter((n) => {
    const code = typeCode(n);
    return code !== undefined && !META_TYPES.has(code) && (code < 128 || code > 255);
  });
  return known;
}

/** Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known type closest to `word` (one edit for short words, two for longer ones), if any. */
export function suggestType(word: string): string | undefined {
  const up = word.toUpperCase();
  const limit = up.length <= 3 ? 1 : 2;
  let best: string | undefined;
  let bestD = limit + 1;
  for (const n of knownTypes()) {
    if (Math.abs(n.length - up.length) > limit) continue;
    const dist = editDistance(up, n);
    if (dist < bestD) {
      best = n;
      bestD = dist;
    }
  }
  return best;
}

/**
 * The error for a token where a type was due: a word that looks like a mnemonic is named as an
 * unsupported type (with a suggestion); anything else gets the usual "expected …, found …".
 */
export function unsupportedType(file: string, t: Token, expected: string): ZoneError {
  const found = t.quoted ? `quoted string ${JSON.stringify(t.text)}` : JSON.stringify(t.text);
  if (t.quoted || !/^[A-Za-z][A-Za-z0-9-]{0,31}$/.test(t.text)) return new ZoneError(file, t.line, t.col, expected, found);
  if (/^TYPE\d+$/i.test(t.text)) return new ZoneError(file, t.line, t.col, `${expected} (TYPEnnn of at most TYPE65535, RFC 3597 §5)`, found);
  const hint = suggestType(t.text);
  return new ZoneError(file, t.line, t.col, expected, found, `unsupported record type ${found}${hint ? `; did you mean ${hint}?` : ''}`);
}
