// $GENERATE: templates and ranges as BIND's master.c reads them, and the parser's $GENERATE errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandTemplate, MAX_GENERATE_RECORDS, parseGenerateRange, parseTemplate, type Template } from './generate.js';
import { parseZone, ZoneError } from './parser.js';
import { formatRecord } from './format.js';

const O = 'example.com.';
const HEAD = '$TTL 300\n@ SOA ns host 1 2 3 4 5\n';

function tpl(s: string): Template {
  const t = parseTemplate(s);
  assert.ok(typeof t !== 'string', String(t));
  return t;
}
const exp = (s: string, it: number): string | null => expandTemplate(tpl(s), it);

test('templates: $, ${offset}, ${offset,width}, bases d o x X, $$ and \\$', () => {
  assert.equal(exp('host$', 7), 'host7');
  assert.equal(exp('h${10}', 7), 'h17');
  assert.equal(exp('h${-3}', 7), 'h4');
  assert.equal(exp('h${0,4}', 7), 'h0007');
  assert.equal(exp('${0,3,o}-${0,4,x}-${0,4,X}-${0,2,d}', 255), '377-00ff-00FF-255');
  assert.equal(exp('$$-\\$-$', 5), '$-\\$-5');
  assert.equal(exp('a$b$', 12), 'a12b12');
  // printf %0*d: the minus sign takes one place of the width.
  assert.equal(exp('${-10,4}', 5), '-005');
  // A plus sign, as BIND's sscanf reads it (named-compilezone: ptr${+1,+2,x} of 10 is ptr0b).
  assert.equal(exp('ptr${+1,+2,x}', 10), 'ptr0b');
  assert.equal(exp('${+1}', 1), '2');
});

test('nibble bases n and N as BIND writes them (width counts the dots)', () => {
  assert.equal(exp('${0,3,n}', 1024), '0.0.4');
  assert.equal(exp('${0,0,n}', 0xabc), 'c.b.a');
  assert.equal(exp('${0,0,N}', 0xabc), 'C.B.A');
  // An even width ends in a dot, exactly as BIND's nibbles() writes it.
  assert.equal(exp('${0,8,n}', 0x1f), 'f.1.0.0.');
  assert.equal(exp('${0,7,n}', 0x1f), 'f.1.0.0');
  // A negative value is read as unsigned, as BIND's unsigned int does.
  assert.equal(exp('${-2000,0,n}', 1024), '0.3.c.f.f.f.f.f');
});

test('bad modifiers are refused with what a modifier looks like', () => {
  assert.match(String(parseTemplate('1.2.3.${1,0,dgarbage}')), /\$GENERATE modifier \$\{offset\[,width\[,base\]\]\} with base d, o, x, X, n or N, not "\$\{1,0,dgarbage\}"/);
  assert.match(String(parseTemplate('x${1000')), /a "}" to close the "\$\{" modifier/);
  assert.match(String(parseTemplate('x${1,2,q}')), /not "\$\{1,2,q\}"/);
  assert.match(String(parseTemplate('x${}')), /not "\$\{\}"/);
});

test('ranges: start-stop[/step]; stop below start, step 0, garbage and too many records are errors', () => {
  assert.deepEqual(parseGenerateRange('1-10'), { start: 1, stop: 10, step: 1 });
  assert.deepEqual(parseGenerateRange('0-255/5'), { start: 0, stop: 255, step: 5 });
  assert.match(String(parseGenerateRange('10-1')), /stop is not below its start/);
  assert.match(String(parseGenerateRange('1-10/0')), /step of at least 1/);
  assert.match(String(parseGenerateRange('a-b')), /start-stop\[\/step\]/);
  assert.match(String(parseGenerateRange('-1-5')), /start-stop\[\/step\]/);
  assert.match(String(parseGenerateRange('0-4294967295')), /at most 2147483647/);
  assert.match(String(parseGenerateRange(`0-${MAX_GENERATE_RECORDS}`)), new RegExp(`at most ${MAX_GENERATE_RECORDS} records \\(this one makes ${MAX_GENERATE_RECORDS + 1}\\)`));
  assert.deepEqual(parseGenerateRange(`1-${MAX_GENERATE_RECORDS}`), { start: 1, stop: MAX_GENERATE_RECORDS, step: 1 });
  // BIND's generate-overflow.db: a step past INT_MAX makes one record, not a wrap-around.
  assert.deepEqual(parseGenerateRange('19-28/2147483645'), { start: 19, stop: 28, step: 2147483645 });
});

function lines(text: string): string[] {
  return parseZone(HEAD + text, { origin: O, file: 'g.zone' }).records.slice(1).map(formatRecord);
}

