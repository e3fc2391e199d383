// Splits master-file text (RFC 1035 §5.1) into entries: the tokens of one logical line each.

/** Every master-file problem is reported as one of these, located at the offending token. */
export class ZoneError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly expected: string,
    readonly found: string,
    /** Replaces the "expected …, found …" text when a sentence says it better (an unsupported type). */
    detail?: string,
  ) {
    super(`${file}:${line}:${column}: ${detail ?? `expected ${expected}, found ${found}`}`);
    this.name = 'ZoneError';
  }
}

/**
 * Every error of one parse (the parser goes on at the next line after each). It is the first error
 * as a ZoneError (file, line, column), and its message lists them all, one a line.
 */
export class ZoneErrors extends ZoneError {
  constructor(readonly errors: ZoneError[], readonly truncated: boolean) {
    const first = errors[0]!;
    super(first.file, first.line, first.column, first.expected, first.found);
    this.message = errors.map((e) => e.message).join('\n') + (truncated ? `\n${first.file}: too many errors; stopped after ${errors.length}` : '');
  }
}

export interface Token {
  /** Raw text: escapes are kept, quotes of a quoted string are not. */
  text: string;
  quoted: boolean;
  line: number;
  /** 1-based. */
  col: number;
}

/** One logical line: parentheses join physical lines (RFC 1035 §5.1). */
export interface Entry {
  tokens: Token[];
  /** The line began with blank space, so the owner is the previous one (RFC 1035 §5.1). */
  indented: boolean;
  line: number;
  /** Where the entry ended (its newline or the end of the text), for "found end of line". */
  endLine: number;
  endCol: number;
  atEof: boolean;
}

const SP = 0x20, TAB = 0x09, CR = 0x0d, LF = 0x0a, SEMI = 0x3b, QUOTE = 0x22, BSL = 0x5c, LPAR = 0x28, RPAR = 0x29;

/**
 * For word(): 1 for the ASCII characters that end a word (blank space, line end, ";", "(", ")", '"'),
 * 2 for "\\", 0 for the rest. One load a character instead of eight comparisons: the word loop runs
 * for every character of a zone (~30 M for a million records).
 */
const WORD_STOP = new Uint8Array(128);
for (const c of [SP, TAB, CR, LF, SEMI, LPAR, RPAR, QUOTE]) WORD_STOP[c] = 1;
WORD_STOP[BSL] = 2;

/** Renders a token for the "found ..." part of an error. */
export function describeToken(t: Token): string {
  return t.quoted ? `quoted string ${JSON.stringify(t.text)}` : JSON.stringify(t.text);
}

/**
 * The entry and token objects are the lexer's own, reused entry after entry: next()'s result is valid
 * until the following call (a million-record zone would otherwise make some five million objects).
 * Copy a token to keep it.
 */
