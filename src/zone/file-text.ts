// A zone file's bytes as the text the lexer reads: UTF-8, and every byte that is not part of valid UTF-8 kept.
//
// Master files are bytes (RFC 1035 §5.1): BIND and NSD load a character-string written in Latin-1
// (`TXT "caf\xe9"`) as those bytes. Decoded as UTF-8 such a byte would become U+FFFD (three other bytes on
// the wire); here it becomes the lone surrogate U+DC80..U+DCFF (Python's "surrogateescape"), which no valid
// UTF-8 decodes to, and decodeCharString (wire/rrtype/text.ts) turns back into the byte.

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of `bytes[start, end)`: valid UTF-8 decoded, any other byte B as U+DC00 + B. */
export function zoneFileText(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const part = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  try {
    return strict.decode(part);
  } catch {
    return escapeInvalid(part);
  }
}

/** The slow path, for a file that is not UTF-8 throughout. */
function escapeInvalid(b: Uint8Array): string {
  const out: string[] = [];
  let run = 0;
  let i = 0;
  const flush = (to: number): void => {
    if (to > run) out.push(strict.decode(b.subarray(run, to)));
  };
  while (i < b.length) {
    const n = validSequence(b, i);
    if (n > 0) {
      i += n;
      continue;
    }
    flush(i);
    out.push(String.fromCharCode(0xdc00 + b[i]!));
    i++;
    run = i;
  }
  flush(b.length);
  return out.join('');
}

/** The length of the valid UTF-8 sequence at `i` (RFC 3629 §4: no overlong forms, no surrogates, at most U+10FFFF), or 0. */
function validSequence(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