function errorOf(text: string): string {
  try {
    parseZone(HEAD + text, { origin: O, file: 'g.zone' });
  } catch (e) {
    assert.ok(e instanceof ZoneError, String(e));
    return e.message;
  }
  assert.fail('expected a ZoneError');
}

test('$GENERATE in a zone: owner and rdata templates, TTL and class in either order, quoted rhs', () => {
  assert.deepEqual(lines('$GENERATE 1-3/2 host$ A 198.51.100.$\n'), [
    'host1.example.com.\t300\tIN\tA\t198.51.100.1',
    'host3.example.com.\t300\tIN\tA\t198.51.100.3',
  ]);
  assert.deepEqual(lines('$GENERATE 10-11 ${0,3}.rev 60 IN PTR h$.example.net.\n'), [
    '010.rev.example.com.\t60\tIN\tPTR\th10.example.net.',
    '011.rev.example.com.\t60\tIN\tPTR\th11.example.net.',
  ]);
  assert.deepEqual(lines('$GENERATE 0-0 c$ IN 90 CNAME @\n'), ['c0.example.com.\t90\tIN\tCNAME\texample.com.']);
  assert.deepEqual(lines('$GENERATE 5-5 t$ TXT "v=$ \\$x$$"\n'), ['t5.example.com.\t300\tIN\tTXT\t"v=5" "$x$"']);
  // An explicit TTL is the "last TTL" for the records after it when there is no $TTL (BIND).
  const z = parseZone('@ 3600 SOA ns host 1 2 3 4 5\n$GENERATE 1-1 g$ 77 A 198.51.100.1\nnext A 198.51.100.2\n', { origin: O });
  assert.deepEqual(z.records.map((r) => r.ttl), [3600, 77, 77]);
});

test('$GENERATE owners outside the zone are ignored with a warning, as named does', () => {
  const z = parseZone(HEAD + '$GENERATE 1-2 h$.example.org. A 198.51.100.$\n', { origin: O, file: 'g.zone' });
  assert.equal(z.records.length, 1);
  assert.deepEqual(z.warnings.map((w) => `${w.line}: ${w.message}`), [
    '3: ignoring out-of-zone data h1.example.org. (outside example.com., from $GENERATE value 1)',
    '3: ignoring out-of-zone data h2.example.org. (outside example.com., from $GENERATE value 2)',
  ]);
});

test('$GENERATE errors: bad range, bad modifier, range too large, unknown or meta type, bad rdata, extra token', () => {
  assert.equal(errorOf('$GENERATE 9-1 h$ A 198.51.100.$\n'), 'g.zone:3:11: expected a $GENERATE range whose stop is not below its start, found "9-1"');
  assert.equal(errorOf('$GENERATE 1-x h$ A 198.51.100.$\n'), 'g.zone:3:11: expected a $GENERATE range start-stop[/step] (decimal numbers), found "1-x"');
  assert.equal(errorOf('$GENERATE 1-2 h${1,2,z} A 198.51.100.$\n'), 'g.zone:3:15: expected a $GENERATE modifier ${offset[,width[,base]]} with base d, o, x, X, n or N, not "${1,2,z}", found "h${1,2,z}"');
  assert.equal(errorOf('$GENERATE 0-99999999 h$ A 198.51.100.1\n'), `g.zone:3:11: expected a $GENERATE range of at most ${MAX_GENERATE_RECORDS} records (this one makes 100000000), found "0-99999999"`);
  assert.equal(errorOf('$GENERATE 1-2 h$ AAA ::$\n'), 'g.zone:3:18: unsupported record type "AAA"; did you mean AAAA?');
  assert.equal(errorOf('$GENERATE 1-2 h$ TKEY x\n'), 'g.zone:3:18: expected a data type (TKEY is a meta type, not zone data), found "TKEY"');
  assert.equal(errorOf('$GENERATE 250-256 h$ A 198.51.100.$\n'), 'g.zone:3:24: expected an IPv4 address (dotted quad, no leading zeros), found "198.51.100.256" (in $GENERATE value 256: "198.51.100.256")');
  assert.equal(errorOf('$GENERATE 1-2 h$ TXT a b\n'), 'g.zone:3:24: expected end of line after the $GENERATE rdata template (quote it if it has blanks), found "b"');
  assert.equal(errorOf('$GENERATE 1-2 h$ A\n'), 'g.zone:3:19: expected an rdata template after the $GENERATE type A, found end of line');
  assert.equal(errorOf('$GENERATE 1-1 h$ A 1.2.3.${2147483647}\n'), 'g.zone:3:20: expected a $GENERATE value of at most 2147483647 (offset + 1 overflows), found "1.2.3.${2147483647}"');
});
