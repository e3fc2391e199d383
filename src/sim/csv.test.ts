// Connection-log reader: header, time forms, line endings, and errors naming the line and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogError, parseLog, parseTime, type Connection } from './csv.js';

async function read(text: string, chunk = 7): Promise<Connection[]> {
  async function* chunks() {
    for (let i = 0; i < text.length; i += chunk) yield text.slice(i, i + chunk);
  }
  const out: Connection[] = [];
  for await (const c of parseLog(chunks(), 'log.csv')) out.push(c);
  return out;
}

async function error(text: string): Promise<LogError> {
  try {
    await read(text);
  } catch (e) {
    assert.ok(e instanceof LogError, String(e));
    return e;
  }
  assert.fail('expected a LogError');
}

test('time: decimal seconds or ISO 8601 with a zone', () => {
  assert.equal(parseTime('12.5'), 12.5);
  assert.equal(parseTime('1309435200'), 1309435200);
  assert.equal(parseTime('2011-06-30T12:00:00Z'), 1309435200);
  assert.equal(parseTime('2011-06-30T14:00:00.250+02:00'), 1309435200.25);
  assert.equal(parseTime('2011-06-30T12:00:00'), undefined); // no zone: ambiguous
  assert.equal(parseTime('-1'), undefined);
  assert.equal(parseTime('1e3'), undefined);
  assert.equal(parseTime('2011-13-45T12:00:00Z'), undefined);
});

test('reads lines split across chunks, CRLF, blank lines; keeps line numbers', async () => {
  const got = await read('time,client,resolver,server\r\n0.5,198.51.100.1,203.0.113.53,srv1\r\n\r\n2011-06-30T12:00:00Z,2001:db8::1,r2,srv2');
  assert.deepEqual(got, [
    { time: 0.5, client: '198.51.100.1', resolver: '203.0.113.53', server: 'srv1', line: 2 },
    { time: 1309435200, client: '2001:db8::1', resolver: 'r2', server: 'srv2', line: 4 },
  ]);
});

test('bad lines are reported with file, line number and field', async () => {
  const h = 'time,client,resolver,server\n';
  assert.equal((await error('t,c,r,s\n1,198.51.100.1,r,s\n')).message, 'log.csv:1: header: expected "time,client,resolver,server", found "t,c,r,s"');
  assert.match((await error('')).message, /^log\.csv:1: header: .*empty file/);
  const e = await error(`${h}1,198.51.100.1,r,s\nsoon,198.51.100.1,r,s\n`);
  assert.equal(e.line, 3);
  assert.equal(e.field, 'time');
  assert.match(e.message, /^log\.csv:3: time: expected seconds .* found "soon"/);
  assert.match((await error(`${h}1,not-an-ip,r,s\n`)).message, /^log\.csv:2: client: expected an IPv4 or IPv6 address, found "not-an-ip"/);
  assert.match((await error(`${h}1,198.51.100.1,,s\n`)).message, /^log\.csv:2: resolver: /);
  assert.match((await error(`${h}1,198.51.100.1,r,\n`)).message, /^log\.csv:2: server: /);
  assert.match((await error(`${h}1,198.51.100.1,r\n`)).message, /^log\.csv:2: line: expected 4 fields .* found 3/);
  assert.match((await error(`${h}5,198.51.100.1,r,s\n4.9,198.51.100.1,r,s\n`)).message, /^log\.csv:3: time: expected a time at or after the previous line's \(5\), found 4\.9: sort the log by time/);
});
