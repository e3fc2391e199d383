// zoneFileText: valid UTF-8 as text, every other byte kept as U+DC00 + byte (and back to the byte in character-strings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zoneFileText } from './file-text.js';
import { decodeCharString } from '../wire/rrtype/text.js';

const esc = (...b: number[]): string => b.map((x) => String.fromCharCode(0xdc00 + x)).join('');

test('valid UTF-8 decodes as before; a BOM is kept (BIND, Knot and NSD refuse it, so does the lexer)', () => {
  assert.equal(zoneFileText(Buffer.from('a TXT "café €𝄞"\n')), 'a TXT "café €𝄞"\n');
  assert.equal(zoneFileText(Buffer.from('\ufeffx')), '\ufeffx');
  assert.equal(zoneFileText(Buffer.from('xxabcxx'), 2, 5), 'abc');
});

test('bytes that are not UTF-8 become U+DC80..U+DCFF, and character-strings get them back', () => {
  // Latin-1 é, a lone continuation byte, an overlong "/", a UTF-16 surrogate, a sequence cut at the end.
  assert.equal(zoneFileText(Uint8Array.from([0x63, 0xe9, 0x20, 0x80, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xc3, 0xa9, 0xe2, 0x82])), `c${esc(0xe9)} ${esc(0x80, 0xc0, 0xaf, 0xed, 0xa0, 0x80)}é${esc(0xe2, 0x82)}`);
  assert.deepEqual(decodeCharString(zoneFileText(Uint8Array.from([0x63, 0xe9, 0xc3, 0xa9, 0xff]))), Uint8Array.from([0x63, 0xe9, 0xc3, 0xa9, 0xff]));
});
