import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameKey, namesEqual } from './name.js';

test('namesEqual: equal exactly when nameKey is, ASCII letters folded, nothing else', () => {
  const pairs: [string, string][] = [
    ['www.Example.COM.', 'WWW.example.com.'],
    ['a.example.', 'b.example.'],
    ['a.example.', 'a.example.'],
    ['ab.example.', 'a.example.'],
    // Characters that differ only in bit 0x20 but are not letters: '@' and '`', '[' and '{', '^' and '~'.
    ['@.example.', '`.example.'],
    ['[.example.', '{.example.'],
    ['^.example.', '~.example.'],
    ['\\064.example.', '\\096.example.'],
    // Above ASCII: as toLowerCase compares them.
    ['\u00c9.example.', '\u00e9.example.'],
    ['\u00e9.example.', '\u00e8.example.'],
    ['0gp3utnmsh8g6ceur0cjbi2h4lbnhfm6.bench.lab.', '0GP3UTNMSH8G6CEUR0CJBI2H4LBNHFM6.bench.lab.'],
    ['0gp3utnmsh8g6ceur0cjbi2h4lbnhfm6.bench.lab.', '0gp3utnmsh8g6ceur0cjbi2h4lbnhfm7.bench.lab.'],
  ];
  const expected = [true, false, true, false, false, false, false, false, true, false, true, false];
  pairs.forEach(([a, b], i) => {
    assert.equal(namesEqual(a, b), nameKey(a) === nameKey(b), `${a} ${b}`);
    assert.equal(namesEqual(b, a), expected[i], `${b} ${a}`);
  });
});
