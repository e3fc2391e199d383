// The primary role at start with a journal (README "The journal"): a file the server last knew continues
// from its base; a file edited while the server was stopped is told apart by its hash and, with a raised
// serial, wins — its difference from the journal's last version is journaled, so IXFR still works; an edit
// at a journal point's serial is warned about (file and serial) and handled as BIND does.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { compileZoneFile } from '../zone/load.js';
import { Zone, ZoneSet } from '../zone/tree.js';
import { RRClass, RRType, type ResourceRecord } from '../wire/types.js';
import { applyDiff, withSerial } from './diff.js';
import { Primary } from './primary.js';
import { basePath } from './journal-base.js';
import type { ZoneDiff } from './unit.js';

const ZONE = 'jb.lab.';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Line {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function setup(): { dir: string; file: string; config: Config; lines: Line[]; primary: () => Primary } {
  const dir = mkdtempSync(join(tmpdir(), 'fluxdns-jbase-'));
  dirs.push(dir);
  const file = join(dir, 'jb.zone');
  const { config } = parseConfigText(`zones:\n  - { name: ${ZONE}, file: jb.zone, allowTransfer: ["127.0.0.0/8"], allowUpdate: ["127.0.0.0/8"] }\n`, join(dir, 'fluxdns.yaml'));
  const lines: Line[] = [];
  const log = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  const primary = () => new Primary({ logger: { info: log('info'), warn: log('warn'), error: log('error') }, writer: true });
  return { dir, file, config, lines, primary };
}

const zoneFile = (serial: number, body: string, comment = '') => `${comment}$ORIGIN ${ZONE}\n$TTL 300\n@ SOA ns hostmaster ${serial} 3600 600 86400 60\n  NS ns\nns A 198.51.100.1\n${body}`;

/** The file as the server loads it at start: compiled, with the hash of its bytes. */
function load(file: string): ZoneSet {
  const r = compileZoneFile(ZONE, file);
  assert.ok(r.ok, JSON.stringify(r));
  const z = Zone.fromBuffers(r.buffers);
  z.fileHash = r.fileHash;
  return new ZoneSet([z]);
}

const a = (name: string, addr: string): ResourceRecord => ({ name: `${name}.${ZONE}`, type: RRType.A, class: RRClass.IN, ttl: 60, data: { address: addr } });

/** An UPDATE's commit as src/update makes it: the next version, journaled before it is served. */
function update(p: Primary, zones: ZoneSet, config: Config, add: ResourceRecord[], remove: ResourceRecord[] = []): ZoneSet {
  const old = zones.zones[0]!;
  const diff: ZoneDiff = { from: old.soa, to: withSerial(old.soa, old.serial + 1), removed: remove, added: add };
  const next = applyDiff(old, diff);
  p.commitUpdate(old, next, diff, config);
  return new ZoneSet([next]);
}

function addresses(zones: ZoneSet, name: string): string[] {
  const node = zones.zones[0]!.get(`${name}.${ZONE}`.toLowerCase());
  return (node?.rrsets.get(RRType.A)?.records ?? []).map((r) => (r.data as { address: string }).address).sort();
}

const msgs = (lines: Line[], level?: string) => lines.filter((l) => !level || l.level === level).map((l) => l.msg);

describe('journal after an offline edit', () => {
  test('a crash with updates, then an edit with a raised serial: the file wins and its difference is journaled for IXFR', () => {
    const { file, config, lines, primary } = setup();
    writeFileSync(file, zoneFile(1, 'w A 198.51.100.5\n'));
    const p1 = primary();
    let zones = p1.start(load(file), config);
    zones = update(p1, zones, config, [a('x', '198.51.100.7')]);
    zones = update(p1, zones, config, [a('y', '198.51.100.8')]);
    assert.ok(existsSync(basePath(`${file}.jnl`)), 'the first update copied the file to the base');
    // kill -9: no flush. The operator edits the file: drops w, adds z, raises the serial past the journal's 3.
    writeFileSync(file, zoneFile(5, 'z A 198.51.100.9\n'));
    const p2 = primary();
    const served = p2.start(load(file), config);
    const z = served.zones[0]!;
    assert.equal(z.serial, 5);
    assert.deepEqual(addresses(served, 'z'), ['198.51.100.9']);
    assert.deepEqual(addresses(served, 'x'), [], 'records only the journal held do not come back');
    assert.deepEqual(addresses(served, 'w'), [], 'the edit deleted w');
    assert.ok(msgs(lines).includes("zone file edited while the server was stopped: its difference from the journal's last serial is journaled (IXFR)"), msgs(lines).join('\n'));
    assert.ok(msgs(lines, 'warn').some((m) => m.startsWith('zone file edited while the journal held updates it lacks')));
    // IXFR from every serial a secondary may hold: 1 → 2 → 3 → 5, the last difference the edit.
    const diffs = p2.diffsSince(z, 3)!;
    assert.equal(diffs.length, 1);
    assert.deepEqual(diffs[0]!.removed.map((r) => r.name).sort(), [`w.${ZONE}`, `x.${ZONE}`, `y.${ZONE}`]);
    assert.deepEqual(diffs[0]!.added.map((r) => r.name), [`z.${ZONE}`]);
    assert.equal(p2.diffsSince(z, 1)?.length, 3);
    // The next start finds the file it knows: nothing to replay, nothing journaled again.
    lines.length = 0;
    const again = primary().start(load(file), config).zones[0]!;
    assert.equal(again.serial, 5);
    assert.deepEqual(msgs(lines), []);
  });

  test('a crash with updates and the file untouched: the journal is replayed from the base', () => {
    const { file, config, lines, primary } = setup();
    writeFileSync(file, zoneFile(1, ''));
    const p1 = primary();
    let zones = p1.start(load(file), config);
    zones = update(p1, zones, config, [a('x', '198.51.100.7')]);
    const served = primary().start(load(file), config);
    assert.equal(served.zones[0]!.serial, 2);
    assert.deepEqual(addresses(served, 'x'), ['198.51.100.7']);
    assert.ok(msgs(lines).includes('journal replayed over the zone file'));
    assert.deepEqual(msgs(lines, 'warn'), []);
  });

  test('a clean stop (flush), then an edit with a raised serial that deletes a record an update added', () => {
    const { file, config, lines, primary } = setup();
    writeFileSync(file, zoneFile(1, ''));
    const p1 = primary();
    let zones = p1.start(load(file), config);
    zones = update(p1, zones, config, [a('x', '198.51.100.7'), a('v', '198.51.100.6')]);
    p1.close(zones, config);
    assert.match(readFileSync(file, 'utf8'), /x\.jb\.lab\./);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^x\.jb\.lab\..*\n/m, '').replace(/(SOA\s+\S+\s+\S+\s+)2\b/, '$13'));
    const p2 = primary();
    const served = p2.start(load(file), config);
    assert.equal(served.zones[0]!.serial, 3);
    assert.deepEqual(addresses(served, 'x'), []);
    assert.deepEqual(addresses(served, 'v'), ['198.51.100.6']);
    const d = p2.diffsSince(served.zones[0]!, 2)!;
    assert.deepEqual(d[0]!.removed.map((r) => r.name), [`x.${ZONE}`]);
    assert.deepEqual(d[0]!.added, []);
    assert.ok(!msgs(lines, 'warn').some((m) => m.includes('updates it lacks')), 'the flushed file held every update');
  });

  test('an edit at the journal\'s last serial is warned about with file and serial, served as it is, and the journal starts afresh (BIND: up to date)', () => {
    const { file, config, lines, primary } = setup();
    writeFileSync(file, zoneFile(1, ''));
    const p1 = primary();
    let zones = p1.start(load(file), config);
    zones = update(p1, zones, config, [a('x', '198.51.100.7')]);
    p1.close(zones, config);
    writeFileSync(file, readFileSync(file, 'utf8') + `q.${ZONE} 60 IN A 198.51.100.3\n`);
    const p2 = primary();
    const served = p2.start(load(file), config);
    assert.equal(served.zones[0]!.serial, 2);
    assert.deepEqual(addresses(served, 'q'), ['198.51.100.3']);
    const warn = lines.find((l) => l.msg.startsWith('zone file edited without raising its serial'));
    assert.ok(warn, msgs(lines).join('\n'));
    assert.equal(warn.fields.file, file);
    assert.equal(warn.fields.serial, 2);
    assert.equal(p2.diffsSince(served.zones[0]!, 1), undefined, 'IXFR from 1 would not lead to this data: full transfer');
  });

  test('an edit at an earlier journal point is warned about and the journal is rolled forward over it (BIND); a layout-only edit is not warned about', () => {
    const { file, config, lines, primary } = setup();
    writeFileSync(file, zoneFile(1, 'w A 198.51.100.5\n'));
    const p1 = primary();
    let zones = p1.start(load(file), config);
    zones = update(p1, zones, config, [a('x', '198.51.100.7')]);
    // Comments only: the same data at serial 1.
    writeFileSync(file, zoneFile(1, 'w A 198.51.100.5\n', '; a comment added while stopped\n'));
    let served = primary().start(load(file), config);
    assert.equal(served.zones[0]!.serial, 2);
    assert.deepEqual(msgs(lines, 'warn'), []);
    // Data changed at serial 1 (w deleted, u added): warned; the journal's entries from 1 are applied over the edit.
    writeFileSync(file, zoneFile(1, 'u A 198.51.100.4\n'));
    served = primary().start(load(file), config);
    const warn = lines.find((l) => l.msg.startsWith('zone file edited without raising its serial'));
    assert.ok(warn, msgs(lines).join('\n'));
    assert.equal(warn.fields.serial, 1);
    assert.equal(served.zones[0]!.serial, 2);
    assert.deepEqual(addresses(served, 'x'), ['198.51.100.7']);
    assert.deepEqual(addresses(served, 'u'), ['198.51.100.4']);
    assert.deepEqual(addresses(served, 'w'), []);
  });

  test('a serial past the journal\'s end without a usable base: the journal starts afresh, said clearly', () => {
    const { file, config, lines, primary } = setup();
    writeFileSync(file, zoneFile(1, ''));
    const p1 = primary();
    let zones = p1.start(load(file), config);
    zones = update(p1, zones, config, [a('x', '198.51.100.7')]);
    // The base's copy damaged (its trailer intact): it fails its check.
    writeFileSync(basePath(`${file}.jnl`), readFileSync(basePath(`${file}.jnl`), 'utf8').replace('198.51.100.1', '198.51.100.2'));
    writeFileSync(file, zoneFile(9, ''));
    const p2 = primary();
    const served = p2.start(load(file), config);
    assert.equal(served.zones[0]!.serial, 9);
    assert.deepEqual(addresses(served, 'x'), []);
    assert.ok(lines.some((l) => l.msg === "the journal's last version cannot be rebuilt from its base" && /checksum/.test(String(l.fields.err))), msgs(lines).join('\n'));
    assert.ok(msgs(lines, 'warn').includes('journal out of date: started afresh (IXFR from older serials falls back to AXFR)'));
    assert.equal(p2.diffsSince(served.zones[0]!, 2), undefined);
  });
});