export class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  /** Token objects, reused: entry.tokens holds the first `count` of them. */
  private readonly pool: Token[] = [];
  /** byCount[n]: the pool's first n tokens (entry.tokens of an entry of n tokens). */
  private readonly byCount: Token[][] = [];
  private readonly entry: Entry = { tokens: [], indented: false, line: 0, endLine: 0, endCol: 0, atEof: false };

  /**
   * `more`, when given, hands out the text after `src` piece by piece (undefined at the end), so a
   * large file is never one string: each piece should end at a line end (a token is never split;
   * an entry in parentheses may span pieces). Lines and columns count on across pieces.
   */
  constructor(
    private src: string,
    readonly file: string,
    private readonly more?: () => string | undefined,
  ) {}

  /** At the end of `src`: the next piece of the text, if any (positions carry on). */
  private refill(): boolean {
    const next = this.more?.();
    if (next === undefined) return false;
    this.lineStart -= this.src.length;
    this.pos = 0;
    this.src = next;
    return true;
  }

  private err(line: number, col: number, expected: string, found: string): ZoneError {
    return new ZoneError(this.file, line, col, expected, found);
  }

  /** After an error: goes on at the start of the next physical line (an open "(" is forgotten). */
  skipLine(): void {
    const p = this.src.indexOf('\n', this.pos);
    if (p < 0) {
      this.pos = this.src.length;
      return;
    }
    this.pos = p + 1;
    this.line++;
    this.lineStart = this.pos;
  }

  /** The next entry with at least one token, or null at the end of the text. */
  next(): Entry | null {
    let s = this.src;
    let n = s.length;
    for (;;) {
      if (this.pos >= n) {
        if (!this.refill()) return null;
        s = this.src;
        n = s.length;
        continue;
      }
      const entryLine = this.line;
      const first = s.charCodeAt(this.pos);
      const indented = first === SP || first === TAB;
      let count = 0;
      let parenLine = 0, parenCol = 0;
      let depth = 0;
      let endLine = this.line, endCol = 1, atEof = false;
      for (;;) {
        if (this.pos >= n) {
          if (this.refill()) {
            s = this.src;
            n = s.length;
            continue;
          }
          if (depth > 0) {
            throw this.err(this.line, this.pos - this.lineStart + 1, `")" to close the "(" at line ${parenLine} column ${parenCol}`, 'end of file');
          }
          endLine = this.line;
          endCol = this.pos - this.lineStart + 1;
          atEof = true;
          break;
        }
        const c = s.charCodeAt(this.pos);
        if (c === SP || c === TAB || c === CR) {
          this.pos++;
        } else if (c === LF) {
          if (depth === 0) {
            endLine = this.line;
            endCol = this.pos - this.lineStart + 1;
            this.pos++;
            this.line++;
            this.lineStart = this.pos;
            break;
          }
          this.pos++;
          this.line++;
          this.lineStart = this.pos;
        } else if (c === SEMI) {
          // A comment runs to the end of the physical line, even inside parentheses.
          let p = s.indexOf('\n', this.pos);
          if (p < 0) p = n;
          this.pos = p;
        } else if (c === LPAR) {
          if (depth > 0) throw this.err(this.line, this.pos - this.lineStart + 1, 'no nested "("', '"("');
          depth = 1;
          parenLine = this.line;
          parenCol = this.pos - this.lineStart + 1;
          this.pos++;
        } else if (c === RPAR) {
          if (depth === 0) throw this.err(this.line, this.pos - this.lineStart + 1, 'a "(" before this', '")"');
          depth = 0;
          this.pos++;
        } else if (c === QUOTE) {
          this.quoted(count);
          count++;
        } else {
          this.word(count);
          count++;
        }
      }
      if (count > 0) {
        const e = this.entry;
        // The pool's first `count` tokens, as one array per count made once (the pool's objects
        // never change): setting an array's length per entry was a runtime call a record.
        let tokens = this.byCount[count];
        if (tokens === undefined) tokens = this.byCount[count] = this.pool.slice(0, count);
        e.tokens = tokens;
        e.indented = indented;
        e.line = entryLine;
        e.endLine = endLine;
        e.endCol = endCol;
        e.atEof = atEof;
        return e;
      }
    }
  }

  /** Pool slot `i` set to one token. */
  private token(i: number, text: string, quoted: boolean, line: number, col: number): Token {
    const t = this.pool[i];
    if (t === undefined) return (this.pool[i] = { text, quoted, line, col });
    t.text = text;
    t.quoted = quoted;
    t.line = line;
    t.col = col;
    return t;
  }

  private quoted(slot: number): Token {
    const s = this.src;
    const line = this.line;
    const col = this.pos - this.lineStart + 1;
    const start = ++this.pos;
    for (;;) {
      if (this.pos >= s.length) throw this.err(this.line, this.pos - this.lineStart + 1, 'a closing \'"\'', 'end of file');
      const c = s.charCodeAt(this.pos);
      if (c === QUOTE) break;
      if (c === LF) throw this.err(this.line, this.pos - this.lineStart + 1, 'a closing \'"\'', 'end of line');
      if (c === BSL) {
        const d = s.charCodeAt(this.pos + 1);
        if (this.pos + 1 >= s.length || d === LF) {
          throw this.err(this.line, this.pos - this.lineStart + 1, 'a character after "\\"', this.pos + 1 >= s.length ? 'end of file' : 'end of line');
        }
        this.pos += 2;
      } else {
        this.pos++;
      }
    }
    const text = s.slice(start, this.pos);
    this.pos++;
    return this.token(slot, text, true, line, col);
  }

  private word(slot: number): Token {
    const s = this.src;
    const n = s.length;
    const col = this.pos - this.lineStart + 1;
    const start = this.pos;
    // The position in a local, stored once at the end (and before an error, which reads it).
    let p = start;
    while (p < n) {
      const c = s.charCodeAt(p);
      const k = c < 128 ? WORD_STOP[c]! : 0;
      if (k === 0) {
        p++;
        continue;
      }
      if (k === 1) break;
      const d = s.charCodeAt(p + 1);
      if (p + 1 >= n || d === LF || d === CR) {
        this.pos = p;
        throw this.err(this.line, p - this.lineStart + 1, 'a character after "\\"', p + 1 >= n ? 'end of file' : 'end of line');
      }
      p += 2;
    }
    this.pos = p;
    return this.token(slot, s.slice(start, p), false, this.line, col);
  }
}
